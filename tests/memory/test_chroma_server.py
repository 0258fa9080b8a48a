"""Memorybot against a real Chroma server (`chroma run` on 127.0.0.1) with `storage.chroma.mode: http`, on either
record store; with PostgreSQL, several `Memory` objects share one memory at once (no data-dir lock)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory import FileDocument, Memory, MemorySettings
from memory.stores.chroma import PADDING, collection_name, placeholders_held
from tests.chroma_server import ChromaServer, chroma_server_fixture  # noqa: F401 (a fixture)
from tests.conftest import POSTGRES_RECORDS, make_settings
from tests.fakes import message


@pytest.fixture
def settings(
    tmp_path: Path, chroma_server: ChromaServer, backend: str, request: pytest.FixtureRequest
) -> MemorySettings:
    """Settings in http mode pointing at the test server, with a data dir of this test's own, on the test's record
    store (a fresh PostgreSQL database for postgres)."""
    storage: dict[str, object] = {"data_dir": str(tmp_path / "data"), "chroma": chroma_server.settings}
    if backend == "postgres":
        request.getfixturevalue("postgres_url")
        storage |= POSTGRES_RECORDS
    return make_settings(tmp_path / "data", storage=storage)


# `embeddings` and `memory` come from tests/conftest.py; `memory` picks up the http-mode `settings` above.


@pytest.fixture
def server(chroma_server: ChromaServer) -> Iterator[Any]:
    """A client of our own on the server, to look at what is stored there independently of the Memory."""
    import chromadb
    from chromadb.config import Settings

    quiet = Settings(anonymized_telemetry=False)
    client = chromadb.HttpClient(host=chroma_server.host, port=chroma_server.port, settings=quiet)
    yield client
    client.close()


@pytest.fixture
def guild() -> str:
    """A guild id of this test only: all tests share one server, and must not share its collections."""
    return f"g-{uuid.uuid4().hex[:12]}"


def doc(name: str, text: str, guild: str, channel: str = "docs") -> FileDocument:
    return FileDocument(guild_id=guild, channel_id=channel, source=f"/src/{name}", filename=name, data=text.encode())


def found(memory: Memory, query: str, guild: str) -> str:
    return "\n".join(h.chunk.text for h in memory.search(query, guild, max_sources=50).hits)


def held_ids(collection: Any) -> set[str]:
    """The chunk ids a collection holds: memorybot's padding placeholders (see memory.stores.chroma) left out."""
    return {i for i in collection.get(include=[])["ids"] if not i.startswith(PADDING)}


def chunk_count(collection: Any) -> int:
    return collection.count() - placeholders_held(collection)


def collections_on(server: Any) -> set[str]:
    return {getattr(c, "name", c) for c in server.list_collections()}


def test_messages_and_files_are_remembered_and_found_through_the_server(memory, embeddings, server, guild):
    """Messages and files go to the server's collection and search finds them by their vectors there."""
    messages = [message(i, f"line {i} about the PELICAN rollout", guild=guild) for i in range(5)]
    chat = memory.remember_messages(messages)
    files = memory.ingest_files([doc("runbook.md", "# Deploys\n\nThe deploy key rotates on FRIDAYS.", guild)])
    assert chat.records == 5 and chat.chunks_added >= 1
    assert files.records == 1 and files.chunks_added >= 1 and not files.skipped
    chunk_ids = set(memory.stores.chunks.guild_chunk_ids(guild))
    remote = server.get_collection(collection_name(guild))
    assert chunk_count(remote) == len(chunk_ids) == chat.chunks_added + files.chunks_added
    assert held_ids(remote) == chunk_ids
    assert "PELICAN" in found(memory, "PELICAN rollout", guild)
    assert "FRIDAYS" in found(memory, "deploy key FRIDAYS", guild)
    # The dense side on its own (a query answered by the server) ranks the file chunk first.
    file_chunk = next(c for c in memory.stores.chunks.chunks(list(chunk_ids)).values() if c.kind == "file")
    nearest = memory.vectors.query(guild, embeddings.embed_query("The deploy key rotates on FRIDAYS"), limit=1)
    assert nearest[0][0] == file_chunk.chunk_id and nearest[0][1] > 0.5
    hits = memory.search("deploy key FRIDAYS", guild, max_sources=5).hits
    assert hits[0].chunk.chunk_id == file_chunk.chunk_id and hits[0].similarity is not None


def test_two_guilds_get_two_collections_on_the_server_and_never_see_each_other(memory, server, guild):
    """Each guild has its own collection on the server and a search in one never returns the other's text."""
    other = f"{guild}-other"
    memory.remember_messages([message(1, "the AARDVARK budget is approved", guild=guild)])
    memory.remember_messages([message(1, "the BADGER budget is rejected", guild=other)])
    names = collections_on(server)
    assert {collection_name(guild), collection_name(other)} <= names
    assert collection_name(guild) != collection_name(other)
    assert chunk_count(server.get_collection(collection_name(guild))) == 1
    assert chunk_count(server.get_collection(collection_name(other))) == 1
    assert "AARDVARK" in found(memory, "budget AARDVARK BADGER", guild)
    assert "BADGER" not in found(memory, "budget AARDVARK BADGER", guild)
    assert "BADGER" in found(memory, "budget AARDVARK BADGER", other)
    assert "AARDVARK" not in found(memory, "budget AARDVARK BADGER", other)
    ours = held_ids(server.get_collection(collection_name(guild)))
    theirs = held_ids(server.get_collection(collection_name(other)))
    assert ours == set(memory.stores.chunks.guild_chunk_ids(guild))
    assert theirs == set(memory.stores.chunks.guild_chunk_ids(other))
    assert not ours & theirs


def test_forgetting_a_guild_drops_its_collection_on_the_server(memory, server, guild):
    """Forgetting a whole guild deletes its collection on the server and leaves another guild's alone."""
    other = f"{guild}-kept"
    memory.remember_messages([message(1, "the OCELOT plan", guild=guild), message(2, "the OCELOT date", guild=guild)])
    memory.ingest_files([doc("ocelot.txt", "OCELOT notes", guild)])
    memory.remember_messages([message(1, "the HERON plan", guild=other)])
    assert collection_name(guild) in collections_on(server)
    report = memory.forget(guild)
    assert report.messages == 2 and report.files == 1 and report.chunks >= 2
    names = collections_on(server)
    assert collection_name(guild) not in names
    assert collection_name(other) in names and chunk_count(server.get_collection(collection_name(other))) == 1
    assert found(memory, "OCELOT plan", guild) == ""
    assert "HERON" in found(memory, "HERON plan", other)
    # The guild can be remembered again afterwards: a fresh collection is created on the server.
    memory.remember_messages([message(3, "the OCELOT returns", guild=guild)])
    assert chunk_count(server.get_collection(collection_name(guild))) == 1
    assert "returns" in found(memory, "OCELOT returns", guild)


def test_reindex_rebuilds_the_vectors_on_the_server(memory, embeddings, server, guild):
    """Reindex replaces the guild's collection on the server with one that holds every chunk's fresh vector."""
    memory.remember_messages([message(i, f"line {i} of the WALRUS thread", guild=guild) for i in range(3)])
    memory.ingest_files([doc("walrus.md", "# Walrus\n\nThe WALRUS migration is due in May.", guild)])
    chunk_ids = sorted(memory.stores.chunks.guild_chunk_ids(guild))
    before = server.get_collection(collection_name(guild))
    before.delete(ids=chunk_ids[:1])  # damage the server's copy: reindex must restore it
    assert chunk_count(before) == len(chunk_ids) - 1
    embedded = embeddings.texts_embedded
    total = memory.reindex(guild)
    after = server.get_collection(collection_name(guild))
    assert total == len(chunk_ids)
    assert embeddings.texts_embedded - embedded == len(chunk_ids)
    assert after.id != before.id  # dropped and created again on the server
    assert chunk_count(after) == len(chunk_ids)
    stored = after.get(ids=chunk_ids, include=["embeddings"])
    chunks = memory.stores.chunks.chunks(chunk_ids)
    for chunk_id, vector in zip(stored["ids"], stored["embeddings"], strict=True):
        text = chunks[chunk_id].text
        expected = embeddings.embed_documents([f"walrus.md\n{text}" if chunks[chunk_id].kind == "file" else text])[0]
        assert [round(float(x), 5) for x in vector] == [round(x, 5) for x in expected]
    assert (after.metadata or {}).get("embedding_model") == embeddings.identity
    assert "WALRUS migration" in found(memory, "WALRUS migration May", guild)


def test_the_vectors_live_on_the_server_not_in_the_data_dir(settings, embeddings, server, chroma_server, guild):
    """In http mode the data dir holds no `chroma/` folder; the vectors are on the server and survive a reopen."""
    data_dir = Path(settings.storage.data_dir)
    with Memory.open(settings, embeddings=embeddings) as memory:
        memory.remember_messages([message(1, "the QUOKKA launch is on Tuesday", guild=guild)])
        memory.ingest_files([doc("quokka.txt", "QUOKKA checklist: tickets, docs, rollback.", guild)])
        count = len(memory.stores.chunks.guild_chunk_ids(guild))
    if settings.storage.records.backend == "sqlite":
        assert data_dir.is_dir() and (data_dir / "memory.sqlite3").is_file()
    else:  # PostgreSQL and a Chroma server hold it all: nothing is written to the data dir
        assert not data_dir.exists() or not any(data_dir.iterdir())
    assert not (data_dir / "chroma").exists()
    assert not list(data_dir.rglob("chroma.sqlite3"))
    assert list(chroma_server.path.rglob("chroma.sqlite3"))  # the server persists under its own --path
    assert chunk_count(server.get_collection(collection_name(guild))) == count == 2
    with Memory.open(settings, embeddings=embeddings) as memory:  # a reopen reads the vectors back from the server
        assert memory.stats(guild).as_json()["guilds"][guild]["vectors"] == 2
        assert "QUOKKA launch" in found(memory, "QUOKKA launch Tuesday", guild)
    assert not (data_dir / "chroma").exists()


def test_two_memories_on_one_postgres_and_one_chroma_server_share_everything_at_once(
    tmp_path, chroma_server, postgres_url, embeddings, guild
):
    """With PostgreSQL and a Chroma server nothing is locked: two `Memory` objects open at once (as two bot
    processes would) each find what the other remembered, and an opt-out made through one holds in the other."""
    storage = {"chroma": chroma_server.settings, **POSTGRES_RECORDS}
    first = Memory.open(make_settings(tmp_path / "one", storage=storage), embeddings=embeddings)
    second = Memory.open(make_settings(tmp_path / "two", storage=storage), embeddings=embeddings)
    try:
        first.remember_messages([message(1, "the QUOKKA launch moved to May", guild=guild)])
        second.remember_messages([message(2, "the WOMBAT audit is done", guild=guild, channel="c2")])
        assert "WOMBAT" in found(first, "WOMBAT audit", guild)
        assert "QUOKKA" in found(second, "QUOKKA launch", guild)
        assert not (tmp_path / "one" / "memorybot.lock").exists()
        first.opt_outs.add("u9")
        report = second.remember_messages([message(3, "the NUMBAT secret", guild=guild, author="u9")])
        assert report.chunks_added == 0
        assert "NUMBAT" not in found(first, "NUMBAT secret", guild)
        assert second.opt_outs.since("u9") is not None
    finally:
        first.close()
        second.close()
