"""An optional second-stage reranker: a sentence-transformers `CrossEncoder` from a local path reads the question
with each of the best passages and puts them in its order (`retrieval.reranker`); nothing is downloaded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from memory.errors import ConfigError
from memory.types import Hit

RERANKED = 40  # the best fused hits the cross-encoder reads (it costs a model pass per passage)


class PairScorer(Protocol):
    """What reranking needs of a cross-encoder: a relevance score for each (question, passage) pair."""

    def predict(self, sentences: list[tuple[str, str]]) -> Sequence[float]: ...


def load_reranker(path: Path) -> PairScorer:
    """The cross-encoder saved at `path` (a sentence-transformers model directory), on the CPU.

    Raises:
        ConfigError: no model there, or it cannot be loaded.
    """
    if not path.is_dir():
        msg = f"retrieval.reranker: no model directory at {path} (give the path of a saved CrossEncoder, or unset it)"
        raise ConfigError(msg)
    try:
        from sentence_transformers import CrossEncoder

        return CrossEncoder(str(path), device="cpu")  # type: ignore[no-any-return]
    except Exception as e:  # a broken or foreign directory: say which, not how the loader failed inside
        msg = f"retrieval.reranker: {path} could not be loaded as a CrossEncoder ({type(e).__name__}: {e})"
        raise ConfigError(msg) from e


def rerank(scorer: PairScorer, query: str, hits: list[Hit]) -> list[Hit]:
    """The first `RERANKED` hits in the scorer's order (best first), the rest after them as they were."""
    head, tail = hits[:RERANKED], hits[RERANKED:]
    if len(head) < 2:
        return hits
    scores = scorer.predict([(query, hit.chunk.text) for hit in head])
    order = sorted(range(len(head)), key=lambda i: -float(scores[i]))
    return [head[i] for i in order] + tail
