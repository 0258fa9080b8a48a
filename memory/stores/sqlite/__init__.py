"""The default record side of memory: every store on one SQLite file in the data directory."""

from __future__ import annotations

from pathlib import Path

from memory.stores.interfaces import RecordStores
from memory.stores.sqlite.chunks import SQLiteChunkStore
from memory.stores.sqlite.database import SQLiteDatabase
from memory.stores.sqlite.keywords import SQLiteKeywordIndex
from memory.stores.sqlite.marks import SQLiteChannelMarks
from memory.stores.sqlite.names import SQLiteNames
from memory.stores.sqlite.questions import SQLiteQuestionLog
from memory.stores.sqlite.records import SQLiteRecordStore
from memory.stores.sqlite.state import (
    SQLiteBackfillCursors,
    SQLiteChannelPolicies,
    SQLiteGuildSettingValues,
    SQLiteOptOuts,
)

DB_NAME = "memory.sqlite3"  # in the data directory


def open_sqlite_stores(path: Path) -> RecordStores:
    """Open (creating and migrating as needed) the SQLite file at `path` and the stores on it."""
    database = SQLiteDatabase(path)
    return RecordStores(
        database=database,
        records=SQLiteRecordStore(database),
        chunks=SQLiteChunkStore(database),
        keywords=SQLiteKeywordIndex(database),
        opt_outs=SQLiteOptOuts(database),
        channel_policies=SQLiteChannelPolicies(database),
        guild_settings=SQLiteGuildSettingValues(database),
        backfills=SQLiteBackfillCursors(database),
        questions=SQLiteQuestionLog(database),
        names=SQLiteNames(database),
        marks=SQLiteChannelMarks(database),
    )
