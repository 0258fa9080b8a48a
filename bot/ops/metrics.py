"""The bot's Prometheus metrics (`memorybot_*`): a registry per bot, fed by the answering pipeline's observer calls
and read from the bot's own counters (ingestion queue, errors, memory's chunk counts, gateway connections) when
scraped. Every series has a `shard` label: a guild's shard for what happens in one guild (questions, guilds, each
gateway connection), the process's shards ("0,1") for what the process shares among them (queue, chunks, errors)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from bot.ops.health import connections
from memory import chunks_held

if TYPE_CHECKING:
    from bot.client import MemoryBot

# Error kinds counted, listed even at 0 so that `rate()` sees a series from the start: a slash command that failed
# unexpectedly, an event handler that raised, a dropped ingestion batch, a failed model answer or query rewrite.
ERROR_KINDS = ("command", "discord", "event", "ingest", "llm", "rewrite")
# A search is ~10-100 ms on 100k chunks (docs/benchmarks.md); a model answer takes seconds.
SEARCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, math.inf)
LLM_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, math.inf)


def shard_label(bot: MemoryBot) -> str:
    """The shards a process's own series belong to: "0" for an unsharded bot, else the shards it runs ("0,1"; "all"
    for `shard_count: auto` before it has connected)."""
    if not bot.sharded:
        return str(bot.shard_id or 0)
    return ",".join(str(i) for i in sorted(bot.shards_run())) or "all"


def guild_shard(bot: MemoryBot, guild_id: str) -> str:
    """The shard label of a guild's series: its shard ("0" for an unsharded bot)."""
    return str(bot.connection_of(guild_id) or 0)


def shards_run(bot: MemoryBot) -> list[str]:
    """The labels of the shards a process runs, each on its own ("0" for an unsharded bot)."""
    return [str(i) for i in bot.shards_run()]


class BotMetrics:
    """Every `memorybot_*` series of one bot, labelled with a shard (see the module). It is the answering pipeline's
    observer (`memory.answering.AnswerObserver`), which calls it from worker threads too: prometheus-client's metrics
    are thread-safe, and the error counts it keeps in `bot.errors` are only written from the event loop."""

    def __init__(self, bot: MemoryBot) -> None:
        self._bot = bot
        self.registry = CollectorRegistry()
        shard = ["shard"]
        self._answered = Counter(
            "memorybot_questions_answered", "Questions answered, by how", [*shard, "outcome"], registry=self.registry
        )
        self._searched = Histogram(
            "memorybot_retrieval_seconds", "Seconds per search round of a question", shard,
            buckets=SEARCH_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self._generated = Histogram(
            "memorybot_llm_seconds", "Seconds the language model took to stream an answer", shard,
            buckets=LLM_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self._tokens = Counter(
            "memorybot_llm_tokens", "Tokens the language model used (the endpoint's count, else tiktoken's)",
            [*shard, "kind"], registry=self.registry,
        )  # fmt: skip
        for label in shards_run(bot):  # every series exists from the first scrape (`auto`: from the first answer)
            for outcome in ("llm", "extractive", "nothing_found"):
                self._answered.labels(label, outcome)
            for kind in ("prompt", "completion"):
                self._tokens.labels(label, kind)
        self.registry.register(_BotCollector(bot))
        ProcessCollector(namespace="memorybot", registry=self.registry)  # memorybot_process_resident_memory_bytes…

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format. It reads SQLite (the chunk count): call it off the event loop."""
        return generate_latest(self.registry)

    # --- memory.answering.AnswerObserver ---------------------------------------------------------------------

    def searched(self, seconds: float, *, guild_id: str) -> None:
        """One search round of a question."""
        self._searched.labels(guild_shard(self._bot, guild_id)).observe(seconds)

    def generated(self, seconds: float, *, guild_id: str, prompt_tokens: int, completion_tokens: int) -> None:
        """One answer streamed by the model."""
        shard = guild_shard(self._bot, guild_id)
        self._generated.labels(shard).observe(seconds)
        self._tokens.labels(shard, "prompt").inc(prompt_tokens)
        self._tokens.labels(shard, "completion").inc(completion_tokens)

    def answered(self, outcome: str, *, guild_id: str) -> None:
        """A final answer."""
        self._answered.labels(guild_shard(self._bot, guild_id), outcome).inc()

    def failed(self, kind: str) -> None:
        """An answering error (`llm`, `rewrite`)."""
        self._bot.errors[kind] += 1


class _BotCollector:
    """The series read from the bot when scraped (what it holds, its queue, its connections), not counted twice."""

    def __init__(self, bot: MemoryBot) -> None:
        self._bot = bot

    def collect(self) -> Iterator[Metric]:
        bot = self._bot
        shard = [shard_label(bot)]
        queue = bot.ingestion
        yield _counter("memorybot_messages_remembered", "New or changed messages stored by the ingestion queue",
                       shard, queue.remembered)  # fmt: skip
        yield _gauge("memorybot_chunks", "Chunks (passages) held in memory", shard, chunks_held(bot.memory.sync))
        yield _gauge("memorybot_ingest_queue_depth", "Ingestion jobs queued or being applied", shard, queue.depth)
        yield _gauge("memorybot_ingest_lag_seconds", "How long the oldest ingestion job has waited", shard,
                     queue.lag_seconds)  # fmt: skip
        guilds = GaugeMetricFamily("memorybot_guilds", "Guilds the bot is in, by their shard", labels=["shard"])
        by_shard = dict.fromkeys(shards_run(bot), 0)
        for guild in bot.guilds:
            label = guild_shard(bot, str(guild.id))
            by_shard[label] = by_shard.get(label, 0) + 1
        for label, count in by_shard.items():
            guilds.add_metric([label], count)
        yield guilds
        connected = GaugeMetricFamily(
            "memorybot_gateway_connected", "1 while a gateway connection is open", labels=["shard"]
        )
        latency = GaugeMetricFamily(
            "memorybot_gateway_latency_seconds", "Heartbeat round trip of a gateway connection", labels=["shard"]
        )
        for label, state in connections(bot).items():
            connected.add_metric([label], 1 if state["connected"] else 0)
            if state["latency_seconds"] is not None:
                latency.add_metric([label], state["latency_seconds"])
        yield connected
        yield latency
        errors = CounterMetricFamily("memorybot_errors", "Errors, by kind", labels=["shard", "kind"])
        counts = bot.errors | {"ingest": queue.failures}
        for kind in sorted(set(ERROR_KINDS) | counts.keys()):
            errors.add_metric([*shard, kind], counts.get(kind, 0))
        yield errors


def _gauge(name: str, documentation: str, shard: list[str], value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["shard"])
    family.add_metric(shard, value)
    return family


def _counter(name: str, documentation: str, shard: list[str], value: float) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["shard"])
    family.add_metric(shard, value)
    return family
