"""End to end: `/memory backfill` of 3 x 500 messages through 429s, interrupted by a restart, resumed, no duplicates."""

from __future__ import annotations

import re

from bot.cogs.admin._text import REFUSAL
from memory import Memory
from tests.bot.conftest import all_text, running_bot, seed, settled, wait_until, world_settings
from tests.fakediscord import FakeDiscord
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings

PER_CHANNEL = 500


def stored(memory: Memory, guild_id: str, channel_id: str | None = None) -> list[str]:
    return memory.stores.records.message_ids_where(guild_id, channel_id=channel_id)


def pages_after(fake: FakeDiscord, channel_id: str, start: int = 0) -> list[int]:
    """The `after` of each history page the fake served for a channel (from request number `start` on)."""
    return [
        int(r.query["after"])
        for r in fake.requests[start:]
        if r.method == "GET" and r.path == f"/channels/{channel_id}/messages" and r.status == 200 and "after" in r.query
    ]


async def backfill(fake: FakeDiscord, ids: dict[str, str], user: str, channel_id: str):
    interaction = await fake.user_runs_slash_command(
        ids["guild"], ids["general"], ids[user], "memory", {"channel": channel_id}, subcommand="backfill"
    )
    await interaction.wait_done()
    return interaction


async def test_backfill_survives_429s_and_a_restart_and_stores_each_message_once(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake, llm = FakeDiscord(), FakeOpenAI()
    await fake.start()
    await llm.start()
    memory: Memory | None = None
    try:
        ids = seed(fake)
        # History that exists before the bot ever connects (no session: nothing is dispatched, only stored).
        channels = [fake.add_channel(ids["guild"], f"history-{n}", parent_id=ids["category"]) for n in range(3)]
        sent: set[str] = set()
        sent_in: dict[str, list[str]] = {channel_id: [] for channel_id in channels}  # oldest first
        for i in range(PER_CHANNEL):
            for n, channel_id in enumerate(channels):
                message = await fake.user_sends_message(channel_id, ids["bob"], f"HISTORY channel {n} line {i}")
                sent.add(str(message["id"]))
                sent_in[channel_id].append(str(message["id"]))
        for channel_id in channels:  # a bot's messages are not remembered
            await fake.user_sends_message(channel_id, ids["otherbot"], "BOTNOISE")
        fake.history_429_ratio = 0.1
        settings = world_settings(fake, llm, ids, tmp_path / "data")

        memory = Memory.open(settings, embeddings=HashEmbeddings())
        async with running_bot(settings, fake, memory) as bot:
            bot.get_cog("MemoryAdmin").progress_seconds = 0.05
            refused = await backfill(fake, ids, "bob", channels[0])
            await settled(refused, quiet=0.2)
            assert refused.ephemeral and REFUSAL in all_text(refused)
            assert memory.backfills.all(ids["guild"]) == []
            progress = [await backfill(fake, ids, "alice", channel_id) for channel_id in channels]
            assert all("started" in all_text(p) and p.ephemeral for p in progress)
            # Interrupt roughly halfway, once the progress message was edited: the bot closes with backfills running.
            await wait_until(
                lambda: len(stored(memory, ids["guild"])) >= 600 and any("messages/s" in all_text(p) for p in progress),
                timeout=40,
            )
        interrupted = {c.channel_id: c for c in memory.backfills.all(ids["guild"])}
        before_restart = len(stored(memory, ids["guild"]))
        assert len(interrupted) == 3 and not all(c.done for c in interrupted.values())
        assert before_restart < 3 * PER_CHANNEL
        # Each saved cursor is the resume point: history is read oldest first, and what a channel holds is exactly
        # its messages up to the cursor, as many as the cursor counts (saved with each batch, not at the end).
        for channel_id, cursor in interrupted.items():
            resume = int(cursor.newest_id or 0)
            assert sorted(stored(memory, ids["guild"], channel_id), key=int) == [
                m for m in sent_in[channel_id] if int(m) <= resume
            ]
            assert cursor.messages == len(stored(memory, ids["guild"], channel_id))
        assert any(0 < c.messages < PER_CHANNEL for c in interrupted.values())
        read_before = {channel_id: set(pages_after(fake, channel_id)) for channel_id in channels}
        restarted_at = len(fake.requests)
        memory.close()
        memory = None
        memory = Memory.open(settings, embeddings=HashEmbeddings())
        async with running_bot(settings, fake, memory) as bot:
            await wait_until(lambda: all(c.done for c in memory.backfills.all(ids["guild"])), timeout=40)
            status = await fake.user_runs_slash_command(
                ids["guild"], ids["general"], ids["alice"], "memory", subcommand="backfill-status"
            )
            await status.wait_done()
            await settled(status, quiet=0.2)
            assert all_text(status).count(f"done: {PER_CHANNEL} messages") == 3
            assert bot.ingestion.failures == 0
        # After the restart each backfill read on from its cursor: no page before it, none read before again (but
        # the one the restart interrupted, which starts at the cursor).
        for channel_id, cursor in interrupted.items():
            resume = int(cursor.newest_id or 0)
            read_after = pages_after(fake, channel_id, restarted_at)
            if not cursor.done:
                assert min(read_after) == resume, channel_id
            assert all(after >= resume for after in read_after)
            assert set(read_after) & read_before[channel_id] <= {resume}

        message_ids = stored(memory, ids["guild"])
        assert len(message_ids) == len(set(message_ids)) == 3 * PER_CHANNEL
        assert set(message_ids) == sent
        chunk_ids = memory.stores.chunks.guild_chunk_ids(ids["guild"])
        assert len(chunk_ids) == len(set(chunk_ids))
        chunks = memory.stores.chunks.chunks(chunk_ids).values()
        assert {m for c in chunks for m in c.message_ids} == sent
        assert all("BOTNOISE" not in c.text for c in chunks)
        cursors = memory.backfills.all(ids["guild"])
        assert [c.messages for c in cursors] == [PER_CHANNEL] * 3 and all(c.done for c in cursors)
        # The fake refuses every 10th history page of any channel: the restart's catch-up of #general counts too.
        history = [r for r in fake.requests if r.method == "GET" and re.fullmatch(r"/channels/\d+/messages", r.path)]
        pages = [r for r in history if r.path in {f"/channels/{c}/messages" for c in channels}]
        refused_pages = [r for r in history if r.status == 429]  # retried by discord.py itself
        assert len(pages) >= 15 and len(refused_pages) == len(history) // 10 >= 1
    finally:
        if memory is not None:
            memory.close()
        await llm.stop()
        await fake.stop()
