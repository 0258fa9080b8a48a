"""Guilds × channels posting at once through the fake gateway while /ask is answered in every guild: the
event-loop lag during it, throughput, answer latency, and whether the store holds exactly what was posted
(reliability.md §5 scenario 29). The bot, the fake Discord and the fake LLM share one event loop, as in the tests:
the lag measured is theirs together, an upper bound on the bot's own."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Run as `python benchmarks/concurrency.py` from anywhere: the test helpers live in the repo's `tests` package.
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402  (its MonkeyPatch sets the fake key for the world, as in the tests)

from tests.bot.conftest import final_text, started_world  # noqa: E402
from tests.bot.crowd import LagProbe, channel_names, crowd_seed, post_all, wrong_rows  # noqa: E402


async def run(args: argparse.Namespace) -> dict[str, object]:
    """One crowd run; the figures."""
    sections = {"limits": {"asks_per_member_per_minute": 0, "asks_per_guild_per_minute": 0}}
    patch = pytest.MonkeyPatch()
    with tempfile.TemporaryDirectory() as tmp:
        async with started_world(
            Path(tmp), patch, crowd_seed(args.guilds, args.channels),
            remembered=channel_names(args.guilds, args.channels), sections=sections,
        ) as world:  # fmt: skip
            world.llm.delay_seconds = args.llm_delay
            probe = LagProbe(interval=0.01)
            probe.start()
            started = time.perf_counter()
            posting = asyncio.create_task(post_all(world, args.guilds, args.channels, args.per_channel))
            latencies: list[float] = []
            failed = 0

            async def ask(g: int) -> None:
                nonlocal failed
                asked = time.perf_counter()
                shown = await world.ask(f"asker{g}", f"guild{g} deploy notes?", guild=f"g{g}", channel=f"g{g}c0")
                latencies.append(time.perf_counter() - asked)
                failed += (final_text(shown) or "⚠️").startswith("⚠️")

            while not posting.done():
                await asyncio.gather(*(ask(g) for g in range(args.guilds)))
            posted = time.perf_counter() - started
            await world.settle()
            stored = time.perf_counter() - started
            await probe.stop()
            problems = wrong_rows(world, args.guilds, args.channels, args.per_channel)
    patch.undo()
    sent = args.guilds * args.channels * args.per_channel
    return {
        "messages": sent, "posted_s": posted, "stored_s": stored, "messages_per_s": sent / stored,
        "answers": len(latencies), "failed_answers": failed,
        "answer_median_s": statistics.median(latencies) if latencies else 0.0,
        "answer_max_s": max(latencies, default=0.0), "exact": not problems, "problems": problems[:5],
        **{f"lag_{k}": v for k, v in probe.summary().items()},
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--guilds", type=int, default=4)
    parser.add_argument("--channels", type=int, default=8, help="channels per guild")
    parser.add_argument("--per-channel", type=int, default=25, help="messages posted in each channel")
    parser.add_argument("--llm-delay", type=float, default=0.0, help="seconds the fake LLM waits before answering")
    figures = asyncio.run(run(parser.parse_args()))
    for name, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name:>18}: {shown}")


if __name__ == "__main__":
    main()
