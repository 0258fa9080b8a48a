"""Erased words leave the FTS5 keyword index itself, and the erasure check finds words FTS5 keeps only as terms."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import files_containing, fts5_stored_terms
from tests.fakes import message


def live_terms(db: sqlite3.Connection) -> set[bytes]:
    """The terms the live rows of the chunks index hold (what FTS5 answers queries from), as stored on disk."""
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, chunks_fts, 'row')")
    return {b"0" + term.encode() for (term,) in db.execute("SELECT term FROM temp.vocab")}


@pytest.mark.sqlite_only  # it reads the SQLite file itself (tests/memory/test_postgres_erasure.py: PostgreSQL's)
def test_each_erasure_leaves_no_term_of_the_erased_text_in_the_index_segments(memory, data_dir):
    """After a delete, a member's forget and a channel's forget, the FTS5 segments store exactly the terms of the
    chunks still held: none of the erased ones, which a delete alone only marks (until the index is optimized)."""
    memory.remember_messages([
        *(message(i, f"ordinary chatter {i} about the harbour") for i in range(12)),
        message(20, "the gannet nests on ROCKALL", minutes=200),
        message(21, "bob writes of SKERRYVORE", author="bob", minutes=201),
        message(30, "elsewhere a FASTNET note", channel="c2", minutes=300),
    ])  # fmt: skip
    path = data_dir / "memory.sqlite3"
    erasures = [
        (lambda: memory.delete_messages("g1", ["1000020"]), b"0rockal"),
        (lambda: memory.forget("g1", user_id="bob"), b"0skerryvor"),
        (lambda: memory.forget("g1", channel_id="c2"), b"0fastnet"),
    ]
    for erase, term in erasures:
        db = sqlite3.connect(path)
        assert term in fts5_stored_terms(db, "chunks_fts") and term in live_terms(db)
        db.close()
        erase()
        db = sqlite3.connect(path)
        stored, live = fts5_stored_terms(db, "chunks_fts"), live_terms(db)
        db.close()
        assert term not in stored and stored == live, term
        assert b"0harbour" in live


def test_the_erasure_check_finds_a_term_that_fts5_stores_prefix_compressed(tmp_path: Path):
    """A deleted row's word kept in an FTS5 segment, stored as "niqu" after "u1" (no grep of the word finds it),
    is found by `files_containing` until the index is optimized; a row never deleted is found after too."""
    path = tmp_path / "index.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA secure_delete=ON")
    db.execute("CREATE VIRTUAL TABLE f USING fts5 (text, tokenize='porter unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO f VALUES ('u1 says UNIQUE'), ('u1 says usual')")
    db.execute("DELETE FROM f WHERE rowid = 1")
    raw = path.read_bytes()
    assert b"UNIQUE" not in raw and b"unique" not in raw and b"uniqu" not in raw  # a byte grep would pass it
    assert files_containing(tmp_path, b"UNIQUE") == [path]
    db.execute("INSERT INTO f (f) VALUES ('optimize')")
    db.close()
    assert files_containing(tmp_path, b"UNIQUE") == []
    assert files_containing(tmp_path, b"USUAL") == [path]
