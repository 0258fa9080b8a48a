"""End to end: the abuse limits through the real bot (reliability.md OWASP LLM10): rate limits on /ask, mentions
and /recap with a private message saying when to retry, and a bound on the model calls at once."""

from __future__ import annotations

import asyncio
import logging

from tests.bot.conftest import answer_requests, final_text, settled, started_world, wait_until

EPHEMERAL = 64


async def refused_text(world, user: str, command: str, options: dict) -> str:
    """Run a command that should be refused at once: its one callback is an ephemeral message; return it."""
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world[user], command, options
    )
    await interaction.wait_done()
    (callback,) = interaction.callbacks
    assert callback["type"] == 4 and callback["data"]["flags"] & EPHEMERAL
    return callback["data"]["content"]


async def test_asks_over_the_member_and_guild_limits_are_refused_privately(tmp_path, monkeypatch):
    """Two questions a minute per member, three per guild: Alice's third is refused with when to retry, Bob's
    second is refused by the guild's limit; refused questions never reach the model; the other guild is apart."""
    sections = {"limits": {"asks_per_member_per_minute": 2, "asks_per_guild_per_minute": 3}}
    async with started_world(tmp_path, monkeypatch, sections=sections) as world:
        await world.discord.user_sends_message(world["general"], world["alice"], "the wiki moved to confluence")
        await world.settle()
        for _ in range(2):
            assert final_text(await world.ask("alice", "where is the wiki?"))
        said = await refused_text(world, "alice", "ask", {"question": "where is the wiki now?"})
        assert said.startswith("⏳ You have reached the limit of 2 questions a minute. Please try again in")
        assert final_text(await world.ask("bob", "where is the wiki?"))
        said = await refused_text(world, "owner", "ask", {"question": "and the wiki?"})
        assert said.startswith("⏳ This server has reached the limit of 3 questions a minute")
        assert len(answer_requests(world.llm)) == 3
        elsewhere = await world.ask("carol", "anything?", guild="other_guild", channel="other_general")
        assert not final_text(elsewhere).startswith("⏳")


async def test_mentions_over_the_limit_get_one_reply_a_minute(tmp_path, monkeypatch, caplog):
    """One question a minute per member: Bob's second mention gets one reply saying when to retry, his third
    none; neither reaches the model."""
    caplog.set_level(logging.INFO, logger="bot.cogs.questions")
    sections = {"limits": {"asks_per_member_per_minute": 1}}
    async with started_world(tmp_path, monkeypatch, sections=sections) as world:
        await world.discord.user_sends_message(world["general"], world["alice"], "lunch is at noon on fridays")
        await world.settle()
        bot_id = str(world.bot.user.id)

        def replies() -> list[str]:
            return [
                m["content"] for m in world.discord.channel_messages(world["general"]) if m["author"]["id"] == bot_id
            ]

        def refused() -> int:
            return sum("mention refused" in r.getMessage() for r in caplog.records)

        for number in range(3):
            await world.discord.user_sends_message(
                world["general"], world["bob"], f"<@{bot_id}> when is lunch? ({number})", mentions=[bot_id]
            )
            if number == 0:
                await wait_until(lambda: replies() and not replies()[-1].endswith("▌") and "Sources" in replies()[-1])
        await wait_until(lambda: refused() == 2)
        await wait_until(lambda: len(replies()) == 2)
        assert replies()[1].startswith("⏳ You have reached the limit of 1 question a minute")
        assert len(answer_requests(world.llm)) == 1


async def test_recaps_over_the_limit_are_refused_privately(tmp_path, monkeypatch):
    """One recap a minute per member: the second is refused before anything is read or asked of the model."""
    sections = {"limits": {"recaps_per_member_per_minute": 1}}
    async with started_world(tmp_path, monkeypatch, sections=sections) as world:
        await world.discord.user_sends_message(world["general"], world["alice"], "we ship on tuesday")
        await world.settle()
        first = await world.discord.user_runs_slash_command(
            world["guild"], world["general"], world["bob"], "recap", {"since": "1h"}
        )
        await first.wait_done(lambda i: final_text(i) is not None)
        await settled(first)
        asked = len(world.llm.requests)
        said = await refused_text(world, "bob", "recap", {"since": "1h"})
        assert said.startswith("⏳ You have reached the limit of 1 recap a minute")
        assert len(world.llm.requests) == asked


async def test_model_calls_at_once_are_bounded(tmp_path, monkeypatch):
    """llm.max_concurrent = 2: five questions at once reach the model two at a time, and all are answered."""
    sections = {"llm": {"max_concurrent": 2, "rewrite_queries": False}, "limits": {"asks_per_member_per_minute": 0}}
    async with started_world(tmp_path, monkeypatch, sections=sections) as world:
        await world.discord.user_sends_message(world["general"], world["alice"], "the backup runs at 02:00")
        await world.settle()
        world.llm.delay_seconds = 0.4  # long enough for the five to overlap
        asked = await asyncio.gather(*(world.ask("alice", f"when does the backup run? {n}") for n in range(5)))
        assert all("fake answer" in (final_text(i) or "") for i in asked)
        assert len(answer_requests(world.llm)) == 5
        assert world.llm.max_in_flight == 2
