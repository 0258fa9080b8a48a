"""The PostgreSQL database every PostgreSQL store shares: a connection pool, transactions, migrations, metadata."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from psycopg.rows import RowMaker
from psycopg_pool import ConnectionPool, PoolTimeout

from memory.errors import ConfigError, MemoryStoreError
from memory.stores.postgres.migrations import FIRST_VERSION, MIGRATION_LOCK, MIGRATIONS, SCHEMA_VERSION

CONNECT_SECONDS = 10  # how long opening waits for the server before it says it cannot be reached


class Row(tuple[Any, ...]):
    """A result row read by position or by column name, as `sqlite3.Row` is (the shared row readers use both)."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # noqa: ANN401  (a column's value, of its column's type)
        return tuple.__getitem__(self, self.names[key] if isinstance(key, str) else key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self.names)


def _rows(cursor: psycopg.Cursor[Any]) -> RowMaker[Row]:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}
    kind: type[Row] = type("Row", (Row,), {"names": names, "__slots__": ()})  # one class per result: its names

    def make(values: Sequence[Any]) -> Row:
        return kind(values)

    return make


Cursor = psycopg.Cursor[Row]
_SET_META = "INSERT INTO meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value"


class PostgresDatabase:
    """A pool of connections to one PostgreSQL database. Each transaction runs on a connection of its own, so the
    stores may be used from worker threads and from several processes at once; the server serialises what must be.
    """

    def __init__(
        self, dsn: str, *, min_size: int = 1, max_size: int = 8, source: str = "the database", rewrite: bool = False
    ) -> None:
        self._source = source
        self._rewrite = rewrite
        try:  # once on its own first: the pool would retry a refused connection until its timeout, saying less
            psycopg.connect(dsn, connect_timeout=CONNECT_SECONDS).close()
        except psycopg.Error as e:
            reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
            msg = f"cannot connect to the PostgreSQL server named by {source}: {reason}"
            raise ConfigError(msg) from e
        self._touched: set[str] = set()
        self._pool = ConnectionPool(
            dsn, min_size=min_size, max_size=max_size, open=False, name="memorybot",
            kwargs={"autocommit": True, "row_factory": _rows},
        )  # fmt: skip
        try:
            self._pool.open(wait=True, timeout=CONNECT_SECONDS)
            self._migrate()
        except PoolTimeout as e:
            self._pool.close()
            msg = f"cannot reach the PostgreSQL server named by {source} within {CONNECT_SECONDS:g} s: is it running?"
            raise ConfigError(msg) from e
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A write transaction on a connection of its own (committed on success, rolled back on error)."""
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            yield cast(Cursor, cursor)

    def query(self, sql: str, params: Sequence[object] | dict[str, object] = ()) -> list[Row]:
        """The rows of one read."""
        with self._pool.connection() as conn, conn.cursor() as cursor:
            return cast(list[Row], cursor.execute(sql, params).fetchall())

    def erased_from(self, *tables: str) -> None:
        """Note that rows were deleted from these tables: `flush_erased` VACUUMs them."""
        self._touched.update(tables)

    def _migrate(self) -> None:
        with self.transaction() as db:
            # Two processes opening an empty database at once: the second waits here, then finds it migrated.
            db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            db.execute('CREATE TABLE IF NOT EXISTS meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL)')
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            current = int(row[0]) if row else 0
            if current > SCHEMA_VERSION:
                msg = (
                    f"{self._source} was written by a newer memorybot (schema {current}; this one reads up to "
                    f"{SCHEMA_VERSION}): upgrade memorybot, or restore the backup made before the upgrade"
                )
                raise MemoryStoreError(msg)
            for version in range(max(current + 1, FIRST_VERSION), SCHEMA_VERSION + 1):
                db.execute(MIGRATIONS[version])
                db.execute(_SET_META, ("schema_version", str(version)))

    def get_meta(self, key: str) -> str | None:
        """A metadata value (the embedding model, the last ingest), or None."""
        rows = self.query("SELECT value FROM meta WHERE key = %s", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value."""
        with self.transaction() as db:
            db.execute(_SET_META, (key, value))

    def flush_erased(self) -> None:
        """Make deletions reach the table files: VACUUM the tables rows were deleted from since the last flush.

        A plain VACUUM (the default) removes the dead rows and their index and tsvector entries and frees their
        space for reuse, without blocking readers or writers, but PostgreSQL does not zero freed space: bytes of a
        dead row may stay in its page until new rows overwrite them. With `rewrite` (storage.records.erase:
        rewrite) it is VACUUM FULL: each touched table is written anew without them and the old files are
        deleted, under an exclusive lock for the time of the copy. What the WAL, replicas and backups still hold
        is said in the README ("Running at scale")."""
        touched, self._touched = sorted(self._touched), set()
        if not touched:
            return
        with self._pool.connection() as conn:  # autocommit: VACUUM runs outside a transaction
            conn.execute(f"VACUUM ({'FULL' if self._rewrite else 'INDEX_CLEANUP ON'}) {', '.join(touched)}")

    def close(self) -> None:
        """Close every connection of the pool."""
        self._pool.close()
