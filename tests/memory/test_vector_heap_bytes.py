"""Chroma's files hold no leftover heap bytes: its HNSW writes the malloc'ed buffers of a new index to disk
before setting them, so without the padding in `memory.vectors` they hold whatever text the process freed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from memory.stores.chroma import ChromaVectorIndex, make_chroma_client
from memory.types import Chunk
from tests.conftest import REPO, files_containing, make_settings
from tests.fakes import HashEmbeddings

# Run in a fresh process with one malloc arena, so that the buffer Chroma's threads get is memory the main
# thread freed (in a long test run, other threads' arenas do the same now and then).
SCRIPT = """
import sys
from pathlib import Path

from memory.types import Chunk
from memory.stores.chroma import ChromaVectorIndex, make_chroma_client
from tests.conftest import make_settings
from tests.fakes import HashEmbeddings

settings = make_settings(Path(sys.argv[1]))
index = ChromaVectorIndex(make_chroma_client(settings.storage), HashEmbeddings(), "test:hash-256")
index.count("g1")  # the collection exists, with no vector yet

texts = [f"SECRET-{i} " + "harbour tide beacon " * (i % 50) for i in range(3000)]
junk = ["SECRET-LARGE-" * (size // 13) for size in (700, 3000, 20_000, 90_000) * 400]
vectors = HashEmbeddings().embed_documents(texts[:3])
del texts, junk

chunks = [Chunk(f"{i:032x}", "chat", "g1", "c1", "r", i, str(i), "", 0, (), (), None, None) for i in range(3)]
index.upsert("g1", chunks, vectors)
index.delete("g1", [chunks[0].chunk_id])
assert index.count("g1") == 2
index.close()
"""


def test_a_new_collection_writes_no_leftover_heap_bytes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {**os.environ, "MALLOC_ARENA_MAX": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(data_dir)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert list(data_dir.rglob("data_level0.bin"))
    assert files_containing(data_dir, b"SECRET") == []


def test_the_padding_is_invisible(tmp_path: Path) -> None:
    """Counts, searches and vectors see only the chunks, also after a reopen; a dropped guild is padded anew."""
    settings = make_settings(tmp_path / "data")
    embeddings = HashEmbeddings()
    vectors = embeddings.embed_documents(["harbour", "tide", "beacon"])
    ids = [f"{i:032x}" for i in range(3)]
    chunks = [Chunk(i, "chat", "g1", "c1", "r", n, str(n), "", 0, (), (), None, None) for n, i in enumerate(ids)]
    index = ChromaVectorIndex(make_chroma_client(settings.storage), embeddings, embeddings.identity)
    index.upsert("g1", chunks, vectors)
    assert index.count("g1") == 3
    assert sorted(i for i, _ in index.query("g1", vectors[0], 50)) == ids
    index.close()

    index = ChromaVectorIndex(make_chroma_client(settings.storage), embeddings, embeddings.identity)
    index.upsert("g1", chunks[:1], vectors[:1])
    assert index.count("g1") == 3
    assert index.query("g1", vectors[0], 1)[0][0] == ids[0]
    assert sorted(i for i, _ in index.query("g1", vectors[0], 50, channels=["c1"])) == ids
    assert set(index.vectors("g1", ids)) == set(ids)
    index.drop_guild("g1")
    index.upsert("g1", chunks[1:], vectors[1:])
    assert sorted(i for i, _ in index.query("g1", vectors[1], 50)) == ids[1:]
    index.close()
