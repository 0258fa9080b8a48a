"""Sharding end to end, the real discord.py against a fake Discord that recommends two shards: one process running
both shards (each IDENTIFY carries its shard, each guild's events arrive on its shard's connection only, once), and
one process running shard 0 of 2, which never touches the other shard's guilds, not even those the stores hold."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from bot.shards import shard_of
from memory import BackfillCursor, Memory
from tests.bot.conftest import final_text, wait_until
from tests.bot.sharding import SHARDS, ask_on_shard, reconciled, settle_shards, sharded_world
from tests.bot.test_ops_e2e import get, scrape, serving
from tests.fakes import message


def history_reads(world, channel: str) -> list[dict[str, str]]:
    """The history pages the bot asked of a channel (GET /channels/{id}/messages)."""
    path = f"/channels/{world[channel]}/messages"
    return [r.query for r in world.discord.requests if r.method == "GET" and r.path == path]


async def test_one_process_runs_both_shards_and_each_guild_is_served_by_its_own(tmp_path, monkeypatch):
    """`shard_count: 2`: two IDENTIFYs carrying [0, 2] and [1, 2]; each READY names only its shard's guild; a message
    in each guild arrives on one connection and is remembered once; /ask in each guild is delivered to its shard and
    answered from that guild's memory; /healthz is 200 with both shards connected; /metrics counts each guild's
    question under its shard."""
    async with sharded_world(tmp_path, monkeypatch, shard_count=SHARDS) as world:
        fake, bot = world.discord, world.bot
        assert sorted(identify["shard"] for identify in fake.identifies()) == [[0, 2], [1, 2]]
        for shard in range(SHARDS):
            (ready,) = fake.sent_events_of(shard, "READY")
            assert ready["shard"] == [shard, 2] and [g["id"] for g in ready["guilds"]] == [world[f"guild{shard}"]]
            assert [g["id"] for g in fake.sent_events_of(shard, "GUILD_CREATE")] == [world[f"guild{shard}"]]
        assert {guild.id: guild.shard_id for guild in bot.guilds} == {int(world["guild0"]): 0, int(world["guild1"]): 1}

        async with serving(bot) as server:
            texts = ["the lighthouse lamp is cleaned on tuesdays", "the harbour crane is oiled on thursdays"]
            sent = [
                await fake.user_sends_message(world[f"general{shard}"], world["alice"], texts[shard])
                for shard in range(SHARDS)
            ]
            await settle_shards(world)
            for shard in range(SHARDS):
                delivered = [m["id"] for m in fake.sent_events_of(shard, "MESSAGE_CREATE")]
                assert delivered == [sent[shard]["id"]]  # its own guild's message, and not the other's
                held = world.memory.stores.records.messages(world[f"guild{shard}"], [sent[shard]["id"]])
                assert [m.content for m in held] == [texts[shard]]
            assert bot.ingestion.remembered == 2  # each stored once

            for shard, question in enumerate(["when is the lamp cleaned?", "when is the crane oiled?"]):
                interaction = await ask_on_shard(world, shard, question, texts)
                assert [i["id"] for i in fake.sent_events_of(shard, "INTERACTION_CREATE")] == [interaction.id]
                assert f"/channels/{world[f'guild{shard}']}/{world[f'general{shard}']}/" in final_text(interaction)

            status, _, text = await get(server, "/healthz")
            body = json.loads(text)
            assert status == 200 and body["status"] == "ok" and body["guilds"] == 2
            assert {shard: state["connected"] for shard, state in body["shards"].items()} == {"0": True, "1": True}
            assert "shard" not in body  # no single shard speaks for the process
            samples = await scrape(server)
        for shard in ("0", "1"):  # a guild's series are its shard's
            assert samples[("memorybot_guilds", (("shard", shard),))] == 1
            assert samples[("memorybot_gateway_connected", (("shard", shard),))] == 1
            assert samples[("memorybot_questions_answered_total", (("outcome", "llm"), ("shard", shard)))] == 1
        # what the process shares between its shards is the process's
        assert samples[("memorybot_messages_remembered_total", (("shard", "0,1"),))] == 2
        assert samples[("memorybot_ingest_queue_depth", (("shard", "0,1"),))] == 0


async def test_shard_count_auto_takes_the_count_discord_recommends(tmp_path, monkeypatch):
    """`shard_count: auto` asks GET /gateway/bot and runs the two shards it recommends."""
    async with sharded_world(tmp_path, monkeypatch, shard_count="auto") as world:
        assert any(r.path == "/gateway/bot" for r in world.discord.requests)
        assert sorted(identify["shard"] for identify in world.discord.identifies()) == [[0, 2], [1, 2]]
        assert world.bot.shard_count == SHARDS and len(world.bot.guilds) == SHARDS


def held_elsewhere(memory: Memory, ids: dict[str, str]) -> None:
    """Before the bot starts, memory already holds work for both guilds, as a store shared with the process of the
    other shard would: an old message in each (30 days' retention), an unfinished backfill of each `general`, and
    chunks without vectors in each."""
    for shard in range(SHARDS):
        guild, general = ids[f"guild{shard}"], ids[f"general{shard}"]
        old = dataclasses.replace(
            message(shard, f"OLD-REMARK-{shard} from long ago", guild=guild, channel=str(int(general) + 1)),
            parent_channel_id=general,  # in a thread Discord no longer lists: reconciliation leaves it alone
        )
        memory.remember_messages([old])
        memory.guild_settings.change(guild, {"retention_days": 30})
        now = datetime.now(UTC).isoformat(timespec="seconds")
        after = str(int(general) + 1)
        memory.backfills.save(BackfillCursor(guild, general, newest_id=after, started_at=now, updated_at=now))
        memory.stores.chunks.mark_guild_unembedded(guild)


async def test_a_process_of_shard_0_receives_and_works_on_shard_0_guilds_only(tmp_path, monkeypatch):
    """`shard_ids: [0]` of 2: one IDENTIFY [0, 2]; only guild 0 arrives; guild 0's unfinished backfill resumes, its
    history is reconciled, its old message expires and its vectors are caught up, while guild 1, held in the same
    stores, is left as it was: no history of its channels is read, its message stays, its chunks stay pending, and a
    message sent there never reaches this process."""
    async with sharded_world(tmp_path, monkeypatch, prepare=held_elsewhere, shard_count=SHARDS, shard_ids=[0]) as world:
        fake, bot, memory = world.discord, world.bot, world.memory
        assert [identify["shard"] for identify in fake.identifies()] == [[0, 2]]
        assert [guild.id for guild in bot.guilds] == [int(world["guild0"])]
        assert shard_of(world["guild1"], SHARDS) == 1 and not bot.ownership.owns(world["guild1"])

        await reconciled(world)
        await wait_until(lambda: bot.backfiller.tasks and all(t.done() for t in bot.backfiller.tasks.values()))
        await bot.get_cog("Retention").expire()
        await fake.user_sends_message(world["general1"], world["alice"], "said on the other shard")
        await fake.user_sends_message(world["general0"], world["alice"], "said on this shard")
        await settle_shards(world)

        assert history_reads(world, "general0")  # backfill resumed and reconciliation read it
        assert any(q.get("after") == str(int(world["general0"]) + 1) for q in history_reads(world, "general0"))
        assert history_reads(world, "general1") == [] and history_reads(world, "notes1") == []
        assert [m["content"] for m in fake.sent_events("MESSAGE_CREATE")] == ["said on this shard"]

        def contents(shard: int) -> list[str]:
            guild = world[f"guild{shard}"]
            held = memory.stores.chunks.chunks(memory.stores.chunks.guild_chunk_ids(guild))
            return sorted(c.text for c in held.values())

        assert not any("OLD-REMARK-0" in text for text in contents(0))  # expired here
        assert any("OLD-REMARK-1" in text for text in contents(1))  # the other process's to expire
        assert memory.stores.chunks.pending_chunks(world["guild0"]) == []
        assert memory.stores.chunks.pending_chunks(world["guild1"]) != []  # its vectors are the other's to embed
        assert not any(c.guild_id == world["guild1"] for c in memory.backfills.all() if c.done)


def mark_of(world, shard: int) -> str | None:
    """The newest id of a shard's `general` channel mark."""
    mark = world.memory.marks.of_guild(world[f"guild{shard}"]).get(world[f"general{shard}"])
    return None if mark is None else mark.newest_id


async def test_a_new_session_on_one_shard_is_reconciled_alone(tmp_path, monkeypatch):
    """Shard 1 loses its session (Discord forgets it): it IDENTIFYs again and only its guild is reconciled, while
    shard 0 stays connected, its session unchanged: guild 0's live messages go on moving its mark even while shard
    1's pass waits for history, and guild 1's wait for that pass, then move its mark too."""
    async with sharded_world(tmp_path, monkeypatch, shard_count=SHARDS) as world:
        fake, live = world.discord, world.bot.get_cog("LiveMemory")
        await reconciled(world)
        first = dict(live.passes)
        for shard in range(SHARDS):
            await fake.user_sends_message(world[f"general{shard}"], world["bob"], f"before the drop {shard}")
        await settle_shards(world)
        before = {shard: mark_of(world, shard) for shard in range(SHARDS)}
        reads = {shard: len(history_reads(world, f"general{shard}")) for shard in range(SHARDS)}

        gate = fake.hold_history()
        await fake.drop_shard(1)
        await wait_until(lambda: live.passes[1] is not first[1] and fake.shard_sessions(1), timeout=30)
        assert [identify["shard"] for identify in fake.identifies()].count([1, 2]) == 2
        assert live.passes[0] is first[0] and len(fake.shard_sessions(0)) == 1  # shard 0 was not touched
        sent = {
            shard: (await fake.user_sends_message(world[f"general{shard}"], world["bob"], f"after the drop {shard}"))
            for shard in range(SHARDS)
        }
        await wait_until(lambda: mark_of(world, 0) == sent[0]["id"])  # shard 0's session goes on
        await wait_until(lambda: len(world.memory.stores.records.messages(world["guild1"], [sent[1]["id"]])) == 1)
        assert mark_of(world, 1) == before[1]  # shard 1's new session waits for its pass
        gate.set()
        await reconciled(world)
        assert len(history_reads(world, "general1")) > reads[1] and len(history_reads(world, "general0")) == reads[0]
        again = await fake.user_sends_message(world["general1"], world["bob"], "live in shard 1's new session")
        await wait_until(lambda: mark_of(world, 1) == again["id"])
