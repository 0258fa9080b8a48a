"""The ops endpoint against the running bot on the fake Discord: `/healthz` says what is up, `/metrics` moves with
what the bot does (messages remembered, chunks, questions, model latency and tokens, errors)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.ops.probe import main as probe_main
from bot.ops.server import OpsServer
from bot.run import build_bot
from memory import Memory
from memory.tokens import count_tokens
from tests.bot.conftest import seed, world_settings
from tests.fakediscord import FakeDiscord
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings


@contextlib.asynccontextmanager
async def serving(bot=None):
    """An ops server on a free loopback port, serving `bot` once given."""
    server = OpsServer("127.0.0.1", 0)
    await server.start()
    if bot is not None:
        server.attach(bot)
    try:
        yield server
    finally:
        await server.stop()


async def get(server: OpsServer, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{server.port}{path}") as reply:
        return reply.status, reply.headers.get("Content-Type", ""), await reply.text()


async def scrape(server: OpsServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of `/metrics`: (name, sorted labels) -> value."""
    status, content_type, text = await get(server, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted({"shard": "0", **labels}.items())))]


async def test_healthz_is_200_with_the_gateway_and_stores_named(world):
    """A connected bot with both stores answering: 200 and a JSON body saying so."""
    async with serving(world.bot) as server:
        status, content_type, text = await get(server, "/healthz")
    assert status == 200 and content_type.startswith("application/json")
    body = json.loads(text)
    assert body["status"] == "ok" and body["gateway"]["connected"] is True
    assert body["stores"] == {"records": "ok", "vectors": "ok"}
    assert body["guilds"] == 2 and body["shard"] == 0


async def test_healthz_is_503_before_the_bot_and_before_it_connects(tmp_path, monkeypatch):
    """Listening before the bot exists: 503 `starting`; a built bot that has not connected: 503, not connected,
    though its stores answer. `/metrics` is 503 until there is a bot."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake, llm = FakeDiscord(), FakeOpenAI()
    settings = world_settings(fake, llm, seed(fake), tmp_path / "data")
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        async with serving() as server:
            status, _, text = await get(server, "/healthz")
            assert (status, json.loads(text)["status"]) == (503, "starting")
            assert (await get(server, "/metrics"))[0] == 503
            bot = build_bot(settings, memory=memory)
            server.attach(bot)
            status, _, text = await get(server, "/healthz")
            await bot.memory.answers.aclose()
    body = json.loads(text)
    assert status == 503 and body["status"] == "unavailable"
    assert body["gateway"]["connected"] is False and body["stores"] == {"records": "ok", "vectors": "ok"}


async def test_metrics_move_when_messages_arrive_and_questions_are_answered(world):
    """Two messages raise messages remembered by 2 and the chunks held; an /ask with the model counts one answer,
    a search round, one model call and its tokens (tiktoken's count: the fake sends no usage); the queue is empty."""
    async with serving(world.bot) as server:
        before = await scrape(server)
        assert value(before, "memorybot_messages_remembered_total") == 0
        assert value(before, "memorybot_chunks") == 0
        await world.discord.user_sends_message(world["general"], world["alice"], "the backup tapes go offsite mondays")
        await world.discord.user_sends_message(world["general"], world["bob"], "and the spare keys sit in locker 9")
        await world.settle()
        moved = await scrape(server)
        assert value(moved, "memorybot_messages_remembered_total") == 2
        held = sum(c.chunks for c in world.memory.stores.chunks.chunk_counts().values())
        assert value(moved, "memorybot_chunks") == held > 0
        assert value(moved, "memorybot_ingest_queue_depth") == 0
        assert value(moved, "memorybot_ingest_lag_seconds") == 0
        assert value(moved, "memorybot_guilds") == 2

        world.llm.reply = "The tapes go offsite on Mondays [1]."
        await world.ask("owner", "when do the backup tapes go offsite?")
        answered = await scrape(server)
    assert value(answered, "memorybot_questions_answered_total", outcome="llm") == 1
    assert value(answered, "memorybot_questions_answered_total", outcome="extractive") == 0
    assert value(answered, "memorybot_retrieval_seconds_count") >= 1
    assert value(answered, "memorybot_llm_seconds_count") == 1
    completion = count_tokens(world.llm.reply, world.settings.llm.model)
    assert value(answered, "memorybot_llm_tokens_total", kind="completion") == completion
    assert value(answered, "memorybot_llm_tokens_total", kind="prompt") > completion
    assert answered[("memorybot_process_resident_memory_bytes", ())] > 0  # per process: no shard label


async def test_a_failed_model_answer_is_counted_as_an_llm_error(world):
    """The model answering HTTP 500: errors{kind=llm} goes from 0 to 1, and no answer is counted."""
    await world.discord.user_sends_message(world["general"], world["alice"], "the fire drill is on thursday")
    await world.settle()
    async with serving(world.bot) as server:
        before = await scrape(server)
        world.llm.fault = "500"
        await world.ask("bob", "when is the fire drill?")
        after = await scrape(server)
    assert value(before, "memorybot_errors_total", kind="llm") == 0
    assert value(after, "memorybot_errors_total", kind="llm") == 1
    assert value(after, "memorybot_questions_answered_total", outcome="llm") == 0
    assert {kind for (name, labels), _ in after.items() if name == "memorybot_errors_total" for k, kind in labels
            if k == "kind"} == {"command", "discord", "event", "ingest", "llm", "rewrite"}  # fmt: skip


async def test_the_probe_exits_0_on_a_healthy_bot_and_1_otherwise(world, tmp_path):
    """`python -m bot.ops.probe --config` (the containers' health check) follows /healthz: 0 when it answers 200, 1
    when 503, 1 when nothing listens, and 1 with the key to set when the config has no endpoint."""
    async with serving() as starting, serving(world.bot) as healthy:
        configs = {}
        for name, port in {"healthy": healthy.port, "starting": starting.port}.items():
            configs[name] = tmp_path / f"{name}.yaml"
            configs[name].write_text(f"ops: {{http_host: 0.0.0.0, http_port: {port}}}\n", encoding="utf-8")
        assert await asyncio.to_thread(probe_main, ["--config", str(configs["healthy"])]) == 0
        assert await asyncio.to_thread(probe_main, ["--config", str(configs["starting"])]) == 1
    assert await asyncio.to_thread(probe_main, ["--config", str(configs["healthy"])]) == 1  # stopped: no answer
    off = tmp_path / "off.yaml"
    off.write_text("ops: {http_port: 0}\n", encoding="utf-8")
    assert await asyncio.to_thread(probe_main, ["--config", str(off)]) == 1


async def test_a_port_in_use_is_a_startup_error_naming_the_key():
    """A second server on the same port fails with one line naming ops.http_port."""
    from bot.errors import StartupError

    async with serving() as first:
        second = OpsServer("127.0.0.1", first.port)
        with pytest.raises(StartupError, match=r"ops\.http_port"):
            await second.start()
