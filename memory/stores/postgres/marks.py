"""The PostgreSQL channel marks: how far each channel's history is held (moved inside the record store's
transactions)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from memory.marks import ChannelMark, HistoryMark
from memory.stores.postgres.database import Cursor, PostgresDatabase
from memory.stores.rows import mark_from, mark_params

# The SQLite statements (`memory.stores.sqlite.marks`) in PostgreSQL's words: greatest() for max(), the row held
# named by its table. A session of '' is closed: no live mark moves it.
_MOVE = {
    "stored": """INSERT INTO channel_marks (guild_id, channel_id, newest_id, session)
                 VALUES (%(g)s, %(c)s, %(id)s, %(session)s)
                 ON CONFLICT (guild_id, channel_id) DO UPDATE
                 SET newest_id = greatest(channel_marks.newest_id, excluded.newest_id)
                 WHERE channel_marks.session = excluded.session AND channel_marks.session <> ''""",
    "seen": """UPDATE channel_marks SET newest_id = greatest(newest_id, %(id)s)
               WHERE guild_id = %(g)s AND channel_id = %(c)s AND session = %(session)s AND session <> ''""",
    "backfilled": """INSERT INTO channel_marks (guild_id, channel_id, newest_id, session)
                     VALUES (%(g)s, %(c)s, %(id)s, '')
                     ON CONFLICT (guild_id, channel_id) DO UPDATE
                     SET newest_id = greatest(channel_marks.newest_id, excluded.newest_id)
                     WHERE channel_marks.newest_id >= %(after)s""",
    "reconciled": """INSERT INTO channel_marks VALUES (%(g)s, %(c)s, %(id)s, %(session)s, %(missed)s)
                     ON CONFLICT (guild_id, channel_id) DO UPDATE
                     SET newest_id = greatest(channel_marks.newest_id, excluded.newest_id),
                         session = excluded.session, missed_before = excluded.missed_before
                     WHERE channel_marks.newest_id >= %(after)s""",
}
# A hole is filled once the mark reaches its end (a backfill, or later reconciliations, read it).
_FILLED = """UPDATE channel_marks SET missed_before = NULL
             WHERE guild_id = %(g)s AND channel_id = %(c)s AND missed_before <= newest_id"""


def move_marks(db: Cursor, marks: Iterable[HistoryMark]) -> None:
    """Move channel marks on inside a write transaction (the one that stores the messages they cover)."""
    for mark in marks:
        params = mark_params(mark)
        db.execute(_MOVE[mark.kind], params)
        db.execute(_FILLED, params)


class PostgresChannelMarks:
    """Channel marks as held, and their erasure with the channel or guild whose memory goes."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    def of_guild(self, guild_id: str) -> dict[str, ChannelMark]:
        """A guild's marks by channel id."""
        rows = self._db.query(
            "SELECT channel_id, newest_id, missed_before FROM channel_marks WHERE guild_id = %s", (guild_id,)
        )
        return {str(row[0]): mark_from(guild_id, row) for row in rows}

    def forget(self, guild_id: str, channel_ids: Sequence[str] | None = None) -> None:
        """Drop the marks of these channels (every channel of the guild if None): their memory was erased."""
        with self._db.transaction() as db:
            if channel_ids is None:
                db.execute("DELETE FROM channel_marks WHERE guild_id = %s", (guild_id,))
            else:
                sql = "DELETE FROM channel_marks WHERE guild_id = %s AND channel_id = ANY(%s)"
                db.execute(sql, (guild_id, list(channel_ids)))
        self._db.erased_from("channel_marks")
