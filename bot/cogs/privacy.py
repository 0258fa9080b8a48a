"""Members' privacy: `/privacy opt-out|opt-in|forget-me|my-data`, "Forget this message", and erasure on removal."""

from __future__ import annotations

import io
import json
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.render import clip, plural

if TYPE_CHECKING:
    from bot.client import MemoryBot

log = logging.getLogger(__name__)
FORGET_MESSAGE_MENU = "Forget this message"


class Privacy(commands.Cog):
    """What each member controls about themselves, and the guild's memory leaving with the bot."""

    privacy = app_commands.Group(
        name="privacy", description="Control what memorybot remembers about you.", guild_only=True
    )

    def __init__(self, bot: MemoryBot) -> None:
        self.bot = bot
        # A context menu cannot be declared inside a cog class: it is made here and added to the tree on load.
        self.forget_menu = app_commands.ContextMenu(name=FORGET_MESSAGE_MENU, callback=self.forget_message)
        self.forget_menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.forget_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.forget_menu.name, type=self.forget_menu.type)

    # --- /privacy -------------------------------------------------------------------------------------

    @privacy.command(name="opt-out")
    async def opt_out(self, interaction: discord.Interaction) -> None:
        """Stop remembering what you write, in every server that shares this bot."""
        await self.bot.memory.opt_outs.add(str(interaction.user.id))
        await interaction.response.send_message(
            "You are opted out: nothing you write from now on is remembered, in any server that shares this bot. "
            "What was remembered before is kept; `/privacy forget-me` erases it.",
            ephemeral=True,
        )

    @privacy.command(name="opt-in")
    async def opt_in(self, interaction: discord.Interaction) -> None:
        """Let memorybot remember what you write again, from now on."""
        was_out = await self.bot.memory.opt_outs.remove(str(interaction.user.id))
        text = "You are opted in again: what you write from now on is remembered."
        if not was_out:
            text = "You were not opted out: what you write is remembered."
        await interaction.response.send_message(text, ephemeral=True)

    @privacy.command(name="forget-me")
    async def forget_me(self, interaction: discord.Interaction) -> None:
        """Erase everything you wrote and uploaded from memory, in every server that shares this bot."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        await self.bot.ingestion.idle()  # what is still queued is stored first, then erased with the rest
        report = await self.bot.memory.forget_user_everywhere(str(interaction.user.id))
        text = f"Erased {plural(report.messages, 'message')} and {plural(report.files, 'file')} of yours from memory."
        if await self.bot.memory.opt_outs.since(str(interaction.user.id)) is None:
            text += " New messages will be remembered again; `/privacy opt-out` stops that."
        await interaction.edit_original_response(content=text)

    @privacy.command(name="my-data")
    async def my_data(self, interaction: discord.Interaction) -> None:
        """Show what memory holds about you (a summary, and the details as a JSON file)."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        data = (await self.bot.memory.user_data(str(interaction.user.id))).as_json()
        self._add_names(data)
        payload = json.dumps(data, indent=2, ensure_ascii=False).encode()
        attachment = discord.File(io.BytesIO(payload), filename="my-data.json")
        await interaction.edit_original_response(content=_summary(data), attachments=[attachment])

    # --- context menu ---------------------------------------------------------------------------------

    async def forget_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Erase this message from memory (its author, or a member who can manage messages)."""
        # Checked here, not by default permissions: the author must be able to use it without Manage Messages.
        is_author = message.author.id == interaction.user.id
        if not is_author and not interaction.permissions.manage_messages:
            await interaction.response.send_message(
                "Only the message's author or a member with Manage Messages can make me forget it.", ephemeral=True
            )
            return
        if interaction.guild_id is None:
            await interaction.response.send_message("Use this on a message in a server.", ephemeral=True)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        await self.bot.ingestion.idle()  # a queued copy of the message must not come back after the erasure
        report = await self.bot.memory.forget(str(interaction.guild_id), message_id=str(message.id))
        text = "Forgotten: that message is no longer in memory."
        if not report.messages and not report.files:
            text = "That message was not in memory."
        await interaction.edit_original_response(content=text)

    # --- lifecycle ------------------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """The bot was removed from a guild (discord.py does not call this for an outage): erase its memory."""
        await self.bot.ingestion.idle()
        report = await self.bot.memory.forget(str(guild.id))
        log.info("removed from guild %s: erased %d messages, %d files", guild.id, report.messages, report.files)

    def _add_names(self, data: dict[str, Any]) -> None:
        """Server and channel names next to their ids, where the bot still sees them (ids alone mean little)."""
        for guild_id, guild_data in data["guilds"].items():
            guild = self.bot.get_guild(int(guild_id)) if guild_id.isdigit() else None
            guild_data["name"] = guild.name if guild is not None else None
            for channel_id, channel_data in guild_data["channels"].items():
                channel = guild.get_channel_or_thread(int(channel_id)) if guild and channel_id.isdigit() else None
                channel_data["name"] = getattr(channel, "name", None)


def _summary(data: dict[str, Any]) -> str:
    lines = [f"I hold {plural(data['messages'], 'message')} and {plural(data['files'], 'file')} of yours."]
    for guild_data in data["guilds"].values():
        for channel_id, channel in guild_data["channels"].items():
            where = f"#{channel['name']}" if channel.get("name") else f"channel {channel_id}"
            server = guild_data.get("name") or "another server"
            dates = f", {str(channel['first'])[:10]} to {str(channel['last'])[:10]}" if channel["first"] else ""
            lines.append(f"• {where} in {server}: {plural(channel['messages'], 'message')}, "
                         f"{plural(len(channel['files']), 'file')}{dates}")  # fmt: skip
    if data["opted_out"]:
        lines.append("You are opted out: nothing new of yours is remembered.")
    lines.append("The details are in the attached file.")
    return clip("\n".join(lines))


async def setup(bot: MemoryBot) -> None:
    """Add the privacy cog (discord.py calls this when the extension is loaded)."""
    await bot.add_cog(Privacy(bot))
