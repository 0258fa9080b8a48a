"""Vectors are written to and deleted from Chroma in slices: its bindings hold the GIL for a whole call, so the bot's
event loop (which shares the process with the ingestion threads) gets it back only between calls."""

from __future__ import annotations

from typing import Any

import chromadb
from chromadb.config import Settings

from memory.stores.chroma import WRITE_SLICE, ChromaVectorIndex
from tests.fakes import HashEmbeddings, passage


class Recorded:
    """A real Chroma collection whose writes and deletes are recorded (sizes), then carried out."""

    def __init__(self, inner: Any, calls: list[tuple[str, int]]) -> None:
        self._inner, self._calls = inner, calls

    def add(self, **kwargs: Any) -> None:
        self._calls.append(("add", len(kwargs["ids"])))
        self._inner.add(**kwargs)

    def upsert(self, **kwargs: Any) -> None:
        self._calls.append(("upsert", len(kwargs["ids"])))
        self._inner.upsert(**kwargs)

    def delete(self, **kwargs: Any) -> None:
        self._calls.append(("delete", len(kwargs["ids"])))
        self._inner.delete(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class RecordingClient:
    """A real in-memory Chroma client whose collections, once looked up, record their writes."""

    def __init__(self) -> None:
        self.inner = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False, allow_reset=True))
        self.inner.reset()
        self.calls: list[tuple[str, int]] = []

    def get_collection(self, name: str) -> Recorded:
        return Recorded(self.inner.get_collection(name), self.calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_writes_and_deletes_go_in_slices_and_all_arrive():
    client = RecordingClient()
    embedder = HashEmbeddings()
    index = ChromaVectorIndex(client, embedder, "test:hash")
    chunks = [passage(f"{i:032x}", f"passage number {i}") for i in range(3 * WRITE_SLICE + 5)]
    index.upsert("g", chunks, embedder.embed_documents([c.text for c in chunks]))
    assert [size for kind, size in client.calls if kind == "upsert"] == [100]  # the one-off padding (see chroma.py)
    assert [size for kind, size in client.calls if kind == "add"] == [WRITE_SLICE] * 3 + [5]
    assert index.count("g") == len(chunks)

    index.delete("g", [c.chunk_id for c in chunks[: 2 * WRITE_SLICE + 1]])
    deletes = [size for kind, size in client.calls if kind == "delete"]
    assert deletes[-3:] == [WRITE_SLICE, WRITE_SLICE, 1]
    assert index.count("g") == WRITE_SLICE + 4


def test_a_vector_already_held_is_not_written_again():
    """A chunk re-embedded after a crash (its vector written, its mark not) is left as stored: writing it again made
    Chroma's HNSW update the point in place, which after a reopen now and then left another vector unreachable."""
    client = RecordingClient()
    embedder = HashEmbeddings()
    index = ChromaVectorIndex(client, embedder, "test:hash")
    chunks = [passage(f"{i:032x}", f"passage number {i}") for i in range(5)]
    vectors = embedder.embed_documents([c.text for c in chunks])
    index.upsert("g", chunks[:3], vectors[:3])
    client.calls.clear()

    index.upsert("g", chunks, vectors)
    assert [call for call in client.calls if call[0] in {"add", "upsert"}] == [("add", 2)]  # only the two new ones
    index.upsert("g", chunks, vectors)
    assert [call for call in client.calls if call[0] in {"add", "upsert"}] == [("add", 2)]  # nothing more
    assert index.count("g") == 5
    assert sorted(i for i, _ in index.query("g", vectors[0], 10)) == [c.chunk_id for c in chunks]
