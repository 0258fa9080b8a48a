"""A real Chroma server for the tests: `chroma run` on a free 127.0.0.1 port, persisting to a temporary folder, as a
module-scoped fixture (`chroma_server`) that memory and bot tests import."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int
    path: Path
    process: subprocess.Popen[bytes]

    @property
    def settings(self) -> dict[str, object]:
        """The `storage.chroma` settings of a memory on this server."""
        return {"mode": "http", "host": self.host, "port": self.port}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env() -> dict[str, str]:
    """The environment of the server: no telemetry of any kind, so it never reaches for the network."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}  # no OpenTelemetry exporter
    # The server itself (Rust) has no product telemetry; ANONYMIZED_TELEMETRY is chromadb's switch for Python.
    env.update(ANONYMIZED_TELEMETRY="False", NO_COLOR="1")
    return env


def _heartbeat(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/api/v2/heartbeat", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module", name="chroma_server")
def chroma_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A `chroma run` subprocess on a free local port, persisting to a temporary directory. While it runs, clients
    keep no idle connection: chromadb 1.5.9 never closes its httpx pool (not even in `Client.close()`), so pooled
    sockets would surface as ResourceWarnings, which this project makes errors.

    Modules import it as `chroma_server_fixture` and use it as `chroma_server`: a test's argument of that name then
    does not shadow the import (ruff F811)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHROMA_HTTP_MAX_KEEPALIVE_CONNECTIONS", "0")  # read by chromadb's `Settings`
        yield from _serve(tmp_path_factory.mktemp("chroma-server"))


def _serve(root: Path) -> Iterator[ChromaServer]:
    """Run the server with its files and logs under `root` until the generator is closed."""
    executable = Path(sys.executable).parent / ("chroma.exe" if os.name == "nt" else "chroma")
    if not executable.exists():
        pytest.fail(f"the chroma CLI is not installed next to {sys.executable} (expected {executable})")
    host, port = "127.0.0.1", _free_port()
    stdout, stderr = (root / "stdout.log").open("wb"), (root / "stderr.log").open("wb")
    command = [str(executable), "run", "--path", str(root / "db"), "--host", host, "--port", str(port)]
    process = subprocess.Popen(command, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=_server_env())
    server = ChromaServer(host, port, root / "db", process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _heartbeat(host, port):
            if process.poll() is not None or time.monotonic() > deadline:
                heartbeat = f"its heartbeat http://{host}:{port}/api/v2/heartbeat"
                if process.poll() is not None:
                    why = f"exited with code {process.returncode} before answering {heartbeat}"
                else:
                    why = f"did not answer {heartbeat} within {START_TIMEOUT:.0f} s"
                log = (root / "stderr.log").read_text(errors="replace")[-4000:]
                out = (root / "stdout.log").read_text(errors="replace")[-2000:]
                output = f"--- stderr ---\n{log}\n--- stdout ---\n{out}"
                pytest.fail(f"the Chroma server `{' '.join(command)}` {why}\n{output}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
        stdout.close()
        stderr.close()
