"""`/recap`: what was said over a time window in the channels the asker can read, cited and in time order; sent
privately when not everyone in the channel could read its sources."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import audience_safe, readable_channels
from bot.errors import APOLOGY, user_message
from bot.render import PRIVATE_NOTICE, safe_links, sources_lines, split_message
from bot.replies import original_response, private_followup
from memory import AnswerError, Recap
from memory import since as parse_since

if TYPE_CHECKING:
    from bot.client import MemoryBot

RecapChannel = discord.TextChannel | discord.ForumChannel | discord.Thread | discord.VoiceChannel


class Recaps(commands.Cog):
    """Recaps of a channel, or of every channel the asker can read, through memory's recapper."""

    def __init__(self, bot: MemoryBot) -> None:
        self.bot = bot

    @app_commands.command(name="recap")
    @app_commands.guild_only()
    async def recap(
        self,
        interaction: discord.Interaction,
        channel: RecapChannel | None = None,
        since: str = "24h",
        private: bool | None = None,
    ) -> None:
        """What was said lately, with sources: a summary in time order (or the key message of each conversation).

        Args:
            channel: only this channel and its threads (default: every channel you can read)
            since: how far back: 90m, 24h, 7d, 2w, or a date like 2025-03-01 (default: 24h)
            private: only you see the recap (default: this server's setting)
        """
        member, guild = interaction.user, interaction.guild
        if not isinstance(member, discord.Member) or guild is None:
            await interaction.response.send_message("Ask for a recap in a server channel.", ephemeral=True)
            return
        end = interaction.created_at
        try:
            start = parse_since(since, end)
        except ValueError as e:
            await interaction.response.send_message(f"`since` must be {e}. Nothing was recapped.", ephemeral=True)
            return
        if refusal := self.bot.limits.check("recap", guild.id, member.id):
            await interaction.response.send_message(refusal.message(), ephemeral=True)
            return
        readable = readable_channels(guild, member, await self.bot.memory.channels(str(guild.id)))
        if channel is not None:
            readable = [c for c in readable if c == str(channel.id) or _parent_id(guild, c) == str(channel.id)]
        if private is None:
            private = (await self.bot.memory.guild_settings.get(str(guild.id))).private
        await interaction.response.defer(thinking=True, ephemeral=private)
        names = {str(c.id): c.name for c in [*guild.channels, *guild.threads]}
        try:
            done = await self.bot.memory.recaps.recap(
                str(guild.id), after=start, before=end, channels=readable, guild_name=guild.name, channel_names=names
            )
        except AnswerError as e:
            await interaction.edit_original_response(content=f"⚠️ {user_message(e) or APOLOGY}")
            return
        target = original_response(interaction, ephemeral=private)
        if not private and done.context.hits:
            used = list(dict.fromkeys(h.chunk.channel_id for h in done.context.hits))
            if set(used) - set(await audience_safe(guild, interaction.channel, used)):
                await interaction.edit_original_response(content=PRIVATE_NOTICE)
                target = private_followup(interaction)
        parts = split_message(_text(guild, done))
        await target.write(parts[0])
        for part in parts[1:]:
            await target.add(part)


def _parent_id(guild: discord.Guild, channel_id: str) -> str | None:
    found = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
    return str(found.parent_id) if isinstance(found, discord.Thread) else None


def _text(guild: discord.Guild, done: Recap) -> str:
    """The recap, its links kept only where they point at a source, then the sources it cites."""
    labels = []
    for hit in done.context.hits:
        chunk = hit.chunk
        channel = guild.get_channel_or_thread(int(chunk.channel_id)) if chunk.channel_id.isdigit() else None
        where = f"#{channel.name}" if channel is not None else f"channel {chunk.channel_id}"
        labels.append((chunk.jump_url, f"{where}, {(chunk.created_at or '')[:16].replace('T', ' ')}"))
    text = safe_links(done.text, [url for url, _ in labels if url])
    if done.context.hits:
        shown = done.used_sources or range(1, len(labels) + 1)
        text += "\n\n" + sources_lines([(n, *labels[n - 1]) for n in shown])
    return text


async def setup(bot: MemoryBot) -> None:
    """Add the recap cog (discord.py calls this when the extension is loaded)."""
    await bot.add_cog(Recaps(bot))
