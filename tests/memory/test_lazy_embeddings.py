"""The embedder is built on its first use: commands that embed nothing never import torch or need an API key (nor
chromadb or discord when they read no vector), the model is built once however many threads ask, and the bot builds
it at start to fail early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from memory import ConfigError, FileDocument, Memory
from memory.embeddings import LazyEmbeddings, close_embeddings
from memory.settings import EmbeddingSettings, MemorySettings
from tests.conftest import REPO
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings, message
from tests.memory.test_openai_embeddings import server  # noqa: F401  (the fake OpenAI server fixture)

# Runs a command in a fresh interpreter and reports which of the heavy modules were imported.
HEAVY = ("torch", "sentence_transformers", "transformers", "chromadb", "langchain_chroma", "discord")
PROBE = f"""
import json, sys
from bot.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as e:  # --help
    code = e.code
print(json.dumps({{"code": code, "imported": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""
LOCAL = "local:all-MiniLM-L6-v2"


def run_cli(*argv: str, env: dict[str, str] | None = None) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
        check=False,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def small_store(data_dir: Path, identity: str, dimensions: int) -> None:
    """A guild with chat and a file, embedded by a hashing stand-in that carries the configured model's name (so
    the command under test opens it as its own, and embeds nothing)."""
    embedder = HashEmbeddings(dimensions)
    embedder.identity = identity  # type: ignore[misc]
    settings = MemorySettings.model_validate({"storage": {"data_dir": str(data_dir)}})
    with Memory.open(settings, embeddings=embedder) as memory:
        memory.remember_messages(
            [message(i, f"the deploy key rotates on day {i}", guild="1", channel="2") for i in range(3)]
        )
        runbook = FileDocument(guild_id="1", channel_id="docs", source="/r.txt", filename="r.txt", data=b"Fridays.")
        memory.ingest_files([runbook])
        held = memory.stats().guilds["1"]
        assert held.messages == 3 and held.files == 1 and held.vectors == held.chunks


def test_stats_help_and_export_import_no_model_no_chroma_no_discord(tmp_path):
    """`stats`, `--help` and `eval-export` on a small store import neither torch, the model's libraries, chromadb
    nor discord: what they show is in SQLite."""
    small_store(tmp_path / "data", LOCAL, 384)
    base = ["--config", str(REPO / "config.yaml"), "--data-dir", str(tmp_path / "data")]
    stats = run_cli(*base, "stats", "--json")
    assert stats == {"code": 0, "imported": []}
    assert run_cli(*base, "--help") == {"code": 0, "imported": []}
    assert run_cli(*base, "eval-export", "--guild", "1") == {"code": 0, "imported": []}


def test_search_embeds_its_query_without_torch(tmp_path):
    """A one-shot `search` reads the vector index (chromadb, straight from the existing collection: no
    langchain-chroma store) but embeds its query without torch."""
    small_store(tmp_path / "data", LOCAL, 384)
    base = ["--config", str(REPO / "config.yaml"), "--data-dir", str(tmp_path / "data")]
    result = run_cli(*base, "search", "--guild", "1", "deploy key")
    assert result["code"] == 0
    assert set(result["imported"]) == {"chromadb"}


def forgotten_without_the_model(tmp_path: Path, *what: str) -> MemorySettings:
    """`memorybot forget --guild 1 WHAT` on a small store, checked to succeed without torch or the model's library;
    the settings that open the store again."""
    small_store(tmp_path / "data", LOCAL, 384)
    base = ["--config", str(REPO / "config.yaml"), "--data-dir", str(tmp_path / "data")]
    forget = run_cli(*base, "forget", "--guild", "1", *what)
    assert forget["code"] == 0
    assert "torch" not in forget["imported"] and "sentence_transformers" not in forget["imported"]
    return MemorySettings.model_validate({"storage": {"data_dir": str(tmp_path / "data")}})


def test_forget_erases_vectors_without_loading_the_model(tmp_path):
    """`forget` of a channel opens the vector index to delete its vectors, and loads no model."""
    settings = forgotten_without_the_model(tmp_path, "--channel", "2")
    with Memory.open(settings) as memory:
        assert memory.vectors.count("1") == 1  # the file's vector; the channel's chat passages are gone


def test_forget_of_one_message_re_embeds_its_window_without_torch(tmp_path):
    """`forget` of one message inside a conversation re-embeds the window it leaves (a few texts) with the query
    encoder: no torch, no model load; the window's passage no longer holds the message, and every chunk has its
    vector."""
    settings = forgotten_without_the_model(tmp_path, "--message", "1000001")
    reader = HashEmbeddings(384)
    reader.identity = LOCAL  # type: ignore[misc]
    with Memory.open(settings, embeddings=reader) as memory:
        held = memory.stats().guilds["1"]
        assert held.messages == 2 and held.vectors == held.chunks
        texts = [h.chunk.text for h in memory.search("deploy key rotates", "1", max_sources=10).hits]
        assert texts and not any("day 1" in t for t in texts)
        assert any("day 0" in t and "day 2" in t for t in texts)  # the window, made again without the message


def test_stats_with_the_openai_provider_needs_no_key(tmp_path):
    """With the openai embeddings provider and its key unset, `stats` still answers: the key is needed to embed."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "embeddings:\n  provider: openai\n  model: text-embedding-3-small\n  api_key_env: MB_UNSET_KEY\n",
        encoding="utf-8",
    )
    small_store(tmp_path / "data", "openai:text-embedding-3-small", 1536)
    env = {k: v for k, v in os.environ.items() if k != "MB_UNSET_KEY"}
    result = run_cli("--config", str(config), "--data-dir", str(tmp_path / "data"), "stats", "--json", env=env)
    assert result == {"code": 0, "imported": []}


def test_the_first_embedding_names_a_missing_key(tmp_path, monkeypatch):
    """Opening needs no key; remembering a message then fails with the error that names the variable."""
    monkeypatch.delenv("MB_UNSET_KEY", raising=False)
    settings = MemorySettings.model_validate({
        "storage": {"data_dir": str(tmp_path / "data")},
        "embeddings": {"provider": "openai", "model": "text-embedding-3-small", "api_key_env": "MB_UNSET_KEY"},
    })  # fmt: skip
    with Memory.open(settings) as memory:
        assert memory.identity == "openai:text-embedding-3-small"
        with pytest.raises(ConfigError, match="MB_UNSET_KEY"):
            memory.load_embedder()


def test_the_embedder_is_built_once_for_many_threads(server: FakeOpenAI, monkeypatch):  # noqa: F811
    """Eight threads embed at once through the fake OpenAI server: one embedder is built and every one answers."""
    monkeypatch.setenv("MB_EMBED_KEY", server.api_key)
    lazy = LazyEmbeddings(EmbeddingSettings(provider="openai", model="text-embedding-3-small",
                                            base_url=server.base_url, api_key_env="MB_EMBED_KEY"))  # fmt: skip
    assert lazy.built is None and lazy.identity == "openai:text-embedding-3-small"
    built: list[object] = []
    vectors: list[list[float]] = []
    start = threading.Barrier(8)

    def embed() -> None:
        start.wait()
        vectors.append(lazy.embed_query("the same words"))
        built.append(lazy.built)

    threads = [threading.Thread(target=embed) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    close_embeddings(lazy)
    assert len(vectors) == 8 and all(v == vectors[0] for v in vectors)
    assert len({id(b) for b in built}) == 1 and built[0] is not None
