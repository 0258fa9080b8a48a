"""A real Chroma server for the tests: `chroma run` on a free 127.0.0.1 port, persisting to a temporary folder, as a
module-scoped fixture (`chroma_server`) that memory and bot tests import; and an HTTPS proxy in front of it that
wants a bearer token (`TlsProxy`), as a server behind TLS and auth would be."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
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


@dataclass
class TlsProxy:
    """An HTTPS front of a Chroma server that wants a token, as a reverse proxy with auth would: every request it
    is sent is recorded with its headers; one without `Authorization: Bearer <token>` gets a 401, the others are
    passed to the server and its answer returned."""

    server: ChromaServer
    token: str
    ca: Path  # the proxy's self-signed certificate, for the client to trust
    port: int = 0
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # method, path, headers

    @contextlib.contextmanager
    def running(self) -> Iterator[TlsProxy]:
        """Serve on a free 127.0.0.1 port (in a thread) until the block ends."""
        key = self.ca.with_suffix(".key")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(self.ca)],
            check=True, capture_output=True,
        )  # fmt: skip
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca, key)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self.port = httpd.server_address[1]
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join()


def _handler(proxy: TlsProxy) -> type[http.server.BaseHTTPRequestHandler]:
    class Forward(http.server.BaseHTTPRequestHandler):
        def _forward(self) -> None:
            headers = dict(self.headers.items())
            proxy.requests.append((self.command, self.path, headers))
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if headers.get("Authorization") != f"Bearer {proxy.token}":
                self._answer(401, b'{"error": "Unauthorized", "message": "a bearer token is required"}')
                return
            upstream = http.client.HTTPConnection(proxy.server.host, proxy.server.port, timeout=30)
            try:
                passed = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body or None, headers=passed)
                reply = upstream.getresponse()
                self._answer(reply.status, reply.read(), reply.getheader("Content-Type") or "application/json")
            finally:
                upstream.close()

        def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward  # noqa: N815  (the names http.server calls)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the test reads `requests`, not stderr

    return Forward
