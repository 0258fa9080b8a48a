"""A crowd for concurrency checks (reliability.md §5 scenario 29): guilds × channels posting at once through the
fake gateway while questions are answered, an exact account of what was stored, and an event-loop lag probe.
Shared by tests/bot/test_concurrency_e2e.py and benchmarks/concurrency.py."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from tests.fakediscord import FakeDiscord


def crowd_seed(guilds: int, channels: int):
    """A seed of `guilds` guilds with `channels` remembered channels each, a poster and an asker per guild."""

    def seed(fake: FakeDiscord) -> dict[str, str]:
        ids: dict[str, str] = {}
        for g in range(guilds):
            ids[f"poster{g}"] = fake.add_user(f"poster{g}")
            ids[f"asker{g}"] = fake.add_user(f"asker{g}")
            ids[f"g{g}"] = fake.add_guild(f"Guild {g}", owner_id=ids[f"poster{g}"])
            fake.add_member(ids[f"g{g}"], ids[f"poster{g}"])
            fake.add_member(ids[f"g{g}"], ids[f"asker{g}"])
            for c in range(channels):
                ids[f"g{g}c{c}"] = fake.add_channel(ids[f"g{g}"], f"chan-{c}")
        return ids

    return seed


def channel_names(guilds: int, channels: int) -> tuple[str, ...]:
    return tuple(f"g{g}c{c}" for g in range(guilds) for c in range(channels))


def note(g: int, c: int, n: int) -> str:
    """The n-th message of a channel: it names its guild and channel, so a stray row is recognised."""
    return f"marker-{g}-{c}-{n} guild{g} deploy notes for channel {c}, entry {n}"


async def post_all(world, guilds: int, channels: int, per_channel: int) -> list[str]:
    """Every channel posts `per_channel` messages, all channels at once (each channel in order); their ids."""

    async def channel(g: int, c: int) -> list[str]:
        sent = []
        for n in range(per_channel):
            message = await world.discord.user_sends_message(world[f"g{g}c{c}"], world[f"poster{g}"], note(g, c, n))
            sent.append(message["id"])
        return sent

    done = await asyncio.gather(*(channel(g, c) for g in range(guilds) for c in range(channels)))
    return [i for ids in done for i in ids]


def wrong_rows(world, guilds: int, channels: int, per_channel: int) -> list[str]:
    """Every way the store differs from what was posted: per-channel counts, rows in the wrong guild, vectors
    in another guild's collection. Empty when exact."""
    problems = []
    memory = world.memory
    for g in range(guilds):
        guild = world[f"g{g}"]
        for c in range(channels):
            held = memory.channel_message_ids(guild, world[f"g{g}c{c}"])
            if len(held) != per_channel:
                problems.append(f"g{g}c{c}: {len(held)} messages stored, {per_channel} posted")
        ids = memory.stores.chunks.guild_chunk_ids(guild)
        for chunk in memory.stores.chunks.chunks(ids).values():
            if (
                chunk.guild_id != guild
                or f"guild{g} " not in chunk.text
                or "guild" in chunk.text.replace(f"guild{g} ", "")
            ):
                problems.append(f"g{g}: chunk {chunk.chunk_id} holds another guild's text")
        others = [i for h in range(guilds) if h != g for i in memory.stores.chunks.guild_chunk_ids(world[f"g{h}"])]
        if memory.vectors.vectors(guild, others):
            problems.append(f"g{g}: its collection holds other guilds' vectors")
        if memory.vectors.count(guild) != len(ids):
            problems.append(f"g{g}: {memory.vectors.count(guild)} vectors for {len(ids)} chunks")
    return problems


@dataclass
class LagProbe:
    """Measures event-loop lag: a task asks to wake every `interval` seconds and notes how late it woke."""

    interval: float = 0.02
    samples: list[float] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.samples.append(max(0.0, time.perf_counter() - asked - self.interval))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def summary(self) -> dict[str, float]:
        """Lag in milliseconds: median, p99 and worst."""
        ordered = sorted(self.samples) or [0.0]

        def at(q: float) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

        return {"samples": len(ordered), "median_ms": at(0.5), "p99_ms": at(0.99), "max_ms": ordered[-1] * 1000}
