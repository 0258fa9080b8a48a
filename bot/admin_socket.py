"""The running bot's local admin endpoint: read-only stats, search, ask and recap over a Unix socket in the data
directory (mode 0600: only its owner can connect), so that `memorybot` can look into the memory the bot holds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from pathlib import Path

from aiohttp import web

from bot import readonly
from memory import AsyncMemory, MemoryStoreError

log = logging.getLogger(__name__)
SOCKET_NAME = "memorybot.sock"


class AdminSocket:
    """`<data_dir>/memorybot.sock`, served while the bot runs; there is no route that writes."""

    def __init__(self, memory: AsyncMemory, data_dir: Path) -> None:
        self.path = data_dir / SOCKET_NAME
        self._memory = memory
        self._runner: web.AppRunner | None = None
        self._bound: tuple[int, int, int] | None = None  # which socket file this process bound (`_identity`)

    async def start(self) -> None:
        """Listen (a stale socket file from a crash is replaced: with SQLite the lock says no other bot runs here;
        on PostgreSQL, where several bots may share the data_dir setting, the one started last answers). A path
        the system cannot bind (too long for a Unix socket) costs the endpoint, not the bot."""
        app = web.Application()
        app.router.add_get("/", self._hello)
        app.router.add_post("/{command}", self._lookup)
        # At shutdown a lookup still running gets a few seconds, not aiohttp's minute: the memory closes next.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.path.unlink(missing_ok=True)
            sock.bind(str(self.path))
            # Before listen(): until then nobody can connect, so there is no moment with a wider mode.
            os.chmod(self.path, 0o600)
            self._bound = self._identity()
            await web.SockSite(runner, sock).start()
        except OSError as e:
            sock.close()
            await runner.cleanup()
            log.warning("no admin socket at %s (%s): the CLI cannot ask this bot", self.path, e)
            return
        self._runner = runner

    async def close(self) -> None:
        """Stop answering and remove the socket file if it is still this process's (again a no-op): another bot
        sharing the data directory may have replaced it, and goes on answering there."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        await runner.cleanup()
        with contextlib.suppress(FileNotFoundError):
            if self._identity() == self._bound:
                self.path.unlink()

    def _identity(self) -> tuple[int, int, int]:
        """The socket file's device, inode and change time: a file made after ours was removed may reuse its inode
        number, not also its change time (set by the chmod after bind, to the nanosecond)."""
        held = self.path.stat()
        return held.st_dev, held.st_ino, held.st_ctime_ns

    async def _hello(self, _: web.Request) -> web.Response:
        return web.json_response({"pid": os.getpid()})

    async def _lookup(self, request: web.Request) -> web.Response:
        command = request.match_info["command"]
        pid = os.getpid()
        try:
            body = await request.json()
            if command in readonly.SYNC:
                result = await asyncio.to_thread(readonly.SYNC[command], self._memory.sync, body)
            elif command in readonly.ASYNC:
                result = await readonly.ASYNC[command](self._memory, body)
            else:
                return web.json_response({"pid": pid, "error": f"no read-only command {command!r}"}, status=404)
        except MemoryStoreError as e:  # the model failed, a guild setting is broken...: the CLI prints it
            return web.json_response({"pid": pid, "error": str(e)}, status=422)
        except (ValueError, KeyError, TypeError) as e:
            return web.json_response({"pid": pid, "error": f"bad request: {type(e).__name__}: {e}"}, status=400)
        except Exception:
            log.exception("admin socket: %s failed", command)
            return web.json_response({"pid": pid, "error": f"the bot failed on {command}: see its log"}, status=500)
        return web.json_response({"pid": pid, "result": result})
