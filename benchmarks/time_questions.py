"""Time-aware questions at scale: the timeline set's questions, by kind, against a store of N chunks made of the
set's own passages (their texts and real vectors, with noisy copies, as bench.py's scale part makes them), asked at
the store's newest moment; beside each kind, the same questions with their time words taken out (the plain path),
as the reference measured in the same run.

    python benchmarks/time_questions.py [--chunks 100000] [--rounds 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np  # noqa: E402

from benchmarks.bench import START, Pool, bench_settings, fill_store, percentile, synthetic_vectors  # noqa: E402
from benchmarks.eval import load_sets, remember_set  # noqa: E402
from benchmarks.evalsets import EvalSet  # noqa: E402
from bot.config import load_config  # noqa: E402
from memory import Memory  # noqa: E402
from memory.embeddings import LocalEmbeddings  # noqa: E402
from memory.settings import EmbeddingSettings  # noqa: E402
from memory.when import resolve  # noqa: E402

GUILD = "time-questions"


def passage_pool(timeline: EvalSet, embedder: LocalEmbeddings, folder: Path) -> Pool:
    """The timeline set remembered as a user gets it: its passages' texts, tokens and stored vectors."""
    pool = Pool()
    with Memory.open(load_config(REPO / "config.yaml", data_dir=folder), embeddings=embedder) as memory:
        remember_set(memory, timeline)
        ids = sorted(memory.stores.chunks.guild_chunk_ids(timeline.guild_id))
        chunks = memory.stores.chunks.chunks(ids)
        vectors = memory.vectors.vectors(timeline.guild_id, ids)
    kept = [i for i in ids if i in chunks and i in vectors]
    pool.add([chunks[i].text for i in kept], [chunks[i].tokens for i in kept], [vectors[i] for i in kept])
    return pool


def build(size: int, embedder: LocalEmbeddings, store: Path, scratch: Path) -> list[tuple[str, str]]:
    """A store of `size` chunks at `store` (kept if it is there already: then the set is not remembered again);
    the questions to ask it, as (kind, text)."""
    (timeline,) = load_sets(["timeline"], False)
    questions = [(q.kind, q.text) for q in timeline.questions]
    if (store / "memory.sqlite3").exists():
        return questions
    pool = passage_pool(timeline, embedder, scratch)
    real = np.asarray(pool.vectors, dtype=np.float32)
    vectors, source = synthetic_vectors(real, size, np.random.default_rng(size))
    started = time.perf_counter()
    with Memory.open(bench_settings(store), embeddings=embedder) as memory:
        fill_store(memory, GUILD, vectors, source, pool)
    print(f"[{time.perf_counter() - started:.0f} s] built {size:,} chunks in {store}", file=sys.stderr)
    return questions


def main(argv: Sequence[str] | None = None) -> None:
    """Build (or reuse) the store, time every kind's questions and their plain forms, print one table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2, help="times each question is asked")
    parser.add_argument("--keep", type=Path, help="build the store here and reuse it on the next run")
    args = parser.parse_args(argv)
    embedder = LocalEmbeddings(EmbeddingSettings())
    with tempfile.TemporaryDirectory() as scratch:
        store = args.keep or Path(scratch) / "store"
        questions = build(args.chunks, embedder, store, Path(scratch) / "timeline")
        now = START + timedelta(minutes=args.chunks + 60)  # the store's chunks are a minute apart from START
        by_kind: dict[str, list[str]] = {}
        for kind, text in questions:
            by_kind.setdefault(kind, []).append(text)
        print("kind | n | p50 ms | p95 ms | plain p50 ms | plain p95 ms")
        print("--- | --- | --- | --- | --- | ---")
        with Memory.open(bench_settings(store), embeddings=embedder) as memory:
            for _, text in questions[:5]:  # warm-up: the index loaded, the model's kernels warm
                memory.search(text, GUILD, now=now)
            for kind, texts in sorted(by_kind.items()):
                timed: list[float] = []
                reference: list[float] = []
                for _ in range(args.rounds):
                    for text in texts:
                        stripped = resolve(text, now).without_phrases(text)
                        for ask, into in ((text, timed), (stripped, reference)):  # alternated: the same load
                            started = time.perf_counter()
                            memory.search(ask, GUILD, now=now)
                            into.append((time.perf_counter() - started) * 1000)
                cells = [statistics.median(timed), percentile(timed, 0.95)]
                cells += [statistics.median(reference), percentile(reference, 0.95)]
                print(" | ".join([kind, str(len(timed)), *(f"{c:.1f}" for c in cells)]))


if __name__ == "__main__":
    main()
