"""Stress: a writer process is SIGKILLed at random moments, again and again; each restart opens memory with the
index check (as `memorybot run` does). Prints how often a repair was needed and whether anything was lost.

With `--burst`, issue 12's sequence instead, against the real bot process and the fake Discord
(`tests/bot/burst.py`): a burst sent to one channel, the bot SIGKILLed after `--kill-after` were delivered, the
rest sent while it is down, a restart and `--live` messages the moment it is ready. Prints sent, remembered, lost."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memory import Memory  # noqa: E402
from memory.stores.sqlite import DB_NAME  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.fakes import HashEmbeddings, message  # noqa: E402

GUILDS = ("g0", "g1", "g2")  # the writer spreads its messages over them (n % 3)

# The writer: opens memory with the check, says what it repaired, then stores batches of messages (one window
# each) and prints the last message number of each batch once it is stored: those are acknowledged.
WRITER = """
import sys
from pathlib import Path
from memory import Memory
from tests.conftest import make_settings
from tests.fakes import HashEmbeddings, message

data_dir, start = Path(sys.argv[1]), int(sys.argv[2])
memory = Memory.open(make_settings(data_dir), embeddings=HashEmbeddings(), check_index=True)
print("repaired", ",".join(memory.repaired), flush=True)
memory.catch_up()
print("ready", flush=True)
number = start
while True:
    numbers = range(number, number + 25)
    batch = [message(n, f"stress note {n} about item{n}", guild=f"g{n % 3}", minutes=60 * n) for n in numbers]
    memory.remember_messages(batch)
    number += 25
    print("acked", number - 1, flush=True)
"""


def run_round(data_dir: Path, start: int, rng: random.Random) -> tuple[list[str], int, bool]:
    """One writer life: returns (guilds repaired at its start, last acknowledged number, whether it was killed
    while writing)."""
    repaired: list[str] = []
    acked = start - 1
    deadline = None
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir), str(start)], cwd=REPO, stdout=subprocess.PIPE, text=True
    ) as process:  # the context closes its pipe and waits for it
        assert process.stdout is not None  # noqa: S101
        for line in process.stdout:
            kind, _, rest = line.strip().partition(" ")
            if kind == "repaired":
                repaired = [g for g in rest.split(",") if g]
            elif kind == "ready":
                deadline = time.monotonic() + rng.uniform(0.2, 2.5)
            elif kind == "acked":
                acked = int(rest)
            if deadline is not None and time.monotonic() >= deadline:
                process.send_signal(signal.SIGKILL)
                break
    return repaired, acked, deadline is not None and process.returncode == -signal.SIGKILL


@dataclass
class LoopResult:
    """What `kill_loop` found: the kills, what was acknowledged, and the state of the store opened afterwards."""

    kills: int = 0  # writer lives ended by our SIGKILL while writing (not by dying on their own)
    acknowledged: int = 0  # messages the writers said were stored
    repairs: int = 0  # restarts whose index check dropped a damaged collection
    final_repair: list[str] = field(default_factory=list)
    missing: int = 0  # acknowledged messages not held after the last kill
    integrity: str = ""  # SQLite's PRAGMA integrity_check of memory's database
    unindexed: int = 0  # chunks held in SQLite without their vector in Chroma, after catching up
    stray_vectors: int = 0  # vectors in Chroma for no chunk
    found_by_search: bool = False  # a random acknowledged message is the best hit for its own words


def integrity(path: Path) -> str:
    """SQLite's own check of a database ("ok" when sound), on a read-only connection of its own."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def kill_loop(data_dir: Path, rounds: int, rng: random.Random) -> LoopResult:
    """SIGKILL a writer `rounds` times over one data directory, then open the store with the index check as
    `memorybot run` does and compare it with what was acknowledged."""
    result = LoopResult()
    start, acked_total = 0, -1
    for round_number in range(rounds):
        repaired, acked, killed = run_round(data_dir, start, rng)
        result.repairs += bool(repaired)
        result.kills += killed
        if repaired:
            print(f"round {round_number}: repaired {repaired}")
        if not killed:
            print(f"round {round_number}: the writer died on its own (see its output)")
        acked_total = max(acked_total, acked)
        start = acked + 1  # the in-flight batch may be stored too; it is written again, harmlessly
    result.acknowledged = acked_total + 1
    with Memory.open(make_settings(data_dir), embeddings=HashEmbeddings(), check_index=True) as memory:
        result.final_repair = list(memory.repaired)
        memory.catch_up()
        result.integrity = integrity(data_dir / DB_NAME)
        for guild in GUILDS:
            held = set(memory.stores.records.message_ids_where(guild))
            wanted = {message(n, "", guild=guild).message_id for n in range(acked_total + 1) if n % 3 == int(guild[1])}
            result.missing += len(wanted - held)
            chunks = set(memory.stores.chunks.guild_chunk_ids(guild))
            vectors = set(memory.vectors.vectors(guild, sorted(chunks)))
            result.unindexed += len(chunks - vectors)
            result.stray_vectors += memory.vectors.count(guild) - len(vectors)
        probe = rng.randrange(acked_total + 1)
        hits = memory.search(f"stress note {probe} about item{probe}", f"g{probe % 3}", max_sources=1).hits
        result.found_by_search = bool(hits) and f"item{probe} " in hits[0].chunk.text + " "
    return result


def run_bursts(args: argparse.Namespace) -> None:
    """`--burst`: the sequence `--rounds` times, one line of figures each, then the totals."""
    from tests.bot.burst import burst_kill_restart  # the fake Discord and the bot process

    totals = [0, 0, 0]
    for round_number in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.monotonic()
            sequence = burst_kill_restart(
                Path(tmp), burst=args.messages, kill_after=args.kill_after, stored_first=args.stored_first,
                live=args.live, window=args.window,
            )  # fmt: skip
            result = asyncio.run(sequence)
        after = [q for q in result.history_queries if "after" in q]
        print(
            f"run {round_number}: sent {len(result.sent)}, remembered {len(result.remembered)}, lost "
            f"{len(result.lost)}; stored at the kill {result.stored_at_kill}; history pages read after the mark "
            f"{len(after)} of {len(result.history_queries)}; {time.monotonic() - started:.1f} s"
        )
        for i, figure in enumerate((len(result.sent), len(result.remembered), len(result.lost))):
            totals[i] += figure
    print(f"{args.rounds} runs: sent {totals[0]}, remembered {totals[1]}, lost {totals[2]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--burst", action="store_true", help="issue 12's burst-kill-restart sequence (real bot)")
    parser.add_argument("--messages", type=int, default=300, help="--burst: messages in the burst")
    parser.add_argument("--kill-after", type=int, default=149, help="--burst: delivered before the SIGKILL")
    parser.add_argument("--stored-first", type=int, default=100, help="--burst: stored before the rest is sent")
    parser.add_argument("--live", type=int, default=50, help="--burst: sent the moment the restarted bot is ready")
    parser.add_argument("--window", type=int, default=200, help="--burst: discord.reconcile_messages")
    args = parser.parse_args()
    if args.burst:
        run_bursts(args)
        return
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        result = kill_loop(Path(tmp) / "data", args.rounds, rng)
    print(f"{result.kills} kills while writing, {result.acknowledged} messages acknowledged")
    final = ",".join(result.final_repair) or "none"
    print(f"restarts that had to repair a collection: {result.repairs}; at the final open: {final}")
    print(f"acknowledged messages missing: {result.missing}; SQLite integrity_check: {result.integrity}")
    print(f"chunks without a vector: {result.unindexed}; vectors of no chunk: {result.stray_vectors}")
    print(f"a random acknowledged message found by search: {result.found_by_search}")


if __name__ == "__main__":
    main()
