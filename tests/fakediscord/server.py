"""An in-process fake Discord (REST API, gateway, interaction webhooks and CDN) that a real discord.py runs against."""

from __future__ import annotations

import asyncio
import copy
import json
import math
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import WSMsgType, web

from tests.fakediscord.members import MembersAndRoles
from tests.fakediscord.protocol import (
    ADMINISTRATOR,
    ALL_CHANNEL_PERMISSIONS,
    ALL_PERMISSIONS,
    ATTACH_FILES,
    ATTACHMENT_SIZE_LIMIT,
    CATEGORY,
    CHANNEL_DELETE,
    CHANNEL_UPDATE,
    DEFAULT_PERMISSIONS,
    DISCORD_EPOCH_MS,
    EMBED_LINKS,
    EPHEMERAL,
    FORUM,
    GUILD_CREATE,
    GUILD_DELETE,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    INTENT_OF,
    INTERACTION_CREATE,
    LOADING,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    MAX_CONTENT,
    MENTION_EVERYONE,
    MESSAGE_CREATE,
    MESSAGE_DELETE,
    MESSAGE_DELETE_BULK,
    MESSAGE_UPDATE,
    MESSAGEABLE_TYPES,
    NEWS,
    PRIVATE_THREAD,
    PRIVILEGED_INTENTS,
    PUBLIC_THREAD,
    READ_MESSAGE_HISTORY,
    READY,
    RESUMED,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    SEND_TTS_MESSAGES,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    TEXT,
    THREAD_CREATE,
    THREAD_DELETE,
    THREAD_TYPES,
    VIEW_CHANNEL,
    VOICE_PERMISSIONS,
)
from tests.fakediscord.shards import Shards


def _snowflake_time(snowflake: str | int) -> datetime:
    return datetime.fromtimestamp(((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


def _iso(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat()


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py compares the header for equality, and aiohttp's json_response adds
    # "; charset=utf-8", which turns every body into a str (pitfall 1).
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json", headers=headers)


class ApiError(Exception):
    """A Discord-shaped JSON error: {"code", "message"} plus optional "errors" (as for 50035)."""

    def __init__(self, status: int, code: int, message: str, errors: dict | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def response(self) -> web.Response:
        body = {"code": self.code, "message": self.message} | ({"errors": self.errors} if self.errors else {})
        return _json(body, self.status)


def _form_error(field_name: str, code: str, message: str) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", {field_name: {"_errors": [{"code": code, "message": message}]}})


@dataclass
class RecordedRequest:
    """One HTTP request the fake received; `status` is set once it has been answered."""

    method: str
    path: str  # without /api/v10
    query: dict[str, str]
    json: Any  # the parsed JSON body, or payload_json of a multipart body
    files: list[tuple[str, bytes]]
    headers: dict[str, str]
    status: int | None = None
    file_types: list[str] = field(default_factory=list)


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    global_: bool
    times: int
    cloudflare: bool = False


@dataclass
class _Member:
    user_id: str
    roles: list[str]
    joined_at: str


@dataclass
class _Guild:
    id: str
    name: str
    owner_id: str
    roles: dict[str, dict[str, Any]]  # role id -> {"id", "name", "permissions": int, "position"}
    members: dict[str, _Member] = field(default_factory=dict)


@dataclass
class _Channel:
    id: str
    guild_id: str
    type: int
    name: str
    position: int
    parent_id: str | None
    overwrites: list[dict[str, Any]]  # {"id", "type": 0 role | 1 member, "allow": int, "deny": int}
    owner_id: str | None = None  # threads only, from here on
    thread_members: set[str] = field(default_factory=set)
    archived: bool = False
    archive_timestamp: str = ""


@dataclass
class _Session:
    id: str
    intents: int
    shard: list[int]
    large_threshold: int = 50  # IDENTIFY's: above it, GUILD_CREATE leaves offline members out (discord.py asks 250)
    seq: int = 0
    ws: web.WebSocketResponse | None = None
    log: list[tuple[int, str]] = field(default_factory=list)  # sent dispatches, replayed on RESUME
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class FakeInteraction:
    """An interaction the fake dispatched, and everything the bot answered to it."""

    def __init__(self, server: FakeDiscord, payload: dict[str, Any], source_message: dict | None = None) -> None:
        self._server = server
        self.payload = payload
        self.id: str = payload["id"]
        self.token: str = payload["token"]
        self.kind: int = payload["type"]  # 2 application command, 3 component
        self.guild_id: str = payload["guild_id"]
        self.channel_id: str = payload["channel"]["id"]
        self.user_id: str = payload["member"]["user"]["id"]
        self.callbacks: list[dict] = []
        self.edits: list[dict] = []
        self.followups: list[dict] = []
        self.files: list[tuple[str, bytes]] = []  # every file uploaded in any response to this interaction
        self.original: dict | None = None  # the @original message (for a component: the clicked message)
        self.followup_messages: list[dict] = []
        self.source_message = source_message
        self.created = time.monotonic()

    @property
    def ephemeral(self) -> bool:
        """Whether the first callback asked for an ephemeral response (flags 64)."""
        data = (self.callbacks[0].get("data") or {}) if self.callbacks else {}
        return bool(int(data.get("flags") or 0) & EPHEMERAL)

    def _done(self) -> bool:
        if not self.callbacks:
            return False
        if self.callbacks[0].get("type") in (4, 7, 8, 9):
            return True
        return bool(self.edits or self.followups)  # a type 5/6 defer is done once something follows it

    async def wait_done(
        self, predicate: Callable[[FakeInteraction], bool] | None = None, timeout: float = 20.0
    ) -> None:
        """Wait until predicate(self) holds; by default until a final answer (type 4, or a defer then edit/followup)."""
        check = predicate or FakeInteraction._done
        await self._server._wait_until(
            lambda: check(self), timeout, lambda: f"interaction {self.id} ({self.summary()})"
        )

    def summary(self) -> str:
        """What was answered so far, for timeout messages."""
        kinds = [c.get("type") for c in self.callbacks]
        return f"callbacks={kinds} edits={len(self.edits)} followups={len(self.followups)}"


def point_discord_py_at(server: FakeDiscord) -> None:
    """Redirect the real discord.py (REST, interaction webhooks, gateway) to the fake; call before each login."""
    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = server.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)


class FakeDiscord(MembersAndRoles, Shards):
    """A small stateful Discord: world building, user actions, recorded requests and injected faults (members, roles
    and link previews in `MembersAndRoles`, shards in `Shards`)."""

    def __init__(self, *, privileged_intents_allowed: bool = True, token: str = "fake-token") -> None:  # noqa: S107
        self.privileged_intents_allowed = privileged_intents_allowed  # the portal switches (and REST content)
        self.token = token
        self.port = 0
        self.requests: list[RecordedRequest] = []
        self.commands: dict[str, list[dict]] = {}
        self.history_429_ratio = 0.0
        self.interaction_deadline: float | None = 3.0  # seconds to the first callback, as on Discord; None = off
        self.interaction_token_seconds = 15 * 60.0  # an interaction's token (followups, edits) lives 15 minutes
        self.gateway_received: list[dict] = []  # every payload a bot sent on the gateway (IDENTIFY, RESUME, ...)
        self.cdn_bytes_served = 0
        self.cdn_bytes_by_path: dict[str, int] = {}
        self._last_snowflake = 0
        self._users: dict[str, dict[str, Any]] = {}
        self._guilds: dict[str, _Guild] = {}
        self._channels: dict[str, _Channel] = {}
        self._messages: dict[str, list[dict]] = {}  # channel id -> messages, oldest first
        self._message_channel: dict[str, str] = {}
        self._nonces: dict[str, dict] = {}
        self._blobs: dict[str, tuple[bytes, str, int]] = {}  # cdn path -> (data, content type, bytes to stream)
        self._interactions: dict[str, FakeInteraction] = {}  # by token
        self._sessions: dict[str, _Session] = {}
        self._faults: list[_Fault] = []
        self._history_pages = 0
        self._history_gate: asyncio.Event | None = None  # see hold_history
        self._changed = asyncio.Event()
        self._cdn_released = asyncio.Event()
        self._cdn_released.set()
        self._runner: web.AppRunner | None = None
        self._websockets: set[web.WebSocketResponse] = set()
        self.bot_user_id = self.add_user("memorybot", bot=True)
        self.application_id = self.bot_user_id  # modern applications share the bot user's id
        self._app_owner_id = self.add_user("app-owner")
        self._routes = self._route_table()
        self._init_members()

    # --- lifecycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on 127.0.0.1 with a free port."""
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/", self._gateway)  # a patched URL with a trailing slash keeps it
        app.router.add_get("/cdn/{tail:.*}", self._cdn)
        app.router.add_route("*", "/{tail:.*}", self._api)  # /api/v10/... and a recorded 404 for anything else
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, shutdown_timeout=1.0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Close every gateway connection and the server."""
        for ws in list(self._websockets):
            await ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def _snowflake(self) -> str:
        # Real time-based snowflakes, strictly increasing: history paging and created_at depend on both.
        stamp = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (1 << 17)
        self._last_snowflake = max(stamp, self._last_snowflake + 1)
        return str(self._last_snowflake)

    # --- world building ----------------------------------------------------------------------------------------

    def add_user(self, name: str, *, bot: bool = False) -> str:
        user_id = self._snowflake()
        self._users[user_id] = {"id": user_id, "username": name, "global_name": name, "discriminator": "0"}
        self._users[user_id] |= {"avatar": None, "bot": bot, "public_flags": 0}
        return user_id

    def add_guild(
        self,
        name: str,
        *,
        owner_id: str,
        everyone_permissions: int = DEFAULT_PERMISSIONS,
        bot_member: bool = True,
        shard: int | None = None,
    ) -> str:
        """A guild owned by owner_id; the bot is in it unless bot_member=False (then `announce_guild` makes it join),
        and the @everyone role id is the guild id; with `shard`, its id puts it on that shard of `shard_count`."""
        guild_id = self._snowflake() if shard is None else self._guild_snowflake(shard)
        everyone = {"id": guild_id, "name": "@everyone", "permissions": everyone_permissions, "position": 0}
        self._guilds[guild_id] = _Guild(guild_id, name, owner_id, {guild_id: everyone})
        self.add_member(guild_id, owner_id)
        if bot_member:
            self.add_member(guild_id, self.bot_user_id)
        return guild_id

    def add_role(self, guild_id: str, name: str, permissions: int) -> str:
        roles = self._guilds[guild_id].roles
        role_id = self._snowflake()
        roles[role_id] = {"id": role_id, "name": name, "permissions": permissions, "position": len(roles)}
        return role_id

    def add_member(self, guild_id: str, user_id: str, *, roles: Iterable[str] = ()) -> None:
        """Add a member, or replace the roles of an existing one."""
        guild, roles = self._guilds[guild_id], [r for r in roles if r != guild_id]
        if user_id not in self._users or any(r not in guild.roles for r in roles):
            raise KeyError(f"unknown user {user_id} or one of the roles {roles}")
        old = guild.members.get(user_id)
        guild.members[user_id] = _Member(user_id, roles, old.joined_at if old else _iso())

    def add_channel(
        self,
        guild_id: str,
        name: str,
        *,
        kind: int = TEXT,
        parent_id: str | None = None,
        overwrites: Iterable[dict] | None = None,
    ) -> str:
        """Add a channel (0 text, 4 category, 5 news, 15 forum); overwrites=None under a category copies its ones."""
        if kind not in (TEXT, CATEGORY, NEWS, FORUM):
            raise ValueError(f"unsupported channel kind {kind}")
        if parent_id is not None and self._channels[parent_id].type != CATEGORY:
            raise ValueError("a channel's parent must be a category")
        if overwrites is None:  # a new channel in a category starts synced with it, as in the Discord client
            overwrites = self._channels[parent_id].overwrites if parent_id else ()
        channel_id = self._snowflake()
        position = sum(1 for c in self._channels.values() if c.guild_id == guild_id and c.type not in THREAD_TYPES)
        rows = [_overwrite(o) for o in overwrites]
        self._channels[channel_id] = _Channel(channel_id, guild_id, kind, name, position, parent_id, rows)
        self._messages[channel_id] = []
        return channel_id

    def add_thread(
        self,
        guild_id: str,
        parent_id: str,
        name: str,
        *,
        private: bool = False,
        members: Iterable[str] = (),
        archived: bool = False,
    ) -> str:
        """Add a thread (type 11 public, 12 private) under a text or forum channel; its first member owns it."""
        parent = self._channels[parent_id]
        if parent.guild_id != guild_id or parent.type not in (TEXT, NEWS, FORUM) or (private and parent.type == FORUM):
            raise ValueError("threads live under a text/news channel, or are public posts in a forum, of that guild")
        thread_id, members = self._snowflake(), list(members)
        owner = members[0] if members else self._guilds[guild_id].owner_id
        kind = PRIVATE_THREAD if private else PUBLIC_THREAD
        thread = _Channel(thread_id, guild_id, kind, name, 0, parent_id, [], owner, set(members), archived, _iso())
        self._channels[thread_id] = thread
        self._messages[thread_id] = []
        return thread_id

    def hold_cdn(self) -> None:
        """Make CDN downloads wait (recorded, unanswered) until `release_cdn`: a slow download, deterministically."""
        self._cdn_released.clear()

    def release_cdn(self) -> None:
        """Answer the CDN downloads held since `hold_cdn`."""
        self._cdn_released.set()

    def set_cdn_stream_size(self, url: str, total_bytes: int) -> None:
        """Make the CDN stream `total_bytes` for an attachment URL (its data repeated), whatever its size says."""
        path = url.split("/cdn/", 1)[1]
        data, content_type, _ = self._blobs[path]
        self._blobs[path] = (data or b"\0", content_type, total_bytes)

    # --- permissions -------------------------------------------------------------------------------------------

    def compute_permissions(self, guild_id: str, user_id: str, channel_id: str) -> int:
        """Discord's algorithm: base from roles (owner/admin = all), then overwrites @everyone -> roles -> member."""
        guild, channel = self._guilds[guild_id], self._channels[channel_id]
        member = guild.members.get(user_id)
        if member is None:
            return 0
        base = guild.roles[guild_id]["permissions"]
        for role_id in member.roles:
            base |= guild.roles[role_id]["permissions"]
        is_thread = channel.type in THREAD_TYPES
        if user_id == guild.owner_id or base & ADMINISTRATOR:
            perms = ALL_PERMISSIONS
        else:  # a thread takes its parent's overwrites
            perms = _apply_overwrites(base, self._channels[channel.parent_id or ""] if is_thread else channel, member)
        if is_thread:
            # A private thread shows only to its members and to those who may manage threads.
            if channel.type == PRIVATE_THREAD and user_id not in channel.thread_members and not perms & MANAGE_THREADS:
                perms &= ~VIEW_CHANNEL
            return _implicit(perms, SEND_MESSAGES_IN_THREADS)
        if channel.type == CATEGORY:
            return perms  # discord.py applies no implicit rules to categories
        return _implicit(perms, SEND_MESSAGES) & ~VOICE_PERMISSIONS  # text channels have no voice permissions

    def _bot_can(self, channel: _Channel, needed: int) -> bool:
        return self.compute_permissions(channel.guild_id, self.bot_user_id, channel.id) & needed == needed

    def _bot_channel(self, channel_id: str, needed: int = VIEW_CHANNEL) -> _Channel:
        """The channel, if the bot may do `needed` there; otherwise Discord's 404/403 errors."""
        channel = self._channels.get(channel_id)
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        if not self._bot_can(channel, VIEW_CHANNEL):
            raise ApiError(403, 50001, "Missing Access")
        if not self._bot_can(channel, needed):
            raise ApiError(403, 50013, "Missing Permissions")
        return channel

    # --- payloads ----------------------------------------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, Any]:
        return dict(self._users[user_id])

    def _member(self, guild_id: str, user_id: str, *, with_user: bool = True) -> dict[str, Any]:
        member = self._guilds[guild_id].members[user_id]
        # "flags" is required: without it discord.py silently keeps a message author a plain User (pitfall 4).
        payload = {"roles": list(member.roles), "flags": 0, "joined_at": member.joined_at, "nick": None}
        return payload | ({"user": self._user(user_id)} if with_user else {})

    def _role(self, role: dict[str, Any]) -> dict[str, Any]:
        return {**role, "permissions": str(role["permissions"]), "color": 0, "hoist": False, "managed": False}

    def _channel(self, channel: _Channel) -> dict[str, Any]:
        stored = self._messages.get(channel.id) or []
        payload = {"id": channel.id, "type": channel.type, "guild_id": channel.guild_id, "name": channel.name}
        payload |= {"parent_id": channel.parent_id, "last_message_id": stored[-1]["id"] if stored else None}
        if channel.type in THREAD_TYPES:
            payload |= {"owner_id": channel.owner_id, "message_count": len(stored), "total_message_sent": len(stored)}
            payload["member_count"] = len(channel.thread_members)
            metadata = {"archived": channel.archived, "archive_timestamp": channel.archive_timestamp, "locked": False}
            metadata |= {"auto_archive_duration": 1440, "invitable": channel.type == PRIVATE_THREAD}
            payload["thread_metadata"] = metadata
            if self.bot_user_id in channel.thread_members:
                payload["member"] = self._thread_member(channel, self.bot_user_id)
            return payload
        overwrites = [{**o, "allow": str(o["allow"]), "deny": str(o["deny"])} for o in channel.overwrites]
        payload |= {"position": channel.position, "nsfw": False, "topic": None, "permission_overwrites": overwrites}
        return payload | ({"available_tags": []} if channel.type == FORUM else {})

    def _thread_member(self, thread: _Channel, user_id: str) -> dict[str, Any]:
        return {"id": thread.id, "user_id": user_id, "join_timestamp": thread.archive_timestamp, "flags": 0}

    def _guild_payload(self, guild: _Guild, session: _Session) -> dict[str, Any]:
        # Without GUILD_MEMBERS Discord sends only the bot itself; member_count stays the real count. With it, all
        # members are sent and member_count == len(members), so discord.py sees the guild as chunked (pitfall 6);
        # but a guild above IDENTIFY's large_threshold is "large": without the presences intent Discord sends only
        # the bot (and members in voice, which this fake has none of), and the rest comes by op 8 member chunks.
        large = len(guild.members) > session.large_threshold
        full = session.intents & INTENT_GUILD_MEMBERS and not large
        member_ids = list(guild.members) if full else [self.bot_user_id]
        channels = [c for c in self._channels.values() if c.guild_id == guild.id]
        threads = [c for c in channels if c.type in THREAD_TYPES and not c.archived and self._bot_can(c, VIEW_CHANNEL)]
        payload = {"id": guild.id, "name": guild.name, "owner_id": guild.owner_id, "unavailable": False}
        payload |= {"member_count": len(guild.members), "joined_at": guild.members[self.bot_user_id].joined_at}
        payload["large"] = large
        payload |= {"roles": [self._role(r) for r in guild.roles.values()], "features": [], "icon": None}
        payload["channels"] = [self._channel(c) for c in channels if c.type not in THREAD_TYPES]
        payload["threads"] = [self._channel(t) for t in threads]
        payload["members"] = [self._member(guild.id, m) for m in member_ids]
        return payload

    def _attachment(self, prefix: str, name: str, data: bytes, content_type: str, size: int | None = None) -> dict:
        attachment_id = self._snowflake()
        path = f"{prefix}/{attachment_id}/{quote(name)}"
        self._blobs[path] = (data, content_type, len(data))
        url = f"http://127.0.0.1:{self.port}/cdn/{path}"
        payload = {"id": attachment_id, "filename": name, "size": len(data) if size is None else size}
        return payload | {"url": url, "proxy_url": url, "content_type": content_type}

    def _new_message(
        self, channel: _Channel, author_id: str, fields: dict[str, Any], *, kind: int = 0, extra: dict | None = None
    ) -> dict[str, Any]:
        """A full message (with the gateway extras guild_id/member) from content/embeds/attachments/... fields."""
        message_id = self._snowflake()
        message = {"id": message_id, "channel_id": channel.id, "guild_id": channel.guild_id, "type": kind}
        message |= {
            "author": self._user(author_id),
            "member": self._member(channel.guild_id, author_id, with_user=False),
        }
        message |= {"content": "", "attachments": [], "embeds": [], "components": [], "flags": 0, "pinned": False}
        message |= {"timestamp": _iso(_snowflake_time(message_id)), "edited_timestamp": None, "tts": False}
        message |= fields | (extra or {})
        reference = message.pop("reference", None)
        if reference is not None:
            message["type"] = 19 if kind == 0 else kind
            ref = {"type": 0, "message_id": reference["id"], "channel_id": reference["channel_id"]}
            message["message_reference"] = ref | {"guild_id": channel.guild_id}
            message["referenced_message"] = self._rest(reference)
        self._fill_mentions(message)
        return message

    def _fill_mentions(self, message: dict[str, Any], explicit: Iterable[str] = ()) -> None:
        """Who is pinged: <@id>, <@&id> and @everyone in the content, as far as the sender's allowed_mentions let."""
        content, allowed = message["content"], message.get("allowed_mentions")
        parse = set(allowed.get("parse") or []) if allowed is not None else {"users", "roles", "everyone"}
        users = [u for u in re.findall(r"<@!?(\d+)>", content) if u in self._users]
        roles = re.findall(r"<@&(\d+)>", content)
        if allowed is not None:
            users = [u for u in users if "users" in parse or u in (allowed.get("users") or [])]
            roles = [r for r in roles if "roles" in parse or r in (allowed.get("roles") or [])]
            if allowed.get("replied_user") and message.get("referenced_message"):
                users.append(message["referenced_message"]["author"]["id"])
        message["mentions"] = [self._user(u) for u in dict.fromkeys([*explicit, *users])]
        message["mention_roles"] = roles
        message["mention_everyone"] = "everyone" in parse and ("@everyone" in content or "@here" in content)

    def _rest(self, message: dict[str, Any]) -> dict[str, Any]:
        """A message as REST returns it: no guild_id/member (gateway extras), content per the portal switch."""
        out = {k: v for k, v in message.items() if k not in ("allowed_mentions", "guild_id", "member")}
        return self._maybe_hide_content(copy.deepcopy(out), self.privileged_intents_allowed)

    def _gateway_message(self, message: dict[str, Any], intents: int) -> dict[str, Any]:
        out = {k: v for k, v in message.items() if k != "allowed_mentions"}  # stored for tests, not on the wire
        return self._maybe_hide_content(copy.deepcopy(out), bool(intents & INTENT_MESSAGE_CONTENT))

    def _maybe_hide_content(self, message: dict[str, Any], has_content_intent: bool) -> dict[str, Any]:
        # Without MESSAGE_CONTENT Discord blanks these fields, except in the app's own messages, messages that
        # mention it and replies to it (and DMs, which this fake does not have).
        referenced = message.get("referenced_message") or {}
        if (
            has_content_intent
            or message["author"]["id"] == self.bot_user_id
            or any(u["id"] == self.bot_user_id for u in message.get("mentions", []))
            or referenced.get("author", {}).get("id") == self.bot_user_id
        ):
            return message
        message.update(content="", embeds=[], attachments=[], components=[])
        message.pop("poll", None)
        return message

    def channel_messages(self, channel_id: str) -> list[dict]:
        """Stored messages, oldest first (the bot's own sends and non-ephemeral interaction responses included)."""
        return copy.deepcopy(self._messages[channel_id])

    def _store(self, message: dict[str, Any]) -> None:
        self._messages[message["channel_id"]].append(message)
        self._message_channel[message["id"]] = message["channel_id"]

    def _find_message(self, channel_id: str, message_id: str) -> dict[str, Any]:
        for message in self._messages.get(channel_id, []):
            if message["id"] == message_id:
                return message
        raise ApiError(404, 10008, "Unknown Message")

    def _unstore(self, channel_id: str, message_ids: Iterable[str]) -> None:
        gone = set(message_ids)
        self._messages[channel_id] = [m for m in self._messages[channel_id] if m["id"] not in gone]
        for message_id in gone:
            self._message_channel.pop(message_id, None)

    # --- gateway -----------------------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._websockets.add(ws)
        session: _Session | None = None
        try:
            # TEXT frames only: discord.py decompresses bytes frames alone, whatever compress= it asked for.
            await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(frame.data)
                self.gateway_received.append(payload)
                self._notify()
                op, data = payload.get("op"), payload.get("d")
                if op == 1:
                    await ws.send_json({"op": 11})
                elif op == 2:
                    session = await self._identify(ws, data)
                elif op == 6:
                    session = await self._resume(ws, data)
                elif op == 8 and session is not None:  # REQUEST_GUILD_MEMBERS (discord.py sends int ids)
                    self._request_guild_members(session, data)
        finally:
            self._websockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
                if ws.close_code in (1000, 1001):  # the client's own clean close ends the session; else resumable
                    self._sessions.pop(session.id, None)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> _Session | None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS and not self.privileged_intents_allowed:
            await ws.close(code=4014, message=b"Disallowed intent(s).")  # -> discord.PrivilegedIntentsRequired
            return None
        session = _Session(secrets.token_hex(16), intents, list(data.get("shard") or [0, 1]), ws=ws)
        session.large_threshold = min(250, max(50, int(data.get("large_threshold") or 50)))
        self._sessions[session.id] = session
        guilds = [g for g in self._guilds.values() if self.bot_user_id in g.members and self._receives(session, g.id)]
        ready = {"v": 10, "user": self._user(self.bot_user_id) | {"verified": True, "mfa_enabled": False}}
        ready |= {"guilds": [{"id": g.id, "unavailable": True} for g in guilds], "session_id": session.id}
        ready |= {"resume_gateway_url": self.gateway_url}  # reconnects come back here, not to discord.com
        ready |= {"application": {"id": self.application_id, "flags": 0}, "shard": session.shard}
        await self._send(session, READY, ready | {"private_channels": [], "relationships": []})
        if intents & INTENT_GUILDS:
            for guild in guilds:
                await self._send(session, GUILD_CREATE, self._guild_payload(guild, session))
        return session

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> _Session | None:
        session = self._sessions.get(data.get("session_id") or "")
        if session is None or data.get("token") != self.token:
            await ws.send_json({"op": 9, "d": False})  # invalid session: discord.py identifies afresh
            return None
        session.ws = ws
        async with session.lock:  # replay what the client missed while it was away
            for seq, raw in session.log:
                if seq > int(data.get("seq") or 0):
                    await ws.send_str(raw)
        await self._send(session, RESUMED, {})
        return session

    async def _send(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        async with session.lock:  # keeps sequence numbers and frame order consistent across concurrent dispatches
            session.seq += 1
            raw = json.dumps({"op": 0, "t": event, "s": session.seq, "d": data})
            session.log = [*session.log[-999:], (session.seq, raw)]
            if session.ws is not None and not session.ws.closed:
                try:
                    await session.ws.send_str(raw)
                except ConnectionError:
                    session.ws = None

    async def _dispatch(
        self, event: str, data: dict | Callable[[int], dict], *, channel: _Channel | None = None, guild_id: str = ""
    ) -> None:
        """Send an event to every session whose intents allow it and whose shard has its guild; `data` may be built
        per session from its intents."""
        owner = self._event_guild(event, data, channel, guild_id)
        for session in list(self._sessions.values()):
            if not self._receives(session, owner):
                continue
            if session.intents & INTENT_OF.get(event, 0) != INTENT_OF.get(event, 0):
                continue
            if channel is not None and not self._bot_can(channel, VIEW_CHANNEL):
                continue  # Discord sends nothing from channels the bot cannot see
            if guild_id and self.bot_user_id not in self._guilds[guild_id].members:
                continue
            await self._send(session, event, data(session.intents) if callable(data) else data)

    async def _dispatch_message(self, event: str, message: dict[str, Any]) -> None:
        channel = self._channels[message["channel_id"]]
        await self._dispatch(event, lambda intents: self._gateway_message(message, intents), channel=channel)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT on every connection; discord.py then RESUMEs and gets the missed events replayed."""
        for session in list(self._sessions.values()):
            if session.ws is not None:
                await session.ws.send_json({"op": 7, "d": None})

    def sent_events(self, event: str) -> list[dict[str, Any]]:
        """The payloads of the `event` dispatches sent so far (the last 1,000 frames of each session), in order."""
        frames = [json.loads(raw) for session in self._sessions.values() for _, raw in session.log]
        return [frame["d"] for frame in frames if frame["t"] == event]

    def end_sessions(self) -> None:
        """Forget every gateway session, as after a long outage: events from now on reach no one and are never
        replayed, and a RESUME is refused (then discord.py IDENTIFYs afresh). Connections stay open until
        `close_connections`."""
        self._sessions.clear()

    async def close_connections(self, code: int = 4000) -> None:
        """Close every gateway connection with a code discord.py reconnects after (it tries to RESUME first)."""
        for ws in list(self._websockets):
            await ws.close(code=code)

    def hold_history(self) -> asyncio.Event:
        """Make history reads (GET /channels/{id}/messages) wait until the returned event is set: a slow Discord,
        so that a test can act while a reader waits."""
        self._history_gate = asyncio.Event()
        return self._history_gate

    def connected_sessions(self) -> int:
        """How many identified gateway sessions currently have a live connection."""
        return sum(1 for s in self._sessions.values() if s.ws is not None)

    def last_sequence(self) -> int:
        """The sequence number of the last event sent on a live connection (a bot that has reached it got them all)."""
        return max((s.seq for s in self._sessions.values() if s.ws is not None), default=0)

    # --- world changes the bot sees ----------------------------------------------------------------------------

    async def set_overwrites(self, channel_id: str, overwrites: Iterable[dict]) -> None:
        """Replace a channel's overwrites (CHANNEL_UPDATE); a category's synced children follow, as in the client."""
        channel = self._channels[channel_id]
        if channel.type in THREAD_TYPES:
            raise ValueError("threads have no overwrites; change the parent's")
        synced = [
            c for c in self._channels.values() if c.parent_id == channel.id and c.overwrites == channel.overwrites
        ]
        for target in [channel, *(synced if channel.type == CATEGORY else [])]:
            target.overwrites = [_overwrite(o) for o in overwrites]
            await self._dispatch(CHANNEL_UPDATE, self._channel(target), guild_id=target.guild_id)

    async def user_creates_thread(self, channel_id: str, user_id: str, name: str, *, private: bool = False) -> str:
        """A member starts a thread in a text channel, or a post in a forum: THREAD_CREATE (newly_created), sent to
        the bot if it can see the thread (a private one only once it is a member)."""
        channel = self._acting_member(channel_id, user_id, VIEW_CHANNEL)
        thread_id = self.add_thread(channel.guild_id, channel_id, name, private=private, members=[user_id])
        thread = self._channels[thread_id]
        if self._bot_can(thread, VIEW_CHANNEL):
            created = self._channel(thread) | {"newly_created": True}
            await self._dispatch(THREAD_CREATE, created, guild_id=thread.guild_id)
        return thread_id

    async def delete_channel(self, channel_id: str) -> None:
        """An admin deletes a channel (CHANNEL_DELETE) or a thread (THREAD_DELETE, only to those who see it); a
        channel's threads and every message go with it, as in Discord."""
        channel = self._channels[channel_id]
        if channel.type == CATEGORY:
            raise ValueError("deleting a category (its channels stay, uncategorised) is not modelled")
        is_thread = channel.type in THREAD_TYPES
        payload = (
            {"id": channel.id, "guild_id": channel.guild_id, "parent_id": channel.parent_id, "type": channel.type}
            if is_thread
            else self._channel(channel)
        )
        visible = self._bot_can(channel, VIEW_CHANNEL)
        threads = [] if is_thread else [c.id for c in self._channels.values() if c.parent_id == channel_id]
        for gone in [channel_id, *threads]:
            self._unstore(gone, [m["id"] for m in self._messages[gone]])
            del self._channels[gone], self._messages[gone]
        if not is_thread:  # every channel of a guild is known to its bots, seen or not
            await self._dispatch(CHANNEL_DELETE, payload, guild_id=channel.guild_id)
        elif visible:
            await self._dispatch(THREAD_DELETE, payload, guild_id=channel.guild_id)

    async def remove_bot_from_guild(self, guild_id: str, *, unavailable: bool = False) -> None:
        """GUILD_DELETE: an outage (unavailable=True; the bot stays a member) or the bot being removed."""
        await self._dispatch(GUILD_DELETE, {"id": guild_id} | ({"unavailable": True} if unavailable else {}))
        if not unavailable:
            self._guilds[guild_id].members.pop(self.bot_user_id, None)

    async def announce_guild(self, guild_id: str) -> None:
        """GUILD_CREATE for a guild: the bot joined it (it is made a member) or it is back from an outage."""
        joined = self.bot_user_id not in self._guilds[guild_id].members
        if joined:
            self.add_member(guild_id, self.bot_user_id)
        for session in list(self._sessions.values()):
            if session.intents & INTENT_GUILDS and self._receives(session, guild_id):
                payload = self._guild_payload(self._guilds[guild_id], session)
                if joined:
                    del payload["unavailable"]  # no "unavailable" key means a join (on_guild_join), not a return
                await self._send(session, GUILD_CREATE, payload)

    # --- user actions ------------------------------------------------------------------------------------------

    def _acting_member(self, channel_id: str, user_id: str, needed: int) -> _Channel:
        """The channel, after checking that a real member could do this there (tests cannot stage the impossible)."""
        channel = self._channels[channel_id]
        perms = self.compute_permissions(channel.guild_id, user_id, channel_id)
        if perms & needed != needed:
            raise PermissionError(f"user {user_id} lacks permissions {needed & ~perms:#x} in channel {channel_id}")
        return channel

    async def user_sends_message(
        self,
        channel_id: str,
        author_id: str,
        content: str,
        *,
        files: Iterable[tuple[str, bytes, str]] = (),
        reply_to: str | None = None,
        mentions: Iterable[str] = (),
        declared_size: int | None = None,
        embeds: Iterable[dict] = (),
    ) -> dict:
        """A member posts a message; files become CDN attachments and declared_size overrides their stated size."""
        channel, files = self._channels[channel_id], list(files)
        if channel.type not in MESSAGEABLE_TYPES:
            raise ValueError(f"channel {channel_id} (type {channel.type}) does not hold messages")
        send = SEND_MESSAGES_IN_THREADS if channel.type in THREAD_TYPES else SEND_MESSAGES
        self._acting_member(channel_id, author_id, VIEW_CHANNEL | send | (ATTACH_FILES if files else 0))
        prefix = f"attachments/{channel_id}"
        attachments = [self._attachment(prefix, name, data, ctype, declared_size) for name, data, ctype in files]
        fields = {"content": content, "attachments": attachments, "embeds": list(embeds)}
        if reply_to is not None:
            fields["reference"] = self._find_message(channel_id, reply_to)
        message = self._new_message(channel, author_id, fields)
        self._fill_mentions(message, mentions)
        self._store(message)
        await self._dispatch_message(MESSAGE_CREATE, message)
        return copy.deepcopy(message)

    async def user_edits_message(
        self, channel_id: str, message_id: str, content: str, *, keep_attachments: Iterable[str] | None = None
    ) -> dict:
        """The author edits a message, optionally removing attachments (keeping those ids); MESSAGE_UPDATE
        carries the whole updated message, as Discord's does."""
        message = self._find_message(channel_id, message_id)
        message |= {"content": content, "edited_timestamp": _iso()}
        if keep_attachments is not None:
            kept = set(keep_attachments)
            message["attachments"] = [a for a in message["attachments"] if a["id"] in kept]
        self._fill_mentions(message)
        await self._dispatch_message(MESSAGE_UPDATE, message)
        return copy.deepcopy(message)

    async def user_deletes_message(self, channel_id: str, message_id: str) -> None:
        """A message is deleted (by its author or a moderator)."""
        self._find_message(channel_id, message_id)
        await self._deleted(channel_id, [message_id])

    async def user_bulk_deletes(self, channel_id: str, message_ids: Iterable[str]) -> None:
        """A moderator bulk-deletes messages (MESSAGE_DELETE_BULK)."""
        await self._deleted(channel_id, list(message_ids), bulk=True)

    async def _deleted(self, channel_id: str, ids: list[str], *, bulk: bool = False) -> None:
        self._unstore(channel_id, ids)
        channel = self._channels[channel_id]
        where = {"channel_id": channel_id, "guild_id": channel.guild_id}
        if bulk:
            await self._dispatch(MESSAGE_DELETE_BULK, {"ids": ids} | where, channel=channel)
        else:
            await self._dispatch(MESSAGE_DELETE, {"id": ids[0]} | where, channel=channel)

    # --- interactions ------------------------------------------------------------------------------------------

    def _find_command(self, guild_id: str, name: str, command_type: int) -> tuple[dict, bool]:
        """The synced definition and whether it is guild-scoped (then data.guild_id must be set, pitfall 13)."""
        for scope, is_guild in ((guild_id, True), ("global", False)):
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == command_type:
                    return command, is_guild
        return {"id": self._snowflake()}, True  # never synced: treat it as a guild command

    def _interaction_base(self, kind: int, guild_id: str, channel_id: str, user_id: str) -> dict[str, Any]:
        """The INTERACTION_CREATE fields discord.py's parser needs (a missing one kills the client, pitfall 3)."""
        channel = self._acting_member(channel_id, user_id, VIEW_CHANNEL)
        interaction_id = self._snowflake()
        perms = str(self.compute_permissions(guild_id, user_id, channel_id))
        payload = {"id": interaction_id, "application_id": self.application_id, "type": kind, "version": 1}
        payload |= {"token": f"itok-{interaction_id}-{secrets.token_urlsafe(12)}", "guild_id": guild_id}
        payload |= {"guild": {"id": guild_id, "locale": "en-US", "features": []}, "channel_id": channel_id}
        payload |= {"channel": self._channel(channel) | {"permissions": perms}, "locale": "en-US"}
        payload |= {"member": self._member(guild_id, user_id) | {"permissions": perms}, "guild_locale": "en-US"}
        payload |= {"app_permissions": str(self.compute_permissions(guild_id, self.bot_user_id, channel_id))}
        payload |= {"attachment_size_limit": ATTACHMENT_SIZE_LIMIT, "entitlements": [], "context": 0}
        return payload | {"authorizing_integration_owners": {"0": guild_id}}

    async def _launch(self, payload: dict[str, Any], source_message: dict | None = None) -> FakeInteraction:
        if not self._sessions:
            raise RuntimeError("no bot is connected to the fake gateway")
        interaction = FakeInteraction(self, payload, source_message)
        self._interactions[interaction.token] = interaction
        await self._dispatch(INTERACTION_CREATE, payload)  # needs no intent
        return interaction

    async def user_runs_slash_command(
        self,
        guild_id: str,
        channel_id: str,
        user_id: str,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        group: str | None = None,
    ) -> FakeInteraction:
        """A member runs /name [group] [subcommand]; attachment options are (filename, bytes, type[, stated size])."""
        payload = self._interaction_base(2, guild_id, channel_id, user_id)
        definition, guild_scoped = self._find_command(guild_id, name, 1)
        option_defs = definition.get("options") or []
        for level in (group, subcommand):
            if level is not None:
                option_defs = next((o.get("options") or [] for o in option_defs if o["name"] == level), [])
        types = {o["name"]: o["type"] for o in option_defs}
        resolved: dict[str, dict] = {}
        options_out = [self._option(k, v, types.get(k), resolved, payload) for k, v in (options or {}).items()]
        for level, level_type in ((subcommand, 1), (group, 2)):
            if level is not None:
                options_out = [{"name": level, "type": level_type, "options": options_out}]
        data = {"id": definition["id"], "name": name, "type": 1, "options": options_out, "resolved": resolved}
        payload["data"] = data | ({"guild_id": guild_id} if guild_scoped else {})
        return await self._launch(payload)

    def _option(self, name: str, value: Any, kind: int | None, resolved: dict, payload: dict) -> dict[str, Any]:
        """One option; user/role/channel/attachment values go into `resolved`, as Discord sends them."""
        if kind is None:  # no synced definition: infer the type from the Python value
            kinds = ((bool, 5), (int, 4), (float, 10), (tuple, 11), (object, 3))
            kind = next(k for t, k in kinds if isinstance(value, t))
        guild_id, user_id = payload["guild_id"], payload["member"]["user"]["id"]
        if kind == 11:
            filename, data, content_type, *size = value
            prefix = f"ephemeral-attachments/{self.application_id}/{payload['id']}"
            attachment = self._attachment(prefix, filename, data, content_type, *size) | {"ephemeral": True}
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            value = attachment["id"]
        elif kind in (6, 9) and str(value) in self._users:
            value = str(value)
            resolved.setdefault("users", {})[value] = self._user(value)
            if value in self._guilds[guild_id].members:
                perms = str(self.compute_permissions(guild_id, value, payload["channel"]["id"]))
                member = self._member(guild_id, value, with_user=False) | {"permissions": perms}
                resolved.setdefault("members", {})[value] = member
        elif kind in (8, 9):
            value = str(value)
            resolved.setdefault("roles", {})[value] = self._role(self._guilds[guild_id].roles[value])
        elif kind == 7:
            value, perms = str(value), self.compute_permissions(guild_id, user_id, str(value))
            resolved.setdefault("channels", {})[value] = self._channel(self._channels[value]) | {
                "permissions": str(perms)
            }
        elif kind in (3, 10):
            value = str(value) if kind == 3 else float(value)
        return {"name": name, "type": kind, "value": value}

    async def user_runs_message_command(
        self, guild_id: str, channel_id: str, user_id: str, name: str, target_message_id: str
    ) -> FakeInteraction:
        """A member runs a message context-menu command (command type 3) on a message."""
        payload = self._interaction_base(2, guild_id, channel_id, user_id)
        definition, guild_scoped = self._find_command(guild_id, name, 3)
        target = self._rest(self._find_message(channel_id, target_message_id))
        data = {"id": definition["id"], "name": name, "type": 3, "target_id": target_message_id}
        data |= {"resolved": {"messages": {target_message_id: target}}}
        payload["data"] = data | ({"guild_id": guild_id} if guild_scoped else {})
        return await self._launch(payload)

    async def user_clicks_button(
        self, source: FakeInteraction | dict | str, custom_id: str, user_id: str, *, values: list[str] | None = None
    ) -> FakeInteraction:
        """A member clicks a component (a select when values is given) on a message: a message dict or id, or the
        newest message of an interaction that carries that custom_id."""
        message = self._component_message(source, custom_id)
        channel = self._channels[message["channel_id"]]
        payload = self._interaction_base(3, channel.guild_id, channel.id, user_id)
        data = {"custom_id": custom_id, "component_type": 2 if values is None else 3}
        payload["data"] = data | ({"values": values} if values is not None else {})
        payload["message"] = self._rest(message)
        return await self._launch(payload, source_message=message)

    def _component_message(self, source: FakeInteraction | dict | str, custom_id: str) -> dict:
        if isinstance(source, FakeInteraction):
            candidates = [m for m in [*reversed(source.followup_messages), source.original] if m is not None]
            if not candidates:
                raise ValueError(f"interaction {source.id} has no message to click on")
            return next((m for m in candidates if custom_id in json.dumps(m["components"])), candidates[0])
        message_id = source["id"] if isinstance(source, dict) else source
        if message_id in self._message_channel:
            return self._find_message(self._message_channel[message_id], message_id)
        for interaction in self._interactions.values():  # ephemeral messages live only with their interaction
            for message in [interaction.original, *interaction.followup_messages]:
                if message is not None and message["id"] == message_id:
                    return message
        raise KeyError(f"unknown message {message_id}")

    # --- observation -------------------------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, condition: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() >= deadline:  # describe the state at the timeout, not at the start
                recent = [f"{r.method} {r.path} -> {r.status}" for r in self.requests[-8:]]
                raise TimeoutError(f"timed out after {timeout}s waiting for {what()}; recent requests: {recent}")
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
            except TimeoutError:
                continue

    async def wait_until(self, condition: Callable[[], object], timeout: float = 10.0) -> None:
        """Wait until condition() holds, checked after each request or gateway frame the fake receives."""
        await self._wait_until(lambda: bool(condition()), timeout, lambda: "the condition")

    async def wait_for_request(
        self, predicate: Callable[[RecordedRequest], bool], timeout: float = 10.0, *, start: int = 0
    ) -> RecordedRequest:
        """The first answered request from index `start` on that satisfies predicate (waiting for it if needed)."""
        found: list[RecordedRequest] = []

        def match() -> bool:
            found[:] = [r for r in self.requests[start:] if r.status is not None and predicate(r)][:1]
            return bool(found)

        await self._wait_until(match, timeout, lambda: "a matching request")
        return found[0]

    # --- faults ------------------------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 429,
        retry_after: float = 0.1,
        global_: bool = False,
        times: int = 1,
        cloudflare: bool = False,
    ) -> None:
        """Answer the next `times` requests matching method ("*" = any) and path_regex (re.search) with an error;
        `cloudflare`: a 429 as Cloudflare's edge sends it (an HTML page, no Via header), not Discord's JSON."""
        fault = _Fault(method.upper(), re.compile(path_regex), status, retry_after, global_, times, cloudflare)
        self._faults.append(fault)

    def _injected_fault(self, rec: RecordedRequest) -> web.Response | None:
        for fault in self._faults:
            if fault.times > 0 and fault.method in ("*", rec.method) and fault.pattern.search(rec.path):
                fault.times -= 1
                if fault.cloudflare:
                    return _cloudflare_banned()
                return _rate_limited(fault.retry_after, fault.global_) if fault.status == 429 else _error(fault.status)
        if self.history_429_ratio > 0 and rec.method == "GET" and re.fullmatch(r"/channels/\d+/messages", rec.path):
            # Deterministic: with a ratio of 0.1, exactly every 10th history page is refused.
            self._history_pages += 1
            pages, ratio = self._history_pages, self.history_429_ratio
            if math.floor(pages * ratio) > math.floor((pages - 1) * ratio):
                return _rate_limited(0.05, False)
        return None

    # --- HTTP plumbing -----------------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        is_api = request.path.startswith("/api/v10/")
        path = request.path.removeprefix("/api/v10") if is_api else request.path
        body, files, file_types = await _read_body(request)
        query, headers = dict(request.query), dict(request.headers)
        rec = RecordedRequest(request.method, path, query, body, files, headers, file_types=file_types)
        self.requests.append(rec)
        try:
            if not is_api:
                raise ApiError(404, 0, "404: Not Found")
            response = self._injected_fault(rec) or self._check_auth(rec) or await self._route(rec)
        except ApiError as error:
            response = error.response()
        rec.status = response.status
        self._notify()  # after the state changed, so a test woken by this request sees its effects
        return response

    def _check_auth(self, rec: RecordedRequest) -> web.Response | None:
        # Interaction callbacks and webhooks carry no Authorization header (pitfall 20).
        if rec.path.startswith(("/interactions/", "/webhooks/")) or rec.path in ("/gateway", "/gateway/bot"):
            return None
        if rec.headers.get("Authorization") != f"Bot {self.token}":
            return ApiError(401, 0, "401: Unauthorized").response()  # discord.py's login() -> LoginFailure
        return None

    async def _route(self, rec: RecordedRequest) -> web.Response:
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(rec.path)
            if match and method == rec.method:
                result = await handler(rec, **match.groupdict())
                return web.Response(status=204) if result is None else _json(result)
        raise ApiError(404, 0, "404: Not Found")

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Callable[..., Any]]]:
        commands = r"/applications/(?P<app_id>\d+)(?:/guilds/(?P<guild_id>\d+))?/commands"
        channel = r"/channels/(?P<channel_id>\d+)"
        message = channel + r"/messages/(?P<message_id>\d+)"
        webhook = r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)"
        webhook_message = webhook + r"/messages/(?P<message_id>@original|\d+)"
        guild = r"/guilds/(?P<guild_id>\d+)"
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/gateway(?P<bot>/bot)?", self._get_gateway),
            ("GET", commands, self._get_commands),
            ("PUT", commands, self._put_commands),
            ("GET", channel, self._get_channel),
            ("GET", channel + r"/messages", self._get_history),
            ("POST", channel + r"/messages", self._post_message),
            ("POST", channel + r"/messages/bulk-delete", self._bulk_delete),
            ("GET", message, self._get_message),
            ("PATCH", message, self._patch_message),
            ("DELETE", message, self._delete_message),
            ("POST", channel + r"/typing", self._typing),
            ("GET", channel + r"/threads/archived/(?P<kind>public|private)", self._archived_threads),
            ("GET", channel + r"/thread-members", self._get_thread_members),
            ("GET", channel + r"/thread-members/(?P<user_id>\d+)", self._get_thread_member),
            ("GET", guild + r"/channels", self._get_guild_channels),
            ("GET", guild + r"/members/(?P<user_id>\d+)", self._get_member),
            ("GET", guild + r"/threads/active", self._active_threads),
            ("POST", r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback", self._callback),
            ("POST", webhook, self._followup),
            ("GET", webhook_message, self._get_webhook_message),
            ("PATCH", webhook_message, self._patch_webhook_message),
            ("DELETE", webhook_message, self._delete_webhook_message),
        ]
        return [(method, re.compile(pattern), handler) for method, pattern, handler in table]

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        path = quote(request.match_info["tail"])  # stored quoted, as it appears in the attachment URL
        rec = RecordedRequest("GET", f"/cdn/{path}", dict(request.query), None, [], dict(request.headers))
        self.requests.append(rec)
        self._notify()
        await self._cdn_released.wait()  # a slow CDN, see hold_cdn
        blob = self._blobs.get(path)
        early = self._injected_fault(rec)
        if early is not None or blob is None:
            early = early or web.Response(status=404, text="Not Found")
            rec.status = early.status
            self._notify()
            return early
        data, content_type, total = blob
        # Streamed in 64 KiB pieces and counted as written, so a test can see that a capped download stopped early.
        response = web.StreamResponse(headers={"Content-Type": content_type, "Content-Length": str(total)})
        await response.prepare(request)
        rec.status = 200
        self._notify()
        filler = data * max(1, 65536 // len(data)) if total > len(data) else b""  # for streams longer than the data
        sent = 0
        try:
            while sent < total:
                piece = filler[: total - sent] if filler else data[sent : sent + 65536]
                await response.write(piece)
                sent += len(piece)
                self.cdn_bytes_served += len(piece)
                self.cdn_bytes_by_path[path] = self.cdn_bytes_by_path.get(path, 0) + len(piece)
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as a capped download does
        return response

    # --- REST: identity, gateway, commands ---------------------------------------------------------------------

    async def _get_me(self, rec: RecordedRequest) -> dict:
        return self._user(self.bot_user_id) | {"verified": True, "mfa_enabled": False, "flags": 0}

    async def _get_application(self, rec: RecordedRequest) -> dict:
        flags = (1 << 15 | 1 << 19) if self.privileged_intents_allowed else 0  # members + message content intents
        app = {"id": self.application_id, "name": "memorybot", "description": "", "icon": None, "bot_public": True}
        app |= {"bot_require_code_grant": False, "owner": self._user(self._app_owner_id), "verify_key": "0" * 64}
        # A non-null interactions_endpoint_url would make discord.py warn that it receives no interactions.
        return app | {"flags": flags, "interactions_endpoint_url": None, "team": None}

    async def _get_gateway(self, rec: RecordedRequest, bot: str | None) -> dict:
        limits = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return {"url": self.gateway_url} | ({"shards": self.shard_count, "session_start_limit": limits} if bot else {})

    async def _get_commands(self, rec: RecordedRequest, app_id: str, guild_id: str | None) -> list:
        if app_id != self.application_id:
            raise ApiError(404, 10002, "Unknown Application")
        return self.commands.get(guild_id or "global", [])

    async def _put_commands(self, rec: RecordedRequest, app_id: str, guild_id: str | None) -> list:
        """tree.sync(): store the definitions (keeping ids by name and type) and echo them with ids."""
        await self._get_commands(rec, app_id, guild_id)
        if guild_id is not None:
            self._bot_guild(guild_id)
        if not isinstance(rec.json, list):
            raise _form_error("_root", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        scope = guild_id or "global"
        old = {(c["name"], c.get("type", 1)): c["id"] for c in self.commands.get(scope, [])}
        stored = []
        for body in rec.json:
            # Slash command names are lower-case words; context menu names (types 2 and 3) may hold spaces.
            name_rule = r"[-_\w]{1,32}" if body.get("type", 1) == 1 else r"[-_\w ]{1,32}"
            if not re.fullmatch(name_rule, body.get("name", "")) or len(body.get("description") or "") > 100:
                raise _form_error("name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid command name or description")
            ids = {
                "id": old.get((body["name"], body.get("type", 1))) or self._snowflake(),
                "version": self._snowflake(),
            }
            stored.append({"description": ""} | body | ids | {"application_id": self.application_id})
            stored[-1] |= {"guild_id": guild_id} if guild_id else {}
        self.commands[scope] = stored
        return stored

    # --- REST: channels and messages ---------------------------------------------------------------------------

    async def _get_channel(self, rec: RecordedRequest, channel_id: str) -> dict:
        return self._channel(self._bot_channel(channel_id))

    async def _get_history(self, rec: RecordedRequest, channel_id: str) -> list:
        if self._history_gate is not None:
            await self._history_gate.wait()
        self._bot_channel(channel_id, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        stored, query = self._messages[channel_id], rec.query
        limit = max(1, min(100, int(query.get("limit", 50))))
        if "around" in query:
            older = [m for m in stored if int(m["id"]) <= int(query["around"])][-(limit - limit // 2) :]
            page = older + [m for m in stored if int(m["id"]) > int(query["around"])][: limit // 2]
        elif "after" in query:
            page = [m for m in stored if int(m["id"]) > int(query["after"])][:limit]
        elif "before" in query:
            page = [m for m in stored if int(m["id"]) < int(query["before"])][-limit:]
        else:
            page = stored[-limit:]
        # Always newest first, also for after=: discord.py's oldest_first paging relies on it (pitfall 10).
        return [self._rest(m) for m in reversed(page)]

    async def _get_message(self, rec: RecordedRequest, channel_id: str, message_id: str) -> dict:
        self._bot_channel(channel_id, VIEW_CHANNEL | READ_MESSAGE_HISTORY)
        return self._rest(self._find_message(channel_id, message_id))

    def _message_fields(self, body: dict, rec: RecordedRequest, prefix: str, existing: list[dict]) -> dict[str, Any]:
        """Validate a create/edit body like Discord does, and turn the files[n] parts into attachments."""
        fields = {
            k: body[k] or ([] if k != "content" else "") for k in ("content", "embeds", "components") if k in body
        }
        fields |= {k: body[k] for k in ("allowed_mentions", "flags") if k in body}
        if len(fields.get("content", "")) > MAX_CONTENT:
            raise _form_error("content", "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
        if len(fields.get("embeds", [])) > 10:
            raise _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        if sum(len(data) for _, data in rec.files) > ATTACHMENT_SIZE_LIMIT:
            raise ApiError(413, 40005, "Request entity too large")
        uploads = [
            self._attachment(prefix, name, data, ctype)
            for (name, data), ctype in zip(rec.files, rec.file_types, strict=True)
        ]
        if "attachments" in body:
            # Each entry keeps an existing attachment (by id) or names a new upload (id = index n of files[n]).
            kept = {a["id"]: a for a in existing} | {str(n): a for n, a in enumerate(uploads)}
            fields["attachments"] = [
                kept[str(a.get("id"))] for a in body["attachments"] or [] if str(a.get("id")) in kept
            ]
        elif uploads:
            fields["attachments"] = [*existing, *uploads]
        return fields

    async def _post_message(self, rec: RecordedRequest, channel_id: str) -> dict:
        channel = self._bot_channel(channel_id)
        if channel.type not in MESSAGEABLE_TYPES:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        send = SEND_MESSAGES_IN_THREADS if channel.type in THREAD_TYPES else SEND_MESSAGES
        self._bot_channel(channel_id, VIEW_CHANNEL | send | (ATTACH_FILES if rec.files else 0))
        body = rec.json or {}
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce in self._nonces:
            return self._rest(self._nonces[nonce])  # Discord answers a resend with the same nonce with the original
        fields = self._message_fields(body, rec, f"attachments/{channel_id}", [])
        if not any(fields.get(k) for k in ("content", "embeds", "attachments", "components")):
            raise ApiError(400, 50006, "Cannot send an empty message")
        if body.get("message_reference"):
            ref = body["message_reference"]
            try:
                fields["reference"] = self._find_message(
                    str(ref.get("channel_id") or channel_id), str(ref["message_id"])
                )
            except ApiError:
                if ref.get("fail_if_not_exists", True):
                    raise _form_error("message_reference", "REPLIES_UNKNOWN_MESSAGE", "Unknown message") from None
        fields["flags"] = int(fields.get("flags") or 0)
        message = self._new_message(channel, self.bot_user_id, fields, extra={"nonce": nonce} if nonce else None)
        self._store(message)
        if nonce:
            self._nonces[nonce] = message
        await self._dispatch_message(MESSAGE_CREATE, message)  # the bot sees its own messages, as on Discord
        return self._rest(message)

    async def _patch_message(self, rec: RecordedRequest, channel_id: str, message_id: str) -> dict:
        self._bot_channel(channel_id)
        message = self._find_message(channel_id, message_id)
        if message["author"]["id"] != self.bot_user_id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        await self._edit(message, rec.json or {}, rec)
        return self._rest(message)

    async def _edit(self, message: dict[str, Any], body: dict, rec: RecordedRequest) -> None:
        """Apply an edit body (and rec's files) to a stored or ephemeral message."""
        fields = self._message_fields(body, rec, f"attachments/{message['channel_id']}", message["attachments"])
        flags = int(fields.pop("flags", message["flags"]) or 0)
        message |= fields
        # An edit ends the "thinking" state; ephemerality is fixed when a message is created.
        message["flags"] = (flags & ~(LOADING | EPHEMERAL)) | (message["flags"] & EPHEMERAL)
        message["edited_timestamp"] = _iso()
        self._fill_mentions(message)
        if message["id"] in self._message_channel:
            await self._dispatch_message(MESSAGE_UPDATE, message)

    async def _delete_message(self, rec: RecordedRequest, channel_id: str, message_id: str) -> None:
        self._bot_channel(channel_id)
        if self._find_message(channel_id, message_id)["author"]["id"] != self.bot_user_id:
            self._bot_channel(channel_id, VIEW_CHANNEL | MANAGE_MESSAGES)
        await self._deleted(channel_id, [message_id])

    async def _bulk_delete(self, rec: RecordedRequest, channel_id: str) -> None:
        self._bot_channel(channel_id, VIEW_CHANNEL | MANAGE_MESSAGES)
        ids = [str(i) for i in (rec.json or {}).get("messages", [])]
        if not 2 <= len(ids) <= 100:
            raise _form_error("messages", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.")
        if any(_snowflake_time(i) < datetime.now(UTC) - timedelta(days=14) for i in ids):
            raise ApiError(400, 50034, "You can only bulk delete messages that are under 14 days old.")
        for message_id in ids:
            self._find_message(channel_id, message_id)
        await self._deleted(channel_id, ids, bulk=True)

    async def _typing(self, rec: RecordedRequest, channel_id: str) -> None:
        self._bot_channel(channel_id, VIEW_CHANNEL | SEND_MESSAGES)

    async def _archived_threads(self, rec: RecordedRequest, channel_id: str, kind: str) -> dict:
        self._bot_channel(
            channel_id, VIEW_CHANNEL | READ_MESSAGE_HISTORY | (MANAGE_THREADS if kind == "private" else 0)
        )
        wanted = PRIVATE_THREAD if kind == "private" else PUBLIC_THREAD
        threads = [c for c in self._channels.values() if c.parent_id == channel_id and c.type == wanted and c.archived]
        threads.sort(key=lambda c: c.archive_timestamp, reverse=True)  # newest archived first, paged by `before`
        threads = [t for t in threads if t.archive_timestamp < rec.query.get("before", "~")]
        page = threads[: int(rec.query.get("limit", 50))]
        members = [self._thread_member(t, self.bot_user_id) for t in page if self.bot_user_id in t.thread_members]
        return {"threads": [self._channel(t) for t in page], "members": members, "has_more": len(threads) > len(page)}

    async def _get_thread_members(self, rec: RecordedRequest, channel_id: str) -> list:
        """Everyone in a thread (Discord sends other users only to a bot with the members intent, which the fake
        does not check over REST)."""
        thread = self._bot_channel(channel_id)
        if thread.type not in THREAD_TYPES:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        return [self._thread_member(thread, u) for u in sorted(thread.thread_members)]

    async def _get_thread_member(self, rec: RecordedRequest, channel_id: str, user_id: str) -> dict:
        members = await self._get_thread_members(rec, channel_id)
        found = [m for m in members if m["user_id"] == user_id]
        if not found:
            raise ApiError(404, 10007, "Unknown Member")
        return found[0]

    # --- REST: guilds ------------------------------------------------------------------------------------------

    def _bot_guild(self, guild_id: str) -> _Guild:
        guild = self._guilds.get(guild_id)
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        if self.bot_user_id not in guild.members:
            raise ApiError(403, 50001, "Missing Access")
        return guild

    async def _get_guild_channels(self, rec: RecordedRequest, guild_id: str) -> list:
        self._bot_guild(guild_id)
        channels = self._channels.values()
        return [self._channel(c) for c in channels if c.guild_id == guild_id and c.type not in THREAD_TYPES]

    async def _get_member(self, rec: RecordedRequest, guild_id: str, user_id: str) -> dict:
        if user_id not in self._bot_guild(guild_id).members:
            raise ApiError(404, 10007, "Unknown Member")
        return self._member(guild_id, user_id)

    async def _active_threads(self, rec: RecordedRequest, guild_id: str) -> dict:
        self._bot_guild(guild_id)
        threads = [
            c
            for c in self._channels.values()
            if c.guild_id == guild_id and c.type in THREAD_TYPES and not c.archived and self._bot_can(c, VIEW_CHANNEL)
        ]
        members = [self._thread_member(t, self.bot_user_id) for t in threads if self.bot_user_id in t.thread_members]
        return {"threads": [self._channel(t) for t in threads], "members": members}

    # --- REST: interaction responses ---------------------------------------------------------------------------

    def _interaction(self, token: str, app_id: str) -> FakeInteraction:
        interaction = self._interactions.get(token)
        if interaction is None or app_id != self.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        if time.monotonic() - interaction.created > self.interaction_token_seconds:
            raise ApiError(401, 50027, "Invalid Webhook Token")  # what Discord answers once the token expired
        return interaction

    def _response_message(self, interaction: FakeInteraction, rec: RecordedRequest, body: dict, flags: int) -> dict:
        """A message the app writes in answer to an interaction."""
        fields = self._message_fields(body, rec, f"attachments/{interaction.channel_id}", []) | {"flags": flags}
        metadata = {"id": interaction.id, "type": interaction.kind, "user": self._user(interaction.user_id)}
        metadata["authorizing_integration_owners"] = {"0": interaction.guild_id}
        if interaction.original is not None:
            metadata["original_response_message_id"] = interaction.original["id"]
        # 20 CHAT_INPUT_COMMAND / 23 CONTEXT_MENU_COMMAND for a command's first answer, 0 for followups/components
        kind = 0
        if interaction.original is None and interaction.kind == 2:
            kind = 20 if interaction.payload["data"]["type"] == 1 else 23
        extra = {"webhook_id": self.application_id, "application_id": self.application_id}
        channel = self._channels[interaction.channel_id]
        return self._new_message(
            channel, self.bot_user_id, fields, kind=kind, extra=extra | {"interaction_metadata": metadata}
        )

    async def _publish(self, message: dict[str, Any]) -> None:
        if not message["flags"] & EPHEMERAL:  # ephemeral messages are not stored in the channel nor dispatched
            self._store(message)
            await self._dispatch_message(MESSAGE_CREATE, message)

    async def _callback(self, rec: RecordedRequest, interaction_id: str, token: str) -> dict:
        """POST /interactions/{id}/{token}/callback: discord.py needs a 200 JSON InteractionCallback (pitfall 2)."""
        interaction = self._interactions.get(token)
        if interaction is None or interaction.id != interaction_id:
            raise ApiError(404, 10062, "Unknown interaction")
        if self.interaction_deadline is not None and time.monotonic() - interaction.created > self.interaction_deadline:
            raise ApiError(404, 10062, "Unknown interaction")  # what Discord answers after the 3 s window
        if interaction.callbacks:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = rec.json or {}
        kind, data = body.get("type"), body.get("data") or {}
        result: dict[str, Any] = {"interaction": {"id": interaction.id, "type": interaction.kind}}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            message = self._response_message(interaction, rec, data if kind == 4 else {}, flags)
            interaction.original = message
            await self._publish(message)
            result["interaction"] |= {"response_message_id": message["id"], "response_message_loading": kind == 5}
            result["interaction"]["response_message_ephemeral"] = bool(flags & EPHEMERAL)
            result["resource"] = {"type": kind, "message": self._rest(message)}
        elif kind in (6, 7) and interaction.kind == 3 and interaction.source_message is not None:
            interaction.original = interaction.source_message  # @original is now the clicked message
            if kind == 7:
                await self._edit(interaction.original, data, rec)
                result["resource"] = {"type": 7, "message": self._rest(interaction.original)}
        elif kind not in (8, 9):
            raise _form_error("type", "BASE_TYPE_CHOICES", "Value must be one of {4, 5, 6, 7, 8, 9}.")
        interaction.callbacks.append(body)
        interaction.files.extend(rec.files)
        return result

    def _webhook_target(self, interaction: FakeInteraction, message_id: str) -> dict[str, Any]:
        candidates = [interaction.original, *interaction.followup_messages]
        for message in candidates:
            if message is not None and (message_id == "@original" or message["id"] == message_id):
                return message
        raise ApiError(404, 10008, "Unknown Message")

    async def _get_webhook_message(self, rec: RecordedRequest, app_id: str, token: str, message_id: str) -> dict:
        return self._rest(self._webhook_target(self._interaction(token, app_id), message_id))

    async def _patch_webhook_message(self, rec: RecordedRequest, app_id: str, token: str, message_id: str) -> dict:
        interaction = self._interaction(token, app_id)
        message = self._webhook_target(interaction, message_id)
        await self._edit(message, rec.json or {}, rec)
        if message_id == "@original":
            interaction.edits.append(rec.json or {})
        interaction.files.extend(rec.files)
        return self._rest(message)

    async def _delete_webhook_message(self, rec: RecordedRequest, app_id: str, token: str, message_id: str) -> None:
        message = self._webhook_target(self._interaction(token, app_id), message_id)
        if message["id"] in self._message_channel:
            await self._deleted(message["channel_id"], [message["id"]])

    async def _followup(self, rec: RecordedRequest, app_id: str, token: str) -> dict:
        """POST /webhooks/{app}/{token}: a followup, answered with the Message (wait is forced for app webhooks)."""
        interaction = self._interaction(token, app_id)
        if not interaction.callbacks:
            raise ApiError(404, 10015, "Unknown Webhook")  # followups exist only after the initial response
        body, original = rec.json or {}, interaction.original
        if original is not None and original["flags"] & LOADING:
            # Discord's behaviour: the first followup after a "thinking" defer replaces that message, and keeps the
            # defer's visibility whatever flags the followup asks for.
            await self._edit(original, body, rec)
            message = original
        else:
            flags = int(body.get("flags") or 0) & (EPHEMERAL | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS)
            message = self._response_message(interaction, rec, body, flags)
            if not any(message[k] for k in ("content", "embeds", "attachments", "components")):
                raise ApiError(400, 50006, "Cannot send an empty message")
            await self._publish(message)
            interaction.followup_messages.append(message)
        interaction.followups.append(body)
        interaction.files.extend(rec.files)
        return self._rest(message)


# --- helpers -----------------------------------------------------------------------------------------------------


def _overwrite(raw: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(raw["id"]), "type": int(raw["type"]), "allow": int(raw["allow"]), "deny": int(raw["deny"])}


def _apply_overwrites(base: int, channel: _Channel, member: _Member) -> int:
    """@everyone's overwrite, then the member's role overwrites together (deny before allow), then its own."""
    rows = channel.overwrites
    for o in rows:
        if o["type"] == 0 and o["id"] == channel.guild_id:
            base = (base & ~o["deny"]) | o["allow"]
    allow = deny = 0
    for o in rows:
        if o["type"] == 0 and o["id"] in member.roles:
            allow, deny = allow | o["allow"], deny | o["deny"]
    base = (base & ~deny) | allow
    for o in rows:
        if o["type"] == 1 and o["id"] == member.user_id:
            base = (base & ~o["deny"]) | o["allow"]
    return base


def _implicit(perms: int, send_bit: int) -> int:
    # No send permission implies no tts/mention-everyone/embeds/files; no view implies nothing in the channel.
    if not perms & send_bit:
        perms &= ~(SEND_TTS_MESSAGES | MENTION_EVERYONE | EMBED_LINKS | ATTACH_FILES)
    if not perms & VIEW_CHANNEL:
        perms &= ~ALL_CHANNEL_PERMISSIONS
    return perms


def _rate_limited(retry_after: float, is_global: bool) -> web.Response:
    # discord.py retries a 429 only if it looks like Discord's: exact application/json, a Via header and a JSON body
    # with retry_after; anything else is taken for a Cloudflare ban and raised at once (reliability.md §3.2).
    headers = {"Via": "1.1 google", "Retry-After": str(max(1, math.ceil(retry_after)))}
    headers |= (
        {"X-RateLimit-Scope": "global", "X-RateLimit-Global": "true"} if is_global else {"X-RateLimit-Scope": "user"}
    )
    return _json(
        {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}, 429, headers
    )


def _cloudflare_banned() -> web.Response:
    # Cloudflare's "error 1015" page: an IP banned for too many invalid requests gets HTML, not Discord's JSON.
    page = "<!DOCTYPE html><html><head><title>Access denied | discord.com used Cloudflare to restrict access</title>"
    page += "</head><body><h1>Error 1015</h1><p>You are being rate limited</p></body></html>"
    return web.Response(text=page, status=429, content_type="text/html", headers={"Retry-After": "600"})


_ERRORS = {400: (50035, "Invalid Form Body"), 403: (50013, "Missing Permissions"), 404: (10008, "Unknown Message")}


def _error(status: int) -> web.Response:
    code, message = _ERRORS.get(status, (0, f"{status}: Error"))
    return _json({"code": code, "message": message}, status)


async def _read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes]], list[str]]:
    """JSON, or multipart with payload_json and files[n] parts (returned in index order)."""
    if request.content_type == "multipart/form-data":
        payload: Any = None
        indexed: list[tuple[int, str, bytes, str]] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            data = bytes(await part.read())  # type: ignore[union-attr]
            if part.name == "payload_json":
                payload = json.loads(data)
            elif match := re.fullmatch(r"files\[(\d+)\]", part.name or ""):
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                indexed.append((int(match[1]), part.filename or "", data, content_type))  # type: ignore[union-attr]
        indexed.sort(key=lambda item: item[0])
        return payload, [(name, data) for _, name, data, _ in indexed], [kind for *_, kind in indexed]
    raw = await request.read()
    try:
        return (json.loads(raw) if raw else None), [], []
    except ValueError:
        return raw.decode(errors="replace"), [], []
