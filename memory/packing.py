"""Packing the best hits into a token budget, counted with the answering model's tiktoken encoding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.tokens import encoding_for
from memory.types import Hit


@dataclass(frozen=True, slots=True)
class PackedContext:
    """Hits that fit a token budget, best first, with each one's token count under the packing encoding."""

    hits: list[Hit]
    tokens: list[int]
    budget: int

    @property
    def total_tokens(self) -> int:
        """Tokens of all packed passages together (never above `budget`)."""
        return sum(self.tokens)


def pack(
    hits: Sequence[Hit], budget: int, *, model: str | None = None, max_sources: int | None = None
) -> PackedContext:
    """Greedily keep the best hits whose text fits the budget whole; a hit that does not fit is skipped, never cut.

    Args:
        hits: best first.
        budget: the most tokens the packed passages may hold together.
        model: count tokens with this model's encoding (when it is available offline).
        max_sources: stop after this many hits (neighbours added around a hit do not count).
    """
    encoding = encoding_for(model)
    kept: list[Hit] = []
    counts: list[int] = []
    total = 0
    primary = 0
    for hit in hits:
        if max_sources is not None and primary >= max_sources and hit.neighbour_of is None:
            break
        if hit.neighbour_of is not None and hit.neighbour_of not in {h.chunk.chunk_id for h in kept}:
            continue  # context around a hit that did not fit
        tokens = len(encoding.encode(hit.chunk.text, disallowed_special=()))
        if total + tokens > budget:
            continue
        kept.append(hit)
        counts.append(tokens)
        total += tokens
        primary += hit.neighbour_of is None
    return PackedContext(kept, counts, budget)
