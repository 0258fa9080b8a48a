"""The embedder is built on its first use: commands that embed nothing never import torch or need an API key,
the model is built once however many threads ask, and the bot builds it at start to fail early."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from memory import ConfigError, Memory
from memory.embeddings import LazyEmbeddings, close_embeddings
from memory.settings import EmbeddingSettings, MemorySettings
from tests.conftest import REPO
from tests.fakeopenai import FakeOpenAI
from tests.memory.test_openai_embeddings import server  # noqa: F401  (the fake OpenAI server fixture)

# Runs a command in a fresh interpreter and reports whether the heavy modules were imported.
PROBE = """
import json, sys
from bot.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "torch": "torch" in sys.modules,
                  "sentence_transformers": "sentence_transformers" in sys.modules}))
"""


def run_cli(*argv: str, env: dict[str, str] | None = None) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, cwd=REPO, env=env, timeout=120,
        check=False,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_stats_and_forget_load_no_model(tmp_path):
    """`stats` and `forget` on the shipped configuration import neither torch nor sentence-transformers."""
    base = ["--config", str(REPO / "config.yaml"), "--data-dir", str(tmp_path / "data")]
    stats = run_cli(*base, "stats", "--json")
    assert stats == {"code": 0, "torch": False, "sentence_transformers": False}
    forget = run_cli(*base, "forget", "--guild", "1", "--channel", "2")
    assert forget["code"] == 0 and forget["torch"] is False


def test_stats_with_the_openai_provider_needs_no_key(tmp_path):
    """With the openai embeddings provider and its key unset, `stats` still answers: the key is needed to embed."""
    config = tmp_path / "config.yaml"
    config.write_text(
        "embeddings:\n  provider: openai\n  model: text-embedding-3-small\n  api_key_env: MB_UNSET_KEY\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "MB_UNSET_KEY"}
    result = run_cli("--config", str(config), "--data-dir", str(tmp_path / "data"), "stats", "--json", env=env)
    assert result["code"] == 0


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
