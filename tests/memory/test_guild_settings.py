"""Per-guild settings in the memory library: validation, fallback to config.yaml, and retention expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from memory import FileDocument, GuildSettingError, Memory, MemorySettings
from tests.conftest import downgrade_store, files_containing, make_settings
from tests.fakes import START, HashEmbeddings, message


def held_text(memory: Memory, guild: str = "g1") -> str:
    return "\n".join(c.text for c in memory.stores.chunks.chunks(memory.stores.chunks.guild_chunk_ids(guild)).values())


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("visibility", "secret", "public or private"),
        ("max_sources", 0, "from 1 to 50"),
        ("max_sources", 51, "from 1 to 50"),
        ("max_sources", "three", "whole number"),
        ("budget", 99, "from 100 to"),
        ("budget", 10**9, "from 100 to"),
        ("min_relevance", 1.5, "from 0 to 1"),
        ("min_relevance", "nan", "from 0 to 1"),
        ("retention_days", -1, "from 0 to"),
        ("extra_instruction", "x" * 501, "at most 500 characters"),
        ("extra_instruction", "   ", "at most 500 characters"),
        ("model", "gpt-5-huge", "must be one of gpt-4o-mini"),
        ("colour", "blue", "unknown setting 'colour'"),
    ],
)
def test_invalid_values_are_refused_with_a_clear_message_and_not_stored(memory: Memory, key, value, says):
    with pytest.raises(GuildSettingError, match=says) as refused:
        memory.guild_settings.change("g1", {key: value})
    assert str(refused.value).startswith("Nothing was changed: ")
    assert memory.stores.guild_settings.values("g1") == {}


def test_every_bad_value_is_named_and_a_good_one_beside_them_is_not_stored(memory: Memory):
    """All the problems of one change come back at once, one line each, and the valid key is not stored either."""
    with pytest.raises(GuildSettingError) as refused:
        memory.guild_settings.change("g1", {"max_sources": 2, "min_relevance": 3.0, "model": "gpt-5-huge"})
    lines = str(refused.value).splitlines()
    assert lines[0] == "Nothing was changed: "
    assert [line.split(" must ")[0] for line in lines[1:]] == ["• min_relevance", "• model"]
    assert memory.stores.guild_settings.values("g1") == {}


def test_unset_keys_fall_back_to_config_and_set_ones_win_per_guild(tmp_path):
    settings = make_settings(
        tmp_path / "data", retrieval={"max_sources": 5, "budget": 900, "min_relevance": 0.1},
        llm={"model": "m-small", "allowed_models": ["m-small", "m-large"]}, storage={"retention_days": 30},
    )  # fmt: skip
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        base = memory.guild_settings.get("g1")
        assert (base.visibility, base.max_sources, base.budget, base.min_relevance) == ("public", 5, 900, 0.1)
        assert (base.retention_days, base.extra_instruction, base.model) == (30, None, "m-small")
        assert base.source("max_sources") == "config"
        now = memory.guild_settings.change("g1", {"max_sources": "3"})
        memory.guild_settings.change("g1", {"model": "m-large", "visibility": "Private"})
        memory.guild_settings.change("g1", {"extra_instruction": "  Answer in French.  "})
        assert now.max_sources == 3 and now.source("max_sources") == "server"
        got = memory.guild_settings.get("g1")
        assert (got.max_sources, got.model, got.private, got.extra_instruction) == (
            3,
            "m-large",
            True,
            "Answer in French.",
        )
        assert got.budget == 900 and got.source("budget") == "config"
        assert memory.guild_settings.get("g2") == base  # another guild is untouched
        assert memory.guild_settings.reset("g1", "max_sources") and memory.guild_settings.get("g1").max_sources == 5
        with pytest.raises(ValidationError):
            got.max_sources = 7  # frozen: the settings in force change only through `change` and `reset`
    # A model later dropped from the allow-list falls back to the default rather than failing.
    narrower = make_settings(tmp_path / "data", llm={"model": "m-small"})
    with Memory.open(narrower, embeddings=HashEmbeddings()) as memory:
        assert memory.guild_settings.get("g1").model == "m-small" and memory.guild_settings.get("g1").private


def test_a_version_6_store_renames_sources_and_context_tokens(tmp_path):
    """Settings stored under the old names (`sources`, `context_tokens`) are read under the new ones."""
    data = tmp_path / "data"
    with Memory.open(make_settings(data), embeddings=HashEmbeddings()) as memory:
        memory.stores.guild_settings.put("g1", {"sources": "4", "context_tokens": "700", "visibility": "private"})
    downgrade_store(data / "memory.sqlite3", 6)
    with Memory.open(make_settings(data), embeddings=HashEmbeddings()) as memory:
        got = memory.guild_settings.get("g1")
        assert (got.max_sources, got.budget, got.visibility) == (4, 700, "private")
        assert got.overridden == {"max_sources", "budget", "visibility"}


def test_old_config_names_still_work_with_a_warning(caplog):
    """retrieval.k, max_context_tokens and min_score are read as max_sources, budget and min_relevance."""
    with caplog.at_level("WARNING"):
        settings = MemorySettings.model_validate({"retrieval": {"k": 3, "max_context_tokens": 600, "min_score": 0.3}})
    retrieval = settings.retrieval
    assert (retrieval.max_sources, retrieval.budget, retrieval.min_relevance) == (3, 600, 0.3)
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert all(
        f"retrieval.{old} is now called retrieval.{new}" in warned
        for old, new in (("k", "max_sources"), ("max_context_tokens", "budget"), ("min_score", "min_relevance"))
    )
    with pytest.raises(ValidationError, match="same setting"):
        MemorySettings.model_validate({"retrieval": {"k": 3, "max_sources": 4}})


def test_expiry_erases_only_memory_older_than_the_guild_retention(memory: Memory, data_dir):
    memory.remember_messages([
        message(0, "OLD-REMARK-ALPHA about the boiler"),
        message(1, "recent remark about the boiler", minutes=60 * 24 * 20),
        message(2, "OLD-REMARK-OTHER-GUILD kept", guild="g2"),
    ])  # fmt: skip
    memory.ingest_files([
        FileDocument(guild_id="g1", channel_id="docs", source="/old.txt", filename="old.txt",
                     data=b"OLD-FILE-BETA contents", created_at=START.isoformat()),
        FileDocument(guild_id="g1", channel_id="docs", source="/new.txt", filename="new.txt",
                     data=b"recent file contents", created_at=(START + timedelta(days=20)).isoformat()),
    ])  # fmt: skip
    now = START + timedelta(days=25)
    assert memory.expire(now) == memory.expire(now)  # nothing set: kept forever, nothing erased
    assert "OLD-REMARK-ALPHA" in held_text(memory)
    memory.guild_settings.change("g1", {"retention_days": 10})
    report = memory.expire(now)
    assert (report.messages, report.files) == (1, 1) and report.chunks > 0
    text = held_text(memory)
    assert "OLD-REMARK-ALPHA" not in text and "OLD-FILE-BETA" not in text
    assert "recent remark" in text and "recent file" in text
    assert "OLD-REMARK-OTHER-GUILD" in held_text(memory, "g2")
    for needle in (b"OLD-REMARK-ALPHA", b"OLD-FILE-BETA"):
        assert files_containing(data_dir, needle) == []
    assert memory.expire(now).messages == 0  # idempotent


def test_expiry_and_catch_up_keep_to_the_guilds_they_are_given(memory: Memory):
    """A sharded bot's process expires and embeds only its own guilds' memory (`guilds=`): another process's guild
    in the same stores keeps its old messages and its chunks waiting for vectors, until a call that includes it."""
    memory.remember_messages([message(0, "OLD-MINE"), message(1, "OLD-THEIRS", guild="g2")])
    for guild in ("g1", "g2"):
        memory.guild_settings.change(guild, {"retention_days": 10})
        memory.stores.chunks.mark_guild_unembedded(guild)
    mine = {"g1"}.__contains__
    assert memory.catch_up(guilds=mine) > 0
    assert memory.stores.chunks.pending_chunks("g1") == [] and memory.stores.chunks.pending_chunks("g2") != []
    now = START + timedelta(days=25)
    assert memory.expire(now, guilds=mine).messages == 1
    assert "OLD-MINE" not in held_text(memory) and "OLD-THEIRS" in held_text(memory, "g2")
    assert memory.catch_up() > 0 and memory.stores.chunks.pending_chunks("g2") == []
    assert memory.expire(now).messages == 1 and "OLD-THEIRS" not in held_text(memory, "g2")
