"""End to end (reliability.md §5 scenario 29): 4 guilds × 8 channels post at once while questions are answered;
the store holds exactly what was posted, each guild only its own, and every question is answered."""

from __future__ import annotations

import asyncio

from tests.bot.conftest import answer_requests, final_text, started_world
from tests.bot.crowd import LagProbe, channel_names, crowd_seed, post_all, wrong_rows

GUILDS, CHANNELS, PER_CHANNEL = 4, 8, 4


async def test_concurrent_writers_across_guilds_while_questions_are_answered(tmp_path, monkeypatch):
    """Exact counts per channel, no cross-guild chunk or vector, all answers whole and drawn from the asker's
    guild only; the event-loop lag is measured (reported by benchmarks/concurrency.py, not asserted here)."""
    sections = {"limits": {"asks_per_member_per_minute": 0, "asks_per_guild_per_minute": 0}}
    async with started_world(
        tmp_path, monkeypatch, crowd_seed(GUILDS, CHANNELS), remembered=channel_names(GUILDS, CHANNELS),
        sections=sections,
    ) as world:  # fmt: skip
        probe = LagProbe()
        probe.start()
        posting = asyncio.create_task(post_all(world, GUILDS, CHANNELS, PER_CHANNEL))
        answers = []
        while not posting.done():  # questions in every guild for as long as the posting lasts
            asked = [
                world.ask(f"asker{g}", f"guild{g} deploy notes?", guild=f"g{g}", channel=f"g{g}c0")
                for g in range(GUILDS)
            ]
            answers += await asyncio.gather(*asked)
        sent = posting.result()
        await world.settle()
        await probe.stop()
        assert len(sent) == len(set(sent)) == GUILDS * CHANNELS * PER_CHANNEL
        assert wrong_rows(world, GUILDS, CHANNELS, PER_CHANNEL) == []
        assert answers and all(not (final_text(i) or "⚠️").startswith("⚠️") for i in answers)
        for request in answer_requests(world.llm):
            prompt = "\n".join(str(m["content"]) for m in request["messages"])
            guilds = {g for g in range(GUILDS) if f"guild{g} deploy" in prompt.split("<sources>", 1)[-1]}
            assert len(guilds) <= 1, "one answer's sources came from several guilds"
        assert probe.samples  # the loop kept turning throughout
