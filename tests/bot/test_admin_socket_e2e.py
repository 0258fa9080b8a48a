"""The running bot's admin socket: `memorybot` in another process looks into the memory the bot holds locked."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys

import aiohttp

from bot.admin_socket import SOCKET_NAME, AdminSocket
from bot.cli import main
from memory import Memory
from tests.bot.conftest import World, running_bot, seed, world_settings
from tests.conftest import REPO
from tests.fakediscord import FakeDiscord
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings

ANSWERED = f"(answered by the running bot, pid {os.getpid()})"


async def cli(world, *argv: str) -> tuple[int, str, str]:
    """`python -m bot` in a subprocess on the running bot's data dir (awaited: the bot must go on answering)."""
    config = world.settings.storage.data_dir.parent / "cli.yaml"
    config.write_text("retrieval:\n  min_relevance: 0.0\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "--data-dir", str(world.settings.storage.data_dir),
        *argv, cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def remember(world, text: str) -> None:
    await world.discord.user_sends_message(world["general"], world["alice"], text)
    await world.settle()


async def test_search_and_stats_are_answered_by_the_running_bot(world):
    """search --json and stats print what the memory holds, with a note on stderr naming the bot's pid."""
    await remember(world, "the on-call phone number is in the vault")
    code, out, err = await cli(world, "search", "on-call phone number", "--guild", world["guild"], "--json")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert "on-call phone number is in the vault" in results[0]["text"]
    assert results[0]["guild_id"] == world["guild"] and results[0]["channel_id"] == world["general"]
    assert results[0]["channel_name"] == "general"
    assert ANSWERED in err
    code, out, err = await cli(world, "stats", "--guild", world["guild"])
    assert code == 0, err
    assert f"guild {world['guild']} (Lighthouse): 1 message," in out
    assert f"channel {world['general']} (#general): 1 message," in out
    assert ANSWERED in err


async def test_ask_is_answered_by_the_running_bot_with_its_model(world):
    """ask prints the bot's language-model answer and its sources, as `memorybot ask` does."""
    await remember(world, "the deploy freeze starts on Friday")
    world.llm.reply = "The freeze starts on Friday [1]."
    code, out, err = await cli(world, "ask", "when does the deploy freeze start?", "--guild", world["guild"])
    assert code == 0, err
    # The channel's name as the bot stored it from Discord, next to its id.
    sources = f"Sources:\n[1] chat in #general ({world['general']}), "
    assert out.startswith("The freeze starts on Friday [1].\n\n" + sources)
    assert ANSWERED in err


async def test_a_guild_without_memory_names_the_guilds_that_have_some(world):
    """ask without --guild finds nothing, and stderr says which guild holds the memory."""
    await remember(world, "the deploy freeze starts on Friday")
    code, _, err = await cli(world, "ask", "when does the freeze start?")
    assert code == 0, err
    assert f"guild local remembers nothing; guilds with memory: {world['guild']} (Lighthouse, 1 message)" in err


async def test_writing_commands_are_refused_in_one_line(world, tmp_path):
    """ingest and forget exit 1 with one line: use the Discord commands or stop the bot; nothing is written."""
    note = tmp_path / "note.md"
    note.write_text("a file that must not be remembered", encoding="utf-8")
    for argv in (("ingest", str(note)), ("forget", "--guild", world["guild"])):
        code, out, err = await cli(world, *argv)
        assert code == 1 and out == ""
        assert err.count("\n") == 1, err
        assert f"while the bot (pid {os.getpid()}) holds" in err and "use the bot's Discord commands" in err
    assert world.memory.stats().guilds == {}
    batch = tmp_path / "queries.jsonl"
    batch.write_text('{"query": "file"}\n', encoding="utf-8")
    code, _, err = await cli(world, "search", "--batch", str(batch))
    assert code == 1 and "`memorybot search --batch` cannot run while the bot" in err and "stop the bot first" in err


async def test_the_socket_is_the_owners_only_replaces_a_stale_one_and_is_gone_after_the_bot(
    tmp_path, monkeypatch, capsys
):
    """A stale file at the socket's path is replaced at start, the socket has mode 0600, and it is removed when
    the bot stops; the CLI then opens the data dir itself and prints what the bot printed."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake, llm = FakeDiscord(), FakeOpenAI()
    await fake.start()
    await llm.start()
    try:
        ids = seed(fake)
        settings = world_settings(fake, llm, ids, tmp_path / "data")
        path = tmp_path / "data" / SOCKET_NAME
        path.parent.mkdir()
        path.write_text("left by a crash", encoding="utf-8")
        memory = Memory.open(settings, embeddings=HashEmbeddings())
        try:
            async with running_bot(settings, fake, memory) as bot:
                mode = path.stat().st_mode
                assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
                world = World(fake, llm, bot, memory, settings, ids)
                await remember(world, "the backup restore drill is on the first Monday")
                code, by_bot, err = await cli(
                    world, "search", "backup restore drill", "--guild", ids["guild"], "--json"
                )
                assert code == 0 and ANSWERED in err
            assert not path.exists()
        finally:
            memory.close()
        capsys.readouterr()
        argv = ["--config", str(tmp_path / "cli.yaml"), "--data-dir", str(tmp_path / "data")]
        assert (
            main(
                [*argv, "search", "backup restore drill", "--guild", ids["guild"], "--json"],
                embeddings=HashEmbeddings(),
            )
            == 0
        )
        here = capsys.readouterr()
        assert here.out == by_bot and "answered by the running bot" not in here.err
    finally:
        await llm.stop()
        await fake.stop()


async def test_a_bot_stopping_leaves_the_socket_of_another_bot_on_the_same_data_dir(tmp_path):
    """On PostgreSQL two bots may share the data_dir setting: the one started last answers on the socket, and the
    first one stopping leaves that socket in place (still answering); the last one stopping removes it."""
    path = tmp_path / SOCKET_NAME
    first, second = AdminSocket(None, tmp_path), AdminSocket(None, tmp_path)  # `GET /` needs no memory
    await first.start()
    await second.start()
    await first.close()
    assert stat.S_ISSOCK(path.stat().st_mode)
    connector = aiohttp.UnixConnector(path=str(path))
    async with aiohttp.ClientSession(connector=connector) as session, session.get("http://bot/") as reply:
        assert reply.status == 200 and (await reply.json())["pid"] == os.getpid()
    await second.close()
    assert not path.exists()
