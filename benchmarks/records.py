"""Record-store figures for docs/scaling.md: messages remembered per second and search p50 on SQLite and on
PostgreSQL (a throwaway server started here, with fsync and synchronous commit on), the same messages and queries
on both in one run, with the hashing embedder so that the model's time does not hide the stores'.

    python benchmarks/records.py [--messages 5000] [--batch 100] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from memory import Memory  # noqa: E402
from tests.conftest import POSTGRES_RECORDS, make_settings  # noqa: E402
from tests.fakes import HashEmbeddings, message  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402

WORDS = [
    "deploy",
    "release",
    "standup",
    "pager",
    "oncall",
    "budget",
    "invoice",
    "laptop",
    "printer",
    "wifi",
    "password",
    "offsite",
    "lisbon",
    "kettle",
    "coffee",
    "rollback",
    "staging",
    "database",
    "backup",
    "migration",
    "sprint",
    "retro",
    "roadmap",
    "design",
    "review",
    "bug",
    "ticket",
    "incident",
    "outage",
    "badge",
    "parking",
    "lunch",
    "pizza",
    "ramen",
    "holiday",
    "vacation",
    "contract",
    "vendor",
    "license",
    "renewal",
    "audit",
    "security",
    "patch",
]


def _messages(count: int, rng: random.Random) -> list:
    """Varied short messages from 20 members, 30 seconds apart (a busy channel's windows)."""
    return [
        message(n, " ".join(rng.choices(WORDS, k=rng.randint(6, 18))), author=f"u{n % 20}", minutes=n / 2)
        for n in range(count)
    ]


def _measure(memory: Memory, messages: list, batch: int, queries: list[str]) -> tuple[float, float]:
    started = time.perf_counter()
    for start in range(0, len(messages), batch):
        memory.remember_messages(messages[start : start + batch])
    rate = len(messages) / (time.perf_counter() - started)
    took = []
    for query in queries:
        began = time.perf_counter()
        memory.search(query, "g1")
        took.append((time.perf_counter() - began) * 1000)
    return rate, statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100, help="messages per remember_messages call (one commit)")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    messages = _messages(args.messages, rng)
    queries = [" ".join(rng.sample(WORDS, 3)) for _ in range(args.queries)]
    server = PostgresServer()
    try:  # the test server trades durability for speed; a benchmark against SQLite must not
        for setting in ("fsync = on", "synchronous_commit = on", "full_page_writes = on"):
            server.execute(f"ALTER SYSTEM SET {setting}")
        server.execute("SELECT pg_reload_conf()")
        rows = []
        with tempfile.TemporaryDirectory() as folder:
            for backend in ("sqlite", "postgres"):
                storage: dict[str, object] = {"data_dir": str(Path(folder) / backend)}
                if backend == "postgres":
                    os.environ["MEMORYBOT_DATABASE_URL"] = server.fresh_database()
                    storage |= POSTGRES_RECORDS
                settings = make_settings(Path(folder) / backend, storage=storage)
                with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
                    rows.append((backend, *_measure(memory, messages, args.batch, queries)))
    finally:
        server.stop()
    print(f"{args.messages} messages in batches of {args.batch}, {args.queries} searches (hashing embedder)")
    print("record store | messages/s remembered | search ms p50")
    for backend, rate, p50 in rows:
        print(f"{backend} | {rate:,.0f} | {p50:.1f}")


if __name__ == "__main__":
    main()
