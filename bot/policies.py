"""Which channels are remembered: admins' per-guild policies (kept in memory's store, cached here because every
message asks), over `discord.enabled_channels`. The nearest policy wins: channel, thread's parent, category."""

from __future__ import annotations

from collections.abc import Iterable

import discord

from memory import AsyncMemory


def policy_ids(channel: object) -> list[str]:
    """The ids whose policy decides for this channel: itself, its parent (threads), and their categories."""
    ids: list[str] = [str(getattr(channel, "id", ""))]
    parent = channel.parent if isinstance(channel, discord.Thread) else None
    if parent is not None:
        ids.append(str(parent.id))
    for holder in (channel, parent):
        category_id = getattr(holder, "category_id", None)
        if category_id:
            ids.append(str(category_id))
    return ids


class ChannelPolicies:
    """Every guild's policies (guild id -> channel or category id -> remembered), loaded once at start and
    refreshed whenever this process changes them."""

    def __init__(self, memory: AsyncMemory, enabled_channels: Iterable[str]) -> None:
        self._memory = memory
        self.enabled_channels = frozenset(enabled_channels)  # config.yaml's defaults
        self._policies: dict[str, dict[str, bool]] = {}

    async def load(self) -> None:
        """Read every guild's policies (before the first message is judged)."""
        self._policies = await self._memory.channel_policies.all()

    def of_guild(self, guild_id: int | str) -> dict[str, bool]:
        """A guild's explicit policies: channel or category id -> remembered."""
        return dict(self._policies.get(str(guild_id), {}))

    def is_enabled(self, channel: object) -> bool:
        """Whether a channel is remembered: the nearest policy an admin set in this guild (the channel itself, then
        a thread's parent, then the category); without one, `discord.enabled_channels` decides."""
        ids = policy_ids(channel)
        guild = getattr(channel, "guild", None)
        policies = self._policies.get(str(guild.id), {}) if guild is not None else {}
        for channel_id in ids:
            if channel_id in policies:
                return policies[channel_id]
        return any(channel_id in self.enabled_channels for channel_id in ids)

    async def set(self, guild_id: int, channel_id: int, remembered: bool) -> None:
        """Store an admin's policy for a channel or category and refresh the guild's cached policies."""
        await self._memory.channel_policies.set(str(guild_id), str(channel_id), remembered)
        await self._reload(guild_id)

    async def clear(self, guild_id: int, channel_id: int) -> bool:
        """Let the category or config.yaml decide for a channel again; return whether it had a policy."""
        cleared = await self._memory.channel_policies.clear(str(guild_id), str(channel_id))
        await self._reload(guild_id)
        return cleared

    async def _reload(self, guild_id: int) -> None:
        self._policies[str(guild_id)] = await self._memory.channel_policies.of_guild(str(guild_id))
