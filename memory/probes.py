"""Cheap live readings of an open memory for an operations endpoint: whether each store answers, chunks held."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memory.service import Memory

OK = "ok"


def stores_reachable(memory: Memory) -> dict[str, str]:
    """`ok`, or the error in one line, for the record store (a read of its metadata) and the vector index (its
    heartbeat: a round trip to a Chroma server). Blocking: call it from a worker thread."""
    checks = {
        "records": lambda: memory.stores.database.get_meta("embedding_model"),
        "vectors": memory.vectors.heartbeat,
    }
    found: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
            found[name] = OK
        except Exception as e:  # whatever the store raised is the reading
            found[name] = f"{type(e).__name__}: {e}"
    return found


def chunks_held(memory: Memory) -> int:
    """How many chunks the record store holds, every guild together (one SQL count). Blocking."""
    return sum(stats.chunks for stats in memory.stores.chunks.chunk_counts().values())
