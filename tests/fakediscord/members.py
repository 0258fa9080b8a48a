"""The fake Discord's members, roles and link previews: member chunks (op 8), member and role events, thread
members, and the embed-only MESSAGE_UPDATE Discord sends when it unfurls a link. A mixin of `FakeDiscord`."""

from __future__ import annotations

import asyncio
import copy
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tests.fakediscord.protocol import (
    GUILD_MEMBER_ADD,
    GUILD_MEMBER_REMOVE,
    GUILD_MEMBER_UPDATE,
    GUILD_MEMBERS_CHUNK,
    GUILD_ROLE_CREATE,
    GUILD_ROLE_DELETE,
    GUILD_ROLE_UPDATE,
    INTENT_GUILD_MEMBERS,
    MESSAGE_UPDATE,
    SUPPRESS_EMBEDS,
    THREAD_CREATE,
    THREAD_MEMBERS_UPDATE,
    THREAD_TYPES,
    VIEW_CHANNEL,
)

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord, _Session

MEMBERS_PER_CHUNK = 1000  # Discord's page size for GUILD_MEMBERS_CHUNK


class MembersAndRoles:
    """What a guild's people do that the bot must follow: join, leave, gain or lose roles, roles edited or
    deleted, thread membership; and the member list of a large guild, sent in chunks when the bot asks."""

    def _init_members(self: FakeDiscord) -> None:
        self.members_per_chunk = MEMBERS_PER_CHUNK  # smaller in tests, to see paging with few members
        self.member_requests: list[dict[str, Any]] = []  # every op 8 payload, as received
        self._chunks_released = asyncio.Event()
        self._chunks_released.set()
        self._chunk_tasks: set[asyncio.Task[None]] = set()

    # --- member chunks ---------------------------------------------------------------------------------------

    def hold_member_chunks(self: FakeDiscord) -> None:
        """Answer op 8 requests only after `release_member_chunks`: a large guild whose member list is late."""
        self._chunks_released.clear()

    def release_member_chunks(self: FakeDiscord) -> None:
        """Send the member chunks held back since `hold_member_chunks`."""
        self._chunks_released.set()

    def _request_guild_members(self: FakeDiscord, session: _Session, data: dict[str, Any]) -> None:
        """Op 8 REQUEST_GUILD_MEMBERS, answered in a task so the gateway keeps reading heartbeats meanwhile."""
        self.member_requests.append(copy.deepcopy(data))
        task = asyncio.create_task(self._send_member_chunks(session, data))
        self._chunk_tasks.add(task)
        task.add_done_callback(self._chunk_tasks.discard)

    async def _send_member_chunks(self: FakeDiscord, session: _Session, data: dict[str, Any]) -> None:
        """GUILD_MEMBERS_CHUNK pages: by user_ids (the unknown ones in not_found), or by username prefix
        `query` up to `limit` (query "" with limit 0 is the whole list); chunk_index/chunk_count and the
        request's nonce on every page, as Discord sends them."""
        await self._chunks_released.wait()
        guild = self._guilds.get(str(data["guild_id"]))
        if guild is None or self.bot_user_id not in guild.members:
            return
        user_ids = data.get("user_ids")
        not_found: list[str] | None = None
        if user_ids is not None:
            wanted = [str(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])]
            found = [u for u in wanted if u in guild.members]
            not_found = [u for u in wanted if u not in guild.members]
        else:
            query, limit = str(data.get("query") or "").lower(), int(data.get("limit") or 0)
            found = [u for u in guild.members if self._users[u]["username"].lower().startswith(query)]
            found = found[:limit] if limit else found
        size = self.members_per_chunk
        count = max(1, math.ceil(len(found) / size))
        for index in range(count):
            page = {"guild_id": guild.id, "chunk_index": index, "chunk_count": count}
            page["members"] = [self._member(guild.id, u) for u in found[index * size : (index + 1) * size]]
            if not_found is not None:
                page["not_found"] = not_found if index == 0 else []
            if data.get("presences"):
                page["presences"] = []  # nobody is online in the fake
            if data.get("nonce") is not None:
                page["nonce"] = data["nonce"]
            await self._send(session, GUILD_MEMBERS_CHUNK, page)

    # --- members ---------------------------------------------------------------------------------------------

    async def member_joins(self: FakeDiscord, guild_id: str, user_id: str, *, roles: Iterable[str] = ()) -> None:
        """A user joins the guild: GUILD_MEMBER_ADD (to sessions with the members intent)."""
        if user_id in self._guilds[guild_id].members:
            raise ValueError(f"user {user_id} is already a member of guild {guild_id}")
        self.add_member(guild_id, user_id, roles=roles)
        await self._dispatch(GUILD_MEMBER_ADD, self._member(guild_id, user_id) | {"guild_id": guild_id})

    async def member_leaves(self: FakeDiscord, guild_id: str, user_id: str) -> None:
        """A member leaves (or is kicked): GUILD_MEMBER_REMOVE; Discord also takes them out of its threads."""
        del self._guilds[guild_id].members[user_id]
        for channel in self._channels.values():
            if channel.guild_id == guild_id:
                channel.thread_members.discard(user_id)
        await self._dispatch(GUILD_MEMBER_REMOVE, {"guild_id": guild_id, "user": self._user(user_id)})

    async def set_member_roles(self: FakeDiscord, guild_id: str, user_id: str, roles: Iterable[str]) -> None:
        """A member's roles are replaced (a role given or taken): GUILD_MEMBER_UPDATE with the full role list."""
        if user_id not in self._guilds[guild_id].members:
            raise KeyError(f"user {user_id} is not a member of guild {guild_id}")
        self.add_member(guild_id, user_id, roles=roles)
        update = self._member(guild_id, user_id) | {"guild_id": guild_id, "avatar": None, "pending": False}
        await self._dispatch(GUILD_MEMBER_UPDATE, update | {"premium_since": None, "deaf": False, "mute": False})

    # --- roles -----------------------------------------------------------------------------------------------

    async def create_role(self: FakeDiscord, guild_id: str, name: str, permissions: int) -> str:
        """An admin creates a role: GUILD_ROLE_CREATE."""
        role_id = self.add_role(guild_id, name, permissions)
        await self._dispatch(GUILD_ROLE_CREATE, {"guild_id": guild_id, "role": self._role_payload(guild_id, role_id)})
        return role_id

    async def edit_role(
        self: FakeDiscord, guild_id: str, role_id: str, *, permissions: int | None = None, name: str | None = None
    ) -> None:
        """An admin edits a role (the @everyone role too, whose id is the guild's): GUILD_ROLE_UPDATE."""
        role = self._guilds[guild_id].roles[role_id]
        role |= {"permissions": role["permissions"] if permissions is None else permissions}
        role |= {"name": role["name"] if name is None else name}
        await self._dispatch(GUILD_ROLE_UPDATE, {"guild_id": guild_id, "role": self._role_payload(guild_id, role_id)})

    async def delete_role(self: FakeDiscord, guild_id: str, role_id: str) -> None:
        """An admin deletes a role: Discord takes it from every member and every channel's overwrites, but sends
        only GUILD_ROLE_DELETE (no member or channel updates), so a client's cached members keep the role's id
        and its channels keep the role's overwrites (discord-api-docs#4303: "ignore unresolved references")."""
        guild = self._guilds[guild_id]
        if role_id == guild_id:
            raise ValueError("the @everyone role cannot be deleted")
        del guild.roles[role_id]
        for member in guild.members.values():
            member.roles = [r for r in member.roles if r != role_id]
        for channel in self._channels.values():
            if channel.guild_id == guild_id:
                channel.overwrites = [o for o in channel.overwrites if not (o["type"] == 0 and o["id"] == role_id)]
        await self._dispatch(GUILD_ROLE_DELETE, {"guild_id": guild_id, "role_id": role_id})

    def _role_payload(self: FakeDiscord, guild_id: str, role_id: str) -> dict[str, Any]:
        role = self._role(self._guilds[guild_id].roles[role_id])
        return role | {"mentionable": False, "flags": 0, "icon": None, "unicode_emoji": None}

    # --- thread members --------------------------------------------------------------------------------------

    async def add_thread_member(self: FakeDiscord, thread_id: str, user_id: str) -> None:
        """Someone is added to a thread: THREAD_MEMBERS_UPDATE to the sessions that see the thread (the bot
        itself added to a private thread it could not see gets THREAD_CREATE first, as on Discord)."""
        thread = self._thread(thread_id)
        if user_id not in self._guilds[thread.guild_id].members:
            raise KeyError(f"user {user_id} is not a member of guild {thread.guild_id}")
        was_visible = self._bot_can(thread, VIEW_CHANNEL)
        thread.thread_members.add(user_id)
        if user_id == self.bot_user_id and not was_visible:
            await self._dispatch(THREAD_CREATE, self._channel(thread), guild_id=thread.guild_id)
        await self._thread_members_update(thread, added=[user_id])

    async def remove_thread_member(self: FakeDiscord, thread_id: str, user_id: str) -> None:
        """Someone leaves or is removed from a thread: THREAD_MEMBERS_UPDATE with removed_member_ids."""
        thread = self._thread(thread_id)
        if user_id not in thread.thread_members:
            raise KeyError(f"user {user_id} is not in thread {thread_id}")
        visible = self._bot_can(thread, VIEW_CHANNEL)  # before the removal: the bot learns it was removed
        thread.thread_members.discard(user_id)
        if visible:
            await self._thread_members_update(thread, removed=[user_id], check_visible=False)

    def _thread(self: FakeDiscord, thread_id: str) -> Any:
        thread = self._channels[thread_id]
        if thread.type not in THREAD_TYPES:
            raise ValueError(f"channel {thread_id} is not a thread")
        return thread

    async def _thread_members_update(
        self: FakeDiscord, thread: Any, *, added: Iterable[str] = (), removed: Iterable[str] = (), check_visible=True
    ) -> None:
        # Without the members intent Discord sends this only when the bot itself was added or removed.
        added, removed = list(added), list(removed)
        if check_visible and not self._bot_can(thread, VIEW_CHANNEL):
            return
        for session in list(self._sessions.values()):
            if not self._receives(session, thread.guild_id):
                continue
            with_members = bool(session.intents & INTENT_GUILD_MEMBERS)
            if not with_members and self.bot_user_id not in (*added, *removed):
                continue
            added_members = []
            for user_id in added:
                entry = self._thread_member(thread, user_id) | {"join_timestamp": datetime.now(UTC).isoformat()}
                added_members.append(
                    entry | ({"member": self._member(thread.guild_id, user_id)} if with_members else {})
                )
            payload = {"id": thread.id, "guild_id": thread.guild_id, "member_count": len(thread.thread_members)}
            payload |= {"added_members": added_members} if added_members else {}
            payload |= {"removed_member_ids": removed} if removed else {}
            await self._send(session, THREAD_MEMBERS_UPDATE, payload)

    def thread_member_ids(self: FakeDiscord, thread_id: str) -> set[str]:
        """Who is in a thread now (Discord's side)."""
        return set(self._thread(thread_id).thread_members)

    # --- link previews ---------------------------------------------------------------------------------------

    async def discord_unfurls_links(
        self: FakeDiscord, channel_id: str, message_id: str, embeds: Iterable[dict]
    ) -> dict:
        """Discord adds link previews to a message a moment after it was sent: a MESSAGE_UPDATE with the whole
        message in which only `embeds` changed; edited_timestamp stays as it was, since nobody edited it."""
        message = self._find_message(channel_id, message_id)
        if message["flags"] & SUPPRESS_EMBEDS:
            raise ValueError(f"message {message_id} has its embeds suppressed: Discord unfurls nothing")
        message["embeds"] = [link_embed(**e) if "type" not in e else dict(e) for e in embeds]
        await self._dispatch_message(MESSAGE_UPDATE, message)
        return copy.deepcopy(message)

    async def user_suppresses_embeds(self: FakeDiscord, channel_id: str, message_id: str) -> dict:
        """The author removes a message's previews: flags gain SUPPRESS_EMBEDS, embeds empty; not an edit either."""
        message = self._find_message(channel_id, message_id)
        message |= {"embeds": [], "flags": message["flags"] | SUPPRESS_EMBEDS}
        await self._dispatch_message(MESSAGE_UPDATE, message)
        return copy.deepcopy(message)


def link_embed(*, url: str, title: str, description: str = "", provider: str = "") -> dict[str, Any]:
    """A link preview as Discord makes it (type "article"): the page's title, description and site name."""
    embed: dict[str, Any] = {"type": "article", "url": url, "title": title}
    embed |= {"description": description} if description else {}
    return embed | ({"provider": {"name": provider}} if provider else {})
