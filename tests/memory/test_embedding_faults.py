"""Embedding endpoint faults (reliability.md §5 scenario 25): the real langchain-openai client against the fake
OpenAI server answering 429, 500, slowly, garbage, too few vectors or vectors of another length."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from memory import EmbeddingError, Memory
from memory.settings import MemorySettings
from tests.fakeopenai import EMBEDDING_DIMENSIONS, FakeOpenAI
from tests.fakes import message

RETRIES = 2


@pytest.fixture
def server(monkeypatch):
    """The fake on a loop of its own (the memory embeds from this thread, synchronously); no socket may leave
    127.0.0.1 meanwhile (no tiktoken download, no telemetry)."""
    real_connect = socket.socket.connect

    def loopback_only(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            assert str(address[0]).startswith("127."), f"connection to {address} attempted"
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    loop = asyncio.new_event_loop()
    fake = FakeOpenAI()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    monkeypatch.setenv("MB_EMBED_KEY", fake.api_key)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def settings_for(tmp_path, server: FakeOpenAI, **embeddings: object) -> MemorySettings:
    return MemorySettings.model_validate({
        "storage": {"data_dir": str(tmp_path / "data")},
        "retrieval": {"min_relevance": -1.0},
        "embeddings": {"provider": "openai", "model": "text-embedding-3-small", "base_url": server.base_url,
                       "api_key_env": "MB_EMBED_KEY", "batch_size": 8, "max_retries": RETRIES,
                       "timeout_seconds": 0.5, **embeddings},
    })  # fmt: skip


def pending(memory: Memory) -> int:
    return len(memory.stores.chunks.pending_chunks())


# Retried faults cost 1 + max_retries requests; an answer that arrives but does not fit is not retried (the same
# server would answer the same way), and the chunks wait for the next catch-up instead.
@pytest.mark.parametrize(
    ("fault", "requests", "said"),
    [("429", 1 + RETRIES, "HTTP 429"), ("500", 1 + RETRIES, "HTTP 500"), ("slow", 1 + RETRIES, "did not answer"),
     ("disconnect", 1 + RETRIES, "could not be reached"), ("invalid_json", 1, "not embeddings"),
     ("few", 1, "vectors for"), ("dimension", 1, "32-dimensional vectors where the index holds 64")],
)  # fmt: skip
def test_a_failing_endpoint_stores_no_vector_and_keeps_the_chunks_for_later(tmp_path, server, fault, requests, said):
    """After the bounded retries the error names the endpoint; no vector is written, the chunks stay pending in
    SQLite and are embedded by the next catch-up once the endpoint answers again."""
    memory = Memory.open(settings_for(tmp_path, server))
    try:
        memory.remember_messages([message(0, "warm up the index")])  # the index now holds 64-dimensional vectors
        before = len(server.embedding_requests)
        server.embedding_fault, server.embedding_delay_seconds = fault, 5.0
        with pytest.raises(EmbeddingError, match=said) as caught:
            memory.remember_messages([message(i * 60, f"outage note {i}", minutes=i * 60) for i in range(1, 4)])
        assert server.base_url in str(caught.value)
        assert len(server.embedding_requests) - before == requests
        assert memory.vectors.count("g1") == 1  # only the warm-up's vector
        assert pending(memory) == 3
        server.embedding_fault = None
        assert memory.catch_up() == 3
        assert pending(memory) == 0 and memory.vectors.count("g1") == 4
        vectors = memory.vectors.vectors("g1", memory.stores.chunks.guild_chunk_ids("g1"))
        assert {len(v) for v in vectors.values()} == {EMBEDDING_DIMENSIONS}
    finally:
        memory.close()


def test_a_429_with_retry_after_is_waited_out_and_succeeds(tmp_path, server):
    """Two 429s carrying retry-after, then an answer: the SDK waits and retries within its bound; all is stored."""
    server.embedding_fault, server.embedding_fault_times, server.retry_after = "429", 2, "0.2"
    memory = Memory.open(settings_for(tmp_path, server))
    try:
        memory.remember_messages([message(0, "rate limited but remembered")])
        assert len(server.embedding_requests) == 3
        assert pending(memory) == 0 and memory.vectors.count("g1") == 1
    finally:
        memory.close()


def test_a_wrong_length_is_refused_after_a_restart_and_for_queries(tmp_path, server):
    """The index's vector length is stored: a reopened memory refuses another length before Chroma sees it, and a
    query embedded at another length is refused with the endpoint named rather than searched."""
    settings = settings_for(tmp_path, server)
    memory = Memory.open(settings)
    memory.remember_messages([message(0, "the first model's vectors")])
    memory.close()
    server.embedding_fault = "dimension"
    reopened = Memory.open(settings)
    try:
        with pytest.raises(EmbeddingError, match="32 dimensions where the index holds 64"):
            reopened.remember_messages([message(60, "a vector of the wrong length", minutes=60)])
        assert reopened.vectors.count("g1") == 1 and pending(reopened) == 1
        with pytest.raises(EmbeddingError, match=f"{server.base_url} answered 32-dimensional vectors"):
            reopened.search("wrong length", "g1")
    finally:
        reopened.close()
