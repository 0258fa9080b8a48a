"""The SQLite schema, one numbered script per version; the database applies the ones a file lacks, in order."""

from __future__ import annotations

MIGRATIONS: dict[int, str] = {
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
    # One name per concept: the server settings `sources` and `context_tokens` are now `max_sources` and `budget`,
    # as in config.yaml, the command line and `/memory settings`.
    7: """
    UPDATE guild_settings SET key = 'max_sources' WHERE key = 'sources';
    UPDATE guild_settings SET key = 'budget' WHERE key = 'context_tokens';
    """,
    # Where in its file a piece is: the PDF page (1-based) or the section's heading trail; NULL for chat windows
    # and for pieces stored before (a file is split anew, with pages, the next time it is ingested).
    # And an index by time, for questions about a time range ("last week", "in March").
    8: """
    ALTER TABLE chunks ADD COLUMN page INTEGER;
    ALTER TABLE chunks ADD COLUMN section TEXT;
    CREATE INDEX chunks_by_time ON chunks (guild_id, created_at);
    CREATE INDEX messages_by_time ON messages (guild_id, created_at);
    """,
    # Questions asked of memory and the members' verdicts on their answers, to show admins where memory fails
    # (`/memory gaps`) and to build evaluation sets; kept a few weeks, erased with the member who asked or voted.
    9: """
    CREATE TABLE asked_questions (
        question_id TEXT PRIMARY KEY, guild_id TEXT NOT NULL, channel_id TEXT, user_id TEXT NOT NULL,
        question TEXT NOT NULL, asked_at TEXT NOT NULL, sources TEXT NOT NULL
    );
    CREATE INDEX asked_questions_by_guild ON asked_questions (guild_id, asked_at);
    CREATE INDEX asked_questions_by_user ON asked_questions (user_id);
    CREATE TABLE question_verdicts (
        question_id TEXT NOT NULL, user_id TEXT NOT NULL, verdict TEXT NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (question_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX question_verdicts_by_user ON question_verdicts (user_id);
    """,
    # Each message of a conversation window is now also a passage of its own: every channel is re-windowed once,
    # at the next catch-up; unchanged windows keep their ids (and vectors), only the new passages are embedded.
    10: """
    INSERT OR REPLACE INTO stale_windows SELECT guild_id, channel_id, '' FROM messages GROUP BY guild_id, channel_id;
    """,
    # The names of guilds and channels (channel_id '' is the guild's own), as chat exports and Discord last gave
    # them, so that sources read "#dev" rather than an id; erased with the guild or the channel.
    11: """
    CREATE TABLE place_names (
        guild_id TEXT NOT NULL, channel_id TEXT NOT NULL, name TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (guild_id, channel_id)
    ) WITHOUT ROWID;
    """,
    # Members by name, for questions that name one ("what is Priya into lately?"); lower() as the lookup spells it.
    12: """
    CREATE INDEX messages_by_author_name ON messages (guild_id, lower(author_name));
    """,
    # Each channel's high-water mark (`memory.marks`): every message up to newest_id is stored or left out on
    # purpose, so a restart reads the history after it; session is the gateway session whose live messages may move
    # it ('' for none), missed_before the end of a hole a restart could not read. A store from before starts from
    # the newest message it holds per channel, the best it knows.
    13: """
    CREATE TABLE channel_marks (
        guild_id TEXT NOT NULL, channel_id TEXT NOT NULL, newest_id INTEGER NOT NULL, session TEXT NOT NULL DEFAULT '',
        missed_before INTEGER, PRIMARY KEY (guild_id, channel_id)
    ) WITHOUT ROWID;
    INSERT INTO channel_marks (guild_id, channel_id, newest_id)
        SELECT guild_id, channel_id, max(CAST(message_id AS INTEGER)) FROM messages
        WHERE message_id <> '' AND message_id NOT GLOB '*[^0-9]*' GROUP BY guild_id, channel_id;
    """,
}
SCHEMA_VERSION = max(MIGRATIONS)  # each migration adds its own numbered entry


def split_sql(script: str) -> list[str]:
    """Statements of a migration script (trigger bodies keep their inner semicolons)."""
    statements, current = [], ""
    for line in script.splitlines():
        current += line + "\n"
        stripped = line.strip()
        if stripped.endswith(";") and (not current.lstrip().upper().startswith("CREATE TRIGGER") or stripped == "END;"):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]
