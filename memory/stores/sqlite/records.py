"""The SQLite record store: chat messages, files (their chunks go with them), erased marks, per-guild counts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from memory.marks import HistoryMark
from memory.reports import AuthorPlace
from memory.stores.rows import (
    FILE_COLUMNS,
    author_places,
    file_from,
    file_values,
    message_from,
    message_values,
    older_edit,
    record_counts,
)
from memory.stores.sqlite.database import SQLiteDatabase, in_lists
from memory.stores.sqlite.marks import move_marks
from memory.types import ChatMessage, FileRecord

Anchors = dict[tuple[str, str], str]  # (guild, channel) -> the sort key its windows must be rebuilt from


class SQLiteRecordStore:
    """What was said and uploaded, as it was last seen. Every change to a channel's messages marks its windows
    stale from an anchor in the same transaction, so a crash before the windows are rebuilt loses nothing."""

    def __init__(self, database: SQLiteDatabase) -> None:
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
        changed.

        Erased messages (see `erased`) are the caller's to leave out; a version older than the stored one is
        skipped here."""
        changed: list[ChatMessage] = []
        with self._db.transaction() as db:
            for message, key, digest in messages:
                row = db.execute(
                    "SELECT content_hash, edited_at FROM messages WHERE guild_id = ? AND message_id = ?",
                    (message.guild_id, message.message_id),
                ).fetchone()
                if row is not None and (row[0] == digest or older_edit(message.edited_at, row[1])):
                    continue  # unchanged, or an older version arriving late (a history page read before an edit)
                db.execute(
                    "INSERT OR REPLACE INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    message_values(message, key, digest),
                )
                changed.append(message)
            touched = {(m.guild_id, m.channel_id) for m in changed}
            for place, key in anchors.items():
                if place in touched:
                    mark_stale(db, *place, key)
            move_marks(db, marks)  # last, in the same transaction: a crash never moves a mark past a lost message
        return changed

    def messages(self, guild_id: str, message_ids: Sequence[str]) -> list[ChatMessage]:
        """Messages by id (missing ids are left out)."""
        sql = "SELECT * FROM messages WHERE guild_id = ? AND message_id IN ({ids})"
        return [message_from(row) for row in self._db.query_in(sql, message_ids, before=(guild_id,))]

    def channel_messages_from(self, guild_id: str, channel_id: str, start_key: str) -> list[ChatMessage]:
        """A channel's messages from `start_key` on, in order."""
        rows = self._db.query(
            "SELECT * FROM messages WHERE guild_id = ? AND channel_id = ? AND sort_key >= ? ORDER BY sort_key",
            (guild_id, channel_id, start_key),
        )
        return [message_from(row) for row in rows]

    def messages_between(
        self, guild_id: str, after: str, before: str, *, channels: Sequence[str] | None = None
    ) -> list[ChatMessage]:
        """A guild's messages created in [after, before) (ISO UTC), in some channels or all, oldest first."""
        sql = "SELECT * FROM messages WHERE guild_id = ? AND created_at >= ? AND created_at < ?"
        params: list[object] = [guild_id, after, before]
        if channels is not None:
            sql += f" AND channel_id IN ({','.join('?' * len(channels))})"
            params.extend(channels)
        return [message_from(row) for row in self._db.query(sql + " ORDER BY sort_key", params)]

    def delete_messages(self, guild_id: str, message_ids: Sequence[str], anchors: Anchors, *, keep_out: bool) -> int:
        """Delete messages and mark their channels' windows stale from the anchors, in one transaction; with
        `keep_out`, every given id (held or not) is marked erased so that it is never stored again. Return how
        many were held."""
        deleted = 0
        with self._db.transaction() as db:
            for place, key in anchors.items():
                mark_stale(db, *place, key)
            if keep_out:
                db.executemany(
                    "INSERT OR IGNORE INTO erased_messages VALUES (?, ?)", [(guild_id, i) for i in message_ids]
                )
            for marks, batch in in_lists(message_ids):
                sql = f"DELETE FROM messages WHERE guild_id = ? AND message_id IN ({marks})"
                deleted += db.execute(sql, (guild_id, *batch)).rowcount
        return deleted

    def message_ids_where(
        self, guild_id: str, *, channel_id: str | None = None, author_id: str | None = None
    ) -> list[str]:
        """Ids of a guild's messages, narrowed by channel (with its threads) and/or author."""
        sql, params = "SELECT message_id FROM messages WHERE guild_id = ?", [guild_id]
        if channel_id is not None:
            sql, params = sql + " AND (channel_id = ? OR parent_channel_id = ?)", [*params, channel_id, channel_id]
        if author_id is not None:
            sql, params = sql + " AND author_id = ?", [*params, author_id]
        return [str(row[0]) for row in self._db.query(sql, params)]

    def erased(self, guild_id: str, message_ids: Iterable[str]) -> set[str]:
        """Of these message ids, those deleted or forgotten before (never to be stored again)."""
        sql = "SELECT message_id FROM erased_messages WHERE guild_id = ? AND message_id IN ({ids})"
        return {str(row[0]) for row in self._db.query_in(sql, list(message_ids), before=(guild_id,))}

    def channel_message_ids(self, guild_id: str, channel_id: str, since: str = "") -> list[str]:
        """Ids of the messages held for exactly this channel (a thread is its own channel) created at or after
        `since` (an ISO time; '' for all), oldest first."""
        rows = self._db.query(
            "SELECT message_id FROM messages WHERE guild_id = ? AND channel_id = ? AND sort_key >= ? ORDER BY sort_key",
            (guild_id, channel_id, since),
        )
        return [str(row[0]) for row in rows]

    def message_channels(self, guild_id: str) -> dict[str, str | None]:
        """The channels holding chat messages of a guild: channel id -> parent channel id (threads) or None."""
        rows = self._db.query(
            "SELECT DISTINCT channel_id, parent_channel_id FROM messages WHERE guild_id = ?", (guild_id,)
        )
        return {str(row[0]): row[1] for row in rows}

    # --- files ----------------------------------------------------------------------------------------

    def file(self, record_id: str) -> FileRecord | None:
        """A file record, or None."""
        rows = self._db.query("SELECT * FROM files WHERE record_id = ?", (record_id,))
        return file_from(rows[0]) if rows else None

    def save_file(self, record: FileRecord) -> None:
        """Insert or replace a file record."""
        with self._db.transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO files ({FILE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", file_values(record)
            )

    def file_ids_where(
        self,
        guild_id: str,
        *,
        channel_id: str | None = None,
        message_id: str | None = None,
        author_id: str | None = None,
    ) -> list[str]:
        """Ids of a guild's file records, narrowed by channel, message and/or author."""
        sql, params = "SELECT record_id FROM files WHERE guild_id = ?", [guild_id]
        for column, value in (("channel_id", channel_id), ("message_id", message_id), ("author_id", author_id)):
            if value is not None:
                sql, params = f"{sql} AND {column} = ?", [*params, value]
        return [str(row[0]) for row in self._db.query(sql, params)]

    def delete_files(self, guild_id: str, record_ids: Sequence[str]) -> list[str]:
        """Delete file records and their chunks in one transaction; return the removed chunk ids."""
        sql = "SELECT chunk_id FROM chunks WHERE guild_id = ? AND record_id IN ({ids})"
        removed = [str(row[0]) for row in self._db.query_in(sql, record_ids, before=(guild_id,))]
        with self._db.transaction() as db:
            for marks, batch in in_lists(removed):
                db.execute(f"DELETE FROM chunks WHERE chunk_id IN ({marks})", batch)
            for marks, batch in in_lists(record_ids):
                db.execute(f"DELETE FROM files WHERE record_id IN ({marks})", batch)
        return removed

    # --- whole guilds and members ---------------------------------------------------------------------

    def records_before(self, guild_id: str, before: str) -> tuple[list[str], list[str]]:
        """Message ids and file record ids of a guild created before an ISO UTC time (files without a date
        are kept: their age is unknown). The first 19 characters are compared, so that offsets and
        fractions of a second do not upset the text comparison."""
        cutoff = before[:19]
        messages = self._db.query(
            "SELECT message_id FROM messages WHERE guild_id = ? AND substr(created_at, 1, 19) < ?", (guild_id, cutoff)
        )
        files = self._db.query(
            "SELECT record_id FROM files WHERE guild_id = ? AND created_at IS NOT NULL "
            "AND substr(created_at, 1, 19) < ?",
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
        with self._db.transaction() as db:
            count = int(db.execute("SELECT count(*) FROM chunks WHERE guild_id = ?", (guild_id,)).fetchone()[0])
            for table in ("chunks", "messages", "files", "stale_windows", "erased_messages"):
                db.execute(f"DELETE FROM {table} WHERE guild_id = ?", (guild_id,))
        return count

    def record_counts(self, guild_id: str | None = None) -> dict[tuple[str, str], tuple[int, int]]:
        """(guild, channel) -> (messages, files) held, for one guild or all."""
        where, params = ("WHERE guild_id = ?", (guild_id,)) if guild_id else ("", ())
        return record_counts(
            [self._db.query(f"SELECT guild_id, channel_id, count(*) FROM {table} {where} GROUP BY 1, 2", params)
             for table in ("messages", "files")]
        )  # fmt: skip

    def members_named(self, guild_id: str, names: Sequence[str]) -> dict[str, str]:
        """The authors of this guild's messages whose name, in SQLite's lower case, is one of `names`: author id ->
        the name matched (a member who changed names may match under several; the last one read is kept)."""
        if not names:
            return {}
        sql = "SELECT DISTINCT author_id, lower(author_name) FROM messages WHERE guild_id = ? AND lower(author_name)"
        rows = self._db.query_in(sql + " IN ({ids})", list(dict.fromkeys(names)), before=(guild_id,))
        return {str(row[0]): str(row[1]) for row in rows}

    def author_guilds(self, user_id: str) -> list[str]:
        """Guilds that hold messages or files by this user."""
        rows = self._db.query(
            "SELECT guild_id FROM messages WHERE author_id = ? UNION SELECT guild_id FROM files WHERE author_id = ?",
            (user_id, user_id),
        )
        return sorted(str(row[0]) for row in rows)

    def author_places(self, user_id: str) -> list[AuthorPlace]:
        """Per guild and channel: a user's message count, file names and first/last dates, by place."""
        counts = self._db.query(
            """SELECT guild_id, channel_id, count(*), min(created_at), max(created_at) FROM messages
               WHERE author_id = ? GROUP BY 1, 2""",
            (user_id,),
        )
        files = self._db.query(
            "SELECT guild_id, channel_id, filename, created_at FROM files WHERE author_id = ? ORDER BY created_at",
            (user_id,),
        )
        return author_places(counts, files)


def mark_stale(db: sqlite3.Connection, guild_id: str, channel_id: str, key: str) -> None:
    """Note in a transaction that a channel's windows must be rebuilt from `key` (the earliest mark wins)."""
    db.execute(
        """INSERT INTO stale_windows VALUES (?, ?, ?) ON CONFLICT (guild_id, channel_id)
           DO UPDATE SET start_key = min(start_key, excluded.start_key)""",
        (guild_id, channel_id, key),
    )
