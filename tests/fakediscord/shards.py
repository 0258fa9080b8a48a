"""The fake Discord's shards: what GET /gateway/bot recommends, guilds placed on a shard, and each guild's events
sent only to the connection that IDENTIFYed with its shard, by Discord's rule. A mixin of `FakeDiscord`."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from tests.fakediscord.protocol import DISCORD_EPOCH_MS, GUILD_CREATE, GUILD_DELETE

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord, _Channel, _Session

# A guild placed on a shard gets an id this many milliseconds ahead of now (the shard is in the id's timestamp bits),
# so that the ids made after it still increase.
GUILD_ID_LEAD_MS = 5


def shard_of(guild_id: int | str, shard_count: int) -> int:
    """Discord's sharding formula: `shard_id = (guild_id >> 22) % num_shards`."""
    return (int(guild_id) >> 22) % shard_count


class Shards:
    """`shard_count` is what GET /gateway/bot says; IDENTIFY's `shard: [id, count]` picks a connection's guilds (no
    `shard` is `[0, 1]`: every guild). Events without a guild go to shard 0, as DMs do on Discord."""

    shard_count: int = 1

    def _guild_snowflake(self: FakeDiscord, shard_id: int) -> str:
        """A new guild id on `shard_id` of `shard_count` (still above every id made so far)."""
        now = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (1 << 17)
        stamp = (max(now, self._last_snowflake + 1) >> 22) + GUILD_ID_LEAD_MS
        stamp += (shard_id - stamp) % self.shard_count
        self._last_snowflake = (stamp << 22) | (1 << 17)
        return str(self._last_snowflake)

    @staticmethod
    def _receives(session: _Session, guild_id: str | None) -> bool:
        """Whether a connection is sent this guild's events (None: an event of no guild)."""
        shard_id, count = session.shard
        return (shard_of(guild_id, count) if guild_id else 0) == shard_id

    @staticmethod
    def _event_guild(event: str, data: Any, channel: _Channel | None, guild_id: str) -> str | None:
        """The guild an event belongs to, which decides its shard."""
        if channel is not None:
            return channel.guild_id
        if guild_id:
            return guild_id
        if isinstance(data, dict):
            if data.get("guild_id"):
                return str(data["guild_id"])
            if event in (GUILD_CREATE, GUILD_DELETE):
                return str(data["id"])
        return None

    def identifies(self: FakeDiscord) -> list[dict[str, Any]]:
        """Every IDENTIFY payload (`d`) a bot sent, in order."""
        return [p["d"] for p in self.gateway_received if p.get("op") == 2]

    def shard_sessions(self: FakeDiscord, shard_id: int) -> list[_Session]:
        """The live sessions that identified with this shard."""
        return [s for s in self._sessions.values() if s.ws is not None and s.shard[0] == shard_id]

    def sent_events_of(self: FakeDiscord, shard_id: int, event: str) -> list[dict[str, Any]]:
        """`sent_events`, of the sessions of one shard only."""
        frames = [json.loads(raw) for s in self._sessions.values() if s.shard[0] == shard_id for _, raw in s.log]
        return [frame["d"] for frame in frames if frame["t"] == event]

    async def drop_shard(self: FakeDiscord, shard_id: int) -> None:
        """End one shard's sessions and close their connections, as after an outage of that shard alone: discord.py's
        RESUME is refused and that shard IDENTIFYs afresh (a new session); the other shards stay connected."""
        for session in self.shard_sessions(shard_id):
            self._sessions.pop(session.id, None)
            if session.ws is not None:
                await session.ws.close(code=4000)  # a code discord.py reconnects after

    def last_sequence_of(self: FakeDiscord, shard_id: int) -> int:
        """The sequence number of the last event sent to this shard's live connection (0: none)."""
        return max((s.seq for s in self.shard_sessions(shard_id)), default=0)
