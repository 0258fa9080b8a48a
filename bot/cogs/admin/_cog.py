"""`/memory`, for Manage Server only: which channels are remembered, the server's settings, backfills, forgetting,
stats and export. One `GroupCog`; what it shows is worded in `_text`."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.backfill import HistoryChannel
from bot.cogs.admin._confirm import ConfirmEverything
from bot.cogs.admin._text import (
    MESSAGE_LINK,
    REFUSAL,
    channels_text,
    gaps_text,
    missed_text,
    name,
    progress_text,
    settings_text,
    state,
    stats_text,
    status_line,
    where,
)
from bot.ingestion import Remember
from bot.reconcile import first_marks
from bot.render import clip, plural, split_message
from memory import QUESTION_DAYS, SETTING_KEYS, BackfillCursor, SettingChanges, Visibility

if TYPE_CHECKING:
    from bot.client import MemoryBot

log = logging.getLogger(__name__)
PROGRESS_SECONDS = 3.0  # how often the backfill progress message is edited: often enough to see, far below rate limits
# Channels an admin can set a policy on: threads and forum posts follow their parent, so they are not offered.
PolicyChannel = discord.TextChannel | discord.CategoryChannel | discord.ForumChannel
ForgettableChannel = discord.TextChannel | discord.ForumChannel | discord.Thread | discord.VoiceChannel
_SETTING_HELP = {key: str(SettingChanges.model_fields[key].description) for key in SETTING_KEYS}


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class MemoryAdmin(
    commands.GroupCog,
    group_name="memory",
    group_description="Set up what memorybot remembers in this server (Manage Server).",
):
    """Per-guild administration; changes are kept in memory's store and override config.yaml's defaults."""

    def __init__(self, bot: MemoryBot) -> None:
        self.bot = bot
        self.progress_seconds = PROGRESS_SECONDS  # per instance: an extension's module is loaded anew each time

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Every `/memory` command is for Manage Server only. Checked here, at run time, as well as by the default
        permissions, because a guild can override those and open the commands to anyone; the refusal reaches the
        member privately through `MemoryBot.on_app_command_error`."""
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage("Use this command in a server.")
        if not interaction.permissions.manage_guild:
            raise app_commands.CheckFailure(f"{REFUSAL} Nothing was changed.")
        return True

    # --- which channels -------------------------------------------------------------------------------

    @app_commands.command(name="enable")
    @app_commands.describe(channel="A text channel, forum or category (a category covers its channels)")
    async def enable(self, interaction: discord.Interaction, channel: PolicyChannel) -> None:
        """Remember new messages in a channel, forum or category from now on."""
        await self._set_policy(interaction, channel, remembered=True)

    @app_commands.command(name="disable")
    @app_commands.describe(channel="A text channel, forum or category (a category covers its channels)")
    async def disable(self, interaction: discord.Interaction, channel: PolicyChannel) -> None:
        """Stop remembering new messages in a channel, forum or category."""
        await self._set_policy(interaction, channel, remembered=False)

    async def _set_policy(self, interaction: discord.Interaction, channel: PolicyChannel, *, remembered: bool) -> None:
        await self.bot.policies.set(_guild_id(interaction), channel.id, remembered)
        if remembered:
            self.bot.ingestion.put(Remember(marks=first_marks(channel, self.bot.ingestion)))
            text = f"Now remembering new messages in {where(channel)}. Threads and forum posts follow their parent."
        else:
            text = (
                f"No longer remembering new messages in {where(channel)}. What was remembered before stays in "
                "memory; `/memory forget` erases it (members can erase their own with `/privacy forget-me`)."
            )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="reset")
    @app_commands.describe(channel="A text channel, forum or category set with /memory enable or disable")
    async def reset(self, interaction: discord.Interaction, channel: PolicyChannel) -> None:
        """Remove this server's setting for a channel: its category or config.yaml decides again."""
        cleared = await self.bot.policies.clear(_guild_id(interaction), channel.id)
        if not cleared:
            text = f"{where(channel).capitalize()} had no setting of this server; nothing was changed."
        else:
            text = f"Removed this server's setting for {where(channel)}."
            if not isinstance(channel, discord.CategoryChannel):
                now = state(self.bot.policies.is_enabled(channel))
                text += f" It is now {now} (from its category or config.yaml)."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="channels")
    async def channels(self, interaction: discord.Interaction) -> None:
        """List which channels and categories are remembered here, and where each setting comes from."""
        guild = _guild(interaction)
        postable = [c for c in guild.channels if isinstance(c, discord.TextChannel | discord.ForumChannel)]
        remembered = [f"#{c.name}" for c in postable if self.bot.policies.is_enabled(c)]
        policies = self.bot.policies
        text = channels_text(guild, policies.of_guild(guild.id), policies.enabled_channels, remembered)
        await interaction.response.send_message(text, ephemeral=True)

    # --- settings -------------------------------------------------------------------------------------

    @app_commands.command(name="settings")
    @app_commands.describe(**_SETTING_HELP, reset="Let config.yaml decide this setting again")
    @app_commands.choices(reset=[app_commands.Choice(name=key, value=key) for key in SETTING_KEYS])
    async def settings(
        self,
        interaction: discord.Interaction,
        visibility: Visibility | None = None,
        max_sources: int | None = None,
        budget: int | None = None,
        min_relevance: float | None = None,
        retention_days: int | None = None,
        extra_instruction: str | None = None,
        model: str | None = None,
        reset: str | None = None,
    ) -> None:
        """Show this server's settings, or change some: without options, shows each value and its source."""
        guild_id = str(_guild_id(interaction))
        changes = {key: value for key, value in interaction.namespace if key in SETTING_KEYS and value is not None}
        if changes:  # all are checked before any is stored; a bad one changes nothing (GuildSettingError)
            await self.bot.memory.guild_settings.change(guild_id, changes)
        if reset is not None:
            await self.bot.memory.guild_settings.reset(guild_id, reset)
        current = await self.bot.memory.guild_settings.get(guild_id)
        head = "Saved. " if changes or reset else ""
        await interaction.response.send_message(head + settings_text(current), ephemeral=True)

    # --- history --------------------------------------------------------------------------------------

    @app_commands.command(name="backfill")
    @app_commands.describe(
        channel="The channel whose past messages to remember",
        since="Only messages of the last this many days (default: the whole history)",
        limit="At most this many messages (default: no limit)",
    )
    async def backfill(
        self,
        interaction: discord.Interaction,
        channel: HistoryChannel,
        since: app_commands.Range[int, 1, 36500] | None = None,
        limit: app_commands.Range[int, 1, 10_000_000] | None = None,
    ) -> None:
        """Read a channel's history into memory in the background, with progress; resumes after a restart."""
        backfiller = self.bot.backfiller
        if not self.bot.policies.is_enabled(channel):
            text = f"#{channel.name} is not remembered: run `/memory enable` for it first. Nothing was read."
            await interaction.response.send_message(text, ephemeral=True)
            return
        if backfiller.running(channel.guild.id, channel.id):
            text = f"A backfill of #{channel.name} is already running; see `/memory backfill-status`."
            await interaction.response.send_message(text, ephemeral=True)
            return
        target = self.bot.get_channel(channel.id)  # the channel from the options is partial; the cached one reads
        if not isinstance(target, HistoryChannel):
            await interaction.response.send_message("I cannot see that channel.", ephemeral=True)
            return
        await interaction.response.send_message(f"Backfill of #{channel.name} started…", ephemeral=True)
        task = await backfiller.start(target, since_days=since, limit=limit)
        backfiller.watch(self._report_progress(interaction, target, task))

    async def _report_progress(
        self, interaction: discord.Interaction, channel: HistoryChannel, task: asyncio.Task[BackfillCursor]
    ) -> None:
        """Edit the progress message every few seconds while the backfill runs, and once at the end."""
        started = time.monotonic()
        key = (str(channel.guild.id), str(channel.id))
        while not task.done():
            await asyncio.wait({task}, timeout=self.progress_seconds)
            cursor = self.bot.backfiller.cursors.get(key)
            if cursor is None:
                return
            text = progress_text(channel.name, cursor, started)
            if task.done() and not cursor.done:
                text += " Stopped; it resumes from here when the bot restarts."
            with contextlib.suppress(discord.HTTPException):  # a lost progress edit must not stop the backfill
                await interaction.edit_original_response(content=text)

    @app_commands.command(name="backfill-status")
    async def backfill_status(self, interaction: discord.Interaction) -> None:
        """List this server's backfills: messages, files, and whether each is done."""
        guild = _guild(interaction)
        cursors = await self.bot.memory.backfills.all(str(guild.id))
        missed = missed_text(guild, await self.bot.memory.marks.of_guild(str(guild.id)))
        lines = [missed] if missed else []
        if not cursors:
            lines.append("No backfill has run in this server.")
        else:
            lines.append("**Backfills of this server:**")
        backfiller = self.bot.backfiller
        for cursor in cursors:
            current = backfiller.cursors.get((cursor.guild_id, cursor.channel_id), cursor)
            running = backfiller.running(cursor.guild_id, cursor.channel_id)
            lines.append(status_line(current, name(guild, cursor.channel_id), running=running))
        await interaction.response.send_message(clip("\n".join(lines)), ephemeral=True)

    @app_commands.command(name="gaps")
    async def gaps(self, interaction: discord.Interaction) -> None:
        """Where memory fell short lately: questions that found nothing, and answers voted down."""
        guild = _guild(interaction)
        await interaction.response.defer(thinking=True, ephemeral=True)
        since = (interaction.created_at - timedelta(days=QUESTION_DAYS)).isoformat(timespec="seconds")
        asked = await self.bot.memory.questions.asked(str(guild.id), since)
        missed = missed_text(guild, await self.bot.memory.marks.of_guild(str(guild.id)))
        parts = split_message("\n\n".join(filter(None, [missed, gaps_text(asked, QUESTION_DAYS)])))
        await interaction.edit_original_response(content=parts[0])
        for part in parts[1:]:
            await interaction.followup.send(part, ephemeral=True)

    # --- data -----------------------------------------------------------------------------------------

    @app_commands.command(name="forget")
    @app_commands.describe(
        message="A message link (Copy Message Link) to erase",
        channel="Erase everything remembered from this channel",
        member="Erase everything this member wrote or uploaded here",
        everything="Erase all of this server's memory (asks for confirmation)",
    )
    async def forget(
        self,
        interaction: discord.Interaction,
        message: str | None = None,
        channel: ForgettableChannel | None = None,
        member: discord.User | None = None,
        everything: bool = False,
    ) -> None:
        """Erase a message, a channel, a member's messages, or everything of this server from memory."""
        guild_id = str(_guild_id(interaction))
        if sum((message is not None, channel is not None, member is not None, everything)) != 1:
            text = "Choose exactly one of `message`, `channel`, `member` or `everything:True`. Nothing was erased."
            await interaction.response.send_message(text, ephemeral=True)
            return
        if everything:
            await ConfirmEverything(self.bot, interaction.user.id, guild_id).ask(interaction)
            return
        filters: dict[str, str] = {}
        if message is not None:
            match = MESSAGE_LINK.fullmatch(message.strip())
            if match is None or match.group(1) != guild_id:
                text = "That is not a link to a message of this server (use *Copy Message Link*). Nothing was erased."
                await interaction.response.send_message(text, ephemeral=True)
                return
            filters["message_id"], what = match.group(3), "that message"
        elif channel is not None:
            filters["channel_id"], what = str(channel.id), f"#{channel.name}"
        else:
            assert member is not None  # noqa: S101 (exactly one option was given)
            filters["user_id"], what = str(member.id), f"{member.name}'s messages and files"
        await interaction.response.defer(thinking=True, ephemeral=True)
        await self.bot.ingestion.idle()  # queued copies must be stored first, or they would come back after erasure
        report = await self.bot.memory.forget(guild_id, **filters)
        await interaction.edit_original_response(
            content=f"Forgot {what}: erased {plural(report.messages, 'message')}, {plural(report.files, 'file')} "
            f"and {plural(report.chunks, 'passage')} from memory."
        )

    @app_commands.command(name="stats")
    async def stats(self, interaction: discord.Interaction) -> None:
        """What memory holds for this server: records, chunks, tokens, disk, per channel, last ingest."""
        guild = _guild(interaction)
        await interaction.response.defer(thinking=True, ephemeral=True)
        parts = split_message(stats_text(guild, await self.bot.memory.stats(str(guild.id))))
        await interaction.edit_original_response(content=parts[0])
        for part in parts[1:]:
            await interaction.followup.send(part, ephemeral=True)

    @app_commands.command(name="export")
    async def export(self, interaction: discord.Interaction) -> None:
        """This server's remembered chat as a DiscordChatExporter-style JSON file, shown only to you."""
        guild = _guild(interaction)
        await interaction.response.defer(thinking=True, ephemeral=True)
        await self.bot.ingestion.idle()  # include what was said just before the export
        names = {str(c.id): c.name for c in [*guild.channels, *guild.threads]}
        document: dict[str, Any] = await self.bot.memory.export_chat(
            str(guild.id), guild_name=guild.name, channel_names=names
        )
        payload = json.dumps(document, indent=2, ensure_ascii=False).encode()
        attachment = discord.File(io.BytesIO(payload), filename=f"memory-export-{guild.id}.json")
        await interaction.edit_original_response(
            content=f"{plural(document['messageCount'], 'message')} from {plural(len(document['channels']), 'channel')}"
            " remembered in this server. Each entry of `channels` is a DiscordChatExporter export of its own.",
            attachments=[attachment],
        )


def _guild(interaction: discord.Interaction) -> discord.Guild:
    if interaction.guild is None:  # guild-only, and checked by MemoryAdmin.interaction_check
        raise app_commands.NoPrivateMessage("Use this command in a server.")
    return interaction.guild


def _guild_id(interaction: discord.Interaction) -> int:
    return _guild(interaction).id
