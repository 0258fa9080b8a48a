"""Runs risky file parsers in a child process with memory and time limits, so a bomb kills only the child."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from typing import IO, Any

from memory.errors import ExtractionError
from memory.extract import ExtractedText, extract_text
from memory.settings import LimitSettings

_HEADER = struct.Struct("!Q")
_STARTUP_SECONDS = 120.0
# Not `-m memory.sandbox`: the package imports this module first, and runpy warns about running it twice.
_WORKER = "import sys; from memory.sandbox import _serve; _serve(int(sys.argv[1]))"


def _send(stream: IO[bytes], value: object) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)  # not header + payload: that would copy a file of up to max_file_bytes once more
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:  # noqa: ANN401  (whatever the other side sent)
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:  # the other side died mid-message
        raise EOFError
    # Only our own parent and child speak on this pipe, so unpickling is safe here.
    return pickle.loads(payload)  # noqa: S301


class SandboxedExtractor:
    """One long-lived worker process; restarted after it dies, times out or exceeds its memory."""

    def __init__(self, limits: LimitSettings) -> None:
        self._limits = limits
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def extract(self, filename: str, data: bytes) -> ExtractedText:
        """Extract text in the worker.

        Raises:
            ExtractionError: the file is bad, or the parser ran out of time or memory.
        """
        with self._lock:
            process = self._ensure_started()
            assert process.stdin is not None and process.stdout is not None  # noqa: S101  (set by Popen)
            # The flag is set before the kill, so whoever sees the pipe close also sees why it closed.
            expired = threading.Event()
            timer = threading.Timer(self._limits.parse_timeout_seconds, _expire, (process, expired))
            timer.start()
            try:
                _send(process.stdin, (filename, data, self._limits))
                outcome, value = _receive(process.stdout)
            except (EOFError, OSError) as e:
                self._stop()
                if expired.is_set():
                    msg = f"parsing took longer than {self._limits.parse_timeout_seconds:g} s and was stopped"
                else:
                    msg = f"the parser crashed or exceeded {self._limits.parse_memory_mb} MB and was stopped"
                raise ExtractionError(msg) from e
            finally:
                timer.cancel()
            if outcome == "memory":  # the worker exits after a MemoryError; reap it, the next file gets a fresh one
                self._stop()
        if outcome == "ok":
            assert isinstance(value, ExtractedText)  # noqa: S101
            return value
        raise ExtractionError(str(value))

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._process = None
        process = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(self._limits.parse_memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        assert process.stdout is not None  # noqa: S101  (set by Popen)
        # Wait for the worker to finish its imports, so start-up time does not count against the first file.
        timer = threading.Timer(_STARTUP_SECONDS, process.kill)
        timer.start()
        try:
            _receive(process.stdout)
        except (EOFError, OSError) as e:
            _kill(process)
            msg = "the parser worker could not start"
            raise ExtractionError(msg) from e
        finally:
            timer.cancel()
        self._process = process
        return process

    def _stop(self) -> None:
        if self._process is not None:
            _kill(self._process)
            self._process = None

    def close(self) -> None:
        """Stop the worker."""
        with self._lock:
            self._stop()


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):  # flushing a pipe to a dead process fails; it is closed all the same
                stream.close()


def _expire(process: subprocess.Popen[bytes], expired: threading.Event) -> None:
    expired.set()
    process.kill()


class _FileNamed(logging.Filter):
    """Names the file being parsed in each log record of the worker (`%(file)s`)."""

    def __init__(self) -> None:
        super().__init__()
        self.file = "?"

    def filter(self, record: logging.LogRecord) -> bool:
        record.file = self.file
        return True


def _log_to_stderr() -> _FileNamed:
    """The worker's logging (pypdf warns through `logging`, some parsers through `warnings`): on stderr, each line
    prefixed with its logger and the file, not bare lines a person cannot place."""
    named = _FileNamed()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(file)s: %(message)s"))
    handler.addFilter(named)
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.captureWarnings(True)
    return named


def _serve(memory_mb: int) -> None:
    import resource  # POSIX only, and only in the worker

    # Parsers are imported before saying ready (imports are not parse time) and before the memory limit is set
    # (a limit too low for the imports then fails each file with a clear message, not the start of the worker).
    import bs4  # noqa: F401
    import charset_normalizer  # noqa: F401
    import docx  # noqa: F401
    import pypdf  # noqa: F401

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # A parser that prints, from Python or from C, must not corrupt the pipe: keep a private copy of it and point
    # file descriptor 1 (and sys.stdout) at stderr.
    stdin, stdout = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    named = _log_to_stderr()
    _send(stdout, "ready")
    while True:
        try:
            filename, data, limits = _receive(stdin)
        except EOFError:
            return
        reply: tuple[str, object]
        named.file = filename
        try:
            reply = ("ok", extract_text(filename, data, limits))
        except ExtractionError as e:
            memory = isinstance(e.__cause__, MemoryError)
            reply = ("memory", f"the parser exceeded {memory_mb} MB and was stopped") if memory else ("error", str(e))
        except MemoryError:
            reply = ("memory", f"the parser exceeded {memory_mb} MB and was stopped")
        # Sent outside the except blocks: until then the exception's traceback holds what used up the memory.
        if reply[0] == "memory":
            gc.collect()  # bs4 and lxml trees are reference cycles: only the collector gives their memory back
            _send(stdout, reply)
            return
        _send(stdout, reply)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
