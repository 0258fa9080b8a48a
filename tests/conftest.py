"""Shared fixtures: settings in a temporary data dir, memory with the hashing embedder, the real model once."""

from __future__ import annotations

import os
import re
import sqlite3
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
from memory.stores.sqlite.migrations import MIGRATIONS
from tests.fakes import HashEmbeddings

REPO = Path(__file__).resolve().parent.parent


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
def settings(data_dir: Path) -> MemorySettings:
    return make_settings(data_dir)


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


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Every file under `root` whose raw bytes contain `needle` (for erasure checks)."""
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


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
