"""The record side of memory on PostgreSQL: every store on one database, shared by as many processes as need it."""

from __future__ import annotations

from memory.stores.interfaces import RecordStores
from memory.stores.postgres.chunks import PostgresChunkStore
from memory.stores.postgres.database import PostgresDatabase
from memory.stores.postgres.keywords import PostgresKeywordIndex
from memory.stores.postgres.marks import PostgresChannelMarks
from memory.stores.postgres.names import PostgresNames
from memory.stores.postgres.questions import PostgresQuestionLog
from memory.stores.postgres.records import PostgresRecordStore
from memory.stores.postgres.state import (
    PostgresBackfillCursors,
    PostgresChannelPolicies,
    PostgresGuildSettingValues,
    PostgresOptOuts,
)


def open_postgres_stores(
    dsn: str, *, source: str = "the database", pool_size: int = 8, rewrite: bool = False
) -> RecordStores:
    """Connect to the PostgreSQL database `dsn` names (migrating it as needed) and open the stores on it.

    `rewrite`: erasure rewrites the touched tables (VACUUM FULL) rather than vacuuming them (see `flush_erased`).

    Raises:
        ConfigError: the server cannot be reached or refuses the connection (the message names `source`).
    """
    database = PostgresDatabase(dsn, max_size=pool_size, source=source, rewrite=rewrite)
    return RecordStores(
        database=database,
        records=PostgresRecordStore(database),
        chunks=PostgresChunkStore(database),
        keywords=PostgresKeywordIndex(database),
        opt_outs=PostgresOptOuts(database),
        channel_policies=PostgresChannelPolicies(database),
        guild_settings=PostgresGuildSettingValues(database),
        backfills=PostgresBackfillCursors(database),
        questions=PostgresQuestionLog(database),
        names=PostgresNames(database),
        marks=PostgresChannelMarks(database),
    )
