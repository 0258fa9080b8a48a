"""Health check of the embedded vector index, run in a child process: a damaged Chroma segment can crash the
process that reads it (a segfault, not an exception), answer with an error forever, or silently lose recall."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.errors import MemoryStoreError
from memory.stores.chroma import PADDING, collection_name, placeholders_held

SAMPLE = 8  # stored vectors searched for per collection, spread over it: each must find itself
SELF_DISTANCE = 1e-3  # cosine distance of a vector to itself, with room for float error
CHECK_TIMEOUT_SECONDS = 300.0
# Not `-m`: the package imports this module first, and runpy warns about running it twice.
_CHILD = "import sys; from memory.stores.chroma_health import main; main(sys.argv[1:])"


@dataclass(frozen=True, slots=True)
class Damage:
    """A collection that failed the check, and how."""

    collection: str
    guild_id: str | None
    problem: str


def find_damaged(chroma_dir: Path, timeout: float = CHECK_TIMEOUT_SECONDS) -> tuple[list[Damage], dict[str, int]]:
    """Check every collection under `chroma_dir` in child processes; return the damaged ones and the vector
    count of each healthy one by guild id. A collection whose check kills the child (or hangs) is damaged; the
    check then goes on without it in a new child.

    Raises:
        MemoryStoreError: the index cannot be opened at all (not one collection could be checked).
    """
    damaged: list[Damage] = []
    counts: dict[str, int] = {}
    skip: list[str] = []
    while True:
        command = [sys.executable, "-c", _CHILD, str(chroma_dir), *skip]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
            output, code = done.stdout, done.returncode
        except subprocess.TimeoutExpired as e:
            output, code = _text(e.stdout), -1
        started: dict[str, str | None] | None = None
        for line in output.splitlines():
            report = json.loads(line)
            if "started" in report:
                started = report
                continue
            started = None
            skip.append(report["collection"])  # checked: a child started after a crash goes on with the rest
            if report.get("problem"):
                damaged.append(Damage(report["collection"], report.get("guild_id"), report["problem"]))
            elif report.get("guild_id"):
                counts[report["guild_id"]] = int(report["count"])
        if code == 0:
            return damaged, counts
        if started is None:
            msg = f"the vector index in {chroma_dir} cannot be opened; move it away and run `memorybot reindex`"
            raise MemoryStoreError(msg)
        how = "hung" if code == -1 else f"crashed the process reading it (exit code {code})"
        damaged.append(Damage(str(started["collection"]), started.get("guild_id"), how))
        skip.append(str(started["collection"]))


def damaged_collections(chroma_dir: Path, embedded: dict[str, int]) -> list[Damage]:
    """Collections that fail the health check, and guilds holding fewer vectors than the record store says were
    embedded (`embedded`: guild id -> count; vectors lost, e.g. a segment rebuilt from an incomplete log), or none
    at all."""
    return check_index(chroma_dir, embedded)[0]


def check_index(chroma_dir: Path, embedded: dict[str, int]) -> tuple[list[Damage], dict[str, int]]:
    """`damaged_collections`, and the vector count of each healthy guild (for `memorybot doctor`'s report)."""
    if not chroma_dir.exists():
        return [], {}
    damaged, counts = find_damaged(chroma_dir)
    flagged = {d.guild_id for d in damaged}
    for guild_id, written in embedded.items():
        if guild_id not in flagged and counts.get(guild_id, 0) < written:
            problem = f"{counts.get(guild_id, 0)} vectors where {written} were written"
            damaged.append(Damage(collection_name(guild_id), guild_id, problem))
    return damaged, counts


def _text(data: bytes | str | None) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else data or ""


def _check(chroma_dir: str, skip: Sequence[str]) -> None:
    """The child's side: one JSON line when a collection's check starts, one with its result."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=chroma_dir, settings=Settings(anonymized_telemetry=False))
    collections: list[Any] = list(client.list_collections())  # chromadb's argument types are too narrow to pass
    for collection in collections:
        if collection.name in skip:
            continue
        guild_id = (collection.metadata or {}).get("guild_id")
        _say({"collection": collection.name, "guild_id": guild_id, "started": True})
        result: dict[str, object] = {"collection": collection.name, "guild_id": guild_id}
        try:
            count = collection.count()
            placeholders = placeholders_held(collection)
            result["count"] = count - placeholders
            misses = checked = 0
            offsets = sorted({i * count // SAMPLE for i in range(SAMPLE)}) if count else []
            for offset in offsets:
                sample = collection.get(limit=1, offset=offset, include=["embeddings"])
                if str(sample["ids"][0]).startswith(PADDING):
                    continue  # a placeholder: not a chunk's vector
                vector = [float(x) for x in sample["embeddings"][0]]
                # As many more as there are placeholders: a one-hot one may be as near as the vector itself.
                found = collection.query(query_embeddings=[vector], n_results=1 + placeholders, include=["distances"])
                distances = found["distances"][0] if found["distances"] else []
                misses += not distances or min(distances) > SELF_DISTANCE
                checked += 1
            if misses:
                result["problem"] = f"{misses} of {checked} stored vectors not found by searching for themselves"
        except Exception as e:  # any failure is the finding
            result["problem"] = f"{type(e).__name__}: {str(e)[:300]}"
        _say(result)


def _say(report: dict[str, object]) -> None:
    # Flushed line by line: if the next read kills this process, the parent knows which collection did it.
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Check every collection of an embedded Chroma directory.")
    parser.add_argument("chroma_dir")
    parser.add_argument("skip", nargs="*", help="collections already found damaged")
    args = parser.parse_args(argv)
    _check(args.chroma_dir, args.skip)


if __name__ == "__main__":
    main()
