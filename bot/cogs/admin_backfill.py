"""`/memory backfill` and `/memory backfill-status` on the `/memory` group, for Manage Server only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.backfill import HistoryChannel, progress_text, status_line
from bot.cogs.admin import Admin, _name

if TYPE_CHECKING:
    from discord.ext.commands import Cog as _Holder

    from bot.client import MemoryBot
else:
    _Holder = object  # a cog only for the type checker; see admin_data.AdminDataCommands

log = logging.getLogger(__name__)
PROGRESS_SECONDS = 3.0  # how often the progress message is edited: often enough to see, far below rate limits


class AdminBackfillCommands(_Holder):
    """Not a cog: these methods join `Admin.memory_group`; at run time `self` is the Admin cog."""

    bot: MemoryBot

    @Admin.memory_group.command(name="backfill")
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
        if not self.bot.is_enabled(channel):
            await interaction.response.send_message(
                f"#{channel.name} is not remembered: run `/memory enable` for it first. Nothing was read.",
                ephemeral=True,
            )
            return
        if backfiller.running(channel.guild.id, channel.id):
            await interaction.response.send_message(
                f"A backfill of #{channel.name} is already running; see `/memory backfill-status`.", ephemeral=True
            )
            return
        # The channel from the options is partial; the cached one can read history.
        target = self.bot.get_channel(channel.id)
        if not isinstance(target, HistoryChannel):
            await interaction.response.send_message("I cannot see that channel.", ephemeral=True)
            return
        await interaction.response.send_message(f"Backfill of #{channel.name} started…", ephemeral=True)
        task = await backfiller.start(target, since_days=since, limit=limit)
        backfiller.watch(_report(interaction, target, task))

    @Admin.memory_group.command(name="backfill-status")
    async def backfill_status(self, interaction: discord.Interaction) -> None:
        """List this server's backfills: messages, files, and whether each is done."""
        guild = interaction.guild
        assert guild is not None  # noqa: S101 (guild-only, checked by Admin.interaction_check)
        cursors = await asyncio.to_thread(self.bot.memory.backfill_cursors, str(guild.id))
        if not cursors:
            await interaction.response.send_message("No backfill has run in this server.", ephemeral=True)
            return
        live = self.bot.backfiller.cursors
        lines = ["**Backfills of this server:**"]
        for cursor in cursors:
            current = live.get((cursor.guild_id, cursor.channel_id), cursor)
            running = self.bot.backfiller.running(cursor.guild_id, cursor.channel_id)
            lines.append(status_line(current, _name(guild, cursor.channel_id), running=running))
        text = "\n".join(lines)
        await interaction.response.send_message(text if len(text) <= 1900 else text[:1900] + "…", ephemeral=True)


async def _report(interaction: discord.Interaction, channel: HistoryChannel, task: asyncio.Task[object]) -> None:
    """Edit the progress message every few seconds while the backfill runs, and once at the end."""
    started = time.monotonic()
    key = (str(channel.guild.id), str(channel.id))
    bot: MemoryBot = interaction.client  # type: ignore[assignment]
    while not task.done():
        await asyncio.wait({task}, timeout=PROGRESS_SECONDS)
        cursor = bot.backfiller.cursors.get(key)
        if cursor is None:
            return
        text = progress_text(channel.name, cursor, started)
        if task.done() and not cursor.done:
            text += " Stopped; it resumes from here when the bot restarts."
        with contextlib.suppress(discord.HTTPException):  # a lost progress edit must not stop the backfill
            await interaction.edit_original_response(content=text)
