"""The SQLite chunk store: the embeddable units (chat windows, file pieces), which await a vector, and windows to
rebuild. The keyword index follows the chunks table by triggers (see the migrations)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from memory.reports import ChannelStats
from memory.stores.rows import CHUNK_COLUMNS, chunk_from, chunk_values
from memory.stores.sqlite.database import SQLiteDatabase, in_lists
from memory.types import Chunk

_PLACEHOLDERS = ",".join("?" * len(CHUNK_COLUMNS.split(",")))


class SQLiteChunkStore:
    """Chunks by id, record and channel, with an `embedded` flag that is set only once the vector is written."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self._db = database

    def chat_anchor(self, guild_id: str, channel_id: str, first_key: str, message_ids: Sequence[str]) -> str:
        """Where re-windowing must start after the given messages changed: the earliest window that holds
        one of them, or the last window starting at or before `first_key`; '' means the channel's start."""
        record = f"chat:{channel_id}"
        # Windows only: a window is a function of its first message, so re-windowing must start at one.
        sql = """SELECT min(c.start_key) FROM chunk_messages m JOIN chunks c ON c.chunk_id = m.chunk_id
                 WHERE m.guild_id = ? AND c.record_id = ? AND c.kind = 'chat' AND m.message_id IN ({ids})"""
        rows = self._db.query_in(sql, message_ids, before=(guild_id, record))
        candidates = [str(row[0]) for row in rows if row[0] is not None]
        rows = self._db.query(
            "SELECT max(start_key) FROM chunks "
            "WHERE guild_id = ? AND record_id = ? AND kind = 'chat' AND start_key <= ?",
            (guild_id, record, first_key),
        )
        if rows and rows[0][0] is not None:
            candidates.append(str(rows[0][0]))
        return min(candidates) if candidates else ""

    def chunk_ids_from(self, guild_id: str, record_id: str, start_key: str = "") -> set[str]:
        """Ids of a record's chunks from `start_key` on."""
        rows = self._db.query(
            "SELECT chunk_id FROM chunks WHERE guild_id = ? AND record_id = ? AND start_key >= ?",
            (guild_id, record_id, start_key),
        )
        return {str(row[0]) for row in rows}

    def stale_windows(self) -> list[tuple[str, str, str]]:
        """(guild, channel, start key) of every channel whose windows must be rebuilt."""
        return [(str(r[0]), str(r[1]), str(r[2])) for r in self._db.query("SELECT * FROM stale_windows")]

    def replace_chunks(
        self, guild_id: str, stale: set[str], fresh: Sequence[Chunk], *, rebuilt_channel: str | None = None
    ) -> tuple[list[Chunk], list[str]]:
        """Delete the `stale` chunk ids that are not in `fresh`, insert the `fresh` chunks that are new;
        with `rebuilt_channel`, also clear that channel's stale-windows mark in the same transaction.

        Returns:
            (added chunks, removed chunk ids).
        """
        removed = sorted(stale - {c.chunk_id for c in fresh})
        added: list[Chunk] = []
        with self._db.transaction() as db:
            for marks, batch in in_lists(removed):
                db.execute(f"DELETE FROM chunks WHERE chunk_id IN ({marks})", batch)
            for chunk in fresh:
                if chunk.chunk_id in stale:
                    continue
                cursor = db.execute(
                    f"INSERT OR IGNORE INTO chunks ({CHUNK_COLUMNS}) VALUES ({_PLACEHOLDERS})", chunk_values(chunk)
                )
                if cursor.rowcount:
                    added.append(chunk)
                    db.executemany(
                        "INSERT OR IGNORE INTO chunk_messages VALUES (?,?,?)",
                        [(guild_id, mid, chunk.chunk_id) for mid in chunk.message_ids],
                    )
            if rebuilt_channel is not None:
                db.execute(
                    "DELETE FROM stale_windows WHERE guild_id = ? AND channel_id = ?", (guild_id, rebuilt_channel)
                )
        return added, removed

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id (ids not in the store are left out)."""
        rows = self._db.query_in("SELECT * FROM chunks WHERE chunk_id IN ({ids})", chunk_ids)
        return {str(row["chunk_id"]): chunk_from(row) for row in rows}

    def pending_chunks(self, guild_id: str | None = None, limit: int = 1000) -> list[Chunk]:
        """Chunks stored but not yet in the vector index (left by a crash, a repair, or `reindex`)."""
        if guild_id is None:
            rows = self._db.query("SELECT * FROM chunks WHERE embedded = 0 LIMIT ?", (limit,))
        else:
            rows = self._db.query("SELECT * FROM chunks WHERE embedded = 0 AND guild_id = ? LIMIT ?", (guild_id, limit))
        return [chunk_from(row) for row in rows]

    def mark_embedded(self, chunk_ids: Sequence[str], embedded: bool = True) -> None:
        """Record that these chunks' vectors are (or are no longer) in the index."""
        with self._db.transaction() as db:
            for marks, batch in in_lists(chunk_ids):
                db.execute(f"UPDATE chunks SET embedded = ? WHERE chunk_id IN ({marks})", (int(embedded), *batch))

    def mark_guild_unembedded(self, guild_id: str) -> None:
        """Flag every chunk of a guild for re-embedding (`reindex`, or a repaired collection)."""
        with self._db.transaction() as db:
            db.execute("UPDATE chunks SET embedded = 0 WHERE guild_id = ?", (guild_id,))

    def neighbours(self, chunk: Chunk, count: int) -> list[Chunk]:
        """Up to `count` windows before and after a chat window in the same channel."""
        before = self._db.query(
            """SELECT * FROM chunks WHERE guild_id = ? AND record_id = ? AND kind = 'chat' AND start_key < ?
               ORDER BY start_key DESC LIMIT ?""",
            (chunk.guild_id, chunk.record_id, chunk.start_key, count),
        )
        after = self._db.query(
            "SELECT * FROM chunks WHERE guild_id = ? AND record_id = ? AND kind = 'chat' AND start_key > ? "
            "ORDER BY start_key LIMIT ?",
            (chunk.guild_id, chunk.record_id, chunk.start_key, count),
        )
        return [chunk_from(row) for row in [*reversed(before), *after]]

    def in_range(
        self,
        guild_id: str,
        after: str | None,
        before: str | None,
        *,
        channels: Sequence[str] | None,
        newest_first: bool,
        limit: int,
    ) -> list[str]:
        """Ids of a guild's chunks created in [after, before) (ISO UTC; None is open), newest or oldest first."""
        sql, params = "SELECT chunk_id FROM chunks WHERE guild_id = ? AND created_at IS NOT NULL", [guild_id]
        if after is not None:
            sql, params = sql + " AND created_at >= ?", [*params, after]
        if before is not None:
            sql, params = sql + " AND created_at < ?", [*params, before]
        if channels is not None:
            sql, params = sql + f" AND channel_id IN ({','.join('?' * len(channels))})", [*params, *channels]
        sql += f" ORDER BY created_at {'DESC' if newest_first else 'ASC'} LIMIT ?"
        return [str(row[0]) for row in self._db.query(sql, [*params, limit])]

    def channels(self, guild_id: str) -> list[str]:
        """Channel ids of a guild that hold chunks."""
        # Each guild's channels one index seek apart, not its every chunk: DISTINCT walked all of a big guild's
        # entries (11 ms at 100k chunks), and every question asks this first.
        rows = self._db.query(
            "WITH RECURSIVE held(channel_id) AS ("
            " SELECT min(channel_id) FROM chunks WHERE guild_id = ?"
            " UNION ALL SELECT (SELECT min(channel_id) FROM chunks"
            " WHERE guild_id = ? AND channel_id > held.channel_id) FROM held WHERE held.channel_id IS NOT NULL"
            ") SELECT channel_id FROM held WHERE channel_id IS NOT NULL",
            (guild_id, guild_id),
        )
        return sorted(str(row[0]) for row in rows)

    def embedded_counts(self) -> dict[str, int]:
        """How many chunks of each guild have their vector written."""
        rows = self._db.query("SELECT guild_id, count(*) FROM chunks WHERE embedded = 1 GROUP BY guild_id")
        return {str(row[0]): int(row[1]) for row in rows}

    def chunk_counts(self, guild_id: str | None = None) -> dict[tuple[str, str], ChannelStats]:
        """(guild, channel) -> its chunk counts (messages and files left at 0), for one guild or all."""
        where, params = ("WHERE guild_id = ?", (guild_id,)) if guild_id else ("", ())
        rows = self._db.query(
            f"""SELECT guild_id, channel_id, count(*), sum(tokens), sum(kind != 'file'), sum(kind = 'file'),
                       sum(embedded = 0)
                FROM chunks {where} GROUP BY guild_id, channel_id""",
            params,
        )
        return {(str(r[0]), str(r[1])): ChannelStats(0, 0, *(int(v or 0) for v in tuple(r)[2:])) for r in rows}

    def guild_chunk_ids(self, guild_id: str) -> list[str]:
        """Every chunk id of a guild."""
        return [str(row[0]) for row in self._db.query("SELECT chunk_id FROM chunks WHERE guild_id = ?", (guild_id,))]

    def iter_guild_chunks(self, guild_id: str, batch: int = 512) -> Iterator[list[Chunk]]:
        """A guild's chunks in batches, in a stable order."""
        last = ""
        while True:
            rows = self._db.query(
                "SELECT * FROM chunks WHERE guild_id = ? AND chunk_id > ? ORDER BY chunk_id LIMIT ?",
                (guild_id, last, batch),
            )
            if not rows:
                return
            last = str(rows[-1]["chunk_id"])
            yield [chunk_from(row) for row in rows]
