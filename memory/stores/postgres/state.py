"""The PostgreSQL guild state: members' opt-outs, admins' channel policies and settings, backfill cursors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from memory.stores.postgres.database import PostgresDatabase
from memory.stores.rows import CURSOR_COLUMNS, cursor_from, cursor_values, distinct
from memory.types import BackfillCursor

_CURSOR_NAMES = CURSOR_COLUMNS.split(", ")
_SAVE_CURSOR = f"""INSERT INTO backfill_cursors ({CURSOR_COLUMNS}) VALUES ({", ".join(["%s"] * len(_CURSOR_NAMES))})
    ON CONFLICT (guild_id, channel_id) DO UPDATE SET {", ".join(f"{n} = excluded.{n}" for n in _CURSOR_NAMES[2:])}"""


class PostgresOptOuts:
    """Members who asked not to be remembered; a user id, not per guild, as opting out covers every guild."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    def add(self, user_id: str) -> None:
        """Remember nothing more of this user (an earlier opt-out keeps its date)."""
        since = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db.transaction() as db:
            db.execute("INSERT INTO opt_outs VALUES (%s, %s) ON CONFLICT DO NOTHING", (user_id, since))

    def remove(self, user_id: str) -> bool:
        """Remember this user again from now on; return whether they had opted out."""
        with self._db.transaction() as db:
            return db.execute("DELETE FROM opt_outs WHERE user_id = %s", (user_id,)).rowcount > 0

    def since(self, user_id: str) -> str | None:
        """When a user opted out (ISO time), or None if they did not."""
        rows = self._db.query("SELECT since FROM opt_outs WHERE user_id = %s", (user_id,))
        return str(rows[0][0]) if rows else None

    def among(self, user_ids: Iterable[str]) -> set[str]:
        """Which of these users opted out."""
        rows = self._db.query("SELECT user_id FROM opt_outs WHERE user_id = ANY(%s)", (distinct(user_ids),))
        return {str(row[0]) for row in rows}


class PostgresChannelPolicies:
    """Per-guild channel policies set by admins; a row overrides config.yaml for that channel or category."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    def set(self, guild_id: str, channel_id: str, remembered: bool) -> None:
        """Remember (or not) a channel or category from now on, replacing any earlier policy."""
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO channel_policies VALUES (%s, %s, %s) ON CONFLICT (guild_id, channel_id) "
                "DO UPDATE SET remembered = excluded.remembered",
                (guild_id, channel_id, int(remembered)),
            )

    def clear(self, guild_id: str, channel_id: str) -> bool:
        """Drop a channel's policy (the category or config default applies again); return whether it had one."""
        with self._db.transaction() as db:
            sql = "DELETE FROM channel_policies WHERE guild_id = %s AND channel_id = %s"
            return db.execute(sql, (guild_id, channel_id)).rowcount > 0

    def of_guild(self, guild_id: str) -> dict[str, bool]:
        """A guild's explicit policies: channel or category id -> remembered."""
        rows = self._db.query("SELECT channel_id, remembered FROM channel_policies WHERE guild_id = %s", (guild_id,))
        return {str(row[0]): bool(row[1]) for row in rows}

    def all(self) -> dict[str, dict[str, bool]]:
        """Every guild's explicit policies: guild id -> channel or category id -> remembered (one query)."""
        policies: dict[str, dict[str, bool]] = {}
        for row in self._db.query("SELECT guild_id, channel_id, remembered FROM channel_policies"):
            policies.setdefault(str(row[0]), {})[str(row[1])] = bool(row[2])
        return policies


class PostgresGuildSettingValues:
    """Per-guild settings as text by key (validated by `memory.guild_settings`); a missing key means the default."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    def values(self, guild_id: str) -> dict[str, str]:
        """A guild's stored settings: key -> value (as text)."""
        rows = self._db.query("SELECT key, value FROM guild_settings WHERE guild_id = %s", (guild_id,))
        return {str(r[0]): str(r[1]) for r in rows}

    def put(self, guild_id: str, values: Mapping[str, str]) -> None:
        """Store several settings of a guild in one transaction."""
        with self._db.transaction() as db:
            db.executemany(
                "INSERT INTO guild_settings VALUES (%s, %s, %s) ON CONFLICT (guild_id, key) "
                "DO UPDATE SET value = excluded.value",
                [(guild_id, k, v) for k, v in values.items()],
            )

    def clear(self, guild_id: str, key: str) -> bool:
        """Remove one setting of a guild; return whether it was set."""
        with self._db.transaction() as db:
            sql = "DELETE FROM guild_settings WHERE guild_id = %s AND key = %s"
            return db.execute(sql, (guild_id, key)).rowcount > 0


class PostgresBackfillCursors:
    """Where each channel's history backfill got to, so that a restart resumes instead of starting over."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    def get(self, guild_id: str, channel_id: str) -> BackfillCursor | None:
        """A channel's cursor, or None if it was never backfilled."""
        sql = f"SELECT {CURSOR_COLUMNS} FROM backfill_cursors WHERE guild_id = %s AND channel_id = %s"
        rows = self._db.query(sql, (guild_id, channel_id))
        return cursor_from(rows[0]) if rows else None

    def save(self, cursor: BackfillCursor) -> None:
        """Store a cursor (replacing the channel's earlier one): only once the batch it covers is stored."""
        with self._db.transaction() as db:
            db.execute(_SAVE_CURSOR, cursor_values(cursor))

    def delete(self, guild_id: str, channel_id: str | None = None) -> None:
        """Forget where a channel's backfill got to (every channel's of the guild if None): its memory was erased."""
        sql, params = "DELETE FROM backfill_cursors WHERE guild_id = %s", [guild_id]
        if channel_id is not None:
            sql, params = sql + " AND channel_id = %s", [*params, channel_id]
        with self._db.transaction() as db:
            db.execute(sql, params)
        self._db.erased_from("backfill_cursors")

    def all(self, guild_id: str | None = None) -> list[BackfillCursor]:
        """The cursors of a guild (of every guild if None), by channel."""
        where, params = ("WHERE guild_id = %s", (guild_id,)) if guild_id else ("", ())
        rows = self._db.query(
            f"SELECT {CURSOR_COLUMNS} FROM backfill_cursors {where} ORDER BY guild_id, channel_id", params
        )
        return [cursor_from(row) for row in rows]
