"""`memorybot run`: the composition root against the fake Discord, as a real process and in-process."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys

import pytest

import bot.run
from bot.errors import StartupError
from bot.run import run_bot
from memory import Memory
from memory.lock import DataDirLock
from tests.bot.conftest import running_bot, seed, wait_until, world_settings
from tests.conftest import REPO
from tests.fakediscord import FakeDiscord
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings, message
from tests.memory.test_vector_health import segment_dir


@pytest.fixture
async def fakes():
    discord_fake, llm = FakeDiscord(), FakeOpenAI()
    await discord_fake.start()
    await llm.start()
    yield discord_fake, llm
    await llm.stop()
    await discord_fake.stop()


async def test_refused_privileged_intents_name_the_portal_switch(tmp_path, monkeypatch):
    """If Discord refuses the intents, start-up fails with a message naming the Developer Portal switches."""
    fake, llm = FakeDiscord(privileged_intents_allowed=False), FakeOpenAI()
    await fake.start()
    await llm.start()
    try:
        settings = world_settings(fake, llm, seed(fake), tmp_path / "data")
        monkeypatch.setenv("DISCORD_TOKEN", fake.token)
        with pytest.raises(StartupError, match="MESSAGE CONTENT INTENT"):
            await asyncio.wait_for(run_bot(settings, embeddings=HashEmbeddings()), 30)
        DataDirLock(tmp_path / "data").acquire()  # the store was closed and unlocked on the way out
    finally:
        await llm.stop()
        await fake.stop()


async def test_a_refused_token_is_a_clear_startup_error(fakes, tmp_path, monkeypatch):
    """A wrong token fails start-up with a message naming the token variable."""
    fake, llm = fakes
    settings = world_settings(fake, llm, seed(fake), tmp_path / "data")
    monkeypatch.setenv("DISCORD_TOKEN", "wrong-token")
    with pytest.raises(StartupError, match="DISCORD_TOKEN"):
        await asyncio.wait_for(run_bot(settings, embeddings=HashEmbeddings()), 30)


async def test_the_running_bot_keeps_start_up_objects_out_of_the_garbage_collector(fakes, tmp_path, monkeypatch):
    """What start-up built (libraries, model, stores) is frozen before the bot is built, so that a full collection
    does not walk it with the event loop stopped; thawed again once `run_bot` returns."""
    fake, llm = fakes
    settings = world_settings(fake, llm, seed(fake), tmp_path / "data")
    monkeypatch.setenv("DISCORD_TOKEN", "wrong-token")  # start-up gets as far as logging in, then stops
    frozen_when_built: list[int] = []
    build = bot.run.build_bot

    def spying_build(*args, **kwargs):
        frozen_when_built.append(gc.get_freeze_count())
        return build(*args, **kwargs)

    monkeypatch.setattr(bot.run, "build_bot", spying_build)
    assert gc.get_freeze_count() == 0
    with pytest.raises(StartupError):
        await asyncio.wait_for(run_bot(settings, embeddings=HashEmbeddings()), 30)
    assert len(frozen_when_built) == 1 and frozen_when_built[0] > 10_000  # the test process's modules, at least
    assert gc.get_freeze_count() == 0


async def test_memorybot_run_process_remembers_answers_and_stops_cleanly(fakes, tmp_path):
    """The real `memorybot run` process syncs its commands, remembers a message, answers /search with it,
    and on SIGTERM finishes its work, exits 0 and releases the data directory."""
    fake, llm = fakes
    ids = seed(fake)
    settings = world_settings(fake, llm, ids, tmp_path / "data")
    config = tmp_path / "config.yaml"
    config.write_text(
        "discord:\n"
        f"  api_base_url: {fake.api_base}\n  gateway_url: {fake.gateway_url}\n"
        f"  enabled_channels: {settings.discord.enabled_channels!r}\n"
        f"storage:\n  data_dir: {tmp_path / 'data'}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "DISCORD_TOKEN": fake.token, "HF_HUB_OFFLINE": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run", cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_until(lambda: {"ask", "search"} <= {c["name"] for c in fake.commands.get(ids["guild"], [])}, 90)
        await fake.user_sends_message(ids["general"], ids["alice"], "the on-call phone number is in the vault")
        shown = ""
        for _ in range(40):  # the message is remembered shortly after it is sent
            interaction = await fake.user_runs_slash_command(
                ids["guild"], ids["general"], ids["bob"], "search", {"query": "on-call phone number"}
            )
            await interaction.wait_done(timeout=30)
            await asyncio.sleep(0.3)
            shown = (interaction.original or {}).get("content", "")
            if "vault" in shown:
                break
            await asyncio.sleep(0.5)
        assert "on-call phone number is in the vault" in shown
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        assert code == 0
        DataDirLock(tmp_path / "data").acquire()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        stderr = (await process.stderr.read()).decode(errors="replace") if process.stderr else ""
        print(stderr[-3000:])
    # Without -v, one line says it is up and with what (general, staff, project-x in a category, the other general).
    assert (
        "memorybot ready: 2 guilds, 4 remembered channels, model local:all-MiniLM-L6-v2, extractive answers (no LLM)\n"
        in stderr
    )
    assert "no channel is remembered" not in stderr and "voice will NOT be supported" not in stderr


async def test_run_checks_the_vector_index_first_and_marks_a_damaged_guild_for_rebuilding(
    fakes, tmp_path, monkeypatch, caplog
):
    """`run_bot` opens memory with the index check: a damaged guild collection is dropped before Discord is even
    reached (here the token is refused right after), and its chunks wait to be embedded again."""
    fake, llm = fakes
    ids = seed(fake)
    settings = world_settings(fake, llm, ids, tmp_path / "data")
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        # One window per message (an hour apart): enough vectors for Chroma to search its HNSW files.
        memory.remember_messages([message(i, f"note {i}", guild=ids["guild"], minutes=60 * i) for i in range(300)])
        chunks = len(memory.stores.chunks.guild_chunk_ids(ids["guild"]))
    (segment_dir(tmp_path / "data", ids["guild"]) / "header.bin").write_bytes(b"\x07" * 100)
    monkeypatch.setenv("DISCORD_TOKEN", "wrong-token")

    with pytest.raises(StartupError):
        await asyncio.wait_for(run_bot(settings, embeddings=HashEmbeddings()), 60)

    assert f"guild {ids['guild']}: its damaged vector index is being rebuilt" in caplog.text
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        assert len(memory.stores.chunks.pending_chunks(ids["guild"])) == chunks > 0
        assert memory.vectors.count(ids["guild"]) == 0


async def test_a_bot_remembering_no_channel_says_how_to_enable_one(fakes, tmp_path, monkeypatch, capsys):
    """With no channel remembered, the ready line counts 0 and a warning names /memory enable; the LLM is named."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake, llm = fakes
    settings = world_settings(fake, llm, seed(fake), tmp_path / "data", discord={"enabled_channels": []})
    memory = Memory.open(settings, embeddings=HashEmbeddings())
    try:
        async with running_bot(settings, fake, memory):
            pass  # ready and synced: the line is written before the commands are synced
        err = capsys.readouterr().err
    finally:
        memory.close()
    assert "memorybot ready: 2 guilds, 0 remembered channels, model test:hash-256, answers by LLM gpt-4o-mini\n" in err
    assert "warning: no channel is remembered: an admin runs /memory enable #channel in Discord" in err
