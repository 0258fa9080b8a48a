"""Shared fixtures: settings in a temporary data dir, memory with the hashing embedder, the real model once."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
# The model's ONNX export (memory.onnx_queries) is made once per checkout, not in the user's own cache folder.
os.environ["XDG_CACHE_HOME"] = str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "xdg")

from memory import Memory, MemorySettings
from memory.embeddings import LocalEmbeddings
from memory.settings import EmbeddingSettings
from memory.stores.interfaces import RecordStores
from memory.stores.postgres import open_postgres_stores
from memory.stores.sqlite import open_sqlite_stores
from memory.stores.sqlite.migrations import MIGRATIONS
from tests.fakes import HashEmbeddings
from tests.pg import PostgresServer

REPO = Path(__file__).resolve().parent.parent
MEMORY_TESTS = REPO / "tests" / "memory"
BACKENDS = ("sqlite", "postgres")  # the record stores every memory test runs on (`settings` and `memory`)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run each test of tests/memory that uses the `settings` (or `memory`) fixture on both record stores, except
    those marked `sqlite_only` (they read the SQLite file itself); elsewhere `backend` is sqlite."""
    definition = metafunc.definition
    if "backend" not in metafunc.fixturenames or MEMORY_TESTS not in definition.path.parents:
        return
    if definition.get_closest_marker("sqlite_only") is None:
        metafunc.parametrize("backend", BACKENDS)


def make_settings(data_dir: Path, **sections: dict[str, object]) -> MemorySettings:
    """Settings with the data dir set and some keys overridden, e.g. retrieval={"min_relevance": 0.0}."""
    raw: dict[str, object] = {"storage": {"data_dir": str(data_dir)}, "retrieval": {"min_relevance": 0.0}}
    for name, values in sections.items():
        base = raw.get(name, {})
        assert isinstance(base, dict)
        raw[name] = {**base, **values}
    return MemorySettings.model_validate(raw)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def backend() -> str:
    """The record store of `settings`: sqlite, unless `pytest_generate_tests` runs the test on both."""
    return "sqlite"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (started on first use; never skipped: a missing server fails)."""
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database of its own for the test, named by MEMORYBOT_DATABASE_URL (subprocesses too)."""
    dsn = postgres_server.fresh_database()
    monkeypatch.setenv("MEMORYBOT_DATABASE_URL", dsn)
    yield dsn
    postgres_server.drop(dsn)


POSTGRES_RECORDS = {"records": {"backend": "postgres", "dsn_env": "MEMORYBOT_DATABASE_URL"}}


@pytest.fixture
def record_stores(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RecordStores]:
    """The record stores alone, on the test's backend (an SQLite file, or a fresh PostgreSQL database)."""
    if backend == "sqlite":
        stores = open_sqlite_stores(tmp_path / "memory.sqlite3")
    else:
        stores = open_postgres_stores(request.getfixturevalue("postgres_url"), pool_size=2)
    yield stores
    stores.database.close()


@pytest.fixture
def settings(data_dir: Path, backend: str, request: pytest.FixtureRequest) -> MemorySettings:
    if backend == "sqlite":
        return make_settings(data_dir)
    request.getfixturevalue("postgres_url")
    return make_settings(data_dir, storage=POSTGRES_RECORDS)


@pytest.fixture
def embeddings() -> HashEmbeddings:
    return HashEmbeddings()


@pytest.fixture
def memory(settings: MemorySettings, embeddings: HashEmbeddings) -> Iterator[Memory]:
    opened = Memory.open(settings, embeddings=embeddings)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def real_embeddings() -> LocalEmbeddings:
    """The real all-MiniLM-L6-v2, loaded once per test session."""
    return LocalEmbeddings(EmbeddingSettings())


def files_containing(root: Path, needle: bytes, *, terms: bool = True) -> list[Path]:
    """Every file under `root` that still holds the text (for erasure checks): in its raw bytes, as given or
    lower-cased, or, in an SQLite database, in the shadow tables of an FTS5 index (`*_data`, `*_idx`, `*_content`,
    `*_docsize`) or, with `terms`, as every one of the terms that index's tokenizer makes of the text (lower-case,
    stemmed). Pass `terms=False` only for a phrase of common words, whose terms other messages hold too."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        sqlite = raw.startswith(SQLITE_HEADER)
        if needle in raw or needle.lower() in raw or (sqlite and _in_fts5(path, needle, terms=terms)):
            found.append(path)
    return found


SQLITE_HEADER = b"SQLite format 3\x00"


def _in_fts5(path: Path, needle: bytes, *, terms: bool) -> bool:
    """Whether an FTS5 index of the database holds the text. Read on a copy (with its WAL), so that the check
    neither checkpoints nor locks the database under test."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / path.name
        shutil.copyfile(path, copy)
        if (wal := path.with_name(path.name + "-wal")).exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        db = sqlite3.connect(copy)
        try:
            tables = db.execute("SELECT name, sql FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%fts5%'")
            return any(_fts5_holds(db, name, sql, needle, terms=terms) for name, sql in tables.fetchall())
        finally:
            db.close()


def _fts5_holds(db: sqlite3.Connection, table: str, sql: str, needle: bytes, *, terms: bool) -> bool:
    """Whether one FTS5 table's shadow tables hold the text, or every term its tokenizer makes of it."""
    shadows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB ?", (f"{table}_*",))
    for (shadow,) in shadows.fetchall():
        for row in db.execute(f'SELECT * FROM "{shadow}"'):
            values = [v.encode() if isinstance(v, str) else v for v in row if isinstance(v, str | bytes)]
            if any(needle in v or needle.lower() in v for v in values):
                return True
    wanted = _fts5_terms(sql, needle.decode()) if terms else set()
    if not wanted:
        return False
    separators = {bytes(term) for (term,) in db.execute(f'SELECT term FROM "{table}_idx"')}  # first terms of pages
    return wanted <= fts5_stored_terms(db, table) | separators


def fts5_stored_terms(db: sqlite3.Connection, table: str) -> set[bytes]:
    """Every term an FTS5 table's segments store, those of deleted rows included until a merge drops them (each
    with its index's one-byte prefix: "0" for the main index)."""
    # A page's id is segment << 37 | doclist-index flag << 36 | height << 31 | page: leaves have height 0, no flag.
    leaves = db.execute(f'SELECT block FROM "{table}_data" WHERE id >> 37 > 0 AND (id >> 31) & 63 = 0')
    return {term for (page,) in leaves.fetchall() for term in _leaf_terms(page)}


def _fts5_terms(sql: str, text: str) -> set[bytes]:
    """The index terms an FTS5 table made with this CREATE statement stores for the text: its own tokenizer, run on
    a scratch table (each term with the main index's "0" prefix, as on disk)."""
    tokenize = re.search(r"tokenize\s*=\s*('(?:[^']|'')*'|\"[^\"]*\")", sql)
    scratch = sqlite3.connect(":memory:")
    try:
        scratch.execute(f"CREATE VIRTUAL TABLE t USING fts5(x{', tokenize=' + tokenize[1] if tokenize else ''})")
        scratch.execute("INSERT INTO t VALUES (?)", (text,))
        scratch.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
        return {b"0" + term.encode() for (term,) in scratch.execute("SELECT term FROM v")}
    finally:
        scratch.close()


def _leaf_terms(page: bytes) -> list[bytes]:
    """The terms on an FTS5 leaf page. Each but a page's first keeps only what differs from the term before it (a
    byte grep finds "uniqu" after "u1" as "niqu"), so they are decoded through the page's footer, which holds the
    offset of each term: a 4-byte header (the footer's offset in bytes 2-3), then, per term, the length of the
    prefix shared with the previous term (not for the first), the length of the rest, and the rest."""
    footer = int.from_bytes(page[2:4], "big")
    offsets, at, offset = [], footer, 0
    while at < len(page):
        delta, at = _varint(page, at)
        offset += delta
        offsets.append(offset)
    terms: list[bytes] = []
    for offset in offsets:
        shared, at = (0, offset) if not terms else _varint(page, offset)
        size, at = _varint(page, at)
        terms.append((terms[-1][:shared] if terms else b"") + page[at : at + size])
    return terms


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    """SQLite's variable-length integer at `at`: (value, the offset after it)."""
    value = 0
    for i in range(8):
        byte = buf[at + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    return (value << 8) | buf[at + 8], at + 9


def downgrade_store(path: Path, version: int) -> None:
    """Make a store look as if it was made at schema `version`: the tables later migrations add are dropped."""
    db = sqlite3.connect(path)
    for number, script in sorted(MIGRATIONS.items(), reverse=True):
        if number > version:
            for index in re.findall(r"CREATE INDEX (\w+)", script):
                db.execute(f"DROP INDEX {index}")
            for table, column in re.findall(r"ALTER TABLE (\w+) ADD COLUMN (\w+)", script):
                db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            for table in re.findall(r"CREATE TABLE (\w+)", script):
                db.execute(f"DROP TABLE {table}")
    db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    db.commit()
    db.close()
