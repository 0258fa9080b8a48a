"""Bad input to `ingest` and `import-chat`, run as `python -m bot`: each bad item is one line naming it and the
fix, the rest of the batch goes on, and the exit code says whether something failed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.fakeopenai import FakeOpenAI
from tests.memory.test_openai_embeddings import server  # noqa: F401  (the fake OpenAI server fixture)


def cli(config: Path, data: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot` with this config and data dir, from the repository (as a person would run it)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "--data-dir", str(data), *argv],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300, check=False,
    )  # fmt: skip


def openai_config(tmp_path: Path, name: str, base_url: str, model: str) -> Path:
    path = tmp_path / name
    path.write_text(
        f"embeddings:\n  provider: openai\n  model: {model}\n  base_url: {base_url}\n  api_key_env: MB_INPUTS_KEY\n",
        encoding="utf-8",
    )
    return path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_first_ingest_whose_embedder_is_down_binds_no_model(tmp_path, server: FakeOpenAI):  # noqa: F811
    """An ingest that fails because the embedding server is not running leaves the memory bound to no model:
    the next run with another model embeds what was stored instead of asking for `memorybot reindex`."""
    env = {**os.environ, "MB_INPUTS_KEY": server.api_key}
    notes = tmp_path / "notes.txt"
    notes.write_text("The deploy key rotates every Friday.", encoding="utf-8")
    down = openai_config(tmp_path, "down.yaml", f"http://127.0.0.1:{closed_port()}/v1", "model-not-running")
    failed = cli(down, tmp_path / "data", "ingest", str(notes), env=env)
    assert failed.returncode == 1 and "embedding failed" in failed.stderr
    up = openai_config(tmp_path, "up.yaml", server.base_url, "text-embedding-3-small")
    stats = cli(up, tmp_path / "data", "stats", "--json", env=env)
    assert stats.returncode == 0, stats.stderr
    held = json.loads(stats.stdout)
    assert held["embedding_model"] == "openai:text-embedding-3-small"
    assert held["guilds"]["local"]["vectors"] == held["guilds"]["local"]["chunks"] == 1
