"""The SQLite names of guilds and channels, written only when they change (the bot offers them with every message)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from memory.reports import PlaceNames
from memory.stores.known_names import KnownNames
from memory.stores.rows import place_names
from memory.stores.sqlite.database import SQLiteDatabase


class SQLiteNames:
    """Guild and channel names as exports and Discord last gave them; channel id '' holds the guild's own name."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self._db = database
        self._known = KnownNames()

    def remember(self, guild_id: str, names: Mapping[str, str]) -> int:
        """Store the names (channel id, or '' for the guild, -> name) that differ from those held; return how many
        were written. Empty names are ignored: they say nothing."""
        changed = self._known.changed(guild_id, names)
        if not changed:
            return 0
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db.transaction() as db:
            db.executemany(
                "INSERT INTO place_names VALUES (?, ?, ?, ?) ON CONFLICT (guild_id, channel_id) "
                "DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at WHERE name != excluded.name",
                [(guild_id, channel_id, name, now) for channel_id, name in changed.items()],
            )
        self._known.learn(guild_id, changed)
        return len(changed)

    def of_guild(self, guild_id: str) -> PlaceNames:
        """The names known of a guild and its channels."""
        rows = self._db.query("SELECT channel_id, name FROM place_names WHERE guild_id = ?", (guild_id,))
        return place_names(guild_id, {str(r[0]): str(r[1]) for r in rows})

    def all(self) -> dict[str, PlaceNames]:
        """The names known of every guild, by guild id (one query)."""
        held: dict[str, dict[str, str]] = {}
        for row in self._db.query("SELECT guild_id, channel_id, name FROM place_names"):
            held.setdefault(str(row[0]), {})[str(row[1])] = str(row[2])
        return {guild_id: place_names(guild_id, names) for guild_id, names in held.items()}

    def forget(self, guild_id: str, channel_ids: Sequence[str] | None = None) -> None:
        """Erase a guild's names (its own and every channel's), or only these channels'; the caller purges."""
        if channel_ids is not None and not channel_ids:
            return
        sql, params = "DELETE FROM place_names WHERE guild_id = ?", [guild_id]
        if channel_ids is not None:
            sql += f" AND channel_id IN ({', '.join('?' * len(channel_ids))})"
            params += list(channel_ids)
        with self._db.transaction() as db:
            db.execute(sql, params)
        self._known.forget(guild_id, channel_ids)
