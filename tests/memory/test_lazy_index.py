"""The vector index is opened on first use: reading counts and logged questions leaves Chroma closed, a search or an
erasure opens it, and a read-only command does not stamp the last ingest."""

from __future__ import annotations

import pytest

from memory import FileDocument, Memory
from memory.stores.chroma import ChromaVectorIndex
from tests.fakes import HashEmbeddings, message


def doc(text: str) -> FileDocument:
    return FileDocument(guild_id="g1", channel_id="docs", source="/src/a.txt", filename="a.txt", data=text.encode())


@pytest.fixture
def filled(settings, embeddings):
    """A data dir holding chat and a file, closed again (so the next opening starts with nothing connected)."""
    with Memory.open(settings, embeddings=embeddings) as memory:
        memory.remember_messages([message(i, f"the deploy key rotates on day {i}") for i in range(3)])
        memory.ingest_files([doc("Rotate the deploy key on Fridays.")])
    return settings


def test_stats_and_catch_up_leave_the_index_closed(filled, embeddings):
    """Counts come from SQLite, vectors included: the index stays unopened and the counts still add up."""
    with Memory.open(filled, embeddings=embeddings) as memory:
        memory.catch_up()
        held = memory.stats().guilds["g1"]
        assert not memory.vectors.connected
        assert held.vectors == held.chunks > 0
        memory.open_index()
        assert memory.vectors.connected and memory.vectors.count("g1") == held.vectors


def test_a_search_opens_the_index(filled, embeddings):
    """The first dense search connects, and finds what was remembered before the reopen."""
    with Memory.open(filled, embeddings=embeddings) as memory:
        hits = memory.search("deploy key Fridays", "g1").hits
        assert memory.vectors.connected
        assert any("Fridays" in hit.chunk.text for hit in hits)


def test_forgetting_a_guild_drops_its_vectors_from_an_unopened_index(filled, embeddings):
    """Erasure opens the index it needs: the guild's collection is gone, not just its SQLite rows."""
    with Memory.open(filled, embeddings=embeddings) as memory:
        memory.forget("g1")
        assert memory.vectors.connected
    with Memory.open(filled, embeddings=embeddings) as memory:
        assert memory.vectors.count("g1") == 0


def test_catching_up_with_nothing_to_do_is_no_ingest(filled, embeddings):
    """`stats` and `search` catch up first; when there is nothing to rebuild, the last ingest keeps its time."""
    with Memory.open(filled, embeddings=embeddings) as memory:
        memory.stores.database.set_meta("last_ingest_at", "2000-01-01T00:00:00+00:00")
        memory.catch_up()
        assert memory.stats().last_ingest_at == "2000-01-01T00:00:00+00:00"
        memory.remember_messages([message(9, "a new message")])
        assert memory.stats().last_ingest_at != "2000-01-01T00:00:00+00:00"


def test_the_index_takes_a_client_or_a_way_to_connect():
    """Neither or both is a mistake; a way to connect is called once, on first use."""
    client = FakeClient()
    calls: list[FakeClient] = []

    def connect() -> FakeClient:
        calls.append(client)
        return client

    with pytest.raises(ValueError, match="not both"):
        ChromaVectorIndex(None, HashEmbeddings(), "m")
    with pytest.raises(ValueError, match="not both"):
        ChromaVectorIndex(client, HashEmbeddings(), "m", connect=connect)
    index = ChromaVectorIndex(None, HashEmbeddings(), "m", connect=connect)
    index.delete("g1", [])  # nothing to delete: no connection either
    assert not index.connected and calls == []
    index.connect()
    index.connect()
    assert index.connected and calls == [client]
    index.close()
    assert client.closed


class FakeClient:
    """Just enough of a Chroma client to be closed."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True
