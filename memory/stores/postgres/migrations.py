"""The PostgreSQL schema, numbered as the SQLite one (`memory.stores.sqlite.migrations`); applied under a lock."""

from __future__ import annotations

# Version 13 is the SQLite schema 13 as one script (PostgreSQL stores start there); a later SQLite migration gets
# its PostgreSQL twin under the same number, so that `schema_version` means the same in both.
# Text columns are COLLATE "C": ids, ISO times and sort keys compare byte by byte, as in SQLite, whatever the
# database's locale; and lower() then folds ASCII letters only, as SQLite's does (`memory.mentions.sqlite_lower`).
# The keyword index is a generated tsvector column with a GIN index: file names weigh B, text A (see keywords.py);
# ASCII punctuation is read as a space first, so that "example.com" or "v1.2" are words apart as in SQLite's FTS5
# (PostgreSQL's parser would keep them whole as a host or a version). seq stands in for SQLite's rowid: insertion
# order, for ties, and its maximum for the index's size.
MIGRATIONS: dict[int, str] = {
    13: """
    CREATE TABLE messages (
        guild_id TEXT COLLATE "C" NOT NULL, message_id TEXT COLLATE "C" NOT NULL, channel_id TEXT COLLATE "C" NOT NULL,
        parent_channel_id TEXT COLLATE "C", author_id TEXT COLLATE "C" NOT NULL, author_name TEXT COLLATE "C" NOT NULL,
        content TEXT NOT NULL, created_at TEXT COLLATE "C" NOT NULL, edited_at TEXT COLLATE "C", jump_url TEXT,
        reply_to TEXT COLLATE "C", attachments TEXT NOT NULL, sort_key TEXT COLLATE "C" NOT NULL,
        content_hash TEXT NOT NULL, PRIMARY KEY (guild_id, message_id)
    );
    CREATE INDEX messages_by_channel ON messages (guild_id, channel_id, sort_key);
    CREATE INDEX messages_by_author ON messages (author_id);
    CREATE INDEX messages_by_time ON messages (guild_id, created_at);
    CREATE INDEX messages_by_author_name ON messages (guild_id, lower(author_name));
    CREATE TABLE files (
        record_id TEXT COLLATE "C" PRIMARY KEY, guild_id TEXT COLLATE "C" NOT NULL,
        channel_id TEXT COLLATE "C" NOT NULL, source TEXT NOT NULL, filename TEXT NOT NULL, content_type TEXT,
        size BIGINT NOT NULL,
        message_id TEXT COLLATE "C", author_id TEXT COLLATE "C", created_at TEXT COLLATE "C", jump_url TEXT,
        content_hash TEXT NOT NULL
    );
    CREATE INDEX files_by_channel ON files (guild_id, channel_id);
    CREATE INDEX files_by_message ON files (guild_id, message_id);
    CREATE INDEX files_by_author ON files (author_id);
    CREATE TABLE chunks (
        chunk_id TEXT COLLATE "C" PRIMARY KEY, kind TEXT NOT NULL, guild_id TEXT COLLATE "C" NOT NULL,
        channel_id TEXT COLLATE "C" NOT NULL, record_id TEXT COLLATE "C" NOT NULL, position INTEGER NOT NULL,
        start_key TEXT COLLATE "C" NOT NULL, text TEXT NOT NULL, tokens INTEGER NOT NULL, message_ids TEXT NOT NULL,
        author_ids TEXT NOT NULL, created_at TEXT COLLATE "C", jump_url TEXT, filename TEXT,
        embedded INTEGER NOT NULL DEFAULT 0, page INTEGER, section TEXT,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        terms tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', regexp_replace(text, '[[:punct:]]+', ' ', 'g')), 'A')
            || setweight(to_tsvector('simple', regexp_replace(coalesce(filename, ''), '[[:punct:]]+', ' ', 'g')), 'B')
        ) STORED
    );
    CREATE INDEX chunks_by_record ON chunks (guild_id, record_id, start_key);
    CREATE INDEX chunks_by_channel ON chunks (guild_id, channel_id);
    CREATE INDEX chunks_pending ON chunks (guild_id) WHERE embedded = 0;
    CREATE INDEX chunks_by_time ON chunks (guild_id, created_at);
    CREATE INDEX chunks_terms ON chunks USING gin (terms);
    CREATE INDEX chunks_by_seq ON chunks (seq);
    CREATE TABLE chunk_messages (
        guild_id TEXT COLLATE "C" NOT NULL, message_id TEXT COLLATE "C" NOT NULL,
        chunk_id TEXT COLLATE "C" NOT NULL REFERENCES chunks ON DELETE CASCADE,
        PRIMARY KEY (guild_id, message_id, chunk_id)
    );
    CREATE INDEX chunk_messages_by_chunk ON chunk_messages (chunk_id);
    CREATE TABLE stale_windows (
        guild_id TEXT COLLATE "C" NOT NULL, channel_id TEXT COLLATE "C" NOT NULL, start_key TEXT COLLATE "C" NOT NULL,
        PRIMARY KEY (guild_id, channel_id)
    );
    CREATE TABLE opt_outs (user_id TEXT COLLATE "C" PRIMARY KEY, since TEXT NOT NULL);
    CREATE TABLE channel_policies (
        guild_id TEXT COLLATE "C", channel_id TEXT COLLATE "C", remembered INTEGER NOT NULL,
        PRIMARY KEY (guild_id, channel_id)
    );
    CREATE TABLE guild_settings (
        guild_id TEXT COLLATE "C", key TEXT COLLATE "C", value TEXT NOT NULL, PRIMARY KEY (guild_id, key)
    );
    CREATE TABLE backfill_cursors (
        guild_id TEXT COLLATE "C", channel_id TEXT COLLATE "C", oldest_id TEXT, newest_id TEXT,
        messages INTEGER NOT NULL DEFAULT 0, files INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
        started_at TEXT, updated_at TEXT, max_messages INTEGER, PRIMARY KEY (guild_id, channel_id)
    );
    CREATE TABLE erased_messages (
        guild_id TEXT COLLATE "C", message_id TEXT COLLATE "C", PRIMARY KEY (guild_id, message_id)
    );
    CREATE TABLE asked_questions (
        question_id TEXT COLLATE "C" PRIMARY KEY, guild_id TEXT COLLATE "C" NOT NULL, channel_id TEXT COLLATE "C",
        user_id TEXT COLLATE "C" NOT NULL, question TEXT NOT NULL, asked_at TEXT COLLATE "C" NOT NULL,
        sources TEXT NOT NULL
    );
    CREATE INDEX asked_questions_by_guild ON asked_questions (guild_id, asked_at);
    CREATE INDEX asked_questions_by_user ON asked_questions (user_id);
    CREATE TABLE question_verdicts (
        question_id TEXT COLLATE "C" NOT NULL, user_id TEXT COLLATE "C" NOT NULL, verdict TEXT NOT NULL,
        at TEXT NOT NULL, PRIMARY KEY (question_id, user_id)
    );
    CREATE INDEX question_verdicts_by_user ON question_verdicts (user_id);
    CREATE TABLE place_names (
        guild_id TEXT COLLATE "C" NOT NULL, channel_id TEXT COLLATE "C" NOT NULL, name TEXT NOT NULL,
        updated_at TEXT NOT NULL, PRIMARY KEY (guild_id, channel_id)
    );
    CREATE TABLE channel_marks (
        guild_id TEXT COLLATE "C" NOT NULL, channel_id TEXT COLLATE "C" NOT NULL, newest_id BIGINT NOT NULL,
        session TEXT COLLATE "C" NOT NULL DEFAULT '', missed_before BIGINT, PRIMARY KEY (guild_id, channel_id)
    );
    """,
}
FIRST_VERSION = min(MIGRATIONS)
SCHEMA_VERSION = max(MIGRATIONS)
MIGRATION_LOCK = 0x6D656D6F  # the pg_advisory_xact_lock key every process takes to migrate ("memo")
