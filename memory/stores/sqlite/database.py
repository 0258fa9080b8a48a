"""The SQLite file every SQLite store shares: one connection, write transactions, migrations and metadata."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from memory.errors import MemoryStoreError
from memory.stores.sqlite.migrations import MIGRATIONS, SCHEMA_VERSION, split_sql

IN_LIST_SIZE = 500  # ids bound per `IN (...)`: well below SQLite's limit on host parameters


def in_lists(ids: Sequence[object]) -> Iterator[tuple[str, list[object]]]:
    """The ids in slices small enough to bind, each with its `?,?,…` placeholders for an `IN (...)` list."""
    items = list(ids)
    for start in range(0, len(items), IN_LIST_SIZE):
        batch = items[start : start + IN_LIST_SIZE]
        yield ",".join("?" * len(batch)), batch


class SQLiteDatabase:
    """SQLite in WAL mode with `secure_delete` on, so erased text is overwritten, not left in free pages.

    One connection guarded by a lock: the stores built on it may be used from worker threads
    (`asyncio.to_thread`), and a transaction of one store never interleaves with another's.
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
        try:
            self._migrate()
        except MemoryStoreError:
            self._db.close()
            raise

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

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """The rows of one read."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def query_in(self, sql: str, ids: Sequence[object], *, before: Sequence[object] = ()) -> list[sqlite3.Row]:
        """The rows of a read whose `{ids}` is an `IN` list of `ids`, bound after the `before` parameters."""
        rows: list[sqlite3.Row] = []
        for marks, batch in in_lists(ids):
            rows.extend(self.query(sql.format(ids=marks), (*before, *batch)))
        return rows

    def _migrate(self) -> None:
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            current = int(row[0]) if row else 0
            if current > SCHEMA_VERSION:  # an older memorybot would misread what a newer one wrote
                msg = (
                    f"{self.path} was written by a newer memorybot (schema {current}; this one reads up to "
                    f"{SCHEMA_VERSION}): upgrade memorybot, or restore the backup made before the upgrade"
                )
                raise MemoryStoreError(msg)
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in split_sql(MIGRATIONS[version]):
                    db.execute(statement)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(version),))

    def get_meta(self, key: str) -> str | None:
        """A metadata value (the embedding model, the last ingest), or None."""
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def flush_erased(self) -> None:
        """Make deletions reach the disk: move the WAL into the main file (where `secure_delete` zeroes the
        freed pages) and truncate it. Call it after the keyword index dropped the erased terms."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
