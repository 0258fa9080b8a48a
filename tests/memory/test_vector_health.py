"""A damaged vector index is found at open (in a child process, as reading it can crash) and rebuilt from SQLite."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest

from memory import Memory
from memory.errors import MemoryStoreError
from memory.stores.chroma import collection_name
from memory.stores.chroma_health import find_damaged
from tests.conftest import make_settings
from tests.fakes import HashEmbeddings, message

GUILDS = ("crashes", "errors", "forgets", "healthy", "emptied")


def segment_dir(data_dir: Path, guild_id: str) -> Path:
    """The HNSW files of a guild's collection (Chroma names the directory after the vector segment's id)."""
    db = sqlite3.connect(data_dir / "chroma" / "chroma.sqlite3")
    (segment,) = db.execute(
        "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id WHERE c.name = ? AND s.scope = 'VECTOR'",
        (collection_name(guild_id),),
    ).fetchone()
    db.close()
    return data_dir / "chroma" / segment


def damage(data_dir: Path) -> None:
    """Three kinds of damage seen after kill -9 (see shared reliability notes), made on purpose."""
    header = segment_dir(data_dir, "crashes") / "header.bin"
    raw = bytearray(header.read_bytes())
    raw[52:56] = struct.pack("<I", 0x7FFFFF00)  # the top level of the graph: searching segfaults the process
    header.write_bytes(bytes(raw))
    (segment_dir(data_dir, "errors") / "header.bin").write_bytes(b"\x07" * 100)  # every read raises
    # Chroma's hnswlib header: a version, then 64-bit offsetLevel0, max_elements, cur_element_count,
    # size_data_per_element (byte 28), label_offset, offsetData (byte 44), then maxlevel (byte 52). Each element
    # begins with its level-0 neighbour list: emptied, the graph falls apart and searches answer wrongly.
    forgets = segment_dir(data_dir, "forgets")
    element_size, links_size = (
        struct.unpack_from("<Q", (forgets / "header.bin").read_bytes(), at)[0] for at in (28, 44)
    )
    level0 = bytearray((forgets / "data_level0.bin").read_bytes())
    for start in range(0, len(level0), element_size):
        level0[start : start + links_size] = bytes(links_size)
    (forgets / "data_level0.bin").write_bytes(bytes(level0))


def fill(memory: Memory) -> None:
    for guild in GUILDS:
        memory.remember_messages(
            [message(i, f"{guild} note {i} about topic{i}", guild=guild, minutes=i * 60) for i in range(300)]
        )


def found(memory: Memory, guild: str, number: int) -> bool:
    context = memory.search(f"{guild} note {number} about topic{number}", guild, max_sources=3)
    return any(f"topic{number} " in hit.chunk.text or hit.chunk.text.endswith(f"topic{number}") for hit in context.hits)


def test_damaged_collections_are_dropped_and_rebuilt_and_healthy_ones_left_alone(tmp_path, caplog):
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir)
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        fill(memory)
        memory.vectors.drop_guild("emptied")  # vectors lost without a trace: SQLite says they were written
    damage(data_dir)
    healthy_before = (segment_dir(data_dir, "healthy") / "data_level0.bin").read_bytes()

    with Memory.open(settings, embeddings=HashEmbeddings(), check_index=True) as memory:
        assert sorted(memory.repaired) == ["crashes", "emptied", "errors", "forgets"]
        assert memory.stores.chunks.pending_chunks("healthy") == []
        rebuilt = memory.catch_up()
        assert rebuilt == sum(len(memory.stores.chunks.guild_chunk_ids(g)) for g in memory.repaired)
        for guild in GUILDS:
            assert memory.vectors.count(guild) == len(memory.stores.chunks.guild_chunk_ids(guild)), guild
            assert found(memory, guild, 123), guild
    assert (segment_dir(data_dir, "healthy") / "data_level0.bin").read_bytes() == healthy_before

    caplog.clear()
    with Memory.open(settings, embeddings=HashEmbeddings(), check_index=True) as memory:
        assert memory.repaired == [], caplog.text  # the rebuilt index is healthy (the log says what was found)


def test_find_damaged_names_a_crashing_collection_and_checks_the_rest(tmp_path):
    data_dir = tmp_path / "data"
    with Memory.open(make_settings(data_dir), embeddings=HashEmbeddings()) as memory:
        fill(memory)
    damage(data_dir)

    damaged, counts = find_damaged(data_dir / "chroma")

    problems = {d.guild_id: d.problem for d in damaged}
    assert "crashed the process" in problems["crashes"]
    assert "InternalError" in problems["errors"]
    assert "not found by searching for themselves" in problems["forgets"]
    assert counts["healthy"] == 300 and "healthy" not in problems


def test_an_index_that_cannot_be_opened_at_all_is_a_clear_error(tmp_path):
    chroma_dir = tmp_path / "chroma"
    chroma_dir.mkdir()
    (chroma_dir / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(MemoryStoreError, match="cannot be opened; move it away and run `memorybot reindex`"):
        find_damaged(chroma_dir)
