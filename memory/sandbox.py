"""Runs risky file parsers in a child process with memory and time limits, so a bomb kills only the child."""

from __future__ import annotations

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


def _send(stream: IO[bytes], value: object) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:  # noqa: ANN401  (whatever the other side sent)
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    # Only our own parent and child speak on this pipe, so unpickling is safe here.
    return pickle.loads(stream.read(size))  # noqa: S301


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
            timer = threading.Timer(self._limits.parse_timeout_seconds, process.kill)
            timer.start()
            try:
                _send(process.stdin, (filename, data, self._limits))
                outcome, value = _receive(process.stdout)
            except (EOFError, BrokenPipeError, OSError) as e:
                timed_out = not timer.is_alive()
                self._stop()
                if timed_out:
                    msg = f"parsing took longer than {self._limits.parse_timeout_seconds:g} s and was stopped"
                else:
                    msg = f"the parser crashed or exceeded {self._limits.parse_memory_mb} MB and was stopped"
                raise ExtractionError(msg) from e
            finally:
                timer.cancel()
        if outcome == "ok":
            assert isinstance(value, ExtractedText)  # noqa: S101
            return value
        raise ExtractionError(str(value))

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "memory.sandbox", str(self._limits.parse_memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
        return self._process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def close(self) -> None:
        """Stop the worker."""
        with self._lock:
            self._stop()


def _serve(memory_mb: int) -> None:
    import resource  # POSIX only, and only in the worker

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a parser that prints must not corrupt the pipe
    while True:
        try:
            filename, data, limits = _receive(stdin)
        except EOFError:
            return
        try:
            _send(stdout, ("ok", extract_text(filename, data, limits)))
        except ExtractionError as e:
            _send(stdout, ("error", str(e)))
        except MemoryError:
            _send(stdout, ("error", f"the parser exceeded {memory_mb} MB and was stopped"))


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
