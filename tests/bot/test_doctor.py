"""`memorybot doctor` as a real process: one line per check, each failure with its fix, exit 1 on any failure;
against the fake Discord and the fake OpenAI server for the endpoints."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from memory import Memory
from memory.lock import DataDirLock
from tests.fakediscord import FakeDiscord
from tests.fakeopenai import FakeOpenAI

# Shaped like a bot token (base64 of a user id, a timestamp part, an HMAC part); not a real one.
TOKEN = base64.b64encode(b"123456789012345678").decode().rstrip("=") + ".GxYz12.abcdefghijklmnopqrstuvwxyz0123456789AB"
TOKEN_FIX = "      fix: set DISCORD_TOKEN (Discord developer portal -> Bot -> Reset Token)"


async def doctor(tmp_path: Path, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`python -m bot ... doctor` in `tmp_path` (no ./config.yaml unless a test writes one), without the caller's
    Discord or OpenAI secrets unless given; the event loop keeps serving the fakes meanwhile."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "OPENAI_API_KEY"}}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *argv, cwd=tmp_path, env={**clean, "HF_HUB_OFFLINE": "1", **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def line(out: str, name: str) -> str:
    """The line of one check, e.g. `FAIL  llm: ...`."""
    found = [text for text in out.splitlines() if text[6:].startswith(f"{name}:")]
    assert len(found) == 1, out
    return found[0]


def fix_of(out: str, name: str) -> str:
    """The fix printed under a check's line ("" when none)."""
    lines = out.splitlines()
    after = lines[lines.index(line(out, name)) + 1 :]
    return after[0].removeprefix("      fix: ") if after and after[0].startswith("      fix: ") else ""


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fakes():
    discord_fake, llm = FakeDiscord(token=TOKEN), FakeOpenAI()
    await discord_fake.start()
    await llm.start()
    yield discord_fake, llm
    await llm.stop()
    await discord_fake.stop()


def write_config(tmp_path: Path, discord_fake: FakeDiscord, llm: FakeOpenAI, **overrides: str) -> Path:
    """A config.yaml pointing Discord, the embeddings and the LLM at the fakes."""
    values = {"embeddings_model": "fake-embedding", "llm_url": llm.base_url}
    values |= overrides
    config = tmp_path / "config.yaml"
    config.write_text(
        f"discord:\n  api_base_url: {discord_fake.api_base}\n"
        f"storage:\n  data_dir: data\n"
        f"embeddings:\n  provider: openai\n  base_url: {llm.base_url}\n  model: {values['embeddings_model']}\n"
        f"llm:\n  base_url: {values['llm_url']}\n  model: fake-model\n",
        encoding="utf-8",
    )
    return config


SECRETS = {"DISCORD_TOKEN": TOKEN, "OPENAI_API_KEY": "sk-fake"}


async def remember_a_file(tmp_path: Path) -> None:
    """`memorybot ingest` of one file through the fake OpenAI embeddings (so the index has vectors)."""
    (tmp_path / "notes.md").write_text("# Deploys\n\nThe deploy key rotates every Friday.", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "ingest", "notes.md", cwd=tmp_path, env={**os.environ, **SECRETS},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, err.decode()


async def test_all_good_against_the_fakes_exits_0_and_never_prints_the_token(fakes, tmp_path):
    """With --discord and everything pointed at the fakes: every check is ok (login, intents, embeddings through
    the endpoint, the index's vectors matching its chunks, the LLM listing its model) and the exit code is 0."""
    discord_fake, llm = fakes
    write_config(tmp_path, discord_fake, llm)
    await remember_a_file(tmp_path)
    code, out, err = await doctor(tmp_path, "doctor", "--discord", env=SECRETS)
    assert code == 0, out + err
    assert "FAIL" not in out and "warn" not in out
    assert line(out, "config").startswith("ok    config: ") and str(tmp_path / "config.yaml") in out
    assert "shaped like the token of bot user 123456789012345678" in line(out, "discord token")
    assert line(out, "discord login") == f"ok    discord login: logged in as memorybot ({discord_fake.bot_user_id})"
    assert line(out, "discord intents").startswith("ok    ")
    assert line(out, "embedding model").startswith("ok    embedding model: fake-embedding at ")
    assert line(out, "vector index") == "ok    vector index: 1 vectors for 1 embedded chunks in 1 guilds"
    assert line(out, "llm") == f"ok    llm: fake-model at {llm.base_url} answers"
    assert out.splitlines()[-1] == "all 9 checks passed"
    assert TOKEN not in out + err and "sk-fake" not in out + err
    me = [r for r in discord_fake.requests if r.path == "/users/@me"]
    assert me and me[0].headers["Authorization"] == f"Bot {TOKEN}"


async def test_missing_token_fails_with_its_fix_and_the_other_checks_still_run(tmp_path):
    """No token, no config, no network: the token check fails with the portal fix, every other check still runs
    (the local model embeds without torch), and the exit code is 1."""
    code, out, _ = await doctor(tmp_path, "doctor")
    assert code == 1
    assert line(out, "discord token") == "FAIL  discord token: DISCORD_TOKEN is not set"
    assert out.splitlines()[out.splitlines().index(line(out, "discord token")) + 1] == TOKEN_FIX
    assert line(out, "config") == "ok    config: no config file: the defaults are used"
    for name in ("data dir", "disk", "embedding model", "vector index", "llm"):
        assert line(out, name).startswith("ok    "), name
    assert "all-MiniLM-L6-v2 embeds a text through" in line(out, "embedding model")
    assert out.splitlines()[-1] == "1 of 7 checks failed (Discord login not tried: add --discord)"


@pytest.mark.parametrize("token", ["not-a-token", "Bot " + TOKEN, "abc.def.ghi"])
async def test_a_token_not_shaped_like_a_bot_token_fails_without_being_printed(tmp_path, token):
    """A value that is not three dot-separated base64 parts (starting with the bot's user id) fails, unprinted."""
    code, out, err = await doctor(tmp_path, "doctor", env={"DISCORD_TOKEN": token})
    assert code == 1
    assert line(out, "discord token").startswith("FAIL  discord token: DISCORD_TOKEN ")
    assert "DISCORD_TOKEN" in fix_of(out, "discord token")
    assert token not in out + err


async def test_a_bad_config_fails_naming_the_key_and_the_file(tmp_path):
    """An unknown key: the config check fails naming the key, with the file to correct, and exit 1."""
    (tmp_path / "config.yaml").write_text("embeddings:\n  provder: local\n", encoding="utf-8")
    code, out, err = await doctor(tmp_path, "doctor", "--json")
    assert code == 1 and "Traceback" not in err
    report = json.loads(out)
    assert report["ok"] is False
    config = report["checks"][0]
    assert config["name"] == "config" and config["status"] == "FAIL"
    assert "embeddings.provder: unknown key" in config["detail"]
    assert config["fix"] == "correct config.yaml as the message says"


@pytest.mark.parametrize("where", ["a-file", "a-file/data"])
async def test_an_unusable_data_dir_fails_with_its_fix(tmp_path, where):
    """A data dir that is a file, or cannot be made because its parent is a file, fails (exit 1) with the fix;
    its index is then not read."""
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    code, out, _ = await doctor(tmp_path, "--data-dir", str(tmp_path / where), "doctor", env={"DISCORD_TOKEN": TOKEN})
    assert code == 1
    assert line(out, "data dir").startswith(f"FAIL  data dir: {tmp_path / where} ")
    assert fix_of(out, "data dir") == "point storage.data_dir (or --data-dir) at a folder this user may write"
    assert line(out, "vector index").startswith("warn  vector index: not checked")


async def test_a_data_dir_in_use_by_a_running_bot_is_a_note_not_a_failure(tmp_path):
    """While another process holds the data dir's lock, doctor says so (with its PID), leaves the index alone and
    still exits 0."""
    (tmp_path / "data").mkdir()
    lock = DataDirLock(tmp_path / "data")
    lock.acquire()
    try:
        code, out, _ = await doctor(tmp_path, "--data-dir", "data", "doctor", env={"DISCORD_TOKEN": TOKEN})
    finally:
        lock.release()
    assert code == 0, out
    assert f"in use by a running memorybot (PID {os.getpid()})" in line(out, "data dir")
    assert line(out, "data dir").startswith("ok    ")
    assert line(out, "vector index").startswith(f"warn  vector index: not checked while memorybot (PID {os.getpid()})")


async def test_an_unreachable_llm_fails_with_the_url_tried(tmp_path):
    """llm.base_url where nothing listens: the LLM check fails naming the URL it tried, with the fix; exit 1."""
    url = f"http://127.0.0.1:{closed_port()}/v1"
    (tmp_path / "config.yaml").write_text(f"llm:\n  base_url: {url}\n", encoding="utf-8")
    code, out, _ = await doctor(tmp_path, "doctor", env={"DISCORD_TOKEN": TOKEN})
    assert code == 1
    assert line(out, "llm").startswith(f"FAIL  llm: GET {url}/models failed: ConnectError")
    assert fix_of(out, "llm") == "check llm.base_url and that the server runs"


async def test_an_llm_refusing_the_key_names_the_key_variable(fakes, tmp_path):
    """The fake LLM refuses a wrong key: the check fails naming OPENAI_API_KEY."""
    discord_fake, llm = fakes
    write_config(tmp_path, discord_fake, llm)
    code, out, _ = await doctor(tmp_path, "doctor", env={"DISCORD_TOKEN": TOKEN, "OPENAI_API_KEY": "sk-wrong"})
    assert code == 1
    assert "refused the key in OPENAI_API_KEY (set; HTTP 401)" in line(out, "llm")
    assert fix_of(out, "llm") == "set OPENAI_API_KEY to a key this endpoint accepts"
    assert "sk-wrong" not in out


async def test_openai_embeddings_unreachable_or_without_a_key_fail_with_the_url_and_key_hint(tmp_path):
    """Provider openai: an unset key fails naming OPENAI_API_KEY; an endpoint that does not answer fails with
    the URL tried."""
    url = f"http://127.0.0.1:{closed_port()}/v1"
    (tmp_path / "config.yaml").write_text(f"embeddings:\n  provider: openai\n  base_url: {url}\n", encoding="utf-8")
    code, out, _ = await doctor(tmp_path, "doctor", env={"DISCORD_TOKEN": TOKEN})
    assert code == 1
    assert line(out, "embedding model") == "FAIL  embedding model: OPENAI_API_KEY is not set"
    assert fix_of(out, "embedding model").startswith("set OPENAI_API_KEY to the endpoint's API key")
    code, out, _ = await doctor(tmp_path, "doctor", env={"DISCORD_TOKEN": TOKEN, "OPENAI_API_KEY": "sk-x"})
    assert code == 1
    assert line(out, "embedding model").startswith(f"FAIL  embedding model: POST {url}/embeddings failed: ")
    assert fix_of(out, "embedding model") == "check embeddings.base_url and that the server runs"


async def test_a_local_model_that_is_not_shipped_fails(tmp_path):
    """The local provider with another model name fails with the setting to change."""
    (tmp_path / "config.yaml").write_text("embeddings:\n  model: all-mpnet-base-v2\n", encoding="utf-8")
    code, out, _ = await doctor(tmp_path, "doctor", env={"DISCORD_TOKEN": TOKEN})
    assert code == 1
    assert "ships all-MiniLM-L6-v2 only" in line(out, "embedding model")
    assert fix_of(out, "embedding model") == "set embeddings.model to all-MiniLM-L6-v2"


async def test_refused_intents_and_a_refused_token_fail_with_the_portal_fix(tmp_path):
    """--discord: a fake whose application has the privileged intents off fails the intents check; one that
    refuses the token fails the login. Both name the Developer Portal."""
    discord_fake, llm = FakeDiscord(privileged_intents_allowed=False, token=TOKEN), FakeOpenAI()
    await discord_fake.start()
    await llm.start()
    try:
        write_config(tmp_path, discord_fake, llm)
        code, out, _ = await doctor(tmp_path, "doctor", "--discord", env=SECRETS)
        assert code == 1
        assert line(out, "discord login").startswith("ok    ")
        assert line(out, "discord intents") == (
            "FAIL  discord intents: MESSAGE CONTENT and SERVER MEMBERS INTENT off for this application"
        )
        assert "Privileged Gateway Intents: switch on MESSAGE CONTENT INTENT" in fix_of(out, "discord intents")
        discord_fake.token = "another-token"
        code, out, _ = await doctor(tmp_path, "doctor", "--discord", env=SECRETS)
        assert code == 1
        refused = "FAIL  discord login: Discord refused the token in DISCORD_TOKEN (HTTP 401)"
        assert line(out, "discord login") == refused
        assert fix_of(out, "discord login") == "Discord developer portal -> Bot -> Reset Token"
    finally:
        await llm.stop()
        await discord_fake.stop()


async def test_lost_vectors_and_a_changed_model_fail_the_index_check_until_reindexed(fakes, tmp_path):
    """Vectors lost from the index (the record store says they were written) fail the index check with the
    reindex fix; after `memorybot reindex` it passes. A changed embedding model fails it too."""
    discord_fake, llm = fakes
    config = write_config(tmp_path, discord_fake, llm)
    await remember_a_file(tmp_path)
    with Memory.open(load_config(config)) as memory:
        memory.vectors.drop_guild("local")
    code, out, _ = await doctor(tmp_path, "doctor", env=SECRETS)
    assert code == 1
    assert line(out, "vector index") == "FAIL  vector index: guild local: 0 vectors where 1 were written"
    assert fix_of(out, "vector index").startswith("run `memorybot reindex --guild local`")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "reindex", cwd=tmp_path, env={**os.environ, **SECRETS},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await asyncio.wait_for(process.communicate(), 180)
    code, out, _ = await doctor(tmp_path, "doctor", env=SECRETS)
    assert code == 0 and line(out, "vector index").startswith("ok    vector index: 1 vectors"), out

    write_config(tmp_path, discord_fake, llm, embeddings_model="fake-embedding-2")
    code, out, _ = await doctor(tmp_path, "doctor", env=SECRETS)
    assert code == 1
    assert "built with the embedding model 'openai:fake-embedding'" in line(out, "vector index")
    assert fix_of(out, "vector index") == "run `memorybot reindex` to rebuild it with the configured model"


async def test_a_check_that_breaks_fails_alone_and_the_rest_still_run(tmp_path):
    """A record store that is not a SQLite file breaks the index check: it fails on its own line (the trace with
    -v) and the LLM check after it still runs."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "memory.sqlite3").write_bytes(b"this is not a database" * 100)
    code, out, err = await doctor(tmp_path, "-v", "--data-dir", "data", "doctor", env={"DISCORD_TOKEN": TOKEN})
    assert code == 1
    assert line(out, "vector index").startswith("FAIL  vector index: the check itself failed: DatabaseError: ")
    assert fix_of(out, "vector index") == "run with -v for the trace"
    assert line(out, "llm").startswith("ok    llm: ")
    assert "Traceback" in err and "the vector index check failed" in err
