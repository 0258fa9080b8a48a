"""Who may read what, worked out from Discord permissions when a question is asked: the asker's channels, and for
a public answer only the channels that every reader of the answer's channel can read too (the audience check)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping, Sequence

import discord

log = logging.getLogger(__name__)

Place = discord.abc.GuildChannel | discord.Thread
# The only permissions that decide who reads a channel: a role without them and without an overwrite in the
# channels concerned reads exactly what a member without it reads, so the audience check can ignore it.
YIELD_EVERY = 2000  # members grouped between two GIL hand-overs to the event loop (about 1 ms of work)
READING = discord.Permissions(administrator=True, view_channel=True, read_message_history=True, manage_threads=True)


def can_read(member: discord.Member, channel: object) -> bool:
    """Whether a member can read a channel's history now; private threads need membership too."""
    return _allowed(member, channel, history=True)


def readable_channels(guild: discord.Guild, member: discord.Member, channel_ids: Iterable[str]) -> list[str]:
    """Of the remembered channel ids, those the member can read now (deleted channels drop out)."""
    readable = []
    for channel_id in channel_ids:
        channel = _place(guild, channel_id)
        if channel is not None and can_read(member, channel):
            readable.append(channel_id)
    return readable


async def audience_safe(guild: discord.Guild, channel: object, channel_ids: Sequence[str]) -> list[str]:
    """The channels every reader of `channel` can also read: a public answer there may use only these.

    A reader is anyone who sees new messages there (Read Message History is not needed to see a reply). While
    the guild's member list is incomplete (a large guild whose member chunks have not all arrived) nobody's
    access is known, so nothing is safe. The member list is grouped in a worker thread, so a guild of 100,000
    members does not hold up the event loop; the permission checks of one member per group stay on the loop,
    where discord.py updates its cache.
    """
    if not channel_ids or not isinstance(channel, Place):
        return []
    if not guild.chunked:
        log.info("guild %s: %d of %s members known; a public answer uses no channel until all are", guild.id,
                 len(guild.members), guild.member_count)  # fmt: skip
        return []
    thread_members: dict[int, frozenset[int]] = {}  # a private thread's members, as Discord lists them
    if isinstance(channel, discord.Thread) and channel.type == discord.ChannelType.private_thread:
        try:  # the cache knows only those added while connected; Discord knows them all
            thread_members[channel.id] = frozenset(m.id for m in await channel.fetch_members())
        except discord.HTTPException as e:
            log.warning("could not list the members of thread %s (%s): its answer uses no channel", channel.id, e)
            return []
    targets = {channel_id: _place(guild, channel_id) for channel_id in channel_ids}
    places = _with_parents([channel, *(t for t in targets.values() if t is not None)])
    members = list(guild.members)  # a snapshot made on the loop: the worker must not iterate the live cache
    relevant, named = _relevant_roles(guild, places), _named(guild, places, thread_members)
    groups = await asyncio.to_thread(_representatives, members, relevant, named)
    readers = [m for m in groups if _allowed(m, channel, history=False, thread_members=thread_members)]
    return [
        channel_id for channel_id, target in targets.items()
        if target is not None and all(_allowed(m, target, history=True, thread_members=thread_members) for m in readers)
    ]  # fmt: skip


# --- the parts ---------------------------------------------------------------------------------------------------


def _place(guild: discord.Guild, channel_id: str) -> Place | None:
    return guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None


def _with_parents(places: Iterable[Place]) -> list[Place]:
    out: dict[int, Place] = {}
    for place in places:
        out[place.id] = place
        if isinstance(place, discord.Thread) and place.parent is not None:
            out[place.parent.id] = place.parent
    return list(out.values())


def _relevant_roles(guild: discord.Guild, places: Sequence[Place]) -> frozenset[int]:
    """The roles that can change who reads these places: those granting a reading permission guild-wide, and
    those with an overwrite on one of them."""
    relevant = {role.id for role in guild.roles if role.permissions.value & READING.value}
    for place in places:
        if not isinstance(place, discord.Thread):
            relevant.update(target.id for target in place.overwrites if _is_role(target))
    return frozenset(relevant)


def _named(
    guild: discord.Guild, places: Sequence[Place], thread_members: Mapping[int, frozenset[int]]
) -> frozenset[int]:
    """Members whose access is their own, not their roles': the owner, members with an overwrite on one of the
    places, and members of private threads among them."""
    named = {guild.owner_id or 0, *(m for members in thread_members.values() for m in members)}
    for place in places:
        if isinstance(place, discord.Thread):
            named.update(m.id for m in place.members)
            named.add(place.owner_id)
        else:
            named.update(target.id for target in place.overwrites if not _is_role(target))
    return frozenset(named)


def _is_role(target: object) -> bool:
    # An overwrite's target is a Role or Member, or an Object typed Role or User when it is not in the cache.
    return isinstance(target, discord.Role) or (isinstance(target, discord.Object) and target.type is discord.Role)


def _representatives(
    members: Sequence[discord.Member], relevant: frozenset[int], named: frozenset[int]
) -> list[discord.Member]:
    """One member per (relevant roles, and the member itself if named): members alike in these read alike.

    Runs in a worker thread: it reads only each member's id and role ids, which discord.py replaces (never
    edits in place) when a member changes.
    """
    groups: dict[tuple[tuple[int, ...], int], discord.Member] = {}
    for number, member in enumerate(members):
        if number % YIELD_EVERY == 0:
            time.sleep(0)  # lets the event loop take the GIL now, not at the interpreter's next 5 ms switch
        # `_roles` is discord.py's own sorted id list (RoboDanny reads it too): the public `roles` builds and
        # sorts Role objects, ten times slower over a large guild.
        key = (tuple(r for r in member._roles if r in relevant), member.id if member.id in named else 0)
        groups.setdefault(key, member)
    return list(groups.values())


def _allowed(
    member: discord.Member,
    channel: object,
    *,
    history: bool,
    thread_members: Mapping[int, frozenset[int]] | None = None,
) -> bool:
    """Whether a member sees a channel (and, with `history`, may read its history); a private thread needs
    membership (cached, or in `thread_members` by thread id) or Manage Threads on its parent."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        if parent is None or not _allowed(member, parent, history=history):
            return False
        if channel.type == discord.ChannelType.private_thread:
            listed = (thread_members or {}).get(channel.id, frozenset())
            is_member = member.id in listed or member.id == channel.owner_id
            is_member = is_member or any(m.id == member.id for m in channel.members)
            return is_member or _permissions(parent, member).manage_threads
        return True
    if isinstance(channel, discord.abc.GuildChannel):
        permissions = _permissions(channel, member)
        return permissions.view_channel and (permissions.read_message_history or not history)
    return False


def _permissions(channel: discord.abc.GuildChannel, member: discord.Member) -> discord.Permissions:
    """`permissions_for`, without roles deleted since the member was cached.

    Discord sends only GUILD_ROLE_DELETE when a role goes: discord.py's cached members keep its id and channels
    keep its overwrites, so `permissions_for` would go on applying the overwrite of a role that no longer exists.
    """
    guild = member.guild
    if all(guild.get_role(role_id) is not None for role_id in member._roles):
        return channel.permissions_for(member)
    live = discord.Member._copy(member)
    live._roles = discord.utils.SnowflakeList([r for r in member._roles if guild.get_role(r) is not None])
    return channel.permissions_for(live)
