"""Bad input to `ingest` and `import-chat`, run as `python -m bot`: each bad item is one line naming it and the
fix, the rest of the batch goes on, and the exit code says whether something failed."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.fakeopenai import FakeOpenAI
from tests.fakes import dce_export, dce_message
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


@pytest.fixture
def memorybot(tmp_path, server: FakeOpenAI):  # noqa: F811
    """`python -m bot` on a temporary data dir, embedding through the fake OpenAI server (no model to load)."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"embeddings:\n  provider: openai\n  model: text-embedding-3-small\n  base_url: {server.base_url}\n"
        "  api_key_env: MB_INPUTS_KEY\nlimits:\n  max_extracted_chars: 1000\n",
        encoding="utf-8",
    )
    env = {**os.environ, "MB_INPUTS_KEY": server.api_key}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return cli(config, tmp_path / "data", *argv, env=env)

    return run


def write_export(path: Path, channel: str, *texts: str) -> Path:
    items = [dce_message(f"{channel}{i}", text, timestamp=f"2024-03-01T10:{i // 60:02}:{i % 60:02}+00:00")
             for i, text in enumerate(texts)]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dce_export("900", channel, items)), encoding="utf-8")
    return path


def errors(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("memorybot: error:")]


def held_messages(memorybot) -> int:
    stats = memorybot("stats", "--json")
    assert stats.returncode == 0, stats.stderr
    return int(json.loads(stats.stdout)["guilds"]["900"]["messages"])


def test_a_deeply_nested_export_is_one_error_line_and_the_exports_after_it_are_imported(memorybot, tmp_path):
    """import-chat of three files, the middle one nested 100,000 deep: that one is a one-line error (exit 1), no
    traceback, and the exports before and after it are both remembered."""
    first = write_export(tmp_path / "a.json", "901", "We deploy on Fridays.")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    last = write_export(tmp_path / "c.json", "902", "The wiki moved to Notion.")
    done = memorybot("import-chat", str(first), str(deep), str(last))
    assert done.returncode == 1
    assert errors(done.stderr) == [f"memorybot: error: {deep}: cannot read as JSON (nested too deeply)"]
    assert held_messages(memorybot) == 2
    verbose = memorybot("-v", "import-chat", str(deep))
    assert verbose.returncode == 1 and "Traceback" in verbose.stderr and "RecursionError" in verbose.stderr


def test_import_chat_reads_the_exports_in_a_folder(memorybot, tmp_path):
    """import-chat FOLDER reads every *.json inside it, recursively (hidden ones and other files left out)."""
    folder = tmp_path / "exports"
    write_export(folder / "general.json", "901", "We deploy on Fridays.")
    write_export(folder / "2024" / "dev.json", "902", "The wiki moved to Notion.", "Lunch at noon.")
    write_export(folder / ".trash" / "old.json", "903", "never read")
    (folder / "notes.txt").write_text("not an export", encoding="utf-8")
    done = memorybot("import-chat", str(folder))
    assert done.returncode == 0, done.stderr
    assert errors(done.stderr) == []
    assert held_messages(memorybot) == 3


def test_missing_paths_are_named_once_and_exit_non_zero(memorybot, tmp_path):
    """A path that does not exist is one error line naming it once ("no such file or folder", not "cannot read
    as JSON"); ingest and import-chat exit 1 and still do the rest."""
    notes = tmp_path / "notes.txt"
    notes.write_text("The deploy key rotates every Friday.", encoding="utf-8")
    ingested = memorybot("ingest", "/nonexistent", str(notes), "--guild", "900", "--channel", "1", "--json")
    assert ingested.returncode == 1
    assert json.loads(ingested.stdout)["records"] == 1
    assert json.loads(ingested.stdout)["failed"] == [{"source": "/nonexistent", "reason": "no such file or folder"}]
    missing = tmp_path / "missing.json"
    imported = memorybot("import-chat", str(missing))
    assert imported.returncode == 1
    assert errors(imported.stderr) == [f"memorybot: error: {missing}: no such file or folder"]
    assert imported.stderr.count("missing.json") == 1


def test_ingest_of_a_chat_export_says_to_use_import_chat(memorybot, tmp_path):
    """ingest refuses a DiscordChatExporter export (it would store flattened JSON keys) with the command to use,
    exits 1, and ingests the other files."""
    export = write_export(tmp_path / "docs" / "general.json", "901", "We deploy on Fridays.")
    (tmp_path / "docs" / "notes.txt").write_text("The deploy key rotates every Friday.", encoding="utf-8")
    done = memorybot("ingest", str(tmp_path / "docs"), "--guild", "900", "--channel", "1")
    assert done.returncode == 1
    assert errors(done.stderr) == [
        f"memorybot: error: {export}: looks like a DiscordChatExporter export; use `memorybot import-chat FILE`"
    ]
    assert done.stderr.startswith("Remembered 1 new or changed record, 0 unchanged:")


def test_ingest_says_which_file_was_cut_and_how_much_was_kept(memorybot, tmp_path):
    """A text file longer than limits.max_extracted_chars is cut, and the summary says which and how much."""
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000, encoding="utf-8")  # 4,999 characters once the last space is stripped
    done = memorybot("ingest", str(big), "--guild", "900", "--channel", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[1:3] == [
        "Truncated 1:",
        f"  {big}: kept the first 1,000 of 4,999 characters (limits.max_extracted_chars)",
    ]


def test_reruns_are_summed_up_alike_and_counts_read_as_in_stats(memorybot, tmp_path):
    """Run again, ingest and import-chat say the same thing the same way (nothing new, N unchanged), and the
    token count reads with the same thousands separator in the ingest summary and in `stats`."""
    notes = tmp_path / "notes.md"
    notes.write_text("The deploy key rotates every Friday.", encoding="utf-8")
    texts = [f"deploy step {i} checks the signing key before the release train leaves" for i in range(120)]
    export = write_export(tmp_path / "general.json", "901", *texts)
    first = memorybot("import-chat", str(export))
    tokens = re.search(r"([\d,]+) tokens embedded", first.stderr)
    assert tokens and "," in tokens[1], first.stderr
    stats = memorybot("stats").stdout
    assert "guild 900 (Test Guild): 120 messages, 0 files, " in stats and f" {tokens[1]} tokens, " in stats, stats
    memorybot("ingest", str(notes), "--guild", "900", "--channel", "1")
    files = memorybot("ingest", str(notes), "--guild", "900", "--channel", "1").stderr.splitlines()[0]
    chat = memorybot("import-chat", str(export)).stderr.splitlines()[0]
    pattern = r"Remembered 0 new or changed records, ([\d,]+) unchanged: 0 chunks added, 0 removed, [\d,]+ unchanged, "
    assert re.match(pattern, files) and re.match(pattern, chat), (files, chat)
    assert (re.match(pattern, files)[1], re.match(pattern, chat)[1]) == ("1", "120")
