"""Sharded bots as real processes (`run_bot`, as `memorybot run` starts it, with the hashing embedder), each running
some shards of the fake Discord with the ops endpoint on: start one with its shards and stores, wait until /healthz
says each of its shards is connected, read what it says and what its /metrics count, stop or SIGKILL it. The
two-process test over one PostgreSQL and one Chroma server starts two of these with `storage` pointing at them."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tests.bot.burst import start_bot
from tests.bot.test_ops_e2e import scrape
from tests.bot.test_ops_run_e2e import free_port
from tests.fakediscord import FakeDiscord

HEALTHY_SECONDS = 60


@dataclass
class ShardProcess:
    """One bot process: its shards, config, ops port and the OS process."""

    shard_ids: list[int]
    config: Path
    port: int
    process: asyncio.subprocess.Process
    health: list[dict[str, Any]] = field(default_factory=list)  # the /healthz bodies read so far

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        """What /healthz answers now."""
        url = f"http://127.0.0.1:{self.port}/healthz"
        async with aiohttp.ClientSession() as session, session.get(url) as reply:
            body = await reply.json()
        self.health.append(body)
        return reply.status, body

    async def metric(self, name: str, **labels: str) -> float:
        """The sum of this process's `/metrics` samples of `name` whose labels include these."""
        samples = await scrape(self)  # it reads only the `port`
        wanted = set(labels.items())
        return sum(value for (sample, held), value in samples.items() if sample == name and wanted <= set(held))

    async def metric_reaches(self, name: str, value: float, **labels: str) -> None:
        """Wait until `metric(name, **labels)` is `value`."""
        async with asyncio.timeout(HEALTHY_SECONDS):
            while await self.metric(name, **labels) != value:
                await asyncio.sleep(0.05)  # another process: there is no event to wait on

    async def healthy(self) -> dict[str, Any]:
        """Wait until /healthz is 200 with every one of its shards connected; its body."""
        async with asyncio.timeout(HEALTHY_SECONDS):
            while True:
                assert self.process.returncode is None, "the bot process exited"
                status, body = await self.healthz()
                if status == 200 and set(body["shards"]) == {str(i) for i in self.shard_ids}:
                    return body
                await asyncio.sleep(0.05)  # another process: there is no event to wait on

    async def stop(self) -> int:
        """SIGTERM (queued work is stored first); the exit status."""
        if self.process.returncode is None:
            self.process.terminate()
        return await asyncio.wait_for(self.process.wait(), 60)

    async def kill(self) -> None:
        """SIGKILL: what it had received and not stored is in no file."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await self.process.wait()


def shard_config(
    path: Path,
    fake: FakeDiscord,
    *,
    shard_ids: list[int],
    enabled: list[str],
    storage: dict[str, Any],
    shard_count: int | str = 2,
    sections: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Write a config running `shard_ids` of `shard_count` on the fake, remembering `enabled`, with these `storage`
    settings (a data_dir, or a PostgreSQL record store and a Chroma server too), the ops endpoint on a free port and
    any other `sections` (e.g. `llm` pointing at the fake OpenAI server)."""
    discord = {"api_base_url": fake.api_base, "gateway_url": fake.gateway_url, "enabled_channels": enabled}
    discord |= {"shard_count": shard_count, "shard_ids": shard_ids}
    ops = {"http_host": "127.0.0.1", "http_port": free_port()}
    raw = {**(sections or {}), "discord": discord, "storage": storage, "ops": ops}
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


async def start_shards(config: Path, fake: FakeDiscord, *, env: dict[str, str] | None = None) -> ShardProcess:
    """Start the process a `shard_config` describes and wait until it is healthy."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    process = await start_bot(config, fake.token, env=env)
    shard = ShardProcess(settings["discord"]["shard_ids"], config, settings["ops"]["http_port"], process)
    try:
        await shard.healthy()
    except BaseException:
        await shard.kill()
        raise
    return shard
