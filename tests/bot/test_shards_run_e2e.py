"""A sharded bot as a real process (`run_bot`, as `memorybot run` starts it): shard 1 of 2 identifies with its shard,
reports it connected on /healthz, remembers its guild's messages and never receives the other's; a second process on
the same SQLite data directory is still refused, whatever its shards."""

from __future__ import annotations

import asyncio

import pytest

from tests.bot.burst import held
from tests.bot.shard_processes import shard_config, start_shards
from tests.bot.sharding import seed_shards
from tests.fakediscord import FakeDiscord

STORED_SECONDS = 60


async def test_a_process_of_shard_1_serves_its_guild_and_its_data_dir_stays_its_own(tmp_path):
    """`shard_ids: [1]` of 2: one IDENTIFY [1, 2]; /healthz 200 listing shard 1 connected; guild 1's message is
    stored, guild 0's is sent to no connection; a process for shard 0 on the same data directory exits at start,
    naming the lock; SIGTERM ends the first with status 0."""
    fake = FakeDiscord()
    await fake.start()
    ids = seed_shards(fake)
    data_dir = tmp_path / "data"
    enabled = [ids["general0"], ids["general1"]]
    storage = {"data_dir": str(data_dir)}
    first = None
    try:
        config = shard_config(tmp_path / "one.yaml", fake, shard_ids=[1], enabled=enabled, storage=storage)
        first = await start_shards(config, fake)
        assert [identify["shard"] for identify in fake.identifies()] == [[1, 2]]
        body = first.health[-1]
        assert body["status"] == "ok" and body["guilds"] == 1
        assert list(body["shards"]) == ["1"] and body["shards"]["1"]["connected"] is True

        theirs = await fake.user_sends_message(ids["general0"], ids["alice"], "said on shard 0")
        mine = await fake.user_sends_message(ids["general1"], ids["alice"], "said on shard 1")
        async with asyncio.timeout(STORED_SECONDS):
            while mine["id"] not in held(data_dir, ids["general1"])[0]:
                await asyncio.sleep(0.05)  # another process's SQLite: there is no event to wait on
        assert [m["id"] for m in fake.sent_events("MESSAGE_CREATE")] == [mine["id"]]
        assert theirs["id"] not in held(data_dir, ids["general0"])[0]

        other = shard_config(tmp_path / "two.yaml", fake, shard_ids=[0], enabled=enabled, storage=storage)
        with pytest.raises(RuntimeError, match="is in use by another memorybot process"):
            await start_shards(other, fake)
        assert await first.stop() == 0
    finally:
        if first is not None:
            await first.kill()
        await fake.stop()
