"""Server admins' settings: `/memory enable|disable channel`, `/memory channels`, `/memory settings`; Manage Server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from memory.guild_settings import KEYS, GuildSettingError, GuildSettings, validate

if TYPE_CHECKING:
    from bot.client import MemoryBot

REFUSAL = "Only members with the Manage Server permission can change or see what memorybot remembers here."
# Channels an admin can set a policy on: threads and forum posts follow their parent, so they are not offered.
PolicyChannel = discord.TextChannel | discord.CategoryChannel | discord.ForumChannel
SettingKey = Literal[
    "visibility", "sources", "context_tokens", "min_relevance", "retention_days", "extra_instruction", "model"
]


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

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Every `/memory` command (admin_data's and admin_backfill's too: they run bound to this cog) is for
        Manage Server only. Checked here, at run time, as well as by the default permissions, because a guild
        can override those and open the commands to anyone; the refusal reaches the member privately through
        `MemoryBot.on_app_command_error`."""
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage("Use this command in a server.")
        if not interaction.permissions.manage_guild:
            raise app_commands.CheckFailure(f"{REFUSAL} Nothing was changed.")
        return True

    @memory_group.command(name="enable")
    @app_commands.describe(channel="A text channel, forum or category (a category covers its channels)")
    async def enable(self, interaction: discord.Interaction, channel: PolicyChannel) -> None:
        """Remember new messages in a channel, forum or category from now on."""
        assert interaction.guild_id is not None  # noqa: S101 (guild-only, checked by Admin.interaction_check)
        await self.bot.set_channel_policy(interaction.guild_id, channel.id, True)
        await interaction.response.send_message(
            f"Now remembering new messages in {_where(channel)}. Threads and forum posts follow their parent.",
            ephemeral=True,
        )

    @memory_group.command(name="disable")
    @app_commands.describe(channel="A text channel, forum or category (a category covers its channels)")
    async def disable(self, interaction: discord.Interaction, channel: PolicyChannel) -> None:
        """Stop remembering new messages in a channel, forum or category."""
        assert interaction.guild_id is not None  # noqa: S101 (guild-only, checked by Admin.interaction_check)
        await self.bot.set_channel_policy(interaction.guild_id, channel.id, False)
        await interaction.response.send_message(
            f"No longer remembering new messages in {_where(channel)}. What was remembered before stays in "
            "memory; `/memory forget` erases it (members can erase their own with `/privacy forget-me`).",
            ephemeral=True,
        )

    @memory_group.command(name="reset")
    @app_commands.describe(channel="A text channel, forum or category set with /memory enable or disable")
    async def reset(self, interaction: discord.Interaction, channel: PolicyChannel) -> None:
        """Remove this server's setting for a channel: its category or config.yaml decides again."""
        assert interaction.guild_id is not None  # noqa: S101 (guild-only, checked by Admin.interaction_check)
        cleared = await self.bot.clear_channel_policy(interaction.guild_id, channel.id)
        now = _state(self.bot.is_enabled(channel)) if not isinstance(channel, discord.CategoryChannel) else None
        if not cleared:
            text = f"{_where(channel).capitalize()} had no setting of this server; nothing was changed."
        else:
            text = f"Removed this server's setting for {_where(channel)}."
            if now is not None:
                text += f" It is now {now} (from its category or config.yaml)."
        await interaction.response.send_message(text, ephemeral=True)

    @memory_group.command(name="channels")
    async def channels(self, interaction: discord.Interaction) -> None:
        """List which channels and categories are remembered here, and where each setting comes from."""
        guild = interaction.guild
        assert guild is not None  # noqa: S101 (guild-only, checked by Admin.interaction_check)
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

    @memory_group.command(name="settings")
    @app_commands.describe(
        visibility="Answers to /ask are public or private unless the asker says otherwise",
        sources="How many sources an answer may draw on (1-20)",
        context_tokens="Token budget for the sources in the prompt (at least 100)",
        min_relevance="Least relevance a source needs (0-1)",
        retention_days="Erase chat messages and files older than this many days (0: keep forever)",
        extra_instruction="Appended to the system prompt (at most 500 characters)",
        model="The language model, from the allow-list in config.yaml",
        reset="Let config.yaml decide this setting again",
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        visibility: Literal["public", "private"] | None = None,
        sources: int | None = None,
        context_tokens: int | None = None,
        min_relevance: float | None = None,
        retention_days: int | None = None,
        extra_instruction: str | None = None,
        model: str | None = None,
        reset: SettingKey | None = None,
    ) -> None:
        """Show this server's settings, or change some: without options, shows each value and its source."""
        assert interaction.guild_id is not None  # noqa: S101 (guild-only, checked by Admin.interaction_check)
        given = {
            "visibility": visibility, "sources": sources, "context_tokens": context_tokens,
            "min_relevance": min_relevance, "retention_days": retention_days,
            "extra_instruction": extra_instruction, "model": model,
        }  # fmt: skip
        changes = {key: value for key, value in given.items() if value is not None}
        # Every value is checked before any is stored, so a bad one changes nothing.
        problems = []
        for key, value in changes.items():
            try:
                validate(key, value, self.bot.memory.settings)
            except GuildSettingError as e:
                problems.append(f"• {e}")
        if problems:
            text = "Nothing was changed:\n" + "\n".join(problems)
            await interaction.response.send_message(text, ephemeral=True)
            return
        for key, value in changes.items():
            await self.bot.set_guild_setting(interaction.guild_id, key, value)
        if reset is not None:
            await self.bot.clear_guild_setting(interaction.guild_id, reset)
        current = self.bot.guild_settings(interaction.guild_id)
        head = "Saved. " if changes or reset else ""
        await interaction.response.send_message(head + _settings_text(current), ephemeral=True)


def _settings_text(current: GuildSettings) -> str:
    """Each setting with its value and where it comes from."""
    values: dict[str, object] = {
        "visibility": current.visibility, "sources": current.sources, "context_tokens": current.context_tokens,
        "min_relevance": current.min_relevance, "retention_days": current.retention_days or "0 (keep forever)",
        "extra_instruction": current.extra_instruction or "none", "model": current.model,
    }  # fmt: skip
    lines = ["**Settings of this server** (server: set with `/memory settings`; config: config.yaml's default):"]
    lines += [f"• {key}: {values[key]} ({current.source(key)})" for key in KEYS]
    return "\n".join(lines)


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
