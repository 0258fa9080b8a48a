"""The operations endpoint of `memorybot run` (aiohttp): `/healthz` for probes and `/metrics` for Prometheus."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.errors import StartupError
from bot.ops.health import health
from bot.ops.metrics import BotMetrics

if TYPE_CHECKING:
    from bot.client import MemoryBot
    from bot.config import OpsSettings


class OpsServer:
    """Listens from before memory opens (so that a probe sees 503 `starting` rather than a refused connection) and
    serves the bot once `attach`ed. `port` 0 binds a free port (tests); config's 0 means no server at all."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self._wanted = port
        self._bot: MemoryBot | None = None
        self.metrics: BotMetrics | None = None
        self._runner: web.AppRunner | None = None

    def attach(self, bot: MemoryBot) -> None:
        """Serve this bot's health and metrics; its answering pipeline reports to the metrics from now on."""
        self.metrics = BotMetrics(bot)
        bot.memory.answers.observer = self.metrics
        self._bot = bot

    @property
    def port(self) -> int:
        """The port listened on."""
        if self._runner is None or not self._runner.addresses:
            msg = "the ops server is not started"
            raise RuntimeError(msg)
        return int(self._runner.addresses[0][1])

    async def start(self) -> None:
        """Listen. Raises StartupError, naming the address and the key to change, when it cannot."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)  # a probe every few seconds is not news
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self._wanted).start()
        except OSError as e:
            await runner.cleanup()
            msg = (
                f"cannot serve the ops endpoint on {self.host}:{self._wanted} ({e.strerror or e}): "
                "choose another ops.http_port (0: none) or ops.http_host in the config"
            )
            raise StartupError(msg) from e
        self._runner = runner

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        status, body = await health(self._bot)
        return web.Response(status=status, text=json.dumps(body), content_type="application/json")

    async def _metrics(self, _request: web.Request) -> web.Response:
        if self.metrics is None:
            return web.Response(status=503, text="memorybot is starting\n")
        text = await asyncio.to_thread(self.metrics.exposition)  # it reads SQLite
        return web.Response(body=text, headers={"Content-Type": CONTENT_TYPE_LATEST})


@contextlib.asynccontextmanager
async def ops_endpoint(settings: OpsSettings) -> AsyncIterator[OpsServer | None]:
    """The configured endpoint, listening for the duration of the block; None when `ops.http_port` is 0."""
    if not settings.http_port:
        yield None
        return
    server = OpsServer(settings.http_host, settings.http_port)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
