"""The kill -9 loop of `benchmarks/kill9.py`, reduced for CI: a writer process SIGKILLed three times while it
stores messages, then the store opened with the index check; nothing acknowledged is lost and the store is sound."""

from __future__ import annotations

import random

from benchmarks.kill9 import kill_loop


def test_three_kills_during_ingestion_lose_nothing_acknowledged(tmp_path):
    """Each writer life is ended by our SIGKILL in the middle of its writes (not by dying on its own), after some
    batches were acknowledged; afterwards every acknowledged message is held, SQLite is intact, every chunk has its
    vector and no vector is left over, and search still finds a random acknowledged message. A collection the
    index check had to rebuild would still have to pass all of that (it is rebuilt from SQLite)."""
    result = kill_loop(tmp_path / "data", rounds=3, rng=random.Random(12))
    assert result.kills == 3
    assert result.acknowledged >= 3 * 25  # every life stored at least one batch of 25 before it was killed
    assert result.missing == 0, f"{result.missing} of {result.acknowledged} acknowledged messages lost"
    assert result.integrity == "ok"
    assert (result.unindexed, result.stray_vectors) == (0, 0)
    assert result.found_by_search
