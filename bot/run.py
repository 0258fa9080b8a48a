"""The composition root of the Discord bot: config in, services built, bot started, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from bot.answering import Answerer
from bot.client import MemoryBot
from bot.config import Settings
from bot.llm import make_chat_model
from memory import Memory, MemoryStoreError
from memory.settings import secret_from_env

log = logging.getLogger(__name__)


class StartupError(MemoryStoreError):
    """The bot cannot start; the message says what to fix."""


def point_at_discord(settings: Settings) -> None:
    """Use the configured REST and gateway endpoints (Discord's own unless the config points elsewhere).

    discord.py has no option for this: these two class attributes are where it keeps them.
    """
    discord.http.Route.BASE = settings.discord.api_base_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


def build_bot(
    settings: Settings,
    *,
    memory: Memory,
    chat_model: BaseChatModel | None = None,
    use_configured_llm: bool = True,
    **options: Any,  # noqa: ANN401  (discord.py client options, e.g. guild_ready_timeout in tests)
) -> MemoryBot:
    """The bot with its services. `chat_model` overrides the configured model (tests)."""
    model = chat_model if chat_model is not None or not use_configured_llm else make_chat_model(settings.llm)
    return MemoryBot(settings=settings, memory=memory, answerer=Answerer(memory, model, settings), **options)


async def run_bot(settings: Settings, *, embeddings: Embeddings | None = None) -> None:
    """Run until SIGINT/SIGTERM or disconnection; queued ingestion is finished before exit.

    Raises:
        StartupError: the token is missing or refused, or Discord refused the privileged intents.
    """
    token = secret_from_env(settings.discord.token_env, purpose="memorybot run")
    point_at_discord(settings)
    # The index is checked first (in a child process): a damaged guild collection is rebuilt, not fatal.
    memory = await asyncio.to_thread(Memory.open, settings, embeddings=embeddings, check_index=True)
    for guild_id in memory.repaired:
        log.warning("guild %s: its damaged vector index is being rebuilt from SQLite in the background", guild_id)
    bot = build_bot(settings, memory=memory)
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
    finally:
        await asyncio.to_thread(memory.close)


__all__ = ["StartupError", "build_bot", "point_at_discord", "run_bot"]
