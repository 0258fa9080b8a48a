"""Who may read what, worked out from Discord permissions when a question is asked: the asker's channels, and for
a public answer only the channels that every reader of the answer's channel can read too."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import discord


def can_read(member: discord.Member, channel: object) -> bool:
    """Whether a member can read a channel's history now; private threads need membership too."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        if parent is None or not _reads(member, parent):
            return False
        if channel.type == discord.ChannelType.private_thread:
            is_member = any(m.id == member.id for m in channel.members) or channel.owner_id == member.id
            return is_member or parent.permissions_for(member).manage_threads
        return True
    if isinstance(channel, discord.abc.GuildChannel):
        return _reads(member, channel)
    return False


def _reads(member: discord.Member, channel: discord.abc.GuildChannel) -> bool:
    permissions = channel.permissions_for(member)
    return permissions.view_channel and permissions.read_message_history


def readable_channels(guild: discord.Guild, member: discord.Member, channel_ids: Iterable[str]) -> list[str]:
    """Of the remembered channel ids, those the member can read now (deleted channels drop out)."""
    readable = []
    for channel_id in channel_ids:
        channel = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
        if channel is not None and can_read(member, channel):
            readable.append(channel_id)
    return readable


def audience(guild: discord.Guild, channel: object) -> list[discord.Member]:
    """One representative of every kind of reader of `channel` (the readers of a public reply posted there).

    Permissions depend on a member's roles, unless an overwrite or a private thread names the member, so
    members are grouped by role set and only the individually named ones are checked one by one.
    """
    named: set[int] = {m.id for t in guild.threads if t.type == discord.ChannelType.private_thread for m in t.members}
    for guild_channel in guild.channels:
        named.update(target.id for target in guild_channel.overwrites if isinstance(target, discord.Member))
    representatives: dict[tuple[object, ...], discord.Member] = {}
    for member in guild.members:
        key = (
            tuple(sorted(r.id for r in member.roles)),
            member.id if member.id in named or member.id == guild.owner_id else 0,
        )
        representatives.setdefault(key, member)
    return [m for m in representatives.values() if can_read(m, channel)]


def audience_safe(guild: discord.Guild, channel: object, channel_ids: Sequence[str]) -> list[str]:
    """The channels every reader of `channel` can also read: a public answer there may use only these."""
    readers = audience(guild, channel)
    safe = []
    for channel_id in channel_ids:
        target = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
        if target is not None and all(can_read(m, target) for m in readers):
            safe.append(channel_id)
    return safe
