"""The SQLite channel marks: how far each channel's history is held (moved inside the record store's transactions)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from memory.marks import ChannelMark, HistoryMark
from memory.stores.rows import mark_from, mark_params
from memory.stores.sqlite.database import SQLiteDatabase, in_lists

# One statement per kind (`memory.marks.HistoryMark` says what each means). Ids are INTEGER columns so that max()
# and >= compare snowflakes as numbers. A session of '' is closed: no live mark moves it.
_MOVE = {
    "stored": """INSERT INTO channel_marks (guild_id, channel_id, newest_id, session) VALUES (:g, :c, :id, :session)
                 ON CONFLICT (guild_id, channel_id) DO UPDATE SET newest_id = max(newest_id, excluded.newest_id)
                 WHERE session = excluded.session AND session <> ''""",
    "seen": """UPDATE channel_marks SET newest_id = max(newest_id, :id)
               WHERE guild_id = :g AND channel_id = :c AND session = :session AND session <> ''""",
    "backfilled": """INSERT INTO channel_marks (guild_id, channel_id, newest_id, session) VALUES (:g, :c, :id, '')
                     ON CONFLICT (guild_id, channel_id) DO UPDATE SET newest_id = max(newest_id, excluded.newest_id)
                     WHERE newest_id >= :after""",
    "reconciled": """INSERT INTO channel_marks VALUES (:g, :c, :id, :session, :missed)
                     ON CONFLICT (guild_id, channel_id) DO UPDATE SET newest_id = max(newest_id, excluded.newest_id),
                     session = excluded.session, missed_before = excluded.missed_before WHERE newest_id >= :after""",
}
# A hole is filled once the mark reaches its end (a backfill, or later reconciliations, read it).
_FILLED = """UPDATE channel_marks SET missed_before = NULL
             WHERE guild_id = :g AND channel_id = :c AND missed_before <= newest_id"""


def move_marks(db: sqlite3.Connection, marks: Iterable[HistoryMark]) -> None:
    """Move channel marks on inside a write transaction (the one that stores the messages they cover)."""
    for mark in marks:
        params = mark_params(mark)
        db.execute(_MOVE[mark.kind], params)
        db.execute(_FILLED, params)


class SQLiteChannelMarks:
    """Channel marks as held, and their erasure with the channel or guild whose memory goes."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self._db = database

    def of_guild(self, guild_id: str) -> dict[str, ChannelMark]:
        """A guild's marks by channel id."""
        rows = self._db.query(
            "SELECT channel_id, newest_id, missed_before FROM channel_marks WHERE guild_id = ?", (guild_id,)
        )
        return {str(row[0]): mark_from(guild_id, row) for row in rows}

    def forget(self, guild_id: str, channel_ids: Sequence[str] | None = None) -> None:
        """Drop the marks of these channels (every channel of the guild if None): their memory was erased."""
        with self._db.transaction() as db:
            if channel_ids is None:
                db.execute("DELETE FROM channel_marks WHERE guild_id = ?", (guild_id,))
                return
            for places, batch in in_lists(channel_ids):
                sql = f"DELETE FROM channel_marks WHERE guild_id = ? AND channel_id IN ({places})"
                db.execute(sql, (guild_id, *batch))
