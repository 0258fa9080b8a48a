"""The Memory façade end to end on real SQLite and real embedded Chroma (hashing embedder)."""

from __future__ import annotations

import pytest

from memory import EmbeddingError, EmbeddingModelMismatchError, FileDocument, Memory, StoreLockedError
from memory.chunking import sort_key
from tests.conftest import files_containing, make_settings
from tests.fakes import HashEmbeddings, message


def doc(name: str, text: str, *, guild: str = "g1", channel: str = "docs", author: str | None = None) -> FileDocument:
    return FileDocument(guild_id=guild, channel_id=channel, source=f"/src/{name}", filename=name, data=text.encode(),
                        author_id=author)  # fmt: skip


def found(memory: Memory, query: str, guild: str = "g1", **kwargs) -> str:
    return "\n".join(h.chunk.text for h in memory.search(query, guild, max_sources=50, **kwargs).hits)


def vector_count(memory: Memory, guild: str = "g1") -> int:
    return memory.vectors.count(guild)


def chunk_count(memory: Memory, guild: str = "g1") -> int:
    return len(memory.stores.chunks.guild_chunk_ids(guild))


def test_ingesting_the_same_files_twice_changes_nothing(memory, embeddings):
    """A re-run stores no new chunk and embeds nothing again."""
    docs = [doc("a.md", "# Deploys\n\nThe deploy key rotates on Fridays."), doc("b.txt", "Budget notes " * 200)]
    first = memory.ingest_files(docs)
    embedded = embeddings.texts_embedded
    second = memory.ingest_files(docs)
    assert first.chunks_added > 0 and first.records == 2
    assert second.chunks_added == 0 and second.chunks_unchanged == first.chunks_added
    assert embeddings.texts_embedded == embedded
    assert chunk_count(memory) == vector_count(memory) == first.chunks_added


def test_a_changed_file_replaces_its_chunks(memory):
    """After a file changes, its old text is not found and its new text is; no stale vector remains."""
    memory.ingest_files([doc("plan.txt", "alpha ZEBRAWORD " * 300)])
    memory.ingest_files([doc("plan.txt", "beta GIRAFFEWORD")])
    assert "zebraword" not in found(memory, "ZEBRAWORD").lower()
    assert "GIRAFFEWORD" in found(memory, "GIRAFFEWORD")
    assert chunk_count(memory) == vector_count(memory) == 1


def test_chat_import_is_idempotent(memory, embeddings):
    """Remembering the same messages again changes no chunk and embeds nothing."""
    messages = [message(i, f"conversation line {i} about release planning") for i in range(30)]
    first = memory.remember_messages(messages)
    embedded = embeddings.texts_embedded
    ids = set(memory.stores.chunks.guild_chunk_ids("g1"))
    second = memory.remember_messages(messages)
    assert first.records == 30 and second.records == 0 and second.chunks_added == 0
    assert set(memory.stores.chunks.guild_chunk_ids("g1")) == ids
    assert embeddings.texts_embedded == embedded


def test_an_edit_changes_what_is_found_and_rechunks_only_its_windows(memory, embeddings):
    """Editing one message re-embeds the windows from it onwards only; the old text is gone."""
    messages = [message(i, f"line {i} " + "filler words " * 12) for i in range(60)]
    memory.remember_messages(messages)
    before = set(memory.stores.chunks.guild_chunk_ids("g1"))
    embedded = embeddings.texts_embedded
    edited = message(50, "the launch moved to MARCH-NINTH")
    report = memory.remember_messages([edited])
    after = set(memory.stores.chunks.guild_chunk_ids("g1"))
    assert report.records == 1
    assert "MARCH-NINTH" in found(memory, "MARCH-NINTH launch")
    assert "line 50 filler" not in found(memory, "line 50 filler words")
    assert len(before & after) > len(before) // 2  # early windows untouched
    assert embeddings.texts_embedded - embedded == report.chunks_added < len(before) // 2
    assert chunk_count(memory) == vector_count(memory)


def test_a_new_message_only_touches_the_last_window(memory):
    """Appending a message keeps every earlier window as it was."""
    memory.remember_messages([message(i, f"talk {i} " + "words " * 15) for i in range(40)])
    before = set(memory.stores.chunks.guild_chunk_ids("g1"))
    report = memory.remember_messages([message(41, "a brand new remark")])
    assert report.chunks_removed <= 1
    assert len(before - set(memory.stores.chunks.guild_chunk_ids("g1"))) <= 1


@pytest.mark.sqlite_only  # it reads the SQLite file itself (tests/memory/test_postgres_erasure.py: PostgreSQL's)
def test_delete_erases_the_message_from_every_window_and_the_disk(memory, data_dir):
    """A deleted message is in no chunk, no search result and no file under the data dir."""
    messages = [message(i, f"ordinary chatter {i} " + "words " * 10) for i in range(20)]
    messages[7] = message(7, "the secret code is MARKER-UNIQUE-7731")
    memory.remember_messages(messages)
    assert files_containing(data_dir, b"MARKER-UNIQUE-7731")
    report = memory.delete_messages("g1", [messages[7].message_id])
    assert report.messages == 1
    assert "MARKER" not in found(memory, "secret code MARKER-UNIQUE-7731")
    assert all(
        "1000007" not in c.message_ids
        for c in memory.stores.chunks.chunks(memory.stores.chunks.guild_chunk_ids("g1")).values()
    )
    assert "ordinary chatter 8" in found(memory, "ordinary chatter 8")
    assert files_containing(data_dir, b"MARKER-UNIQUE-7731") == []


def test_bulk_delete_removes_exactly_those_messages(memory):
    """Deleting 10 of 30 messages leaves the other 20 in memory."""
    messages = [message(i, f"note number{i} here") for i in range(30)]
    memory.remember_messages(messages)
    memory.delete_messages("g1", [m.message_id for m in messages[5:15]])
    remaining = {
        mid
        for c in memory.stores.chunks.chunks(memory.stores.chunks.guild_chunk_ids("g1")).values()
        for mid in c.message_ids
    }
    assert remaining == {m.message_id for m in messages[:5] + messages[15:]}


def test_forget_user_erases_their_messages_files_and_quotes(memory, data_dir):
    """Forgetting a user removes what they wrote, the files they uploaded and replies' quotes of them."""
    memory.remember_messages([
        message(0, "SECRETIVE-ALICE-PLAN is to ship on monday", author="alice"),
        message(1, "sounds good to me", author="bob", reply_to=0),
        message(90, "later remark by bob", author="bob", minutes=90),
    ])  # fmt: skip
    memory.ingest_files([doc("alice.txt", "ALICE-FILE-TEXT content", author="alice"), doc("bob.txt", "bob file")])
    vectors = vector_count(memory)
    report = memory.forget("g1", user_id="alice")
    assert report.messages == 1 and report.files == 1
    assert chunk_count(memory) == vector_count(memory) < vectors  # the file's vectors went with its chunks
    assert files_containing(data_dir, b"SECRETIVE-ALICE-PLAN") == []
    assert files_containing(data_dir, b"ALICE-FILE-TEXT") == []
    assert "sounds good to me" in found(memory, "sounds good")
    assert "bob file" in found(memory, "bob file")


def test_forget_channel_and_message(memory):
    """Forgetting a channel empties it; forgetting a message removes just that one."""
    memory.remember_messages([message(i, f"alpha {i}", channel="a") for i in range(5)])
    memory.remember_messages([message(10 + i, f"beta {i}", channel="b") for i in range(5)])
    assert memory.forget("g1", channel_id="a").messages == 5
    assert memory.stores.chunks.channels("g1") == ["b"]
    assert memory.forget("g1", message_id="1000012").messages == 1
    assert "beta 2" not in found(memory, "beta 2")
    assert "beta 3" in found(memory, "beta 3")


def test_channels_are_those_of_the_guild_that_hold_memory(memory):
    """`channels` lists each channel holding a guild's chunks once, sorted; another guild's channels, sorting
    between them, are not among them, and a guild with no memory has none."""
    for number, (guild, channel) in enumerate([("g1", "c3"), ("g2", "c2"), ("g1", "c1"), ("g1", "c3"), ("g2", "c4")]):
        memory.remember_messages([message(number, f"note {number}", guild=guild, channel=channel, minutes=90 * number)])
    assert memory.channels("g1") == ["c1", "c3"]
    assert memory.channels("g2") == ["c2", "c4"]
    assert memory.channels("g3") == []
    memory.forget("g1", channel_id="c1")
    assert memory.channels("g1") == ["c3"]


def test_forget_guild_drops_everything_of_that_guild_only(memory):
    """Forgetting a guild removes its records and collection, and leaves other guilds alone."""
    memory.remember_messages([message(i, f"one {i}", guild="g1") for i in range(5)])
    memory.remember_messages([message(i, f"two {i}", guild="g2") for i in range(5)])
    memory.forget("g1")
    assert memory.stores.records.guilds() == ["g2"]
    assert found(memory, "one", guild="g1") == ""
    assert "two" in found(memory, "two", guild="g2")


def test_guilds_never_see_each_others_memory(memory):
    """The same question in another guild finds nothing of the first guild's memory."""
    memory.remember_messages([message(i, f"guild one secret WALRUS-{i}", guild="A") for i in range(10)])
    memory.remember_messages([message(i, "unrelated chatter about lunch", guild="B") for i in range(10)])
    for hit in memory.search("WALRUS secret", "B", max_sources=50).hits:
        assert hit.chunk.guild_id == "B"
        assert "WALRUS" not in hit.chunk.text
    assert memory.search("WALRUS secret", "A").hits


def test_channel_filter_limits_results(memory):
    """Searching some channels never returns chunks of the others."""
    for channel in ("x", "y", "z"):
        memory.remember_messages([message(i, f"release notes {channel} {i}", channel=channel) for i in range(6)])
    hits = memory.search("release notes", "g1", channels=["x", "z"], max_sources=50).hits
    assert hits and {h.chunk.channel_id for h in hits} <= {"x", "z"}
    assert memory.search("release notes", "g1", channels=[], max_sources=50).hits == []


def test_pending_chunks_are_embedded_after_a_crash(settings, embeddings):
    """Chunks stored without vectors (a crash between SQLite and Chroma) are indexed on the next run."""
    memory = Memory.open(settings, embeddings=embeddings)
    memory.remember_messages([message(i, f"early {i}") for i in range(5)])
    ids = memory.stores.chunks.guild_chunk_ids("g1")
    memory.vectors.delete("g1", ids)
    memory.stores.chunks.mark_embedded(ids, embedded=False)
    memory.close()
    reopened = Memory.open(settings, embeddings=embeddings)
    try:
        assert reopened.catch_up() == len(ids)
        assert vector_count(reopened) == len(ids)
    finally:
        reopened.close()


def test_stale_windows_left_by_a_crash_are_rebuilt(memory):
    """Messages saved without their windows (a crash in between) get them on the next rebuild."""
    messages = [message(i, f"crash test {i}") for i in range(4)]
    memory.stores.records.save_messages([(m, sort_key(m), f"h{i}") for i, m in enumerate(messages)], {("g1", "c1"): ""})
    assert memory.stores.chunks.guild_chunk_ids("g1") == []
    memory.catch_up()
    assert memory.stores.chunks.stale_windows() == []
    assert "crash test 2" in found(memory, "crash test")


class FailingEmbeddings(HashEmbeddings):
    def embed_documents(self, texts):
        raise ConnectionError("endpoint down")


def test_embedding_failure_keeps_chunks_pending_for_retry(settings):
    """A failing embedder raises a clear error; the chunks stay in SQLite and are indexed later."""
    failing = Memory.open(settings, embeddings=FailingEmbeddings())
    with pytest.raises(EmbeddingError, match="endpoint down"):
        failing.remember_messages([message(0, "survives the outage")])
    assert failing.stores.chunks.pending_chunks()
    assert failing.stores.database.get_meta("embedding_model") is None  # no vector written: bound to no model
    failing.close()
    working = Memory.open(settings, embeddings=HashEmbeddings())
    try:
        assert working.catch_up() == 1
        assert "survives the outage" in found(working, "outage")
    finally:
        working.close()


class OtherModel(HashEmbeddings):
    identity = "test:other-model"


def test_a_different_embedding_model_is_refused_until_reindex(settings, embeddings):
    """Opening with another model fails naming `memorybot reindex`; reindex rebuilds and then it opens."""
    memory = Memory.open(settings, embeddings=embeddings)
    memory.remember_messages([message(i, f"remembered {i}") for i in range(5)])
    memory.close()
    with pytest.raises(EmbeddingModelMismatchError, match="memorybot reindex"):
        Memory.open(settings, embeddings=OtherModel())
    rebuilt = Memory.open(settings, embeddings=OtherModel(), allow_model_change=True)
    count = rebuilt.reindex()
    assert count == chunk_count(rebuilt) == vector_count(rebuilt)
    rebuilt.close()
    Memory.open(settings, embeddings=OtherModel()).close()


def test_a_second_owner_of_the_data_dir_is_refused(memory, settings):
    """A second open of the same data dir fails at once, naming the holder's PID."""
    with pytest.raises(StoreLockedError, match=r"in use by another memorybot process \(PID \d+\)"):
        Memory.open(settings, embeddings=HashEmbeddings())


def test_min_relevance_drops_unrelated_hits(tmp_path, embeddings):
    """With a similarity floor, a question sharing no words with memory finds nothing."""
    memory = Memory.open(make_settings(tmp_path / "d", retrieval={"min_relevance": 0.3}), embeddings=embeddings)
    try:
        memory.remember_messages([message(0, "database migration finished")])
        assert memory.search("banana smoothie recipe", "g1").hits == []
        assert memory.search("database migration", "g1").hits
    finally:
        memory.close()


def test_stats_count_records_chunks_and_vectors(memory):
    """Stats report messages, files, chunks, tokens and vectors per guild and channel."""
    memory.remember_messages([message(i, f"hello {i}") for i in range(3)])
    memory.ingest_files([doc("a.txt", "file text")])
    stats = memory.stats().as_json()
    guild = stats["guilds"]["g1"]
    assert guild["messages"] == 3 and guild["files"] == 1
    assert guild["chunks"] == guild["vectors"] == chunk_count(memory)
    assert set(guild["channels"]) == {"c1", "docs"}
    assert stats["embedding_model"] == "test:hash-256" and stats["disk_bytes"] > 0
