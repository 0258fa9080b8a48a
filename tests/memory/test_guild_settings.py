"""Per-guild settings in the memory library: validation, fallback to config.yaml, and retention expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from memory import FileDocument, Memory
from memory.guild_settings import GuildSettingError
from tests.conftest import files_containing, make_settings
from tests.fakes import START, HashEmbeddings, message


def held_text(memory: Memory, guild: str = "g1") -> str:
    return "\n".join(c.text for c in memory.records.chunks(memory.records.guild_chunk_ids(guild)).values())


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("visibility", "secret", "public or private"),
        ("sources", 0, "from 1 to 20"),
        ("sources", 21, "from 1 to 20"),
        ("sources", "three", "whole number"),
        ("context_tokens", 99, "from 100 to"),
        ("context_tokens", 10**9, "from 100 to"),
        ("min_relevance", 1.5, "from 0 to 1"),
        ("min_relevance", "nan", "from 0 to 1"),
        ("retention_days", -1, "from 0 to"),
        ("extra_instruction", "x" * 501, "at most 500 characters"),
        ("model", "gpt-5-huge", "must be one of gpt-4o-mini"),
        ("colour", "blue", "unknown setting 'colour'"),
    ],
)
def test_invalid_values_are_refused_with_a_clear_message_and_not_stored(memory: Memory, key, value, says):
    with pytest.raises(GuildSettingError, match=says):
        memory.set_guild_setting("g1", key, value)
    assert memory.records.guild_settings("g1") == {}


def test_unset_keys_fall_back_to_config_and_set_ones_win_per_guild(tmp_path):
    settings = make_settings(
        tmp_path / "data", retrieval={"k": 5, "max_context_tokens": 900, "min_score": 0.1},
        llm={"model": "m-small", "allowed_models": ["m-small", "m-large"]}, storage={"retention_days": 30},
    )  # fmt: skip
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        base = memory.guild_settings("g1")
        assert (base.visibility, base.sources, base.context_tokens, base.min_relevance) == ("public", 5, 900, 0.1)
        assert (base.retention_days, base.extra_instruction, base.model) == (30, None, "m-small")
        assert base.source("sources") == "config"
        now = memory.set_guild_setting("g1", "sources", "3")
        memory.set_guild_setting("g1", "model", "m-large")
        memory.set_guild_setting("g1", "visibility", "Private")
        memory.set_guild_setting("g1", "extra_instruction", "  Answer in French.  ")
        assert now.sources == 3 and now.source("sources") == "server"
        got = memory.guild_settings("g1")
        assert (got.sources, got.model, got.private, got.extra_instruction) == (3, "m-large", True, "Answer in French.")
        assert got.context_tokens == 900 and got.source("context_tokens") == "config"
        assert memory.guild_settings("g2") == base  # another guild is untouched
        assert memory.clear_guild_setting("g1", "sources") and memory.guild_settings("g1").sources == 5
    # A model later dropped from the allow-list falls back to the default rather than failing.
    narrower = make_settings(tmp_path / "data", llm={"model": "m-small"})
    with Memory.open(narrower, embeddings=HashEmbeddings()) as memory:
        assert memory.guild_settings("g1").model == "m-small" and memory.guild_settings("g1").private


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
    memory.set_guild_setting("g1", "retention_days", 10)
    report = memory.expire(now)
    assert (report.messages, report.files) == (1, 1) and report.chunks > 0
    text = held_text(memory)
    assert "OLD-REMARK-ALPHA" not in text and "OLD-FILE-BETA" not in text
    assert "recent remark" in text and "recent file" in text
    assert "OLD-REMARK-OTHER-GUILD" in held_text(memory, "g2")
    for needle in (b"OLD-REMARK-ALPHA", b"OLD-FILE-BETA"):
        assert files_containing(data_dir, needle) == []
    assert memory.expire(now).messages == 0  # idempotent
