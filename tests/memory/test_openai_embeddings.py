"""The `openai` embeddings provider: the real langchain-openai client against the fake OpenAI server, offline."""

from __future__ import annotations

import socket

import pytest

from memory import Memory
from memory.settings import MemorySettings
from tests.fakeopenai import EMBEDDING_DIMENSIONS, FakeOpenAI
from tests.fakes import message


@pytest.fixture
def server():
    import asyncio
    import threading

    loop = asyncio.new_event_loop()
    fake = FakeOpenAI()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_openai_provider_embeds_through_the_endpoint_and_never_elsewhere(tmp_path, server, monkeypatch):
    """Chunks and queries are embedded by the configured endpoint; no connection leaves 127.0.0.1."""
    real_connect = socket.socket.connect

    def loopback_only(sock, address):
        assert str(address[0]).startswith("127."), f"connection to {address} attempted"
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    monkeypatch.setenv("MB_EMBED_KEY", server.api_key)
    settings = MemorySettings.model_validate({
        "storage": {"data_dir": str(tmp_path / "data")},
        "retrieval": {"min_relevance": -1.0},
        "embeddings": {"provider": "openai", "model": "text-embedding-3-small", "base_url": server.base_url,
                       "api_key_env": "MB_EMBED_KEY", "batch_size": 4},
    })  # fmt: skip
    memory = Memory.open(settings)
    try:
        memory.remember_messages([message(i * 60, f"topic {i} notes", minutes=i * 60) for i in range(6)])
        assert memory.identity == "openai:text-embedding-3-small"
        assert sum(len(r["input"]) for r in server.embedding_requests) == 6
        assert all(len(r["input"]) <= 4 for r in server.embedding_requests)
        hits = memory.search("topic 3 notes", "g1").hits
        assert hits and memory.vectors.count("g1") == 6
        assert (
            len(memory.vectors.vectors("g1", [hits[0].chunk.chunk_id])[hits[0].chunk.chunk_id]) == EMBEDDING_DIMENSIONS
        )
    finally:
        memory.close()
