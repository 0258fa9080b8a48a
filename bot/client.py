"""`MemoryBot`: the discord.py bot that holds the services, loads the extensions and syncs slash commands per guild."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.adapters import Attachments
from bot.admin_socket import AdminSocket
from bot.backfill import Backfiller
from bot.cogs import EXTENSIONS
from bot.config import Settings
from bot.cut_notices import CutNotices
from bot.errors import APOLOGY, user_message
from bot.ingestion import CatchUp, IngestionQueue
from bot.limits import RateLimits
from bot.ops.logs import announce
from bot.policies import ChannelPolicies
from bot.shards import Ownership, shard_of
from memory import AsyncMemory

log = logging.getLogger(__name__)


def make_intents() -> discord.Intents:
    """Guilds, guild messages, message content (privileged) and members (privileged, for permission checks
    on who else can read a public answer)."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    intents.members = True
    return intents


class MemoryBot(commands.Bot):
    """The bot. Services come in through the constructor (see `bot.run`) or are made here from them; the cogs
    reach them as attributes; nothing is global.

    - `memory`: the memory, async side (`memory.AsyncMemory`).
    - `ingestion`: the one ordered queue through which Discord events reach memory.
    - `cut_notices`: replies to live uploads that a cap cut short (the queue hands them on).
    - `attachments`: downloads files within the byte cap.
    - `policies`: which channels are remembered (cached admins' policies over config.yaml).
    - `backfiller`: history backfills in the background.
    - `admin`: the local admin socket the CLI asks while the bot holds the data directory.
    - `limits`: the per-member and per-guild rate limits on questions and recaps.
    - `ownership`: the guilds this process owns (`bot.shards`): jobs driven by the stores run only for those.
    """

    def __init__(self, *, settings: Settings, memory: AsyncMemory, **options: Any) -> None:  # noqa: ANN401
        # memorybot never joins voice: discord.py's "PyNaCl/davey is not installed" warnings would be all that
        # `memorybot run` prints at start without -v (they are class attributes discord.py reads once).
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=make_intents(),
            # LLM output is untrusted: it must never ping anyone (@everyone, roles, users).
            allowed_mentions=discord.AllowedMentions.none(),
            # A long Discord rate limit is reported to the member instead of silently waiting.
            max_ratelimit_timeout=30.0,
            **options,
        )
        self.settings = settings
        self.memory = memory
        self.ownership = Ownership.of(settings.discord)
        self.cut_notices = CutNotices(self.get_channel)
        # it runs its batches in a worker thread itself
        self.ingestion = IngestionQueue(
            memory.sync, on_cuts=self.cut_notices, owns=self.ownership, shard_of=self.connection_of
        )
        self.attachments = Attachments(settings.limits)
        self.policies = ChannelPolicies(memory, settings.discord.enabled_channels)
        self.backfiller = Backfiller(memory, self.attachments, session=self.ingestion.session_of, owns=self.ownership)
        self.admin = AdminSocket(memory, Path(settings.storage.data_dir))
        self.limits = RateLimits(settings.limits)
        self.synced_guilds: set[int] = set()
        self.announced = False  # the ready line is printed once, not at every reconnection
        self.errors: Counter[str] = Counter()  # errors by kind (`bot.ops.metrics.ERROR_KINDS`), for the metrics
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    @property
    def sharded(self) -> bool:
        """Whether this is the AutoShardedBot (`ShardedMemoryBot`): one connection per shard."""
        return isinstance(self, commands.AutoShardedBot)

    def shards_run(self) -> list[int]:
        """The shards whose connections this process runs: [0] for the one connection of an unsharded bot; none for
        `shard_count: auto` until discord.py has asked Discord for the count."""
        if not isinstance(self, commands.AutoShardedBot):
            return [0]
        return list(self.shard_ids) if self.shard_ids is not None else list(range(self.shard_count or 0))

    def connection_of(self, guild_id: int | str) -> int | None:
        """The gateway connection a guild's events arrive on: its shard in a sharded bot, None for the one connection
        (the count is known once connected, also with `shard_count: auto`)."""
        if not self.sharded or self.shard_count is None:
            return None
        return shard_of(guild_id, self.shard_count)

    async def setup_hook(self) -> None:
        """Start the ingestion worker, open the download session, load the policies and the extensions."""
        self.attachments.open()
        self.ingestion.start()
        self.ingestion.put(CatchUp())  # what a crash or an index repair left, in slices between live messages
        await self.policies.load()  # before connecting, so the first message is judged by the admins' policies
        await self.admin.start()
        for extension in EXTENSIONS:
            await self.load_extension(extension)

    async def on_ready(self) -> None:
        """Tell the operator it is up (once), then sync the slash commands to every guild so they appear at once
        (global sync can take an hour)."""
        if not self.announced:
            self.announced = True
            # on stderr without -v: `memorybot run` is otherwise silent
            announce(sys.stderr, self.ready_lines(), self.settings.ops.log_format)
        await asyncio.gather(*(self.sync_guild(guild) for guild in self.guilds))
        log.info("ready as %s in %d guilds", self.user, len(self.guilds))

    def ready_lines(self) -> str:
        """What the bot is running with: guilds, remembered channels, models; and a warning when no channel is
        remembered (the bot would answer from nothing)."""
        remembered = sum(
            1 for guild in self.guilds for channel in guild.channels
            if not isinstance(channel, discord.CategoryChannel) and self.policies.is_enabled(channel)
        )  # fmt: skip
        llm = self.settings.llm
        answers = f"answers by LLM {llm.model}" if llm.base_url else "extractive answers (no LLM)"
        lines = [
            f"memorybot ready: {len(self.guilds)} guilds, {remembered} remembered channels, "
            f"model {self.memory.sync.identity}, {answers}"
        ]
        if not remembered:
            lines.append(
                "memorybot: warning: no channel is remembered: an admin runs /memory enable #channel in Discord "
                "(or list channel ids under discord.enabled_channels in config.yaml)"
            )
        return "".join(line + "\n" for line in lines)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """A new guild gets the commands straight away."""
        await self.sync_guild(guild)

    async def sync_guild(self, guild: discord.Guild) -> None:
        """Copy the global commands to one guild and sync them there."""
        if guild.id in self.synced_guilds:
            return
        self.tree.copy_global_to(guild=guild)
        try:
            await self.tree.sync(guild=guild)
            self.synced_guilds.add(guild.id)
        except discord.HTTPException as e:
            log.warning("could not sync commands to guild %s: %s", guild.id, e)

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: the cogs' listeners handle messages."""

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """The one place where a command's error becomes a short private message to the member (see `bot.errors`);
        a refusal or a known error is logged as such, anything else with its traceback."""
        name = interaction.command and interaction.command.qualified_name
        text = user_message(error)
        if isinstance(error, app_commands.CheckFailure):
            log.info("command %s refused to %s: %s", name, interaction.user.id, error)
        elif text is None:
            self.errors["command"] += 1
            log.error("command %s failed", name, exc_info=error)
        else:
            log.info("command %s: %s", name, text)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text or APOLOGY, ephemeral=True)
            else:
                await interaction.response.send_message(text or APOLOGY, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the member about the error")

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        """An event handler raised: counted for the metrics, then logged with its trace as discord.py does."""
        self.errors["event"] += 1
        await super().on_error(event_method, *args, **kwargs)

    async def close(self) -> None:
        """Stop the background jobs, finish queued ingestion (so nothing acknowledged is lost), then disconnect."""
        await self.admin.close()  # first: no lookup should start on a memory about to close
        await self.backfiller.close()  # first: a batch being stored finishes, the rest resumes after a restart
        for extension in list(self.extensions):
            try:
                await self.unload_extension(extension)  # cogs stop what they own (reconciliation, expiry)
            except Exception:  # shutdown goes on: the queue must still be drained
                log.exception("could not unload %s", extension)
        await self.ingestion.close()
        await self.cut_notices.idle()  # the last batch's replies, while still connected
        await self.attachments.close()
        await self.memory.answers.aclose()  # the memory itself is closed by whoever opened it
        await super().close()


class ShardedMemoryBot(MemoryBot, commands.AutoShardedBot):
    """The same bot on one gateway connection per shard it runs (discord.py's AutoShardedBot, given `shard_count`
    and `shard_ids` by `bot.run.build_bot`): `MemoryBot` comes first in the method order, and discord.py's sharded
    client replaces the single connection under it. `shard_id` is None here: each guild's shard is `guild.shard_id`."""
