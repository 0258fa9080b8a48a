"""Server admins' settings: `/memory enable|disable channel` and `/memory channels`, for Manage Server only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

if TYPE_CHECKING:
    from bot.client import MemoryBot

REFUSAL = "Only members with the Manage Server permission can change or see what memorybot remembers here."
# Channels an admin can set a policy on: threads and forum posts follow their parent, so they are not offered.
PolicyChannel = discord.TextChannel | discord.CategoryChannel | discord.ForumChannel


class Admin(commands.Cog):
    """Per-guild settings, kept in SQLite and overriding config.yaml's defaults."""

    memory_group = app_commands.Group(
        name="memory",
        description="Set up what memorybot remembers in this server (Manage Server).",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: MemoryBot) -> None:
        self.bot = bot

    @memory_group.command(name="enable")
    @app_commands.describe(channel="A text channel, forum or category (a category covers its channels)")
    async def enable(self, interaction: discord.Interaction, channel: PolicyChannel) -> None:
        """Remember new messages in a channel, forum or category from now on."""
        if await _refused(interaction):
            return
        assert interaction.guild_id is not None  # noqa: S101 (guild-only, checked by _refused)
        await self.bot.set_channel_policy(interaction.guild_id, channel.id, True)
        await interaction.response.send_message(
            f"Now remembering new messages in {_where(channel)}. Threads and forum posts follow their parent.",
            ephemeral=True,
        )

    @memory_group.command(name="disable")
    @app_commands.describe(channel="A text channel, forum or category (a category covers its channels)")
    async def disable(self, interaction: discord.Interaction, channel: PolicyChannel) -> None:
        """Stop remembering new messages in a channel, forum or category."""
        if await _refused(interaction):
            return
        assert interaction.guild_id is not None  # noqa: S101 (guild-only, checked by _refused)
        await self.bot.set_channel_policy(interaction.guild_id, channel.id, False)
        await interaction.response.send_message(
            f"No longer remembering new messages in {_where(channel)}. What was remembered before stays in "
            f"memory; to erase it, run `memorybot forget --guild {interaction.guild_id} --channel {channel.id}` "
            "(members can erase their own with `/privacy forget-me`).",
            ephemeral=True,
        )

    @memory_group.command(name="channels")
    async def channels(self, interaction: discord.Interaction) -> None:
        """List which channels and categories are remembered here, and where each setting comes from."""
        if await _refused(interaction):
            return
        guild = interaction.guild
        assert guild is not None  # noqa: S101 (guild-only, checked by _refused)
        policies = self.bot.channel_policies.get(str(guild.id), {})
        lines = ["**Set in this server** (`/memory enable|disable`; these override config.yaml):"]
        lines += [f"• {_name(guild, cid)}: {_state(on)}" for cid, on in sorted(policies.items())] or ["• none"]
        defaults = [cid for cid in sorted(self.bot.enabled_channels) if _in_guild(guild, cid)]
        lines.append("**Defaults from config.yaml** (`discord.enabled_channels`):")
        for cid in defaults:
            overridden = f" (overridden here: {_state(policies[cid])})" if cid in policies else ""
            lines.append(f"• {_name(guild, cid)}: remembered{overridden}")
        if not defaults:
            lines.append("• none")
        remembered = [f"#{c.name}" for c in guild.channels if _is_postable(c) and self.bot.is_enabled(c)]
        lines.append(f"**Remembered now:** {', '.join(remembered) or 'no channel'}")
        lines.append("The nearest setting wins: the channel, then a thread's parent, then the category.")
        text = "\n".join(lines)
        await interaction.response.send_message(text if len(text) <= 1900 else text[:1900] + "…", ephemeral=True)


async def _refused(interaction: discord.Interaction) -> bool:
    """Refuse (privately) a member without Manage Server: checked here as well as by the default permissions,
    because a guild can override those and open the command to anyone."""
    if interaction.guild is None:
        await interaction.response.send_message("Use this command in a server.", ephemeral=True)
        return True
    if not interaction.permissions.manage_guild:
        await interaction.response.send_message(f"{REFUSAL} Nothing was changed.", ephemeral=True)
        return True
    return False


def _where(channel: object) -> str:
    if isinstance(channel, discord.CategoryChannel):
        return f"the channels of the category {channel.name}"
    return f"#{getattr(channel, 'name', channel)}"


def _name(guild: discord.Guild, channel_id: str) -> str:
    channel = guild.get_channel(int(channel_id)) if channel_id.isdigit() else None
    if channel is None:
        return f"channel {channel_id} (deleted)"
    if isinstance(channel, discord.CategoryChannel):
        return f"category {channel.name}"
    return f"#{channel.name}"


def _in_guild(guild: discord.Guild, channel_id: str) -> bool:
    return channel_id.isdigit() and guild.get_channel(int(channel_id)) is not None


def _is_postable(channel: object) -> bool:
    return isinstance(channel, discord.TextChannel | discord.ForumChannel)


def _state(remembered: bool) -> str:
    return "remembered" if remembered else "not remembered"
