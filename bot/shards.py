"""Discord shards: which shard a guild is on, and which guilds this process owns (and runs the jobs of)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import DiscordSettings


def shard_of(guild_id: int | str, shard_count: int) -> int:
    """The shard Discord sends a guild's events to: `(guild_id >> 22) % shard_count` (Discord's sharding formula)."""
    return (int(guild_id) >> 22) % shard_count


@dataclass(frozen=True)
class Ownership:
    """The guilds this process owns: those of its shards. Events of other guilds never reach it (Discord routes them
    to their shard), but the stores hold every process's guilds, so each job driven by them asks `owns` first."""

    shard_count: int | None = None  # None: unsharded, or `auto` (then this process runs every shard)
    shard_ids: frozenset[int] | None = None  # None: every shard

    @classmethod
    def of(cls, settings: DiscordSettings) -> Ownership:
        """What `discord.shard_count` and `discord.shard_ids` give this process."""
        count = settings.shard_count if isinstance(settings.shard_count, int) else None
        ids = frozenset(settings.shard_ids) if settings.shard_ids is not None else None
        return cls(count, ids)

    def owns(self, guild_id: int | str) -> bool:
        """Whether this guild is on one of this process's shards."""
        if self.shard_ids is None or self.shard_count is None:
            return True
        return shard_of(guild_id, self.shard_count) in self.shard_ids

    def __call__(self, guild_id: str) -> bool:
        """`owns`, as the predicate `memory` takes (`guilds=`)."""
        return self.owns(guild_id)


def client_options(settings: DiscordSettings) -> dict[str, Any]:
    """discord.py's AutoShardedBot options: `shard_count` (None for `auto`: discord.py asks GET /gateway/bot) and
    `shard_ids` (None: all)."""
    count = None if settings.shard_count == "auto" else settings.shard_count
    return {"shard_count": count, "shard_ids": settings.shard_ids}
