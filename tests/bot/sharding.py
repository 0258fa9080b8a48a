"""Sharded worlds for end-to-end tests: a fake Discord that recommends two shards and holds a guild on each, the
real bot running some or all of those shards, and waits that follow each shard's own connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from discord.ext import commands

from memory import Memory
from tests.bot.conftest import World, answer_requests, final_text, handlers_running, settled, started_world, wait_until
from tests.fakediscord import FakeDiscord, FakeInteraction

SHARDS = 2  # what the fake's GET /gateway/bot recommends


def seed_shards(fake: FakeDiscord) -> dict[str, str]:
    """A guild on each shard (`guild0`, `guild1`), each with a remembered `general0`/`general1` and a `notes0`/`notes1`
    that is not remembered; alice and bob are in both, alice manages both."""
    fake.shard_count = SHARDS
    ids = {name: fake.add_user(name) for name in ("owner", "alice", "bob")}
    for shard in range(SHARDS):
        guild = ids[f"guild{shard}"] = fake.add_guild(f"Guild on shard {shard}", owner_id=ids["owner"], shard=shard)
        for member in ("alice", "bob"):
            fake.add_member(guild, ids[member])
        ids[f"general{shard}"] = fake.add_channel(guild, "general")
        ids[f"notes{shard}"] = fake.add_channel(guild, "notes")
    return ids


@contextlib.asynccontextmanager
async def sharded_world(
    tmp_path, monkeypatch, *, prepare: Callable[[Memory, dict[str, str]], None] | None = None, **discord: Any
) -> AsyncIterator[World]:
    """The fakes started and seeded by `seed_shards`, the memory made ready by `prepare` (before the bot starts),
    and the real bot connected with both `general` channels remembered and these `discord` settings."""
    remembered = tuple(f"general{shard}" for shard in range(SHARDS))
    async with started_world(
        tmp_path, monkeypatch, seed_shards, remembered=remembered, sections={"discord": discord}, prepare=prepare
    ) as world:
        yield world


async def settle_shards(world: World) -> None:
    """`World.settle` for a sharded bot: each shard's connection has received every event the fake sent on it, its
    handlers are done and what they queued is ingested."""
    bot = world.bot
    assert isinstance(bot, commands.AutoShardedBot)

    def caught_up() -> bool:
        # discord.py keeps a shard's connection on its internal shard object; `_get_websocket` is how it finds it
        return all(
            bot._get_websocket(shard_id=shard).sequence >= world.discord.last_sequence_of(shard) for shard in bot.shards
        )

    await wait_until(caught_up, 30)
    await wait_until(lambda: not handlers_running(), 30)
    await asyncio.wait_for(bot.ingestion.idle(), 30)


async def reconciled(world: World) -> None:
    """Wait until every shard's reconciliation pass of this session is done."""
    live = world.bot.get_cog("LiveMemory")
    shards = world.bot.shard_ids or range(SHARDS)
    await wait_until(lambda: set(live.passes) == set(shards) and all(p.done() for p in live.passes.values()), 30)


async def ask_on_shard(world: Any, shard: int, question: str, texts: Sequence[str]) -> FakeInteraction:
    """bob's /ask in the guild of `shard` of a `seed_shards` world (a `World`, or anything with its `discord`, `llm`
    and ids), once answered: it reached that shard's connection alone, and the model was shown that guild's text
    (`texts[shard]`) and not the other guild's."""
    fake = world.discord
    world.llm.reply = "On the day the source says [1]."
    interaction = await fake.user_runs_slash_command(
        world[f"guild{shard}"], world[f"general{shard}"], world["bob"], "ask", {"question": question}
    )
    await interaction.wait_done(lambda i: final_text(i) is not None)
    await settled(interaction)
    for other in range(SHARDS):
        delivered = [i["id"] for i in fake.sent_events_of(other, "INTERACTION_CREATE")]
        assert (interaction.id in delivered) == (other == shard)
    prompt = answer_requests(world.llm)[-1]["messages"][0]["content"]
    assert texts[shard] in prompt and all(text not in prompt for text in texts if text != texts[shard])
    return interaction
