"""Server admins' data commands on the `/memory` group: `forget`, `stats` and `export`, for Manage Server only."""

from __future__ import annotations

import asyncio
import io
import json
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.cogs.admin import Admin
from memory.export import export_guild

if TYPE_CHECKING:
    from discord.ext.commands import Cog as _Holder

    from bot.client import MemoryBot
else:
    _Holder = object  # a cog only for the type checker (discord.py's decorators want one); never instantiated

CONFIRM_ID = "memory-forget-everything:confirm"
CANCEL_ID = "memory-forget-everything:cancel"
CONFIRM_SECONDS = 60.0
MESSAGE_LINK = re.compile(r"https://(?:\w+\.)?discord(?:app)?\.com/channels/(\d+)/(\d+)/(\d+)")
ForgettableChannel = discord.TextChannel | discord.ForumChannel | discord.Thread | discord.VoiceChannel


class AdminDataCommands(_Holder):
    """Not a cog: these methods join `Admin.memory_group` (one `/memory` command for Discord), and discord.py
    copies the group's children onto the Admin cog, so at run time `self` is the Admin cog: it has `bot`,
    and helpers live at module level."""

    bot: MemoryBot

    @Admin.memory_group.command(name="forget")
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
        guild_id = str(interaction.guild_id)
        chosen = sum(x for x in (message is not None, channel is not None, member is not None, everything))
        if chosen != 1:
            await interaction.response.send_message(
                "Choose exactly one of `message`, `channel`, `member` or `everything:True`. Nothing was erased.",
                ephemeral=True,
            )
            return
        if everything:
            await _confirm_everything(self.bot, interaction)
            return
        filters: dict[str, str] = {}
        if message is not None:
            match = MESSAGE_LINK.fullmatch(message.strip())
            if match is None or match.group(1) != guild_id:
                await interaction.response.send_message(
                    "That is not a link to a message of this server (use *Copy Message Link*). Nothing was erased.",
                    ephemeral=True,
                )
                return
            filters["message_id"], what = match.group(3), "that message"
        elif channel is not None:
            filters["channel_id"], what = str(channel.id), f"#{channel.name}"
        else:
            assert member is not None  # noqa: S101 (exactly one option was given)
            filters["user_id"], what = str(member.id), f"{member.name}'s messages and files"
        await interaction.response.defer(thinking=True, ephemeral=True)
        await self.bot.ingestion.idle()  # queued copies must be stored first, or they would come back after erasure
        report = await asyncio.to_thread(self.bot.memory.forget, guild_id, **filters)
        await interaction.edit_original_response(
            content=f"Forgot {what}: erased {_count(report.messages, 'message')}, {_count(report.files, 'file')} "
            f"and {_count(report.chunks, 'passage')} from memory."
        )

    @Admin.memory_group.command(name="stats")
    async def stats(self, interaction: discord.Interaction) -> None:
        """What memory holds for this server: records, chunks, tokens, disk, per channel, last ingest."""
        guild = interaction.guild
        assert guild is not None  # noqa: S101 (guild-only, checked by Admin.interaction_check)
        await interaction.response.defer(thinking=True, ephemeral=True)
        stats = await asyncio.to_thread(self.bot.memory.stats, str(guild.id))
        parts = _split(_stats_text(guild, stats))
        await interaction.edit_original_response(content=parts[0])
        for part in parts[1:]:
            await interaction.followup.send(part, ephemeral=True)

    @Admin.memory_group.command(name="export")
    async def export(self, interaction: discord.Interaction) -> None:
        """This server's remembered chat as a DiscordChatExporter-style JSON file, shown only to you."""
        guild = interaction.guild
        assert guild is not None  # noqa: S101 (guild-only, checked by Admin.interaction_check)
        await interaction.response.defer(thinking=True, ephemeral=True)
        await self.bot.ingestion.idle()  # include what was said just before the export
        names = {str(c.id): c.name for c in [*guild.channels, *guild.threads]}
        document = await asyncio.to_thread(
            export_guild, self.bot.memory.records, str(guild.id), guild_name=guild.name, channel_names=names
        )
        payload = json.dumps(document, indent=2, ensure_ascii=False).encode()
        attachment = discord.File(io.BytesIO(payload), filename=f"memory-export-{guild.id}.json")
        await interaction.edit_original_response(
            content=f"{_count(document['messageCount'], 'message')} from {_count(len(document['channels']), 'channel')}"
            " remembered in this server. Each entry of `channels` is a DiscordChatExporter export of its own.",
            attachments=[attachment],
        )


class ConfirmEverything(discord.ui.View):
    """Confirm or cancel erasing a whole server's memory; only the admin who asked may click, for 60 seconds."""

    def __init__(self, bot: MemoryBot, invoker_id: int, guild_id: str) -> None:
        super().__init__(timeout=CONFIRM_SECONDS)
        self.bot = bot
        self.invoker_id = invoker_id
        self.guild_id = guild_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Another member (even an admin) who sees the message must not confirm someone else's erasure."""
        if interaction.user.id != self.invoker_id:
            await interaction.response.send_message("Only the admin who asked can confirm this.", ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Erase everything", style=discord.ButtonStyle.danger, custom_id=CONFIRM_ID)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        """Erase the whole server's memory."""
        self.stop()
        await interaction.response.edit_message(content="Erasing this server's memory…", view=None)
        await self.bot.ingestion.idle()  # queued messages must not come back after the erasure
        report = await asyncio.to_thread(self.bot.memory.forget, self.guild_id)
        await interaction.edit_original_response(
            content=f"Forgot everything of this server: erased {_count(report.messages, 'message')}, "
            f"{_count(report.files, 'file')} and {_count(report.chunks, 'passage')}."
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=CANCEL_ID)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        """Leave memory as it is."""
        self.stop()
        await interaction.response.edit_message(content="Cancelled: nothing was erased.", view=None)


async def _confirm_everything(bot: MemoryBot, interaction: discord.Interaction) -> None:
    view = ConfirmEverything(bot, interaction.user.id, str(interaction.guild_id))
    await interaction.response.send_message(
        "This erases **everything** memorybot remembers of this server, for good. Confirm within "
        f"{int(CONFIRM_SECONDS)} seconds.",
        view=view,
        ephemeral=True,
    )


def _stats_text(guild: discord.Guild, stats: dict[str, Any]) -> str:
    held = stats["guilds"].get(str(guild.id))
    last = stats.get("last_ingest_at") or "never"
    disk = f"{stats['disk_bytes'] / 1_048_576:.1f} MiB (the whole data directory, shared by every server)"
    if not held:
        return f"Nothing is remembered in this server yet.\nDisk: {disk}\nLast ingest: {last}"
    lines = [
        f"**Memory of {guild.name}:** {_count(held['messages'], 'message')}, {_count(held['files'], 'file')}, "
        f"{_count(held['chunks'], 'chunk')}, {_count(held['tokens'], 'token')}, {_count(held['vectors'], 'vector')}",
        f"Disk: {disk}",
        f"Last ingest: {last}",
        "**Per channel:**",
    ]
    for channel_id, values in sorted(held["channels"].items(), key=lambda kv: -int(kv[1].get("chunks", 0))):
        channel = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
        name = f"#{channel.name}" if channel is not None else f"channel {channel_id} (deleted or unseen)"
        lines.append(
            f"• {name}: {_count(values.get('messages', 0), 'message')}, {_count(values.get('files', 0), 'file')}, "
            f"{_count(values.get('chunks', 0), 'chunk')}, {_count(values.get('tokens', 0), 'token')}"
        )
    return "\n".join(lines)


def _split(text: str, limit: int = 1900) -> list[str]:
    """Whole lines per message, under Discord's 2000-character cap."""
    parts, current = [], ""
    for line in text.splitlines():
        line = line if len(line) <= limit else line[: limit - 1] + "…"
        if current and len(current) + len(line) + 1 > limit:
            parts.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    return [*parts, current] if current else parts or [""]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
