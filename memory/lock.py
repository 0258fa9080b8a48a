"""One process owns a data directory: an exclusive lock file, with a clear error for a second process."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from memory.errors import ConfigError, StoreLockedError

LOCK_NAME = "memorybot.lock"


class DataDirLock:
    """An exclusive, non-blocking `flock` on `<data_dir>/memorybot.lock`, released when the process ends."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or fail at once.

        Raises:
            StoreLockedError: another process holds it; the message names its PID.
            ConfigError: the data directory cannot be made or written (a file, read-only, no permission).
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
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
