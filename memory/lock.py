"""One process owns a data directory: an exclusive lock file, with a clear error for a second process."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from memory.errors import ConfigError, DataDirNotWritableError, StoreLockedError

LOCK_NAME = "memorybot.lock"
_READ_ONLY = {errno.EACCES, errno.EPERM, errno.EROFS}


def not_writable(data_dir: Path, path: Path, reason: str | None) -> str:
    """The one-line message for a data directory this process cannot write, with the way out."""
    # Why not open it read-only: SQLite in WAL mode and Chroma's own database write even to read, so a search
    # needs a writable directory; a copy is cheap next to that.
    return (
        f"the data directory {data_dir} cannot be written ({path.name}: {reason or 'read-only'}), and memorybot "
        f"writes even to search: copy it somewhere writable (cp -r {data_dir} /tmp/memorybot-copy) and pass "
        "--data-dir /tmp/memorybot-copy"
    )


def check_writable(data_dir: Path) -> None:
    """Fail now, in one line, if anything in the data directory is read-only to this process (after the lock).

    Raises:
        DataDirNotWritableError: the directory, a folder or a file in it cannot be written.
    """
    for folder, _, names in os.walk(data_dir):
        for path in (Path(folder), *(Path(folder) / name for name in names)):
            if not os.access(path, os.W_OK):
                raise DataDirNotWritableError(not_writable(data_dir, path, "not writable"))


class DataDirLock:
    """An exclusive, non-blocking `flock` on `<data_dir>/memorybot.lock`, released when the process ends."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or fail at once.

        Raises:
            StoreLockedError: another process holds it; the message names its PID.
            DataDirNotWritableError: the directory or its lock file is read-only to this process (a read-only copy).
            ConfigError: the data directory cannot be made or used (a file, a path through a file).
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            if e.errno in _READ_ONLY and self.path.parent.is_dir():  # a read-only copy, not a folder it cannot make
                raise DataDirNotWritableError(not_writable(self.path.parent, self.path, e.strerror)) from e
            raise ConfigError(_unusable(self.path.parent, e)) from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            msg = (
                f"the data directory {self.path.parent} is in use by another memorybot process (PID {holder}); "
                "stop it first, or give this one another --data-dir"
            )
            raise StoreLockedError(msg) from e
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (also happens when the process exits)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _unusable(data_dir: Path, error: OSError) -> str:
    """Why a data directory cannot be used, and what to do, in one line."""
    if isinstance(error, FileExistsError):
        why = "it is a file, not a folder"
    elif isinstance(error, NotADirectoryError):
        why = "a part of its path is a file, not a folder"
    else:
        named = error.filename not in (None, str(data_dir))  # the lock file inside it, say
        why = f"{error.filename}: {error.strerror}" if named else error.strerror or str(error)
    return (
        f"cannot use the data directory {data_dir}: {why}; "
        "give --data-dir (or storage.data_dir) a folder this user can write"
    )
