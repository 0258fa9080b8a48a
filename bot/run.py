"""The composition root of the Discord bot: config in, services built, bot started, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from langchain_core.embeddings import Embeddings

from bot.client import MemoryBot, ShardedMemoryBot
from bot.config import Settings
from bot.errors import StartupError
from bot.ops.logs import use_log_format
from bot.ops.server import OpsServer, ops_endpoint
from bot.shards import client_options
from memory import AsyncMemory, Memory, secret_from_env

log = logging.getLogger(__name__)


def point_at_discord(settings: Settings) -> None:
    """Use the configured REST and gateway endpoints (Discord's own unless the config points elsewhere).

    discord.py has no option for this: these two class attributes are where it keeps them.
    """
    discord.http.Route.BASE = settings.discord.api_base_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


def build_bot(settings: Settings, *, memory: Memory | AsyncMemory, **options: Any) -> MemoryBot:  # noqa: ANN401
    """The bot on an open memory, with the language model `settings.llm` configures; an AutoShardedBot when
    `discord.shard_count` is set.

    Args:
        settings: the whole configuration.
        memory: an open memory (a plain `Memory` is wrapped in its async side).
        options: discord.py client options (e.g. `guild_ready_timeout` in tests).
    """
    handle = memory if isinstance(memory, AsyncMemory) else AsyncMemory(memory)
    # The bot joins no voice channel: discord.py's warnings that voice libraries are missing are only noise.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    if settings.discord.shard_count is None:
        return MemoryBot(settings=settings, memory=handle, **options)
    return ShardedMemoryBot(settings=settings, memory=handle, **client_options(settings.discord), **options)


async def run_bot(settings: Settings, *, embeddings: Embeddings | None = None) -> None:
    """Run until SIGINT/SIGTERM or disconnection; queued ingestion is finished before exit.

    With `ops.http_port` set, `/healthz` and `/metrics` answer from the start (503 until the bot is connected).

    Raises:
        StartupError: the token is missing or refused, Discord refused the privileged intents, or it cannot be
            reached; or the ops endpoint cannot listen.
    """
    token = secret_from_env(settings.discord.token_env, purpose="memorybot run")
    use_log_format(settings.ops.log_format)
    async with ops_endpoint(settings.ops) as ops:
        await _run(settings, token, embeddings, ops)


async def _run(settings: Settings, token: str, embeddings: Embeddings | None, ops: OpsServer | None) -> None:
    point_at_discord(settings)
    # The index is checked first (in a child process): a damaged guild collection is rebuilt, not fatal.
    memory = await AsyncMemory.open(settings, embeddings=embeddings, check_index=True)
    try:
        await memory.load_embedder()  # a missing model or API key stops the bot here, not at the first message
        await memory.open_index()  # likewise an unreachable Chroma server
    except BaseException:
        await memory.close()
        raise
    for guild_id in memory.repaired:
        log.warning("guild %s: its damaged vector index is being rebuilt from SQLite in the background", guild_id)
    with start_up_heap_frozen():
        await _serve(settings, token, memory, ops)


async def _serve(settings: Settings, token: str, memory: AsyncMemory, ops: OpsServer | None) -> None:
    """The bot on the open memory, run until it stops or is stopped; the memory is closed on the way out."""
    bot = build_bot(settings, memory=memory)
    if ops is not None:
        ops.attach(bot)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
    try:
        async with bot:
            runner = asyncio.create_task(bot.start(token))
            stopper = asyncio.create_task(stopping.wait())
            done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                log.info("stopping: finishing queued work")
                await bot.close()
            stopper.cancel()
            await runner
    except discord.PrivilegedIntentsRequired as e:
        msg = (
            "Discord refused the privileged intents. In the Developer Portal, open your application > Bot > "
            "Privileged Gateway Intents and switch on MESSAGE CONTENT INTENT and SERVER MEMBERS INTENT."
        )
        raise StartupError(msg) from e
    except discord.LoginFailure as e:
        msg = f"Discord refused the token in {settings.discord.token_env}: check it in the Developer Portal > Bot"
        raise StartupError(msg) from e
    except discord.HTTPException as e:  # Discord (or a proxy in its place) answered the login with an error
        msg = (
            f"Discord at {settings.discord.api_base_url} answered the login with HTTP {e.status}: "
            "try again later (https://discordstatus.com), or check discord.api_base_url and any proxy"
        )
        raise StartupError(msg) from e
    except aiohttp.ClientConnectionError as e:  # DNS, refused, reset, TLS: aiohttp's trace says no more than this
        raise StartupError(unreachable(settings, e)) from e
    finally:
        await memory.close()


@contextlib.contextmanager
def start_up_heap_frozen() -> Iterator[None]:
    """Keep what start-up built out of Python's garbage collector until the block ends.

    The imported libraries and the model are ~640k objects that live as long as the process. A full collection
    walked them all with the event loop stopped: 135-310 ms pauses in `benchmarks/bot_latency.py`, each one an
    answer or a heartbeat that late. Frozen (`gc.freeze`), a full collection walks only what came later.
    """
    gc.collect()  # garbage of start-up goes first: a frozen object is never freed
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def unreachable(settings: Settings, error: aiohttp.ClientConnectionError) -> str:
    """One line for a Discord that cannot be reached: the URL tried, why, and what to check."""
    reason = type(error).__name__
    if isinstance(error, aiohttp.ClientConnectorError):
        reason = error.os_error.strerror or str(error.os_error) or reason
    return (
        f"cannot reach Discord at {settings.discord.api_base_url} ({reason}): check the network connection, "
        "DNS, a proxy or firewall, and discord.api_base_url in the config"
    )


__all__ = ["build_bot", "point_at_discord", "run_bot", "start_up_heap_frozen"]
