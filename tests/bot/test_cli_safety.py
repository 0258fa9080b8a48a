"""The command line refuses what it cannot use in one line: ids that are not ids, numbers out of range, data
directories it cannot write, unreadable batch files, an unreachable Discord; a whole guild is erased only when
confirmed; `--version` and every command's help."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import shutil
import signal
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.parser import build_parser
from bot.errors import StartupError
from bot.run import run_bot
from memory import Memory
from memory.settings import MemorySettings
from tests.bot.conftest import seed, world_settings
from tests.bot.test_cli import export, one_json, run  # noqa: F401  (fixtures: the in-process CLI, a chat export)
from tests.bot.test_run import fakes  # noqa: F401  (fixture: the fake Discord and OpenAI servers)
from tests.conftest import REPO
from tests.fakes import HashEmbeddings
from tests.memory.test_extract import make_pdf
from tests.memory.test_lazy_embeddings import LOCAL, small_store

GUILD = "1"  # small_store's guild: 3 messages and a file


def memorybot(*argv: str, stdin: int | None = subprocess.DEVNULL, env: dict[str, str] | None = None):
    """The real `python -m bot` process (stdin not a terminal unless given one); its completed run."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv], capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
        stdin=stdin, env=env,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path) -> list[str]:
    """A small store the shipped config opens without loading a model; the options that point at it."""
    small_store(tmp_path / "data", LOCAL, 384)
    return ["--config", str(REPO / "config.yaml"), "--data-dir", str(tmp_path / "data")]


def held_messages(tmp_path: Path) -> int:
    settings = MemorySettings.model_validate({"storage": {"data_dir": str(tmp_path / "data")}})
    with Memory.open(settings) as memory:
        guild = memory.stats(GUILD).guilds.get(GUILD)
        return guild.messages if guild else 0


def usage_error(capsys, data_dir: Path, *argv: str) -> str:
    """Run `argv` as the command line does; it must stop with status 2 when parsed. Its stderr."""
    with pytest.raises(SystemExit) as stopped:
        main(["--data-dir", str(data_dir), *argv], embeddings=HashEmbeddings())
    assert stopped.value.code == 2
    return capsys.readouterr().err


def test_forgetting_a_whole_guild_from_a_script_needs_yes(store, tmp_path):
    """Without a terminal to ask on, `forget --guild G` alone erases nothing and says to add --yes; with it, it does."""
    refused = memorybot(*store, "forget", "--guild", GUILD)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        f"memorybot: error: forget --guild {GUILD} alone erases the whole guild; add --yes to confirm "
        "(stdin is not a terminal, so it cannot ask)"
    ]
    assert held_messages(tmp_path) == 3
    done = memorybot(*store, "forget", "--guild", GUILD, "--yes", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["messages"] == 3
    assert held_messages(tmp_path) == 0


def answer_on_a_terminal(argv: list[str], answer: bytes) -> tuple[int, str]:
    """Run memorybot with a pseudo-terminal as stdin, type `answer` once it asks; its exit status and stderr."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *argv], stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=REPO,
        )  # fmt: skip
        os.write(controller, answer)  # kept by the terminal until the process reads its line
        _, err = process.communicate(timeout=120)
    finally:
        os.close(controller)
        os.close(terminal)
    return process.returncode, err.decode()


def test_forgetting_a_whole_guild_on_a_terminal_asks_first(store, tmp_path):
    """On a terminal it asks with the counts; anything but y erases nothing (status 1), y erases the guild."""
    code, err = answer_on_a_terminal([*store, "forget", "--guild", GUILD], b"\n")
    assert code == 1
    assert f"erase everything remembered of guild {GUILD} (3 messages, 1 file)? [y/N] " in err
    assert "Nothing erased." in err and held_messages(tmp_path) == 3
    code, err = answer_on_a_terminal([*store, "forget", "--guild", GUILD], b"y\n")
    assert code == 0 and held_messages(tmp_path) == 0


def test_ctrl_c_at_the_question_is_one_line_and_status_130(store, tmp_path):
    """Ctrl-C while forget waits for its answer: "interrupted", exit status 130 (128 + SIGINT), nothing erased."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *store, "forget", "--guild", GUILD], stdin=terminal,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
        )  # fmt: skip
        assert process.stderr is not None
        asked = b""
        while b"[y/N]" not in asked:  # the question is the last thing written before it waits
            chunk = process.stderr.read1(1024)
            assert chunk, asked
            asked += chunk
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        os.close(controller)
        os.close(terminal)
    assert process.returncode == 130
    assert err.decode().strip().splitlines() == ["memorybot: interrupted"]
    assert held_messages(tmp_path) == 3


def test_forgetting_a_channel_or_a_user_asks_nothing(store, tmp_path):
    """Only a whole guild is confirmed: a user's messages go at once, from a script too."""
    done = memorybot(*store, "forget", "--guild", GUILD, "--user", "501", "--json")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["forget", "--guild", "1", "--user", "notanumber"],
         "argument --user: 'notanumber' is not a Discord id (digits only, e.g. 123456789012345678)"),
        (["forget", "--guild", "1", "--message", "-5"], "argument --message: '-5' is not a Discord id"),
        (["forget", "--guild", "g1"], "argument --guild: 'g1' is not a Discord id (digits only, e.g. "
         "123456789012345678) nor local"),
        (["search", "x", "--channel", "#general"], "argument --channel: '#general' is not a Discord id"),
        (["ingest", "docs", "--channel", "0"], "argument --channel: '0' is not a Discord id"),
        (["import-chat", "x.json", "--guild", "my server"], "argument --guild: 'my server' is not a Discord id"),
        (["search", "x", "-k", "0"], "argument -k/--max-sources: must be a whole number from 1 to 200, not '0'"),
        (["ask", "x", "-k", "201"], "argument -k/--max-sources: must be a whole number from 1 to 200, not '201'"),
        (["search", "x", "--budget", "-5"], "argument --budget: must be a whole number of at least 1, not -5"),
        (["ask", "x", "--budget", "lots"], "argument --budget: must be a whole number of at least 1, not 'lots'"),
        (["search", "x", "--min-relevance", "7"], "argument --min-relevance: must be a number from -1 to 1, not '7'"),
    ],
)  # fmt: skip
def test_ids_and_numbers_are_checked_when_parsed(capsys, tmp_path, argv, said):
    """A bad id or an out-of-range number is a usage error (status 2) that names the option and what it takes."""
    assert said in usage_error(capsys, tmp_path / "data", *argv)
    assert not (tmp_path / "data").exists()  # refused before anything was opened


def test_the_ids_the_demo_and_the_defaults_use_are_accepted(run, export):  # noqa: F811
    """Snowflakes, short numeric ids (as in exports and tests) and `local`, the id given when none is, all work."""
    assert run("import-chat", str(export), "--guild", "900000000000000001")[0] == 0
    assert run("search", "SQLite", "--guild", "900000000000000001", "--channel", "901", "--json")[0] == 0
    assert run("search", "SQLite", "--guild", "local", "--channel", "local", "--json")[0] == 0
    assert run("forget", "--guild", "900000000000000001", "--user", "502", "--message", "12")[0] == 0


def test_a_command_that_ingests_nothing_leaves_the_last_ingest_time(run, export, tmp_path):  # noqa: F811
    """`stats` and `search` catch up before they run; with nothing to rebuild, "last ingest" keeps its time."""
    run("import-chat", str(export))
    settings = MemorySettings.model_validate({"storage": {"data_dir": str(tmp_path / "data")}})
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        memory.stores.database.set_meta("last_ingest_at", "2000-01-01T00:00:00+00:00")
    run("search", "SQLite", "--guild", "900")
    run("stats")
    assert one_json(run("stats", "--json")[1])["last_ingest_at"] == "2000-01-01T00:00:00+00:00"
    run("import-chat", str(export))  # an ingest, even of what is already remembered, is one
    assert one_json(run("stats", "--json")[1])["last_ingest_at"] != "2000-01-01T00:00:00+00:00"


def test_a_data_dir_that_is_a_file_is_one_line_and_v_shows_the_trace(tmp_path):
    """`--data-dir` naming a file: one line saying so and what to give instead, status 1; `-v` adds the trace."""
    (tmp_path / "data").write_text("not a folder", encoding="utf-8")
    done = memorybot("--data-dir", str(tmp_path / "data"), "stats")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"memorybot: error: cannot use the data directory {tmp_path / 'data'}: it is a file, not a folder; "
        "give --data-dir (or storage.data_dir) a folder this user can write"
    ]
    traced = memorybot("-v", "--data-dir", str(tmp_path / "data"), "stats")
    assert traced.returncode == 1 and "Traceback" in traced.stderr and "FileExistsError" in traced.stderr
    assert traced.stderr.strip().splitlines()[-1] == done.stderr.strip()


def test_a_vector_index_folder_that_is_a_file_is_one_line(store, tmp_path):
    """`data/chroma` replaced by a file: a search is one line naming the folder and the way out, status 1 (it was
    chromadb's raw `InternalError: File exists` traceback)."""
    chroma = tmp_path / "data" / "chroma"
    shutil.rmtree(chroma)
    chroma.write_text("not a folder", encoding="utf-8")
    done = memorybot("--data-dir", str(tmp_path / "data"), "search", "deploy key", "--guild", "1")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    said = done.stderr.strip().splitlines()
    assert len(said) == 1 and said[0].startswith(f"memorybot: error: the vector index in {chroma} cannot be opened")
    assert said[0].endswith("move it away and run `memorybot reindex` (it is rebuilt from SQLite)")


def unwritable(tmp_path: Path) -> Path:
    """A folder this process may not create anything in (root ignores permission bits: sysfs refuses it too)."""
    if os.geteuid() == 0:
        return Path("/sys/memorybot-test")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return locked / "data"


def test_a_data_dir_that_cannot_be_written_is_one_line(tmp_path):
    """No permission to make the data directory or its lock: one line naming it, status 1, no trace."""
    data = unwritable(tmp_path)
    done = memorybot("--data-dir", str(data), "stats")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"memorybot: error: cannot use the data directory {data}: {os.strerror(1 if os.geteuid() == 0 else 13)}; "
        "give --data-dir (or storage.data_dir) a folder this user can write"
    ]


def test_a_missing_batch_file_is_one_line(run, tmp_path):  # noqa: F811
    """`search --batch` of a file that is not there: one line naming it, status 1."""
    code, out, err = run("search", "--batch", str(tmp_path / "nope.jsonl"))
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        f"memorybot: error: --batch {tmp_path / 'nope.jsonl'}: cannot read it: No such file or directory"
    ]


def test_a_batch_line_that_is_not_utf8_is_that_lines_error(run, export, tmp_path):  # noqa: F811
    """A line that is not UTF-8 gets an error object saying so; the lines around it are still answered; status 1."""
    run("import-chat", str(export))
    good = json.dumps({"query": "SQLite", "guild": "900"}).encode()
    batch = tmp_path / "queries.jsonl"
    batch.write_bytes(good + b"\n" + b'{"query": "caf\xe9"}\n' + good + b"\n")
    code, out, _ = run("search", "--batch", str(batch))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(lines) == 3
    assert lines[0]["results"] and lines[2]["results"]
    assert lines[1] == {"error": "line 2: not UTF-8 text (byte 15): save the file as UTF-8", "results": []}


def test_a_parsers_own_warnings_name_the_file(tmp_path, capfd):
    """pypdf's warnings about a damaged PDF (from the parsing worker) come prefixed with their logger and the
    file's name, never as bare lines; the file is still remembered."""
    pdf = make_pdf([["the quarterly deploy review"]])
    pointer = pdf.rindex(b"startxref")
    (tmp_path / "review.pdf").write_bytes(pdf[:pointer] + b"startxref\n99999\n%%EOF\n")  # a wrong xref offset
    argv = ["--data-dir", str(tmp_path / "data"), "ingest", str(tmp_path / "review.pdf"), "--json"]
    assert main(argv, embeddings=HashEmbeddings()) == 0
    out, err = capfd.readouterr()
    assert one_json(out)["records"] == 1
    warned = [line for line in err.splitlines() if line.strip()]
    assert any("incorrect startxref pointer" in line for line in warned), err
    assert all(line.startswith("WARNING pypdf._reader: review.pdf: ") for line in warned), err


def test_a_batch_lines_ids_are_checked_as_the_options_are(run, export, tmp_path):  # noqa: F811
    """A batch line's guild or channels that are not ids are that line's error; a JSON number is an id."""
    run("import-chat", str(export))
    batch = tmp_path / "queries.jsonl"
    lines = [{"query": "SQLite", "guild": "my server"}, {"query": "SQLite", "guild": 900, "channels": ["#dev"]},
             {"query": "SQLite", "guild": 900, "channels": [901]}, {"query": "SQLite", "channels": "901"}]  # fmt: skip
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    code, out, _ = run("search", "--batch", str(batch))
    answers = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(answers) == 4
    assert answers[0]["error"] == (
        "line 1: guild: 'my server' is not a Discord id (digits only, e.g. 123456789012345678) nor local"
    )
    assert answers[1]["error"].startswith("line 2: channels: '#dev' is not a Discord id")
    assert answers[2]["results"] and {r["channel_id"] for r in answers[2]["results"]} == {"901"}
    assert answers[3]["error"] == "line 4: channels: expected a list of channel ids, not '901'"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_run_with_discord_unreachable_is_one_line(tmp_path, capsys, monkeypatch):
    """`memorybot run` that cannot reach Discord's API: one line naming the URL tried and what to check, status 1."""
    monkeypatch.setenv("DISCORD_TOKEN", "a-token")
    url = f"http://127.0.0.1:{closed_port()}/api/v10"
    config = tmp_path / "config.yaml"
    config.write_text(f"discord:\n  api_base_url: {url}\n", encoding="utf-8")
    code = main(["--config", str(config), "--data-dir", str(tmp_path / "data"), "run"], embeddings=HashEmbeddings())
    err = capsys.readouterr().err
    assert code == 1
    port = url.split(":")[2].split("/")[0]
    assert err.strip().splitlines() == [
        f"memorybot: error: cannot reach Discord at {url} (Connect call failed ('127.0.0.1', {port})): "
        "check the network connection, DNS, a proxy or firewall, and discord.api_base_url in the config"
    ]


def test_run_with_the_chroma_server_unreachable_is_one_line(tmp_path, capsys, monkeypatch):
    """`memorybot run` on a Chroma server nobody runs stops before Discord: one line naming the address and the
    settings to check, status 1."""
    monkeypatch.setenv("DISCORD_TOKEN", "a-token")
    port = closed_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  chroma:\n    mode: http\n    host: 127.0.0.1\n    port: {port}\n", encoding="utf-8")
    code = main(["--config", str(config), "--data-dir", str(tmp_path / "data"), "run"], embeddings=HashEmbeddings())
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"memorybot: error: cannot reach the Chroma server at http://127.0.0.1:{port} (")
    assert err.strip().endswith("is it running? check storage.chroma.host, port and ssl")


async def test_run_with_an_error_answering_the_login_is_one_sentence(fakes, tmp_path, monkeypatch):  # noqa: F811
    """Discord answering the login with an HTTP error stops start-up with a StartupError naming the status."""
    fake, llm = fakes
    settings = world_settings(fake, llm, seed(fake), tmp_path / "data")
    monkeypatch.setenv("DISCORD_TOKEN", fake.token)
    fake.fail_next("GET", r"^/users/@me$", status=403)
    with pytest.raises(StartupError) as failed:
        await asyncio.wait_for(run_bot(settings, embeddings=HashEmbeddings()), 30)
    assert str(failed.value) == (
        f"Discord at {settings.discord.api_base_url} answered the login with HTTP 403: try again later "
        "(https://discordstatus.com), or check discord.api_base_url and any proxy"
    )


def test_version_comes_from_the_package_metadata():
    """`memorybot --version` prints the installed package's name and version."""
    done = memorybot("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"memorybot {version('memorybot')}" == "memorybot 0.1.0"


def test_every_option_has_help_and_every_command_an_example():
    """Each command's help has an example of it, and every option (but -h) says what it is."""
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands
    for name, command in [("memorybot", parser), *commands.items()]:
        assert name == "memorybot" or f"memorybot {name}" in command.epilog, name
        for action in command._actions:
            if action.dest != "help" and not isinstance(action.choices, dict):
                assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_run_help_says_what_it_needs():
    """`memorybot run --help` names the token variable, the config it reads and the intents to switch on."""
    done = memorybot("run", "--help")
    assert done.returncode == 0
    assert "DISCORD_TOKEN" in done.stdout and "discord.enabled_channels" in done.stdout
    assert "MESSAGE CONTENT" in done.stdout
