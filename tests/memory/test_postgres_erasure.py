"""Erasure on PostgreSQL reaches the table files: after a forget, VACUUM leaves no erased text in the heap or the
keyword index (grepped after a CHECKPOINT, as the SQLite tests grep memory.sqlite3)."""

from __future__ import annotations

import psycopg

from memory import ChatMessage, Memory
from tests.conftest import POSTGRES_RECORDS, make_settings
from tests.fakes import HashEmbeddings
from tests.pg import PostgresServer

SECRET = b"MARKER-UNIQUE-7731"


def message(i: int, text: str, author: str = "u1") -> ChatMessage:
    return ChatMessage(guild_id="g1", channel_id="c1", message_id=str(1000 + i), author_id=author,
                       author_name=author, content=text, created_at=f"2026-01-01T00:{i:02d}:00+00:00")  # fmt: skip


def table_files(server: PostgresServer, dsn: str) -> dict[str, bytes]:
    """The bytes of every table and index file of the database that holds text (after a CHECKPOINT)."""
    with psycopg.connect(dsn) as conn:
        names = [str(r[0]) for r in conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't')"
        ).fetchall()]  # fmt: skip
        toast = [str(r[0]) for r in conn.execute(
            "SELECT reltoastrelid::regclass::text FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND reltoastrelid <> 0"
        ).fetchall()]  # fmt: skip
    files = {}
    for name in names + toast:
        path = server.relation_file(dsn, name)
        files[name] = b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")) if p.is_file())
    return files


def holding(server: PostgresServer, dsn: str, needle: bytes) -> list[str]:
    return sorted(name for name, data in table_files(server, dsn).items() if needle in data or needle.lower() in data)


REWRITE = {"records": {**POSTGRES_RECORDS["records"], "erase": "rewrite"}}


def test_a_deleted_message_leaves_no_byte_in_the_table_files(tmp_path, postgres_server, postgres_url):
    """The message's text is in the messages and chunks heaps (and the tsvector) before; after the delete and its
    VACUUM FULL (erase: rewrite), no table or index file of the database holds it, and the rest is still found."""
    settings = make_settings(tmp_path / "data", storage=REWRITE)
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        messages = [message(i, f"ordinary chatter {i} " + "words " * 10) for i in range(20)]
        messages[7] = message(7, "the secret code is " + SECRET.decode())
        memory.remember_messages(messages)
        before = holding(postgres_server, postgres_url, SECRET)
        assert "messages" in before and "chunks" in before
        memory.delete_messages("g1", ["1007"])
        assert holding(postgres_server, postgres_url, SECRET) == []
        assert holding(postgres_server, postgres_url, b"marker-unique") == []  # the lower-cased tsvector lexeme too
        assert memory.search("ordinary chatter", guild_id="g1")


def test_forgetting_a_member_leaves_none_of_their_text_in_the_table_files(tmp_path, postgres_server, postgres_url):
    """A member forgotten everywhere: their messages and logged questions leave no byte; other people's stay."""
    settings = make_settings(tmp_path / "data", storage=REWRITE)
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        memory.remember_messages([message(1, "ALICE-SECRET-g1 plans", "alice"), message(2, "BOB-STAYS here", "bob")])
        memory.questions.record("g1", "c1", "alice", "ALICE-QUESTION-9 asked", "2026-01-01T00:00:00+00:00", [])
        assert holding(postgres_server, postgres_url, b"ALICE-QUESTION-9") == ["asked_questions"]
        memory.forget_user_everywhere("alice")
        assert holding(postgres_server, postgres_url, b"ALICE-SECRET-g1") == []
        assert holding(postgres_server, postgres_url, b"ALICE-QUESTION-9") == []
        assert "messages" in holding(postgres_server, postgres_url, b"BOB-STAYS")
