"""The `openai` embeddings provider: the real langchain-openai client against the fake OpenAI server, offline."""

from __future__ import annotations

import socket

import pytest

from memory import EmbeddingError, Memory
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


def _openai_settings(tmp_path, base_url: str) -> MemorySettings:
    return MemorySettings.model_validate({
        "storage": {"data_dir": str(tmp_path / "data")},
        "retrieval": {"min_relevance": -1.0},
        "embeddings": {"provider": "openai", "model": "nomic-embed-text", "base_url": base_url,
                       "api_key_env": "MB_UNSET_EMBED_KEY"},
    })  # fmt: skip


def test_a_local_endpoint_needs_no_api_key(tmp_path, server, monkeypatch):
    """With embeddings.base_url set (Ollama and the like) and no key in the environment, a placeholder key is sent."""
    monkeypatch.delenv("MB_UNSET_EMBED_KEY", raising=False)
    server.api_key = "not-needed"  # the fake checks the bearer: this is the placeholder arriving
    memory = Memory.open(_openai_settings(tmp_path, server.base_url))
    try:
        memory.remember_messages([message(0, "the runbook lives in the wiki")])
        assert memory.search("runbook", "g1").hits
        assert server.embedding_requests
    finally:
        memory.close()


def test_an_unreachable_endpoint_is_named_in_the_error(tmp_path, monkeypatch):
    """A connection error says which URL was tried and what to check."""
    monkeypatch.delenv("MB_UNSET_EMBED_KEY", raising=False)
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    memory = Memory.open(_openai_settings(tmp_path, url))
    try:
        with pytest.raises(EmbeddingError, match=f"the embeddings endpoint {url} could not be reached.*base_url"):
            memory.remember_messages([message(0, "the runbook lives in the wiki")])
    finally:
        memory.close()
