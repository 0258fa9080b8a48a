"""End to end: while the bot remembers, answers and runs its commands, no SQLite or Chroma call runs on its event
loop (each goes through `AsyncMemory` or the ingestion queue's worker thread)."""

from __future__ import annotations

import asyncio
import functools
import traceback

import pytest

from memory.stores.chroma import ChromaVectorIndex
from memory.stores.sqlite.database import SQLiteDatabase
from tests.bot.conftest import settled, wait_until

WATCHED = [
    (SQLiteDatabase, "query"), (SQLiteDatabase, "transaction"), (ChromaVectorIndex, "query"),
    (ChromaVectorIndex, "upsert"), (ChromaVectorIndex, "delete"), (ChromaVectorIndex, "count"),
    (ChromaVectorIndex, "vectors"),
]  # fmt: skip


def on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False  # a worker thread
    return True


@pytest.fixture
def blocking_calls(monkeypatch):
    """Every watched store call made on an event loop, as 'method, from where'; on only while `armed`."""
    seen: list[str] = []
    armed = {"on": False}

    for owner, name in WATCHED:
        original = getattr(owner, name)

        def watched(*args, __original=original, __name=f"{owner.__name__}.{name}", **kwargs):
            if armed["on"] and on_event_loop():
                caller = next(f for f in reversed(traceback.extract_stack()[:-1]) if "/bot/" in f.filename)
                seen.append(f"{__name}, from {caller.filename.rsplit('/bot/', 1)[1]}:{caller.lineno}")
            return __original(*args, **kwargs)

        monkeypatch.setattr(owner, name, functools.wraps(original)(watched))
    return seen, armed


async def command(world, user: str, name: str, options=None, *, subcommand: str | None = None):
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world[user], name, options, subcommand=subcommand
    )
    await interaction.wait_done()
    await settled(interaction, quiet=0.2)
    return interaction


async def test_no_store_call_blocks_the_event_loop(world, blocking_calls):
    """Messages, /ask, /search, a mention, /memory and /privacy commands touch the stores only off the loop."""
    seen, armed = blocking_calls
    armed["on"] = True
    await world.discord.user_sends_message(world["general"], world["alice"], "the lighthouse lamp is serviced in june")
    await world.settle()
    world.llm.reply = "In June [1]."
    await world.ask("alice", "when is the lamp serviced?")
    assert "june" in await world.search("bob", "lamp serviced")
    await world.discord.user_sends_message(
        world["general"], world["bob"], f"<@{world.bot.user.id}> when is the lamp serviced?",
        mentions=[str(world.bot.user.id)],
    )  # fmt: skip
    await wait_until(lambda: len(world.llm.requests) >= 2)
    for subcommand, options in (
        ("settings", None), ("settings", {"max_sources": 3}), ("settings", {"min_relevance": 3.0}),
        ("channels", None), ("stats", None), ("enable", {"channel": world["random"]}), ("backfill-status", None),
        ("export", None),
    ):  # fmt: skip
        await command(world, "alice", "memory", options, subcommand=subcommand)
    for subcommand in ("my-data", "opt-out", "opt-in", "forget-me"):
        await command(world, "bob", "privacy", subcommand=subcommand)
    armed["on"] = False
    assert seen == []
    assert world.memory.guild_settings.get(world["guild"]).max_sources == 3  # the commands did reach the store
