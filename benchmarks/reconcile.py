"""Measures the reconciliation pass after a restart against the fake Discord: time, history pages (the latest
window, and those read after each channel's mark), what it found, and sent / remembered / lost of the messages sent
while the bot was down."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

# Run as `python benchmarks/reconcile.py` from anywhere: the test helpers live in the repo's `tests` package.
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memory import Memory  # noqa: E402
from tests.bot.conftest import running_bot, seed, wait_until, world_settings  # noqa: E402
from tests.fakediscord import FakeDiscord  # noqa: E402
from tests.fakeopenai import FakeOpenAI  # noqa: E402
from tests.fakes import HashEmbeddings  # noqa: E402


async def measure(channels: int, per_channel: int, window: int, missed: int) -> None:
    fake, llm = FakeDiscord(), FakeOpenAI()
    await fake.start()
    await llm.start()
    os.environ.setdefault("OPENAI_API_KEY", "sk-fake")
    try:
        ids = seed(fake)
        targets = [fake.add_channel(ids["guild"], f"busy-{n}", parent_id=ids["category"]) for n in range(channels)]
        with tempfile.TemporaryDirectory() as tmp:
            settings = world_settings(fake, llm, ids, Path(tmp) / "data", discord={"reconcile_messages": window})
            memory = Memory.open(settings, embeddings=HashEmbeddings())
            sent: dict[str, list[str]] = {c: [] for c in targets}
            async with running_bot(settings, fake, memory) as bot:
                for i in range(per_channel):
                    for channel_id in targets:
                        message = await fake.user_sends_message(channel_id, ids["bob"], f"line {i} of {channel_id}")
                        sent[channel_id].append(message["id"])
                await asyncio.sleep(0.3)
                await asyncio.wait_for(bot.ingestion.idle(), 300)
            # Offline: in each channel, a tenth of the window edited, a tenth deleted, and `missed` new messages.
            tenth = max(1, window // 10)
            offline: list[str] = []
            for channel_id in targets:
                recent = sent[channel_id][-window:]
                for message_id in recent[:tenth]:
                    await fake.user_edits_message(channel_id, message_id, f"edited {message_id}")
                for message_id in recent[tenth : 2 * tenth]:
                    await fake.user_deletes_message(channel_id, message_id)
                for i in range(missed):
                    message = await fake.user_sends_message(channel_id, ids["alice"], f"missed {i} in {channel_id}")
                    offline.append(message["id"])
            fake.requests.clear()
            async with running_bot(settings, fake, memory) as bot:
                started = time.monotonic()
                live = bot.get_cog("LiveMemory")
                await wait_until(lambda: live.reconciling is not None, timeout=30)
                if live.reconciling is None:
                    raise RuntimeError("the bot started no reconciliation")
                report = await live.reconciling
                read = time.monotonic() - started
                await asyncio.wait_for(bot.ingestion.idle(), 300)
                stored = time.monotonic() - started
            held = {i for c in targets for i in memory.stores.records.message_ids_where(ids["guild"], channel_id=c)}
            memory.close()
        pages = [r for r in fake.requests if r.method == "GET" and r.path.endswith("/messages")]
        after = [r for r in pages if "after" in r.query]
        remembered = len(set(offline) & held)
        print(f"{channels} channels x {per_channel} remembered messages, window {window}, {missed} missed each:")
        print(f"  history read and compared in {read:.2f} s; changes stored after {stored:.2f} s")
        print(f"  {len(pages)} history requests ({len(after)} after a mark); {report}")
        print(f"  sent while down {len(offline)}, remembered {remembered}, lost {len(offline) - remembered}")
    finally:
        await llm.stop()
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--messages", type=int, default=300, help="remembered per channel before the restart")
    parser.add_argument("--window", type=int, default=200, help="discord.reconcile_messages")
    parser.add_argument("--missed", type=int, default=20, help="sent per channel while the bot is down")
    args = parser.parse_args()
    asyncio.run(measure(args.channels, args.messages, args.window, args.missed))


if __name__ == "__main__":
    main()
