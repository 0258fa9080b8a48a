"""Diagnostic: does Chroma's local HNSW write leftover process heap bytes (text it never received) to disk?

hnswlib, as Chroma embeds it, mallocs the level-0 buffer of a new index (100 slots) and writes all of it to
`data_level0.bin` (and the 400-byte length buffer to `length.bin`) before any slot is initialised; later it
rewrites only the slots that receive a vector. Whatever the allocator hands back, e.g. freed Python strings,
so stays on disk. Each round here runs in a fresh process: it fills the heap with distinctive `SECRET-<n>-...`
strings and frees them, then writes vectors (never text) through Chroma, then greps every file under the
data directory for `SECRET`.

    .venv/bin/python benchmarks/chroma_heap_leak.py --rounds 10
    .venv/bin/python benchmarks/chroma_heap_leak.py --variant vectorindex --rounds 30

Variants: where the secrets are freed (the main thread, or worker threads that exit before Chroma starts its
own threads: glibc gives a new thread the arena of an exited one), the collection settings, and whether the
writes go through raw chromadb or through `memory.vectors.VectorIndex` (which pads new collections).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

REPO = Path(__file__).resolve().parent.parent
NEEDLE = b"SECRET"

# name: (where the secrets are freed, extra environment, writer, vectors written in the first batch)
VARIANTS: dict[str, tuple[str, dict[str, str], str, int]] = {
    "main-thread": ("main", {}, "raw", 120),
    "exited-threads": ("threads", {}, "raw", 120),
    "exited-threads-small": ("threads", {}, "raw", 5),
    "arena-max-1": ("main", {"MALLOC_ARENA_MAX": "1"}, "raw", 120),
    "sync-threshold-100": ("threads", {}, "raw-sync100", 120),
    "sync-threshold-100-small": ("threads", {}, "raw-sync100", 5),
    "vectorindex": ("threads", {}, "vectorindex", 120),
    "vectorindex-small": ("threads", {}, "vectorindex", 5),
    "vectorindex-arena-max-1": ("main", {"MALLOC_ARENA_MAX": "1"}, "vectorindex", 120),
}


def fill_heap(seed: int, count: int = 2000) -> None:
    """Allocate and free many secret strings, small and large (large ones come from malloc, not pymalloc)."""
    rnd = random.Random(seed)
    junk = []
    for i in range(count):
        size = rnd.choice([40, 200, 700, 3000, 20_000, 90_000])
        junk.append((f"SECRET-{seed}-{i}-" * (size // 12 + 1))[:size])
    del junk


class _NoEmbeddings(Embeddings):
    """VectorIndex wants an embedder for langchain-chroma; the vectors here are given, never computed."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("not used")

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError("not used")


def _vectors(rnd: random.Random, count: int, dim: int) -> list[list[float]]:
    return [[rnd.gauss(0.0, 1.0) for _ in range(dim)] for _ in range(count)]


def worker(variant: str, dim: int, seed: int) -> dict[str, Any]:
    """One round in this (fresh) process: secrets freed, then vectors written, then the data dir grepped."""
    where, _env, writer, first = VARIANTS[variant]
    if where == "threads":
        threads = [threading.Thread(target=fill_heap, args=(seed * 10 + t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    fill_heap(seed)

    import chromadb
    from chromadb.config import Settings

    data_dir = Path(tempfile.mkdtemp(prefix="heapleak-"))
    client = chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=Settings(anonymized_telemetry=False))
    rnd = random.Random(seed)
    batches = [first, 40, 60] if first > 10 else [first]
    if writer == "vectorindex":
        sys.path.insert(0, str(REPO))
        from memory.stores.chroma import ChromaVectorIndex
        from memory.types import Chunk

        index = ChromaVectorIndex(client, _NoEmbeddings(), "diagnostic")

        def chunk(cid: str) -> Chunk:
            return Chunk(cid, "chat", "g1", "c1", "r", 0, "k", "", 0, (), (), None, None)

        done: list[str] = []
        for n, size in enumerate(batches):
            ids = [f"{n:02d}{i:030d}" for i in range(size)]
            index.upsert("g1", [chunk(i) for i in ids], _vectors(rnd, size, dim))
            done += ids
            index.delete("g1", done[::5])
        again = done[:10]
        index.upsert("g1", [chunk(i) for i in again], _vectors(rnd, len(again), dim))  # updates of existing ids
        count = index.count("g1")
        index.close()
    else:
        configuration: dict[str, Any] = {"space": "cosine"}
        if writer == "raw-sync100":
            configuration["sync_threshold"] = 100
        collection = client.get_or_create_collection("diagnostic", configuration={"hnsw": configuration})
        done = []
        for n, size in enumerate(batches):
            ids = [f"id-{n}-{i}" for i in range(size)]
            collection.upsert(ids=ids, embeddings=_vectors(rnd, size, dim), metadatas=[{"kind": "chat"}] * size)
            done += ids
            collection.delete(ids=done[::5])
        again = done[:10]
        collection.upsert(ids=again, embeddings=_vectors(rnd, len(again), dim))  # updates of existing ids
        count = collection.count()
    hits = {}
    for path in data_dir.rglob("*"):
        if path.is_file() and (n_hits := path.read_bytes().count(NEEDLE)):
            hits[path.name] = hits.get(path.name, 0) + n_hits
    shutil.rmtree(data_dir, ignore_errors=True)
    return {"variant": variant, "count": count, "hits": hits}


def run(variants: Sequence[str], rounds: int, dim: int) -> None:
    print(f"{'variant':26} {'leaked':>9}  mean hits  files")
    for variant in variants:
        env = {**os.environ, **VARIANTS[variant][1]}
        leaked, total, files = 0, 0, set()
        for seed in range(rounds):
            command = [sys.executable, __file__, "--worker", variant, "--dim", str(dim), "--seed", str(seed)]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode:
                raise SystemExit(f"{variant} round {seed} failed:\n{done.stderr}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            if result["hits"]:
                leaked += 1
                total += sum(result["hits"].values())
                files |= set(result["hits"])
        mean = total / leaked if leaked else 0
        print(f"{variant:26} {leaked:>4}/{rounds:<4} {mean:10.0f}  {', '.join(sorted(files)) or '-'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="fresh processes per variant")
    parser.add_argument("--dim", type=int, default=256, help="vector dimensions (256: the tests' embedder)")
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="default: all")
    parser.add_argument("--worker", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.dim, args.seed)))
    else:
        run(args.variant or list(VARIANTS), args.rounds, args.dim)


if __name__ == "__main__":
    main()
