"""The PostgreSQL record store: chat messages, files (their chunks go with them), erased marks, per-guild counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from memory.marks import HistoryMark
from memory.reports import AuthorPlace
from memory.stores.postgres.database import Cursor, PostgresDatabase
from memory.stores.postgres.marks import move_marks
from memory.stores.rows import (
    FILE_COLUMNS,
    MESSAGE_COLUMNS,
    author_places,
    distinct,
    file_from,
    file_values,
    message_from,
    message_values,
    record_counts,
)
from memory.types import ChatMessage, FileRecord

Anchors = dict[tuple[str, str], str]  # (guild, channel) -> the sort key its windows must be rebuilt from

_NAMES = MESSAGE_COLUMNS.split(", ")
# One statement stores a message or skips it, atomically even with other processes writing: unchanged (same hash),
# or an older version arriving late (a history page read before an edit). RETURNING names what was written.
_SAVE = f"""INSERT INTO messages ({MESSAGE_COLUMNS}) VALUES ({", ".join(["%s"] * len(_NAMES))})
    ON CONFLICT (guild_id, message_id) DO UPDATE SET {", ".join(f"{n} = excluded.{n}" for n in _NAMES[2:])}
    WHERE messages.content_hash <> excluded.content_hash
      AND NOT (messages.edited_at IS NOT NULL
               AND (excluded.edited_at IS NULL OR excluded.edited_at < messages.edited_at))
    RETURNING guild_id, message_id"""


class PostgresRecordStore:
    """What was said and uploaded, as it was last seen. Every change to a channel's messages marks its windows
    stale from an anchor in the same transaction, so a crash before the windows are rebuilt loses nothing."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    # --- chat messages --------------------------------------------------------------------------------

    def save_messages(
        self,
        messages: Iterable[tuple[ChatMessage, str, str]],
        anchors: Anchors,
        marks: Sequence[HistoryMark] = (),
    ) -> list[ChatMessage]:
        """Insert or update messages given as (message, sort key, content hash), mark their channels' windows stale
        from the anchors and move the channel marks that cover them, in one transaction; return the messages that
        changed (a version older than the stored one is skipped)."""
        given = list(messages)
        written: set[tuple[str, str]] = set()
        with self._db.transaction() as db:
            if given:
                db.executemany(_SAVE, [message_values(m, key, digest) for m, key, digest in given], returning=True)
                while True:
                    written.update((str(row[0]), str(row[1])) for row in db.fetchall())
                    if not db.nextset():
                        break
            changed = [m for m, _, _ in given if (m.guild_id, m.message_id) in written]
            touched = {(m.guild_id, m.channel_id) for m in changed}
            for place, key in anchors.items():
                if place in touched:
                    mark_stale(db, *place, key)
            move_marks(db, marks)  # last, in the same transaction: a crash never moves a mark past a lost message
        return changed

    def messages(self, guild_id: str, message_ids: Sequence[str]) -> list[ChatMessage]:
        """Messages by id (missing ids are left out)."""
        sql = "SELECT * FROM messages WHERE guild_id = %s AND message_id = ANY(%s)"
        return [message_from(row) for row in self._db.query(sql, (guild_id, list(message_ids)))]

    def channel_messages_from(self, guild_id: str, channel_id: str, start_key: str) -> list[ChatMessage]:
        """A channel's messages from `start_key` on, in order."""
        rows = self._db.query(
            "SELECT * FROM messages WHERE guild_id = %s AND channel_id = %s AND sort_key >= %s ORDER BY sort_key",
            (guild_id, channel_id, start_key),
        )
        return [message_from(row) for row in rows]

    def messages_between(
        self, guild_id: str, after: str, before: str, *, channels: Sequence[str] | None = None
    ) -> list[ChatMessage]:
        """A guild's messages created in [after, before) (ISO UTC), in some channels or all, oldest first."""
        sql = "SELECT * FROM messages WHERE guild_id = %s AND created_at >= %s AND created_at < %s"
        params: list[object] = [guild_id, after, before]
        if channels is not None:
            sql += " AND channel_id = ANY(%s)"
            params.append(list(channels))
        return [message_from(row) for row in self._db.query(sql + " ORDER BY sort_key", params)]

    def delete_messages(self, guild_id: str, message_ids: Sequence[str], anchors: Anchors, *, keep_out: bool) -> int:
        """Delete messages and mark their channels' windows stale from the anchors, in one transaction; with
        `keep_out`, every given id (held or not) is marked erased so that it is never stored again. Return how
        many were held."""
        with self._db.transaction() as db:
            for place, key in anchors.items():
                mark_stale(db, *place, key)
            if keep_out and message_ids:
                db.executemany(
                    "INSERT INTO erased_messages VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    [(guild_id, i) for i in distinct(message_ids)],
                )
            db.execute(
                "DELETE FROM messages WHERE guild_id = %s AND message_id = ANY(%s)", (guild_id, list(message_ids))
            )
            deleted = db.rowcount
        self._db.erased_from("messages")
        return deleted

    def message_ids_where(
        self, guild_id: str, *, channel_id: str | None = None, author_id: str | None = None
    ) -> list[str]:
        """Ids of a guild's messages, narrowed by channel (with its threads) and/or author."""
        sql, params = "SELECT message_id FROM messages WHERE guild_id = %s", [guild_id]
        if channel_id is not None:
            sql, params = sql + " AND (channel_id = %s OR parent_channel_id = %s)", [*params, channel_id, channel_id]
        if author_id is not None:
            sql, params = sql + " AND author_id = %s", [*params, author_id]
        return [str(row[0]) for row in self._db.query(sql, params)]

    def erased(self, guild_id: str, message_ids: Iterable[str]) -> set[str]:
        """Of these message ids, those deleted or forgotten before (never to be stored again)."""
        sql = "SELECT message_id FROM erased_messages WHERE guild_id = %s AND message_id = ANY(%s)"
        return {str(row[0]) for row in self._db.query(sql, (guild_id, list(message_ids)))}

    def channel_message_ids(self, guild_id: str, channel_id: str, since: str = "") -> list[str]:
        """Ids of the messages held for exactly this channel (a thread is its own channel) created at or after
        `since` (an ISO time; '' for all), oldest first."""
        rows = self._db.query(
            "SELECT message_id FROM messages WHERE guild_id = %s AND channel_id = %s AND sort_key >= %s "
            "ORDER BY sort_key",
            (guild_id, channel_id, since),
        )
        return [str(row[0]) for row in rows]

    def message_channels(self, guild_id: str) -> dict[str, str | None]:
        """The channels holding chat messages of a guild: channel id -> parent channel id (threads) or None."""
        rows = self._db.query(
            "SELECT DISTINCT channel_id, parent_channel_id FROM messages WHERE guild_id = %s", (guild_id,)
        )
        return {str(row[0]): row[1] for row in rows}

    # --- files ----------------------------------------------------------------------------------------

    def file(self, record_id: str) -> FileRecord | None:
        """A file record, or None."""
        rows = self._db.query(f"SELECT {FILE_COLUMNS} FROM files WHERE record_id = %s", (record_id,))
        return file_from(rows[0]) if rows else None

    def save_file(self, record: FileRecord) -> None:
        """Insert or replace a file record."""
        names = FILE_COLUMNS.split(", ")
        sql = f"""INSERT INTO files ({FILE_COLUMNS}) VALUES ({", ".join(["%s"] * len(names))})
                  ON CONFLICT (record_id) DO UPDATE SET {", ".join(f"{n} = excluded.{n}" for n in names[1:])}"""
        with self._db.transaction() as db:
            db.execute(sql, file_values(record))

    def file_ids_where(
        self,
        guild_id: str,
        *,
        channel_id: str | None = None,
        message_id: str | None = None,
        author_id: str | None = None,
    ) -> list[str]:
        """Ids of a guild's file records, narrowed by channel, message and/or author."""
        sql, params = "SELECT record_id FROM files WHERE guild_id = %s", [guild_id]
        for column, value in (("channel_id", channel_id), ("message_id", message_id), ("author_id", author_id)):
            if value is not None:
                sql, params = f"{sql} AND {column} = %s", [*params, value]
        return [str(row[0]) for row in self._db.query(sql, params)]

    def delete_files(self, guild_id: str, record_ids: Sequence[str]) -> list[str]:
        """Delete file records and their chunks in one transaction; return the removed chunk ids."""
        with self._db.transaction() as db:
            rows = db.execute(
                "DELETE FROM chunks WHERE guild_id = %s AND record_id = ANY(%s) RETURNING chunk_id",
                (guild_id, list(record_ids)),
            ).fetchall()
            db.execute("DELETE FROM files WHERE record_id = ANY(%s)", (list(record_ids),))
        self._db.erased_from("chunks", "chunk_messages", "files")
        return [str(row[0]) for row in rows]

    # --- whole guilds and members ---------------------------------------------------------------------

    def records_before(self, guild_id: str, before: str) -> tuple[list[str], list[str]]:
        """Message ids and file record ids of a guild created before an ISO UTC time (files without a date
        are kept: their age is unknown). The first 19 characters are compared, so that offsets and
        fractions of a second do not upset the text comparison."""
        cutoff = before[:19]
        messages = self._db.query(
            "SELECT message_id FROM messages WHERE guild_id = %s AND substr(created_at, 1, 19) < %s",
            (guild_id, cutoff),
        )
        files = self._db.query(
            "SELECT record_id FROM files WHERE guild_id = %s AND created_at IS NOT NULL "
            "AND substr(created_at, 1, 19) < %s",
            (guild_id, cutoff),
        )
        return [str(r[0]) for r in messages], [str(r[0]) for r in files]

    def guilds(self) -> list[str]:
        """Guild ids that hold anything."""
        rows = self._db.query(
            "SELECT guild_id FROM chunks UNION SELECT guild_id FROM messages UNION SELECT guild_id FROM files"
        )
        return sorted(str(row[0]) for row in rows)

    def delete_guild(self, guild_id: str) -> int:
        """Delete every message, file and chunk of a guild, and its erased marks; return how many chunks went."""
        tables = ("chunks", "messages", "files", "stale_windows", "erased_messages")
        with self._db.transaction() as db:
            count = 0
            for table in tables:
                db.execute(f"DELETE FROM {table} WHERE guild_id = %s", (guild_id,))
                count = db.rowcount if table == "chunks" else count
        self._db.erased_from(*tables, "chunk_messages")
        return count

    def record_counts(self, guild_id: str | None = None) -> dict[tuple[str, str], tuple[int, int]]:
        """(guild, channel) -> (messages, files) held, for one guild or all."""
        where, params = ("WHERE guild_id = %s", (guild_id,)) if guild_id else ("", ())
        return record_counts(
            [self._db.query(f"SELECT guild_id, channel_id, count(*) FROM {table} {where} GROUP BY 1, 2", params)
             for table in ("messages", "files")]
        )  # fmt: skip

    def members_named(self, guild_id: str, names: Sequence[str]) -> dict[str, str]:
        """The authors of this guild's messages whose name, lower-cased in ASCII as SQLite does (the column's "C"
        collation), is one of `names`: author id -> the name matched."""
        if not names:
            return {}
        rows = self._db.query(
            "SELECT DISTINCT author_id, lower(author_name) FROM messages "
            "WHERE guild_id = %s AND lower(author_name) = ANY(%s)",
            (guild_id, distinct(names)),
        )
        return {str(row[0]): str(row[1]) for row in rows}

    def author_guilds(self, user_id: str) -> list[str]:
        """Guilds that hold messages or files by this user."""
        rows = self._db.query(
            "SELECT guild_id FROM messages WHERE author_id = %s UNION SELECT guild_id FROM files WHERE author_id = %s",
            (user_id, user_id),
        )
        return sorted(str(row[0]) for row in rows)

    def author_places(self, user_id: str) -> list[AuthorPlace]:
        """Per guild and channel: a user's message count, file names and first/last dates, by place."""
        counts = self._db.query(
            """SELECT guild_id, channel_id, count(*), min(created_at), max(created_at) FROM messages
               WHERE author_id = %s GROUP BY 1, 2""",
            (user_id,),
        )
        files = self._db.query(
            "SELECT guild_id, channel_id, filename, created_at FROM files WHERE author_id = %s ORDER BY created_at",
            (user_id,),
        )
        return author_places(counts, files)


def mark_stale(db: Cursor, guild_id: str, channel_id: str, key: str) -> None:
    """Note in a transaction that a channel's windows must be rebuilt from `key` (the earliest mark wins)."""
    db.execute(
        """INSERT INTO stale_windows VALUES (%s, %s, %s) ON CONFLICT (guild_id, channel_id)
           DO UPDATE SET start_key = least(stale_windows.start_key, excluded.start_key)""",
        (guild_id, channel_id, key),
    )
