"""Past one machine, end to end: two bot processes (`run_bot`, shards [0] and [1] of 2 on the fake Discord) on one
PostgreSQL record store and one `chroma run` server, both with the same data_dir setting. Each guild's messages are
stored once, by the process of its shard; `/ask` is answered by that process from that guild's memory; an opt-out
made through one process holds in the other; a SIGKILLed process restarted loses nothing acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.bot.conftest import all_text, final_text, wait_until
from tests.bot.shard_processes import ShardProcess, shard_config, start_shards
from tests.bot.sharding import SHARDS, ask_on_shard, seed_shards
from tests.chroma_server import ChromaServer, chroma_server_fixture  # noqa: F401 (a fixture)
from tests.conftest import POSTGRES_RECORDS
from tests.fakediscord import FakeDiscord
from tests.fakeopenai import FakeOpenAI

STORED_SECONDS = 60
ENV = {"OPENAI_API_KEY": "sk-fake"}  # the fake OpenAI server's key, for the language model of /ask


@dataclass
class Cluster:
    """The fakes, the shared stores and one process per shard (`processes[i]` runs shard i)."""

    discord: FakeDiscord
    llm: FakeOpenAI
    dsn: str
    data_dir: Path
    configs: list[Path]
    processes: list[ShardProcess]
    ids: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.ids[name]

    def stored(self, shard: int) -> dict[str, str]:
        """The messages PostgreSQL holds for the guild of a shard: id -> content (read as neither process)."""
        with psycopg.connect(self.dsn) as conn:
            query = "SELECT message_id, content FROM messages WHERE guild_id = %s"
            rows = conn.execute(query, (self[f"guild{shard}"],))
            return {str(message_id): str(content) for message_id, content in rows.fetchall()}

    def mark(self, shard: int) -> int:
        """The newest message id the mark of the shard's `general` channel is past (0: no mark yet)."""
        with psycopg.connect(self.dsn) as conn:
            query = "SELECT newest_id FROM channel_marks WHERE guild_id = %s AND channel_id = %s"
            row = conn.execute(query, (self[f"guild{shard}"], self[f"general{shard}"])).fetchone()
        return 0 if row is None else int(row[0])

    async def until_stored(self, shard: int, message_ids: set[str]) -> None:
        """Wait until PostgreSQL holds these messages of the shard's guild."""
        async with asyncio.timeout(STORED_SECONDS):
            while not message_ids <= set(self.stored(shard)):
                await asyncio.sleep(0.05)  # other processes' writes: there is no event to wait on

    async def say(self, shard: int, user: str, text: str) -> str:
        """A member says `text` in the shard's `general`; the message's id."""
        return str((await self.discord.user_sends_message(self[f"general{shard}"], self[user], text))["id"])

    async def restart(self, shard: int) -> ShardProcess:
        """Start the process of a shard again, on the same config."""
        self.processes[shard] = await start_shards(self.configs[shard], self.discord, env=ENV)
        return self.processes[shard]


@contextlib.asynccontextmanager
async def cluster(tmp_path: Path, dsn: str, chroma: ChromaServer) -> AsyncIterator[Cluster]:
    """The fakes seeded by `seed_shards` and a process for each shard, both on the PostgreSQL database `dsn`, the
    Chroma server and one data_dir setting, both `general` channels remembered; every process stopped afterwards."""
    fake, llm = FakeDiscord(), FakeOpenAI()
    await fake.start()
    await llm.start()
    ids = seed_shards(fake)
    data_dir = tmp_path / "data"
    storage = {"data_dir": str(data_dir), "chroma": chroma.settings, **POSTGRES_RECORDS}
    sections = {
        "retrieval": {"min_relevance": 0.0},
        "llm": {"base_url": llm.base_url, "model": "gpt-4o-mini", "timeout_seconds": 3, "max_retries": 0},
    }
    enabled = [ids[f"general{shard}"] for shard in range(SHARDS)]
    options = {"enabled": enabled, "storage": storage, "sections": sections}
    configs = [shard_config(tmp_path / f"shard{i}.yaml", fake, shard_ids=[i], **options) for i in range(SHARDS)]
    world = Cluster(fake, llm, dsn, data_dir, configs, [], ids)
    try:
        for config in configs:
            world.processes.append(await start_shards(config, fake, env=ENV))
        yield world
        for process in world.processes:
            assert await process.stop() == 0
    finally:
        for process in world.processes:
            await process.kill()
        await llm.stop()
        await fake.stop()


async def test_two_processes_share_one_memory_each_serving_the_guilds_of_its_shard(
    tmp_path, postgres_url, chroma_server
):
    """Both processes start on one data_dir setting (no lock in PostgreSQL mode) and each IDENTIFYs its own shard;
    a message in each guild reaches only its shard's connection and is stored once, counted by that process alone;
    /ask in each guild reaches only the owning process, which answers from that guild's memory; bob's opt-out made
    through process 0 keeps his next message in guild 1, which process 1 receives and moves its mark past, out of
    memory."""
    async with cluster(tmp_path, postgres_url, chroma_server) as world:
        fake = world.discord
        assert sorted(identify["shard"] for identify in fake.identifies()) == [[0, 2], [1, 2]]
        for process in world.processes:
            body = process.health[-1]
            assert body["stores"] == {"records": "ok", "vectors": "ok"} and body["guilds"] == 1
        assert not (world.data_dir / "memorybot.lock").exists()

        texts = ["the lighthouse lamp is cleaned on tuesdays", "the harbour crane is oiled on thursdays"]
        sent = [await world.say(shard, "alice", texts[shard]) for shard in range(SHARDS)]
        for shard in range(SHARDS):
            await world.until_stored(shard, {sent[shard]})
            await world.processes[shard].metric_reaches("memorybot_messages_remembered_total", 1)
        for shard in range(SHARDS):
            assert [m["id"] for m in fake.sent_events_of(shard, "MESSAGE_CREATE")] == [sent[shard]]
            assert world.stored(shard) == {sent[shard]: texts[shard]}
            assert await world.processes[shard].metric("memorybot_messages_remembered_total") == 1

        for shard in range(SHARDS):
            await wait_until(lambda g=world[f"guild{shard}"]: fake.commands.get(g), STORED_SECONDS)
        for shard, question in enumerate(["when is the lamp cleaned?", "when is the crane oiled?"]):
            interaction = await ask_on_shard(world, shard, question, texts)
            assert [i["id"] for i in fake.sent_events_of(shard, "INTERACTION_CREATE")] == [interaction.id]
            assert f"/channels/{world[f'guild{shard}']}/{world[f'general{shard}']}/" in final_text(interaction)
        for shard, process in enumerate(world.processes):
            assert await process.metric("memorybot_questions_answered_total", shard=str(shard), outcome="llm") == 1
            assert await process.metric("memorybot_questions_answered_total") == 1  # the other guild's is not here

        shown = await fake.user_runs_slash_command(
            world["guild0"], world["general0"], world["bob"], "privacy", subcommand="opt-out"
        )
        await shown.wait_done()
        assert shown.ephemeral and "opted out" in all_text(shown)
        assert [i["id"] for i in fake.sent_events_of(0, "INTERACTION_CREATE")][-1] == shown.id
        secret = await world.say(1, "bob", "BOB-AFTER-OPT-OUT the vault code is 1234")
        async with asyncio.timeout(STORED_SECONDS):
            while world.mark(1) < int(secret):
                await asyncio.sleep(0.05)  # process 1 handled it once its mark is past it
        assert secret in [m["id"] for m in fake.sent_events_of(1, "MESSAGE_CREATE")]
        assert world.stored(1) == {sent[1]: texts[1]}
        assert await world.processes[1].metric("memorybot_messages_remembered_total") == 1
        later = await world.say(1, "alice", "alice is still remembered in guild 1")
        await world.until_stored(1, {later})
        assert secret not in world.stored(1)


async def test_a_sigkilled_process_restarted_loses_nothing_acknowledged_while_the_other_serves_on(
    tmp_path, postgres_url, chroma_server
):
    """Process 1 is SIGKILLed with part of a burst in guild 1 stored and the rest delivered to it or not yet: what
    PostgreSQL held at the kill is kept, process 0 goes on storing guild 0's messages meanwhile, and once process 1
    is restarted (a new IDENTIFY of shard 1) and has read guild 1's history, every message Discord accepted in
    guild 1 is stored, and none reached process 0."""
    async with cluster(tmp_path, postgres_url, chroma_server) as world:
        fake = world.discord
        burst = [await world.say(1, "bob", f"burst {n} W{n}") for n in range(10)]
        await world.until_stored(1, set(burst))
        burst += [await world.say(1, "bob", f"burst {n} W{n}") for n in range(10, 20)]
        await world.processes[1].kill()  # SIGKILL: what it received and had not stored is in no file
        at_kill = world.stored(1)
        assert set(burst[:10]) <= set(at_kill)
        while_down = [await world.say(1, "bob", f"sent while down {n}") for n in range(5)]
        elsewhere = await world.say(0, "alice", "guild 0 is served while process 1 is down")
        await world.until_stored(0, {elsewhere})
        assert (await world.processes[0].healthz())[0] == 200

        identified, requested = len(fake.identifies()), len(fake.requests)
        await world.restart(1)
        assert [identify["shard"] for identify in fake.identifies()[identified:]] == [[1, 2]]
        await world.until_stored(1, {*burst, *while_down})
        history = f"/channels/{world['general1']}/messages"
        assert any(r.method == "GET" and r.path == history for r in fake.requests[requested:])  # recovered from it
        held = world.stored(1)
        assert {i: held[i] for i in at_kill} == at_kill  # nothing stored before the kill was lost or changed
        assert set(held) == {*burst, *while_down}
        assert set(world.stored(0)) == {elsewhere}
        assert [m["id"] for m in fake.sent_events_of(0, "MESSAGE_CREATE")] == [elsewhere]  # none of guild 1's
