"""A second search round, when a language model is configured: a question that found too little, or that needs
several facts ("the dog of the person who moved to Lisbon"), is rewritten by the model into short search queries;
their hits are fused with the first round's by reciprocal rank and packed into the same budget."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from memory.packing import PackedContext, pack
from memory.retrieval import RRF_K
from memory.types import Hit

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

MAX_QUERIES = 3
WEAK_SIMILARITY = 0.4  # a first round whose best passage is this far from the question found too little
# A relative clause or a second question inside the question: it needs more than one fact.
_COMPOUND = re.compile(r"\s(who|whose|whom|that|which|where)\s|\band\b.*\?|\bboth\b|\bafter\b|\bbefore\b", re.I)
REWRITE_RULES = """You turn a member's question into search queries for the memory of a Discord server (its chat \
messages and uploaded files). Write at most {count} short queries, one per line, each self-contained: when the \
question needs several facts, one query per fact (the first fact, then what it leads to). Output only the queries, \
no numbering, no explanation."""


def needs_second_round(question: str, context: PackedContext) -> bool:
    """Whether the first round found too little (nothing, or nothing close to the question), or the question needs
    several facts."""
    best = max((h.similarity for h in context.hits if h.similarity is not None), default=0.0)
    return best < WEAK_SIMILARITY or bool(_COMPOUND.search(f" {question} "))


async def rewritten_queries(chat: BaseChatModel, question: str) -> list[str]:
    """The model's search queries for a question (the question itself left out); [] if it gives none."""
    from langchain_core.messages import HumanMessage, SystemMessage

    reply = await chat.ainvoke([SystemMessage(REWRITE_RULES.format(count=MAX_QUERIES)), HumanMessage(question)])
    text = reply.content if isinstance(reply.content, str) else ""
    queries = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip().strip('"') for line in text.splitlines()]
    unique = dict.fromkeys(q for q in queries if q and q.lower() != question.strip().lower())
    return list(unique)[:MAX_QUERIES]


def fuse_rounds(
    first: PackedContext,
    rounds: Sequence[Sequence[Hit]],
    *,
    budget: int,
    model: str,
    max_sources: int,
) -> PackedContext:
    """The first round's hits and every rewritten query's, fused by reciprocal rank (a passage found by several
    queries rises), then packed into the budget as the first round was."""
    fused: dict[str, float] = {}
    chunks: dict[str, Hit] = {}
    for hits in [first.hits, *rounds]:
        for rank, hit in enumerate(h for h in hits if h.neighbour_of is None):
            fused[hit.chunk.chunk_id] = fused.get(hit.chunk.chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
            chunks.setdefault(hit.chunk.chunk_id, hit)
    ranked = sorted(chunks.values(), key=lambda h: (-fused[h.chunk.chunk_id], h.chunk.chunk_id))
    merged = [Hit(h.chunk, round(fused[h.chunk.chunk_id], 6), h.similarity) for h in ranked]
    return pack(merged, budget, model=model, max_sources=max_sources)
