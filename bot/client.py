"""`MemoryBot`: the discord.py bot that holds the services, loads the cogs and syncs slash commands per guild."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.adapters import policy_ids
from bot.answering import Answerer
from bot.backfill import Backfiller
from bot.cogs import admin_backfill, admin_data  # noqa: F401  (add their commands to Admin's /memory group)
from bot.cogs.admin import Admin
from bot.cogs.answers import Answers
from bot.cogs.live import LiveMemory
from bot.cogs.privacy import Privacy
from bot.config import Settings
from bot.ingestion import CatchUp, ForgetChannel, IngestionQueue
from bot.reconcile import Reconciler, ReconcileReport
from memory import ForgetReport, Memory
from memory.guild_settings import GuildSettings

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
    """The bot. Services come in through the constructor (see `bot.run`); nothing is global."""

    def __init__(self, *, settings: Settings, memory: Memory, answerer: Answerer, **options: Any) -> None:  # noqa: ANN401
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
        self.answerer = answerer
        self.ingestion = IngestionQueue(memory)
        self.backfiller = Backfiller(self)
        self.reconciler = Reconciler(self)
        self.reconciling: asyncio.Task[ReconcileReport] | None = None  # the last pass (see on_ready)
        self.http_session: aiohttp.ClientSession | None = None
        self.enabled_channels = frozenset(settings.discord.enabled_channels)
        self.synced_guilds: set[int] = set()
        # Admins' per-guild policies from SQLite (guild id -> channel or category id -> remembered), read on
        # every message, so held in memory: loaded once at startup, refreshed by `/memory enable|disable`.
        self.channel_policies: dict[str, dict[str, bool]] = {}
        # Guilds' own settings (`/memory settings`), read on every question: cached, refreshed when set.
        self._guild_settings: dict[str, GuildSettings] = {}
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        """Start the ingestion worker, open the download session, load the cogs."""
        self.http_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        self.ingestion.start()
        self.ingestion.put(CatchUp())  # what a crash or an index repair left, in slices between live messages
        # Before connecting, so the first message is already judged by the admins' policies.
        self.channel_policies = await asyncio.to_thread(self.memory.all_channel_policies)
        await self.add_cog(LiveMemory(self))
        await self.add_cog(Answers(self))
        await self.add_cog(Privacy(self))
        await self.add_cog(Admin(self))
        self.retention.start()  # its first run is now, then hourly

    async def on_ready(self) -> None:
        """Sync the slash commands to every guild so they appear at once (global sync can take an hour)."""
        await asyncio.gather(*(self.sync_guild(guild) for guild in self.guilds))
        log.info("ready as %s in %d guilds", self.user, len(self.guilds))
        # Here, not in setup_hook: the channels must be known. Running ones are skipped on a later on_ready.
        resumed = await self.backfiller.resume_unfinished()
        if resumed:
            log.info("resumed %d unfinished backfills", resumed)
        # In the background, as it reads history: what changed while the bot was offline (or disconnected).
        if self.reconciling is None or self.reconciling.done():
            self.reconciling = asyncio.create_task(self.reconciler.run(), name="memorybot-reconcile")

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

    def is_enabled(self, channel: object) -> bool:
        """Whether a channel is remembered. The nearest policy an admin set in this guild wins (the channel
        itself, then a thread's parent, then the category); without one, `discord.enabled_channels` decides."""
        ids = policy_ids(channel)
        guild = getattr(channel, "guild", None)
        policies = self.channel_policies.get(str(guild.id), {}) if guild is not None else {}
        for channel_id in ids:
            if channel_id in policies:
                return policies[channel_id]
        return any(channel_id in self.enabled_channels for channel_id in ids)

    async def set_channel_policy(self, guild_id: int, channel_id: int, remembered: bool) -> None:
        """Store an admin's policy for a channel or category and refresh the guild's cached policies."""
        await asyncio.to_thread(self.memory.set_channel_policy, str(guild_id), str(channel_id), remembered)
        await self._reload_policies(guild_id)

    async def clear_channel_policy(self, guild_id: int, channel_id: int) -> bool:
        """Let the category or config.yaml decide for a channel again; return whether it had a policy."""
        cleared = await asyncio.to_thread(self.memory.clear_channel_policy, str(guild_id), str(channel_id))
        await self._reload_policies(guild_id)
        return cleared

    async def _reload_policies(self, guild_id: int) -> None:
        self.channel_policies[str(guild_id)] = await asyncio.to_thread(self.memory.channel_policies, str(guild_id))

    def guild_settings(self, guild_id: int | str) -> GuildSettings:
        """A guild's settings in force (its own, else config.yaml's); a cache miss is one small SQLite read."""
        key = str(guild_id)
        if key not in self._guild_settings:
            self._guild_settings[key] = self.memory.guild_settings(key)
        return self._guild_settings[key]

    async def set_guild_setting(self, guild_id: int, key: str, value: object) -> GuildSettings:
        """Validate and store one setting of a guild, and refresh the cache.

        Raises:
            GuildSettingError: the value is not allowed; nothing was stored.
        """
        settings = await asyncio.to_thread(self.memory.set_guild_setting, str(guild_id), key, value)
        self._guild_settings[str(guild_id)] = settings
        return settings

    async def clear_guild_setting(self, guild_id: int, key: str) -> bool:
        """Let config.yaml decide a setting of a guild again; return whether it had been set."""
        cleared = await asyncio.to_thread(self.memory.clear_guild_setting, str(guild_id), key)
        self._guild_settings.pop(str(guild_id), None)
        return cleared

    async def forget_channel(self, guild_id: int, channel_id: int) -> None:
        """A channel or thread was deleted: queue the erasure of its memory (threads' included, after what was
        queued for it before) and drop the admins' policy for it."""
        self.ingestion.put(ForgetChannel(str(guild_id), str(channel_id)))
        await self.clear_channel_policy(guild_id, channel_id)

    async def expire_memory(self) -> ForgetReport:
        """Erase what is older than each guild's retention (off the event loop)."""
        report = await asyncio.to_thread(self.memory.expire)
        if report.messages or report.files:
            log.info("retention expired %d messages and %d files", report.messages, report.files)
        return report

    @tasks.loop(hours=1)
    async def retention(self) -> None:
        """Hourly retention expiry; a failure is logged and retried next hour rather than ending the loop."""
        try:
            await self.expire_memory()
        except Exception:
            log.exception("retention expiry failed")

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """One place where command errors become a short message to the member; the rest is logged."""
        name = interaction.command and interaction.command.name
        text = "Something went wrong on my side. Please try again later."
        if isinstance(error, app_commands.CheckFailure):  # a refusal, not a fault
            log.info("command %s refused to %s: %s", name, interaction.user.id, error)
            text = str(error) or "You cannot use this command here."
        else:
            log.error("command %s failed", name, exc_info=error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the member about the error")

    async def close(self) -> None:
        """Finish queued ingestion (so nothing acknowledged is lost), then disconnect."""
        self.retention.cancel()
        if self.reconciling is not None:
            self.reconciling.cancel()
            await asyncio.gather(self.reconciling, return_exceptions=True)
        await self.backfiller.close()  # before the queue and the session: a batch being stored finishes first
        await self.ingestion.close()
        if self.http_session is not None:
            await self.http_session.close()
        await super().close()
