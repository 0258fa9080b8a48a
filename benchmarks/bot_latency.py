"""Measures the bot's own /ask overhead against the fake Discord and an instant fake LLM: defer, LLM call, 1st token."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as `python benchmarks/bot_latency.py` from anywhere: the test helpers live in the repo's `tests` package.
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the real model must never try the network
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from langchain_core.embeddings import Embeddings  # noqa: E402

from benchmarks.pauses import FullCollections, LoopLag  # noqa: E402
from bot.render import EDIT_INTERVAL_SECONDS, PRIVATE_NOTICE  # noqa: E402
from bot.run import start_up_heap_frozen  # noqa: E402
from memory import Memory  # noqa: E402
from tests.bot.conftest import final_text, running_bot, seed, settled, world_settings  # noqa: E402
from tests.fakediscord import FakeDiscord  # noqa: E402
from tests.fakediscord.server import INTERACTION_CREATE, FakeInteraction  # noqa: E402
from tests.fakeopenai import FakeOpenAI  # noqa: E402
from tests.fakes import HashEmbeddings, message  # noqa: E402

# Several chunks (12 characters each by default) and a citation, like a short real answer.
REPLY = "The deploy key rotates every Friday at 16:00 UTC, after the release train leaves [1]."
SUBJECTS = [
    "the deploy key", "the staging database", "the release train", "the CI runner", "the on-call rota",
    "the design review", "the budget sheet", "the VPN certificate", "the login service", "the search index",
    "the mobile build", "the billing export", "the backup job", "the status page", "the office wifi",
    "the hiring plan", "the API gateway", "the flaky test", "the docs site", "the metrics dashboard",
]  # fmt: skip
EVENTS = [
    "rotates", "moves to the new cluster", "breaks again", "was fixed", "gets reviewed", "is paused",
    "needs an owner", "goes live", "slips a week", "was rolled back", "gets a new alert", "is read-only",
]  # fmt: skip
WHEN = [
    "on Friday", "at 16:00 UTC", "next sprint", "after the freeze", "tomorrow morning", "on the 3rd",
    "before the demo", "every night", "at the end of the quarter", "once the vendor replies",
]  # fmt: skip
CHATTER = ["ok", "thanks!", "lol", "makes sense", "who owns this?", "+1", "I'll check", "any news?", "nice"]


class TimedList(list[Any]):
    """A list that notes the monotonic time of each append.

    RecordedRequest and FakeOpenAI's request bodies carry no timestamp, and both fakes record a request with a
    plain `self.requests.append(...)` as soon as its body is read, so swapping the list gives arrival times
    without touching the fakes' files.
    """

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__(items)
        self.times: list[float] = [math.nan] * len(self)  # appended before the swap: time unknown

    def append(self, item: Any) -> None:  # noqa: ANN401  (whatever the fake records)
        self.times.append(time.monotonic())
        super().append(item)


@dataclass
class Sample:
    """One /ask, in seconds from the moment INTERACTION_CREATE went out on the gateway."""

    defer: float  # (a) the defer callback reached the fake Discord
    llm_request: float  # (b) the chat completion request reached the fake OpenAI
    first_token_sent: float  # the fake OpenAI wrote the first content chunk
    first_edit: float  # (c) the first @original edit holding answer text reached the fake Discord
    search: float  # Memory.search, in its worker thread (part of (b) - (a))
    embed_query: float  # the query embedding inside it


@dataclass
class Probes:
    """Timings taken by wrapping instance methods (only this process's objects are patched, no files)."""

    dispatched: dict[str, float] = field(default_factory=dict)  # interaction token -> sent on the gateway
    search: list[float] = field(default_factory=list)
    embed_query: list[float] = field(default_factory=list)


def timed(method: Callable[..., Any], into: list[float]) -> Callable[..., Any]:
    """`method`, appending its duration to `into` (thread-safe enough: list.append holds the GIL)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        started = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - started)

    return wrapper


def install_probes(fake: FakeDiscord, llm: FakeOpenAI, memory: Memory, probes: Probes) -> None:
    fake.requests = TimedList(fake.requests)
    llm.requests = TimedList(llm.requests)
    send = fake._send

    async def send_and_stamp(session: Any, event: str, data: dict[str, Any]) -> None:  # noqa: ANN401
        await send(session, event, data)
        # Stamped once the frame is written: the bot shares this event loop, so it cannot start on the
        # interaction before this coroutine yields; what follows is the bot's time (plus the fakes' handlers).
        if event == INTERACTION_CREATE:
            probes.dispatched[data["token"]] = time.monotonic()

    fake._send = send_and_stamp  # type: ignore[method-assign]
    # Instance attributes shadow the class methods: Answerer calls memory.search, Retriever embed_query.
    memory.search = timed(memory.search, probes.search)  # type: ignore[method-assign]
    memory.embeddings.embed_query = timed(memory.embeddings.embed_query, probes.embed_query)  # type: ignore[method-assign]


def chat_messages(count: int, guild: str, channel: str, authors: Sequence[str], rng: random.Random) -> list[Any]:
    """`count` messages of plausible team chat, a third of them small talk, a minute apart."""
    out = []
    for number in range(count):
        if rng.random() < 0.33:
            text = rng.choice(CHATTER)
        else:
            text = f"{rng.choice(SUBJECTS)} {rng.choice(EVENTS)} {rng.choice(WHEN)}, {rng.choice(CHATTER)}"
        out.append(message(number, text, guild=guild, channel=channel, author=rng.choice(authors)))
    return out


def questions(count: int, rng: random.Random) -> list[str]:
    return [f"when does {rng.choice(SUBJECTS)} {rng.choice(EVENTS).split()[0]}?" for _ in range(count)]


async def ask_once(
    fake: FakeDiscord, llm: FakeOpenAI, ids: dict[str, str], probes: Probes, question: str
) -> tuple[Sample, FakeInteraction]:
    llm_start, token_start = len(llm.requests), len(llm.first_token_sent_at)
    search_start, embed_start = len(probes.search), len(probes.embed_query)
    interaction = await fake.user_runs_slash_command(
        ids["guild"], ids["general"], ids["bob"], "ask", {"question": question}
    )
    await interaction.wait_done(lambda i: final_text(i) is not None)
    # Wait for the bot to go quiet, so the next question starts on an idle bot, and every edit is recorded.
    await settled(interaction)
    start = probes.dispatched[interaction.token]
    requests: TimedList = fake.requests  # type: ignore[assignment]
    callback = f"/interactions/{interaction.id}/{interaction.token}/callback"
    original = f"/webhooks/{fake.application_id}/{interaction.token}/messages/@original"
    defer_at = next(t for r, t in zip(requests, requests.times, strict=True) if r.path == callback)
    shown = REPLY[: llm.chunk_chars].strip()  # the first streamed chunk, as the edit shows it
    edit_at = next(
        t
        for r, t in zip(requests, requests.times, strict=True)
        if r.method == "PATCH" and r.path == original and str((r.json or {}).get("content", "")).startswith(shown)
    )
    llm_times: TimedList = llm.requests  # type: ignore[assignment]
    if len(llm_times) != llm_start + 1 or any(e.get("content") == PRIVATE_NOTICE for e in interaction.edits):
        raise RuntimeError(f"expected one public streamed answer, got {interaction.summary()}")
    sample = Sample(
        defer=defer_at - start,
        llm_request=llm_times.times[llm_start] - start,
        first_token_sent=llm.first_token_sent_at[token_start] - start,
        first_edit=edit_at - start,
        search=sum(probes.search[search_start:]),
        embed_query=sum(probes.embed_query[embed_start:]),
    )
    return sample, interaction


async def burst(fake: FakeDiscord, ids: dict[str, str], chats: Sequence[Any], rate: float) -> float:
    """Members post `chats` (made beforehand) in #general through the gateway, `rate` a second (0: as fast as the
    fake sends them); returns when the last is sent (seconds taken)."""
    started = time.perf_counter()
    for number, chat in enumerate(chats):
        await fake.user_sends_message(ids["general"], chat.author_id, chat.content)
        # The fake shares the bot's event loop: yield after each message, as a real gateway's frames arrive one by
        # one, so that the lag measured is the bot's handling, not the fake's sending loop.
        due = started + (number + 1) / rate if rate else 0.0
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
    return time.perf_counter() - started


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: with 30 samples p95 is the 29th smallest (no interpolation between samples)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def report(samples: list[Sample]) -> None:
    rows: list[tuple[str, Callable[[Sample], float]]] = [
        ("(a) dispatch -> defer callback", lambda s: s.defer),
        ("(b) dispatch -> LLM request", lambda s: s.llm_request),
        ("(c) dispatch -> first answer edit", lambda s: s.first_edit),
        ("(c)-(b) LLM request -> first edit", lambda s: s.first_edit - s.llm_request),
        ("  (b)-(a) defer -> LLM request", lambda s: s.llm_request - s.defer),
        ("    Memory.search (thread)", lambda s: s.search),
        ("      embed_query", lambda s: s.embed_query),
        ("  fake: LLM request -> 1st token", lambda s: s.first_token_sent - s.llm_request),
        ("  1st token sent -> first edit", lambda s: s.first_edit - s.first_token_sent),
    ]
    print(f"{'ms, n=' + str(len(samples)):<36}{'p50':>9}{'p95':>9}{'max':>9}")
    for name, get in rows:
        values = [get(s) * 1000 for s in samples]
        print(f"{name:<36}{percentile(values, 0.5):>9.1f}{percentile(values, 0.95):>9.1f}{max(values):>9.1f}")


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    load_before = os.getloadavg()[0]
    fake, llm = FakeDiscord(), FakeOpenAI()
    llm.reply, llm.delay_seconds, llm.chunk_delay_seconds = REPLY, 0.0, 0.0  # an instant LLM: only the bot counts
    os.environ["OPENAI_API_KEY"] = llm.api_key  # the bot's ChatOpenAI reads the key from the environment
    embeddings: Embeddings
    if args.real_model:
        from memory.embeddings import build_embeddings  # the model loads only when asked for
        from memory.settings import EmbeddingSettings

        started = time.perf_counter()
        embeddings = build_embeddings(EmbeddingSettings())  # as `memorybot run` builds it (its export, once made)
        took, kind, bf16 = time.perf_counter() - started, type(embeddings).__name__, getattr(embeddings, "bf16", None)
        print(f"loaded all-MiniLM-L6-v2 in {took:.1f} s as {kind} (bf16={bf16})")
    else:
        embeddings = HashEmbeddings()
    await fake.start()
    await llm.start()
    with tempfile.TemporaryDirectory(prefix="bot-latency-") as tmp:
        ids = seed(fake)
        # No per-member or per-guild limits: one member asks every question, back to back (bot.limits).
        unlimited = {"asks_per_member_per_minute": 0, "asks_per_guild_per_minute": 0}
        settings = world_settings(fake, llm, ids, Path(tmp) / "data", limits=unlimited)
        memory = Memory.open(settings, embeddings=embeddings)
        try:
            # Directly, not through the gateway: the same store as live ingestion builds, in seconds.
            people = [ids[name] for name in ("owner", "alice", "bob")]
            messages = chat_messages(args.messages, ids["guild"], ids["general"], people, rng)
            started = time.perf_counter()
            ingested = await asyncio.to_thread(memory.remember_messages, messages)
            print(
                f"remembered {args.messages} messages in #general as {ingested.chunks_added} chunks "
                f"in {time.perf_counter() - started:.1f} s; embeddings: {memory.identity}"
            )
            if args.chunks > ingested.chunks_added:
                started = time.perf_counter()
                added = await asyncio.to_thread(fill_general, memory, ids, args.chunks)
                took = time.perf_counter() - started
                print(f"filled #general with {added} more chunks, to {args.chunks}, in {took:.1f} s")
            probes = Probes()
            install_probes(fake, llm, memory, probes)
            # As `memorybot run` does once its memory is open and the model loaded (bot.run).
            frozen = contextlib.nullcontext() if args.no_heap_freeze else start_up_heap_frozen()
            with frozen, FullCollections() as collections:
                async with running_bot(settings, fake, memory) as bot:
                    await asyncio.wait_for(bot.ingestion.idle(), 30)
                    asked = questions(args.warmups + args.questions, rng)
                    for question in asked[: args.warmups]:  # first-call costs: tokenizer, Chroma, httpx pool
                        await ask_once(fake, llm, ids, probes, question)
                    chats = chat_messages(
                        args.burst, ids["guild"], ids["general"], people, rng
                    )  # before the lag is timed
                    lag = LoopLag()
                    lag.start()
                    await asyncio.sleep(1.0)  # a second of the idle loop's own lag, the reference for the burst's
                    idle_lags = len(lag.lags)
                    burst_started = time.perf_counter()
                    posting = burst(fake, ids, chats, args.burst_rate) if args.burst else None
                    sending = asyncio.create_task(posting) if posting is not None else None
                    samples = [(await ask_once(fake, llm, ids, probes, q))[0] for q in asked[args.warmups :]]
                    if sending is not None:
                        sent_in = await sending
                        await asyncio.wait_for(bot.ingestion.idle(), 600)
                        print(
                            f"burst: {args.burst} messages sent through the gateway in {sent_in:.1f} s, all remembered "
                            f"{time.perf_counter() - burst_started:.1f} s after the first"
                        )
                    lags = await lag.stop()
                    collected = collections.pauses_since(burst_started)
        finally:
            memory.close()
            await llm.stop()
            await fake.stop()
    print(
        f"{args.questions} questions after {args.warmups} warm-ups; fake LLM delay 0, {llm.chunk_chars}-char chunks; "
        f"EDIT_INTERVAL_SECONDS={EDIT_INTERVAL_SECONDS}"
    )
    # Bot, fakes and model share this machine's CPUs: a busy machine shows up in p95/max, so say how busy it was.
    print(f"load average before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    report(samples)
    print(f"{'event-loop lag, ms':<36}{'p50':>9}{'p95':>9}{'max':>9}")
    during = "  while asked" + (" + burst" if args.burst else "")
    for name, values in (("  idle, 1 s before", lags[:idle_lags]), (during, lags[idle_lags:])):
        ms = [v * 1000 for v in values]
        print(f"{name:<36}{percentile(ms, 0.5):>9.1f}{percentile(ms, 0.95):>9.1f}{max(ms):>9.1f}")
    heap = "start-up's heap not frozen" if args.no_heap_freeze else "start-up's heap frozen, as memorybot run does"
    longest = f", longest {max(collected) * 1000:.0f} ms" if collected else ""
    print(f"full garbage collections while asked: {len(collected)}{longest} ({heap})")


def fill_general(memory: Memory, ids: dict[str, int], size: int) -> int:
    """Fill #general up to `size` chunks, as benchmarks/bench.py's scale part builds its stores: noisy copies of the
    remembered chunks' vectors (cosine ~0.8 to their source), each with its source's text, written straight to SQLite
    and Chroma. They are in #general so that the asker may read them all, as in a busy server's main channel."""
    import numpy as np

    from benchmarks.bench import synthetic_vectors
    from memory import Chunk, utc_iso
    from memory.chunking import chunk_id

    guild, channel = str(ids["guild"]), str(ids["general"])
    held = [c for batch in memory.stores.chunks.iter_guild_chunks(guild) for c in batch]
    stored = memory.vectors.vectors(guild, [c.chunk_id for c in held])
    pool = [c for c in held if c.chunk_id in stored]
    vectors, source = synthetic_vectors(
        np.asarray([stored[c.chunk_id] for c in pool], dtype=np.float32), size, np.random.default_rng(size)
    )
    start = datetime(2022, 1, 3, 9, 0, tzinfo=UTC)  # before the remembered chat: the filler is older history
    for first in range(len(pool), size, 5000):  # Chroma takes at most ~5,400 vectors per call
        numbers = range(first, min(first + 5000, size))
        chunks = [
            Chunk(
                chunk_id=chunk_id(guild, "filler", str(n)), kind="chat", guild_id=guild, channel_id=channel,
                record_id=f"chat:{channel}", position=0, start_key=f"filler-{n:09d}", text=pool[source[n]].text,
                tokens=pool[source[n]].tokens, message_ids=(f"filler-{n}",), author_ids=("filler",),
                created_at=utc_iso(start + timedelta(minutes=n)), jump_url=None,
            )
            for n in numbers
        ]  # fmt: skip
        memory.stores.chunks.replace_chunks(guild, set(), chunks)
        memory.vectors.upsert(guild, chunks, vectors[first : first + len(chunks)].tolist())
        memory.stores.chunks.mark_embedded([c.chunk_id for c in chunks])
    return size - len(pool)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000, help="messages remembered in #general")
    parser.add_argument(
        "--chunks", type=int, default=0, metavar="N",
        help="fill #general up to N chunks with noisy copies of the remembered ones (e.g. 100000), as bench.py's scale",
    )  # fmt: skip
    parser.add_argument("--questions", type=int, default=30, help="measured /ask runs")
    parser.add_argument("--warmups", type=int, default=3, help="unmeasured /ask runs first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--burst", type=int, default=0, metavar="N",
        help="members post N messages through the gateway while the questions are asked (e.g. 1000)",
    )  # fmt: skip
    parser.add_argument(
        "--write-slice", type=int, metavar="N",
        help="vectors per Chroma write (memory.stores.chroma.WRITE_SLICE; e.g. 256, one write per embedded batch, "
        "for the figure before writes were sliced)",
    )  # fmt: skip
    parser.add_argument(
        "--burst-rate", type=float, default=0.0, metavar="R",
        help="with --burst: messages a second (default 0: as fast as the fake sends them)",
    )  # fmt: skip
    parser.add_argument(
        "--real-model", action="store_true", help="embed with the real all-MiniLM-L6-v2 (LocalEmbeddings)"
    )
    parser.add_argument(
        "--no-heap-freeze", action="store_true",
        help="leave start-up's objects to the garbage collector (the figure before bot.run froze them)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.write_slice:
        import memory.stores.chroma

        memory.stores.chroma.WRITE_SLICE = args.write_slice
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
