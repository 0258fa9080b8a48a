"""The SQLite record store, the source of truth: messages, files, chunks, the FTS5 keyword index, metadata."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from memory.types import ChatMessage, Chunk

_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "about",
        "can",
        "could",
        "would",
        "should",
        "into",
        "than",
    ]
)

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE messages (
        guild_id TEXT NOT NULL, message_id TEXT NOT NULL, channel_id TEXT NOT NULL, parent_channel_id TEXT,
        author_id TEXT NOT NULL, author_name TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL,
        edited_at TEXT, jump_url TEXT, reply_to TEXT, attachments TEXT NOT NULL, sort_key TEXT NOT NULL,
        content_hash TEXT NOT NULL, PRIMARY KEY (guild_id, message_id)
    );
    CREATE INDEX messages_by_channel ON messages (guild_id, channel_id, sort_key);
    CREATE INDEX messages_by_author ON messages (author_id);
    CREATE TABLE files (
        record_id TEXT PRIMARY KEY, guild_id TEXT NOT NULL, channel_id TEXT NOT NULL, source TEXT NOT NULL,
        filename TEXT NOT NULL, content_type TEXT, size INTEGER NOT NULL, message_id TEXT, author_id TEXT,
        created_at TEXT, jump_url TEXT, content_hash TEXT NOT NULL
    );
    CREATE INDEX files_by_channel ON files (guild_id, channel_id);
    CREATE INDEX files_by_message ON files (guild_id, message_id);
    CREATE INDEX files_by_author ON files (author_id);
    CREATE TABLE chunks (
        chunk_id TEXT PRIMARY KEY, kind TEXT NOT NULL, guild_id TEXT NOT NULL, channel_id TEXT NOT NULL,
        record_id TEXT NOT NULL, position INTEGER NOT NULL, start_key TEXT NOT NULL, text TEXT NOT NULL,
        tokens INTEGER NOT NULL, message_ids TEXT NOT NULL, author_ids TEXT NOT NULL, created_at TEXT,
        jump_url TEXT, filename TEXT, embedded INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX chunks_by_record ON chunks (guild_id, record_id, start_key);
    CREATE INDEX chunks_by_channel ON chunks (guild_id, channel_id);
    CREATE INDEX chunks_pending ON chunks (guild_id) WHERE embedded = 0;
    CREATE TABLE chunk_messages (
        guild_id TEXT NOT NULL, message_id TEXT NOT NULL, chunk_id TEXT NOT NULL,
        PRIMARY KEY (guild_id, message_id, chunk_id)
    ) WITHOUT ROWID;
    CREATE INDEX chunk_messages_by_chunk ON chunk_messages (chunk_id);
    -- Channels whose conversation windows must be rebuilt from start_key on; written in the same
    -- transaction as the message change, cleared in the same transaction as the new windows.
    CREATE TABLE stale_windows (
        guild_id TEXT NOT NULL, channel_id TEXT NOT NULL, start_key TEXT NOT NULL, PRIMARY KEY (guild_id, channel_id)
    );
    -- guild_id is indexed too, so that a query can be confined to one guild inside FTS5 itself.
    CREATE VIRTUAL TABLE chunks_fts USING fts5 (
        text, filename, guild_id, content='chunks', content_rowid='rowid',
        tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER chunks_fts_insert AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts (rowid, text, filename, guild_id)
        VALUES (new.rowid, new.text, coalesce(new.filename, ''), new.guild_id);
    END;
    CREATE TRIGGER chunks_fts_delete AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts (chunks_fts, rowid, text, filename, guild_id)
        VALUES ('delete', old.rowid, old.text, coalesce(old.filename, ''), old.guild_id);
        DELETE FROM chunk_messages WHERE chunk_id = old.chunk_id;
    END;
    """,
    # Members who asked not to be remembered; a user id, not per guild, as opting out covers every guild.
    2: """
    CREATE TABLE opt_outs (user_id TEXT PRIMARY KEY, since TEXT NOT NULL);
    """,
    # Per-guild channel policies set by admins from Discord; a row overrides config.yaml for that channel
    # or category, and no row means the config default applies.
    3: """
    CREATE TABLE channel_policies (
        guild_id TEXT, channel_id TEXT, remembered INTEGER NOT NULL, PRIMARY KEY (guild_id, channel_id)
    );
    """,
    # Per-guild settings set by admins (`/memory settings`); a missing key means config.yaml's default applies.
    4: """
    CREATE TABLE guild_settings (guild_id TEXT, key TEXT, value TEXT NOT NULL, PRIMARY KEY (guild_id, key));
    """,
    # Where each `/memory backfill` of a channel got to, so a restart resumes after newest_id instead of starting
    # over; max_messages keeps an admin's `limit` across that restart (NULL: the whole history).
    5: """
    CREATE TABLE backfill_cursors (
        guild_id TEXT, channel_id TEXT, oldest_id TEXT, newest_id TEXT, messages INTEGER NOT NULL DEFAULT 0,
        files INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, started_at TEXT, updated_at TEXT,
        max_messages INTEGER, PRIMARY KEY (guild_id, channel_id)
    );
    """,
    # Ids (never text) of messages deleted in Discord or forgotten on request: a backfill, a reconciliation or a
    # late edit must not bring them back. Expiry and erasing a whole guild leave no marks.
    6: """
    CREATE TABLE erased_messages (guild_id TEXT, message_id TEXT, PRIMARY KEY (guild_id, message_id)) WITHOUT ROWID;
    """,
}
SCHEMA_VERSION = max(_MIGRATIONS)  # each migration adds its own numbered entry


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A remembered file's row (its text lives in its chunks)."""

    record_id: str
    guild_id: str
    channel_id: str
    source: str
    filename: str
    content_type: str | None
    size: int
    message_id: str | None
    author_id: str | None
    created_at: str | None
    jump_url: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class BackfillCursor:
    """How far a channel's history backfill got: everything up to `newest_id` is stored."""

    guild_id: str
    channel_id: str
    oldest_id: str | None = None
    newest_id: str | None = None  # resume after this id (before the first batch: the `since` point, if any)
    messages: int = 0
    files: int = 0
    done: bool = False
    started_at: str | None = None
    updated_at: str | None = None
    max_messages: int | None = None


class RecordStore:
    """SQLite in WAL mode with `secure_delete` on, so erased text is overwritten, not left in free pages.

    One connection guarded by a lock: callers may use it from worker threads (`asyncio.to_thread`).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    # --- plumbing -------------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (committed on success, rolled back on error)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _migrate(self) -> None:
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            current = int(row[0]) if row else 0
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _split_sql(_MIGRATIONS[version]):
                    db.execute(statement)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(version),))

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

    def get_meta(self, key: str) -> str | None:
        """A metadata value, or None."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- chat messages --------------------------------------------------------------------------------

    def save_messages(
        self, messages: Iterable[tuple[ChatMessage, str, str]], anchors: dict[tuple[str, str], str]
    ) -> list[ChatMessage]:
        """Insert or update messages given as (message, sort key, content hash) and mark their channels'
        windows stale from the given anchors, in one transaction; return the messages that changed.

        Erased messages (see `erased`) are the caller's to leave out; a version older than the stored one is
        skipped here."""
        changed: list[ChatMessage] = []
        with self.transaction() as db:
            for message, key, digest in messages:
                row = db.execute(
                    "SELECT content_hash, edited_at FROM messages WHERE guild_id = ? AND message_id = ?",
                    (message.guild_id, message.message_id),
                ).fetchone()
                if row is not None and (row[0] == digest or _older_edit(message.edited_at, row[1])):
                    continue  # unchanged, or an older version arriving late (a history page read before an edit)
                db.execute(
                    "INSERT OR REPLACE INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        message.guild_id, message.message_id, message.channel_id, message.parent_channel_id,
                        message.author_id, message.author_name, message.content, message.created_at,
                        message.edited_at, message.jump_url, message.reply_to,
                        json.dumps(list(message.attachment_names)), key, digest,
                    ),
                )  # fmt: skip
                changed.append(message)
            for (guild_id, channel_id), key in anchors.items():
                if any(m.guild_id == guild_id and m.channel_id == channel_id for m in changed):
                    _mark_stale(db, guild_id, channel_id, key)
        return changed

    def messages(self, guild_id: str, message_ids: Sequence[str]) -> list[ChatMessage]:
        """Messages by id (missing ids are left out)."""
        out: list[ChatMessage] = []
        for batch in _batches(message_ids, 500):
            marks = ",".join("?" * len(batch))
            rows = self._query(
                f"SELECT * FROM messages WHERE guild_id = ? AND message_id IN ({marks})", (guild_id, *batch)
            )
            out.extend(_message(row) for row in rows)
        return out

    def channel_messages_from(self, guild_id: str, channel_id: str, start_key: str) -> list[ChatMessage]:
        """A channel's messages from `start_key` on, in order."""
        rows = self._query(
            "SELECT * FROM messages WHERE guild_id = ? AND channel_id = ? AND sort_key >= ? ORDER BY sort_key",
            (guild_id, channel_id, start_key),
        )
        return [_message(row) for row in rows]

    def delete_messages(
        self,
        guild_id: str,
        message_ids: Sequence[str],
        anchors: dict[tuple[str, str], str],
        *,
        keep_out: bool = True,
    ) -> int:
        """Delete messages and mark their channels' windows stale from the anchors, in one transaction; with
        `keep_out`, every given id (held or not) is marked erased so that it is never stored again. Return how
        many were held."""
        deleted = 0
        with self.transaction() as db:
            for (anchor_guild, channel_id), key in anchors.items():
                _mark_stale(db, anchor_guild, channel_id, key)
            if keep_out:
                db.executemany(
                    "INSERT OR IGNORE INTO erased_messages VALUES (?, ?)", [(guild_id, i) for i in message_ids]
                )
            for batch in _batches(message_ids, 500):
                marks = ",".join("?" * len(batch))
                sql = f"DELETE FROM messages WHERE guild_id = ? AND message_id IN ({marks})"
                deleted += db.execute(sql, (guild_id, *batch)).rowcount
        return deleted

    def message_ids_where(
        self, guild_id: str, *, channel_id: str | None = None, author_id: str | None = None
    ) -> list[str]:
        """Ids of a guild's messages, narrowed by channel and/or author."""
        sql, params = "SELECT message_id FROM messages WHERE guild_id = ?", [guild_id]
        if channel_id is not None:
            sql, params = sql + " AND (channel_id = ? OR parent_channel_id = ?)", [*params, channel_id, channel_id]
        if author_id is not None:
            sql, params = sql + " AND author_id = ?", [*params, author_id]
        return [str(row[0]) for row in self._query(sql, params)]

    def erased(self, guild_id: str, message_ids: Iterable[str]) -> set[str]:
        """Of these message ids, those deleted or forgotten before (never to be stored again)."""
        found: set[str] = set()
        for batch in _batches(list(message_ids), 500):
            marks = ",".join("?" * len(batch))
            rows = self._query(
                f"SELECT message_id FROM erased_messages WHERE guild_id = ? AND message_id IN ({marks})",
                (guild_id, *batch),
            )
            found.update(str(row[0]) for row in rows)
        return found

    def channel_message_ids(self, guild_id: str, channel_id: str, since: str = "") -> list[str]:
        """Ids of the messages held for exactly this channel (a thread is its own channel) created at or after
        `since` (an ISO time; '' for all), oldest first."""
        rows = self._query(
            "SELECT message_id FROM messages WHERE guild_id = ? AND channel_id = ? AND sort_key >= ? ORDER BY sort_key",
            (guild_id, channel_id, since),
        )
        return [str(row[0]) for row in rows]

    def message_channels(self, guild_id: str) -> dict[str, str | None]:
        """The channels holding chat messages of a guild: channel id -> parent channel id (threads) or None."""
        rows = self._query(
            "SELECT DISTINCT channel_id, parent_channel_id FROM messages WHERE guild_id = ?", (guild_id,)
        )
        return {str(row[0]): row[1] for row in rows}

    def chat_anchor(self, guild_id: str, channel_id: str, first_key: str, message_ids: Sequence[str]) -> str:
        """Where re-windowing must start after the given messages changed: the earliest window that holds
        one of them, or the last window starting at or before `first_key`; '' means the channel's start."""
        record = f"chat:{channel_id}"
        candidates: list[str] = []
        for batch in _batches(message_ids, 500):
            marks = ",".join("?" * len(batch))
            rows = self._query(
                f"""SELECT min(c.start_key) FROM chunk_messages m JOIN chunks c ON c.chunk_id = m.chunk_id
                    WHERE m.guild_id = ? AND m.message_id IN ({marks}) AND c.record_id = ?""",
                (guild_id, *batch, record),
            )
            if rows and rows[0][0] is not None:
                candidates.append(str(rows[0][0]))
        rows = self._query(
            "SELECT max(start_key) FROM chunks WHERE guild_id = ? AND record_id = ? AND start_key <= ?",
            (guild_id, record, first_key),
        )
        if rows and rows[0][0] is not None:
            candidates.append(str(rows[0][0]))
        return min(candidates) if candidates else ""

    # --- chunks ---------------------------------------------------------------------------------------

    def chunk_ids_from(self, guild_id: str, record_id: str, start_key: str = "") -> set[str]:
        """Ids of a record's chunks from `start_key` on."""
        rows = self._query(
            "SELECT chunk_id FROM chunks WHERE guild_id = ? AND record_id = ? AND start_key >= ?",
            (guild_id, record_id, start_key),
        )
        return {str(row[0]) for row in rows}

    def stale_windows(self) -> list[tuple[str, str, str]]:
        """(guild, channel, start key) of every channel whose windows must be rebuilt."""
        return [(str(r[0]), str(r[1]), str(r[2])) for r in self._query("SELECT * FROM stale_windows")]

    def replace_chunks(
        self, guild_id: str, stale: set[str], fresh: Sequence[Chunk], *, rebuilt_channel: str | None = None
    ) -> tuple[list[Chunk], list[str]]:
        """Delete the `stale` chunk ids that are not in `fresh`, insert the `fresh` chunks that are new;
        with `rebuilt_channel`, also clear that channel's stale-windows mark in the same transaction.

        Returns:
            (added chunks, removed chunk ids).
        """
        fresh_ids = {c.chunk_id for c in fresh}
        removed = sorted(stale - fresh_ids)
        added: list[Chunk] = []
        with self.transaction() as db:
            for batch in _batches(removed, 500):
                db.execute(f"DELETE FROM chunks WHERE chunk_id IN ({','.join('?' * len(batch))})", batch)
            for chunk in fresh:
                if chunk.chunk_id in stale:
                    continue
                cursor = db.execute(
                    "INSERT OR IGNORE INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)",
                    (
                        chunk.chunk_id, chunk.kind, chunk.guild_id, chunk.channel_id, chunk.record_id,
                        chunk.position, chunk.start_key, chunk.text, chunk.tokens,
                        json.dumps(list(chunk.message_ids)), json.dumps(list(chunk.author_ids)),
                        chunk.created_at, chunk.jump_url, chunk.filename,
                    ),
                )  # fmt: skip
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
        out: dict[str, Chunk] = {}
        for batch in _batches(chunk_ids, 500):
            rows = self._query(f"SELECT * FROM chunks WHERE chunk_id IN ({','.join('?' * len(batch))})", batch)
            out.update((str(row["chunk_id"]), _chunk(row)) for row in rows)
        return out

    def pending_chunks(self, guild_id: str | None = None, limit: int = 1000) -> list[Chunk]:
        """Chunks stored but not yet in the vector index (left by a crash, or by `reindex`)."""
        if guild_id is None:
            rows = self._query("SELECT * FROM chunks WHERE embedded = 0 LIMIT ?", (limit,))
        else:
            rows = self._query("SELECT * FROM chunks WHERE embedded = 0 AND guild_id = ? LIMIT ?", (guild_id, limit))
        return [_chunk(row) for row in rows]

    def mark_embedded(self, chunk_ids: Sequence[str], embedded: bool = True) -> None:
        """Record that these chunks' vectors are (or are no longer) in the index."""
        with self.transaction() as db:
            for batch in _batches(chunk_ids, 500):
                db.execute(
                    f"UPDATE chunks SET embedded = ? WHERE chunk_id IN ({','.join('?' * len(batch))})",
                    (int(embedded), *batch),
                )

    def mark_guild_unembedded(self, guild_id: str) -> None:
        """Flag every chunk of a guild for re-embedding (used by `reindex`)."""
        with self.transaction() as db:
            db.execute("UPDATE chunks SET embedded = 0 WHERE guild_id = ?", (guild_id,))

    def neighbours(self, chunk: Chunk, count: int) -> list[Chunk]:
        """Up to `count` windows before and after a chat window in the same channel."""
        before = self._query(
            """SELECT * FROM chunks WHERE guild_id = ? AND record_id = ? AND start_key < ?
               ORDER BY start_key DESC LIMIT ?""",
            (chunk.guild_id, chunk.record_id, chunk.start_key, count),
        )
        after = self._query(
            "SELECT * FROM chunks WHERE guild_id = ? AND record_id = ? AND start_key > ? ORDER BY start_key LIMIT ?",
            (chunk.guild_id, chunk.record_id, chunk.start_key, count),
        )
        return [_chunk(row) for row in [*reversed(before), *after]]

    def keyword_search(
        self, guild_id: str, query: str, *, channels: Sequence[str] | None, limit: int
    ) -> list[tuple[str, float]]:
        """BM25 over the FTS5 index: (chunk id, bm25) best first, for chunks of this guild (and channels).

        Terms found in a large share of the guild's chunks are dropped first: they barely change the
        ranking, and scoring every chunk that holds them made a search at 100k chunks cost ~75 ms.
        """
        terms = [t for t in _words(query) if t not in _STOPWORDS] or _words(query)
        if not terms:
            return []
        scope = f'guild_id:"{_quote(guild_id)}"'
        terms = self._selective(scope, terms[:32])
        alternatives = " OR ".join(f'"{t}"' for t in terms)
        match = f"{scope} AND ({alternatives})"
        # Column weights: text 1, file name 0.5, guild id 0 (it is in every match).
        sql = """SELECT c.chunk_id, bm25(chunks_fts, 1.0, 0.5, 0.0) AS rank
                 FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid
                 WHERE chunks_fts MATCH ? AND c.guild_id = ?"""
        params: list[object] = [match, guild_id]
        if channels is not None:
            sql += f" AND c.channel_id IN ({','.join('?' * len(channels))})"
            params.extend(channels)
        sql += " ORDER BY rank LIMIT ?"
        params.append(limit)
        return [(str(row[0]), float(row[1])) for row in self._query(sql, params)]

    def _selective(self, scope: str, terms: list[str]) -> list[str]:
        """The terms that occur in at most ~5% of the index (counting stops early), or all if none does."""
        rows = self._query("SELECT max(rowid) FROM chunks")
        ceiling = max(200, int(rows[0][0] or 0) // 20)
        kept = []
        for term in terms:
            found = self._query(
                "SELECT count(*) FROM (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)",
                (f'{scope} AND "{term}"', ceiling + 1),
            )
            if int(found[0][0]) <= ceiling:
                kept.append(term)
        return kept or terms

    # --- files ----------------------------------------------------------------------------------------

    def file(self, record_id: str) -> FileRecord | None:
        """A file record, or None."""
        rows = self._query("SELECT * FROM files WHERE record_id = ?", (record_id,))
        return FileRecord(**dict(rows[0])) if rows else None

    def save_file(self, record: FileRecord) -> None:
        """Insert or replace a file record."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    record.record_id, record.guild_id, record.channel_id, record.source, record.filename,
                    record.content_type, record.size, record.message_id, record.author_id, record.created_at,
                    record.jump_url, record.content_hash,
                ),
            )  # fmt: skip

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
        return [str(row[0]) for row in self._query(sql, params)]

    def delete_files(self, guild_id: str, record_ids: Sequence[str]) -> list[str]:
        """Delete file records and their chunks; return the removed chunk ids."""
        removed: list[str] = []
        for record_id in record_ids:
            removed.extend(self.chunk_ids_from(guild_id, record_id))
        with self.transaction() as db:
            for batch in _batches(removed, 500):
                db.execute(f"DELETE FROM chunks WHERE chunk_id IN ({','.join('?' * len(batch))})", batch)
            for batch in _batches(record_ids, 500):
                db.execute(f"DELETE FROM files WHERE record_id IN ({','.join('?' * len(batch))})", batch)
        return removed

    # --- members' privacy -----------------------------------------------------------------------------

    def add_opt_out(self, user_id: str, since: str) -> None:
        """Record that a user is not to be remembered (an earlier opt-out keeps its date)."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO opt_outs VALUES (?, ?)", (user_id, since))

    def remove_opt_out(self, user_id: str) -> bool:
        """Forget a user's opt-out; return whether there was one."""
        with self.transaction() as db:
            return db.execute("DELETE FROM opt_outs WHERE user_id = ?", (user_id,)).rowcount > 0

    def opted_out(self, user_ids: Iterable[str]) -> set[str]:
        """Which of these users opted out."""
        found: set[str] = set()
        for batch in _batches(list(dict.fromkeys(user_ids)), 500):
            rows = self._query(f"SELECT user_id FROM opt_outs WHERE user_id IN ({','.join('?' * len(batch))})", batch)
            found.update(str(row[0]) for row in rows)
        return found

    def opt_out_since(self, user_id: str) -> str | None:
        """When a user opted out, or None if they did not."""
        rows = self._query("SELECT since FROM opt_outs WHERE user_id = ?", (user_id,))
        return str(rows[0][0]) if rows else None

    def author_guilds(self, user_id: str) -> list[str]:
        """Guilds that hold messages or files by this user."""
        rows = self._query(
            "SELECT guild_id FROM messages WHERE author_id = ? UNION SELECT guild_id FROM files WHERE author_id = ?",
            (user_id, user_id),
        )
        return sorted(str(row[0]) for row in rows)

    def author_summary(self, user_id: str) -> list[dict[str, object]]:
        """Per guild and channel: a user's message count, file names and first/last dates."""
        places: dict[tuple[str, str], dict[str, object]] = {}

        def place(guild_id: str, channel_id: str) -> dict[str, object]:
            blank: dict[str, object] = {"messages": 0, "files": [], "first": None, "last": None}
            return places.setdefault((guild_id, channel_id), {"guild_id": guild_id, "channel_id": channel_id} | blank)

        for row in self._query(
            """SELECT guild_id, channel_id, count(*), min(created_at), max(created_at) FROM messages
               WHERE author_id = ? GROUP BY 1, 2""",
            (user_id,),
        ):
            entry = place(str(row[0]), str(row[1]))
            entry |= {"messages": int(row[2]), "first": row[3], "last": row[4]}
        for row in self._query(
            "SELECT guild_id, channel_id, filename, created_at FROM files WHERE author_id = ? ORDER BY created_at",
            (user_id,),
        ):
            entry = place(str(row[0]), str(row[1]))
            files = entry["files"]
            assert isinstance(files, list)  # noqa: S101
            files.append(str(row[2]))
            when = row[3]
            if when is not None:
                first, last = entry["first"], entry["last"]
                entry["first"] = when if first is None or str(when) < str(first) else first
                entry["last"] = when if last is None or str(when) > str(last) else last
        return [places[key] for key in sorted(places)]

    # --- per-guild channel policies -------------------------------------------------------------------

    def set_channel_policy(self, guild_id: str, channel_id: str, remembered: bool) -> None:
        """Record whether a channel (or category) of a guild is remembered, replacing any earlier policy."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO channel_policies VALUES (?, ?, ?)", (guild_id, channel_id, int(remembered))
            )

    def clear_channel_policy(self, guild_id: str, channel_id: str) -> bool:
        """Drop a channel's policy (the config default applies again); return whether there was one."""
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM channel_policies WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
            )
            return cursor.rowcount > 0

    def channel_policies(self, guild_id: str) -> dict[str, bool]:
        """A guild's explicit channel policies: channel or category id -> remembered."""
        rows = self._query("SELECT channel_id, remembered FROM channel_policies WHERE guild_id = ?", (guild_id,))
        return {str(row[0]): bool(row[1]) for row in rows}

    def all_channel_policies(self) -> dict[str, dict[str, bool]]:
        """Every guild's explicit channel policies: guild id -> channel or category id -> remembered."""
        policies: dict[str, dict[str, bool]] = {}
        for row in self._query("SELECT guild_id, channel_id, remembered FROM channel_policies"):
            policies.setdefault(str(row[0]), {})[str(row[1])] = bool(row[2])
        return policies

    # --- history backfill cursors ----------------------------------------------------------------------

    def backfill_cursor(self, guild_id: str, channel_id: str) -> BackfillCursor | None:
        """A channel's backfill cursor, or None if it was never backfilled."""
        rows = self._query(
            "SELECT * FROM backfill_cursors WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
        )
        return _cursor(rows[0]) if rows else None

    def save_backfill_cursor(self, cursor: BackfillCursor) -> None:
        """Store a cursor (replacing the channel's earlier one)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO backfill_cursors VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cursor.guild_id, cursor.channel_id, cursor.oldest_id, cursor.newest_id, cursor.messages,
                    cursor.files, int(cursor.done), cursor.started_at, cursor.updated_at, cursor.max_messages,
                ),
            )  # fmt: skip

    def delete_backfill_cursor(self, guild_id: str, channel_id: str) -> None:
        """Forget where a channel's backfill got to (its memory was erased)."""
        with self.transaction() as db:
            db.execute("DELETE FROM backfill_cursors WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id))

    def backfill_cursors(self, guild_id: str | None = None) -> list[BackfillCursor]:
        """The cursors of a guild (of every guild if None), by channel."""
        where, params = ("WHERE guild_id = ?", (guild_id,)) if guild_id else ("", ())
        rows = self._query(f"SELECT * FROM backfill_cursors {where} ORDER BY guild_id, channel_id", params)
        return [_cursor(row) for row in rows]

    # --- whole guilds, stats, erasure -----------------------------------------------------------------

    def guild_settings(self, guild_id: str) -> dict[str, str]:
        """A guild's stored settings: key -> value (as text)."""
        rows = self._query("SELECT key, value FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return {str(r[0]): str(r[1]) for r in rows}

    def set_guild_setting(self, guild_id: str, key: str, value: str) -> None:
        """Store one setting of a guild."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO guild_settings VALUES (?, ?, ?)", (guild_id, key, value))

    def clear_guild_setting(self, guild_id: str, key: str) -> bool:
        """Remove one setting of a guild (the config default applies again); return whether it was set."""
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM guild_settings WHERE guild_id = ? AND key = ?", (guild_id, key))
            return cursor.rowcount > 0

    def records_before(self, guild_id: str, before: str) -> tuple[list[str], list[str]]:
        """Message ids and file record ids of a guild created before an ISO UTC time (files without a date
        are kept: their age is unknown). The first 19 characters are compared, so that offsets and
        fractions of a second do not upset the text comparison."""
        cutoff = before[:19]
        messages = self._query(
            "SELECT message_id FROM messages WHERE guild_id = ? AND substr(created_at, 1, 19) < ?", (guild_id, cutoff)
        )
        files = self._query(
            "SELECT record_id FROM files WHERE guild_id = ? AND created_at IS NOT NULL "
            "AND substr(created_at, 1, 19) < ?",
            (guild_id, cutoff),
        )
        return [str(r[0]) for r in messages], [str(r[0]) for r in files]

    def guilds(self) -> list[str]:
        """Guild ids that hold anything."""
        rows = self._query(
            "SELECT guild_id FROM chunks UNION SELECT guild_id FROM messages UNION SELECT guild_id FROM files"
        )
        return sorted(str(row[0]) for row in rows)

    def channels(self, guild_id: str) -> list[str]:
        """Channel ids of a guild that hold chunks."""
        rows = self._query("SELECT DISTINCT channel_id FROM chunks WHERE guild_id = ?", (guild_id,))
        return sorted(str(row[0]) for row in rows)

    def embedded_counts(self) -> dict[str, int]:
        """How many chunks of each guild have their vector written."""
        rows = self._query("SELECT guild_id, count(*) FROM chunks WHERE embedded = 1 GROUP BY guild_id")
        return {str(row[0]): int(row[1]) for row in rows}

    def guild_chunk_ids(self, guild_id: str) -> list[str]:
        """Every chunk id of a guild."""
        return [str(row[0]) for row in self._query("SELECT chunk_id FROM chunks WHERE guild_id = ?", (guild_id,))]

    def iter_guild_chunks(self, guild_id: str, batch: int = 512) -> Iterator[list[Chunk]]:
        """A guild's chunks in batches, in a stable order."""
        last = ""
        while True:
            rows = self._query(
                "SELECT * FROM chunks WHERE guild_id = ? AND chunk_id > ? ORDER BY chunk_id LIMIT ?",
                (guild_id, last, batch),
            )
            if not rows:
                return
            last = str(rows[-1]["chunk_id"])
            yield [_chunk(row) for row in rows]

    def delete_guild(self, guild_id: str) -> int:
        """Delete everything of a guild; return how many chunks went."""
        with self.transaction() as db:
            count = int(db.execute("SELECT count(*) FROM chunks WHERE guild_id = ?", (guild_id,)).fetchone()[0])
            db.execute("DELETE FROM chunks WHERE guild_id = ?", (guild_id,))
            db.execute("DELETE FROM messages WHERE guild_id = ?", (guild_id,))
            db.execute("DELETE FROM files WHERE guild_id = ?", (guild_id,))
            db.execute("DELETE FROM stale_windows WHERE guild_id = ?", (guild_id,))
            db.execute("DELETE FROM backfill_cursors WHERE guild_id = ?", (guild_id,))
            db.execute("DELETE FROM erased_messages WHERE guild_id = ?", (guild_id,))
        return count

    def purge_erased(self) -> None:
        """Make erasure reach the disk: rebuild the FTS segments without deleted terms, then move the
        WAL into the main file (freed pages are zeroed by `secure_delete`) and truncate the WAL."""
        with self._lock:
            self._db.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('optimize')")
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def stats(self, guild_id: str | None = None) -> dict[str, object]:
        """Counts of messages, files, chunks and tokens, per guild and per channel."""
        where, params = ("WHERE guild_id = ?", (guild_id,)) if guild_id else ("", ())
        guilds: dict[str, dict[str, object]] = {}
        for row in self._query(
            f"""SELECT guild_id, channel_id, count(*) AS chunks, sum(tokens) AS tokens,
                       sum(kind = 'chat') AS chat_chunks, sum(kind = 'file') AS file_chunks,
                       sum(embedded = 0) AS pending
                FROM chunks {where} GROUP BY guild_id, channel_id""",
            params,
        ):
            guild = guilds.setdefault(str(row["guild_id"]), {"channels": {}})
            channels = guild["channels"]
            assert isinstance(channels, dict)  # noqa: S101
            channels[str(row["channel_id"])] = {
                "chunks": row["chunks"], "tokens": row["tokens"] or 0, "chat_chunks": row["chat_chunks"],
                "file_chunks": row["file_chunks"], "pending": row["pending"],
            }  # fmt: skip
        for table, key in (("messages", "messages"), ("files", "files")):
            for row in self._query(f"SELECT guild_id, channel_id, count(*) FROM {table} {where} GROUP BY 1, 2", params):
                guild = guilds.setdefault(str(row[0]), {"channels": {}})
                channels = guild["channels"]
                assert isinstance(channels, dict)  # noqa: S101
                channels.setdefault(str(row[1]), {})[key] = row[2]
        for guild in guilds.values():
            channels = guild["channels"]
            assert isinstance(channels, dict)  # noqa: S101
            for key in ("messages", "files", "chunks", "tokens"):
                guild[key] = sum(int(c.get(key, 0)) for c in channels.values())
        return {"guilds": guilds}


def _mark_stale(db: sqlite3.Connection, guild_id: str, channel_id: str, key: str) -> None:
    db.execute(
        """INSERT INTO stale_windows VALUES (?, ?, ?) ON CONFLICT (guild_id, channel_id)
           DO UPDATE SET start_key = min(start_key, excluded.start_key)""",
        (guild_id, channel_id, key),
    )


def _older_edit(incoming: str | None, stored: str | None) -> bool:
    """Whether an incoming version of a message predates the stored one (ISO times; None: never edited)."""
    return stored is not None and (incoming is None or incoming < stored)


def _split_sql(script: str) -> list[str]:
    """Statements of a migration script (trigger bodies keep their inner semicolons)."""
    statements, current = [], ""
    for line in script.splitlines():
        current += line + "\n"
        stripped = line.strip()
        if stripped.endswith(";") and (not current.lstrip().upper().startswith("CREATE TRIGGER") or stripped == "END;"):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]


def _batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _quote(value: str) -> str:
    """A value made safe inside an FTS5 string literal."""
    return value.replace('"', '""')


def _words(text: str) -> list[str]:
    import re

    return list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", text)))


def _message(row: sqlite3.Row) -> ChatMessage:
    return ChatMessage(
        guild_id=row["guild_id"], channel_id=row["channel_id"], message_id=row["message_id"],
        author_id=row["author_id"], author_name=row["author_name"], content=row["content"],
        created_at=row["created_at"], edited_at=row["edited_at"], jump_url=row["jump_url"],
        reply_to=row["reply_to"], attachment_names=tuple(json.loads(row["attachments"])),
        parent_channel_id=row["parent_channel_id"],
    )  # fmt: skip


def _chunk(row: sqlite3.Row) -> Chunk:
    return Chunk(
        chunk_id=row["chunk_id"], kind=row["kind"], guild_id=row["guild_id"], channel_id=row["channel_id"],
        record_id=row["record_id"], position=row["position"], start_key=row["start_key"], text=row["text"],
        tokens=row["tokens"], message_ids=tuple(json.loads(row["message_ids"])),
        author_ids=tuple(json.loads(row["author_ids"])), created_at=row["created_at"], jump_url=row["jump_url"],
        filename=row["filename"],
    )  # fmt: skip


def _cursor(row: sqlite3.Row) -> BackfillCursor:
    return BackfillCursor(
        guild_id=str(row["guild_id"]), channel_id=str(row["channel_id"]), oldest_id=row["oldest_id"],
        newest_id=row["newest_id"], messages=int(row["messages"]), files=int(row["files"]), done=bool(row["done"]),
        started_at=row["started_at"], updated_at=row["updated_at"], max_messages=row["max_messages"],
    )  # fmt: skip
