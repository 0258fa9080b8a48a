"""The PostgreSQL record store itself: its schema follows SQLite's version, migrating is safe from two processes at
once, and a missing or unreachable database is one line naming the environment variable."""

from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from memory import ConfigError, Memory
from memory.stores.postgres.migrations import SCHEMA_VERSION as POSTGRES_VERSION
from memory.stores.sqlite.migrations import SCHEMA_VERSION as SQLITE_VERSION
from tests.conftest import POSTGRES_RECORDS, make_settings
from tests.fakes import HashEmbeddings

OPEN = "from memory.stores.postgres import open_postgres_stores; import sys; open_postgres_stores(sys.argv[1])"


def test_the_schema_version_is_the_sqlite_one():
    """A migration added to SQLite without its PostgreSQL twin fails here."""
    assert POSTGRES_VERSION == SQLITE_VERSION


def test_two_processes_migrating_an_empty_database_at_once_both_succeed(postgres_server):
    """The advisory lock makes the second wait for the first's migration, then find the schema made."""
    dsn = postgres_server.dsn("empty_one")
    postgres_server.execute("CREATE DATABASE empty_one")
    try:
        runs = [subprocess.Popen([sys.executable, "-c", OPEN, dsn], stderr=subprocess.PIPE) for _ in range(3)]
        for run in runs:
            _, err = run.communicate(timeout=60)
            assert run.returncode == 0, err.decode()
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
                str(POSTGRES_VERSION),
            )
            assert conn.execute("SELECT count(*) FROM meta").fetchone() == (1,)
    finally:
        postgres_server.drop(dsn)


def test_an_unset_variable_is_one_line_naming_it(tmp_path, monkeypatch):
    """No MEMORYBOT_DATABASE_URL: the error names the variable."""
    monkeypatch.delenv("MEMORYBOT_DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="MEMORYBOT_DATABASE_URL") as raised:
        Memory.open(make_settings(tmp_path / "data", storage=POSTGRES_RECORDS), embeddings=HashEmbeddings())
    assert "\n" not in str(raised.value)


def test_an_unreachable_server_is_one_line_naming_the_variable(tmp_path, monkeypatch, postgres_server):
    """A URL to a port nobody listens on: refused at once, the message names the variable, no lock is left."""
    monkeypatch.setenv("MEMORYBOT_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=3")
    settings = make_settings(tmp_path / "data", storage=POSTGRES_RECORDS)
    with pytest.raises(ConfigError, match=r"\$MEMORYBOT_DATABASE_URL") as raised:
        Memory.open(settings, embeddings=HashEmbeddings())
    assert "\n" not in str(raised.value)
    monkeypatch.setenv("MEMORYBOT_DATABASE_URL", postgres_server.fresh_database())
    Memory.open(settings, embeddings=HashEmbeddings()).close()  # the data dir was not left locked
