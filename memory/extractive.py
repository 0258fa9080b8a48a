"""The answer given without a language model: the best passages, quoted, each with its source number."""

from __future__ import annotations

import itertools
import re

from memory.packing import PackedContext

NOTHING_FOUND = "I found nothing in memory about that."
QUOTED = 8  # passages quoted at most: beyond that a list of quotes is no longer an answer
EXTRACTIVE_LABEL = "No language model is configured, so here are the most relevant passages from memory:"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+")


def _best_sentences(text: str, question_words: set[str], quoted: set[str], limit: int = 2) -> str:
    """The passage's sentences that share most words with the question, not already `quoted` (which grows)."""
    # Each sentence keeps its place in the passage, so that only a gap between two quoted ones gets an ellipsis.
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
    # Heading trails ("Guide > Deploys") and stray labels repeat the question's words but say nothing.
    placed = [(i, s) for i, s in enumerate(sentences) if len(s.split()) >= 4 and " > " not in s] or list(
        enumerate(sentences)
    )
    # A message is often packed alone and within its conversation too: the answer quotes it once.
    placed = [(i, s) for i, s in placed if s not in quoted]
    if not placed:
        return ""
    scored = sorted(
        placed, key=lambda item: (-len(question_words & {w.lower() for w in _WORD.findall(item[1])}), item[0])
    )
    chosen = sorted(scored[:limit])
    quoted.update(s for _, s in chosen)
    excerpt = chosen[0][1]
    for (before, _), (index, sentence) in itertools.pairwise(chosen):
        excerpt += (" " if index == before + 1 else " … ") + sentence
    return excerpt if len(excerpt) <= 400 else excerpt[:399] + "…"


def extractive_answer(question: str, context: PackedContext) -> str:
    """Quote the sentences of each packed passage that share most words with the question, each sentence once.

    Returns:
        A labelled answer with `[n]` markers that match the order of `context.hits`, or a plain
        "nothing found" when nothing was retrieved.
    """
    if not context.hits:
        return NOTHING_FOUND
    words = {w.lower() for w in _WORD.findall(question) if len(w) > 2}
    lines = [EXTRACTIVE_LABEL]
    quoted: set[str] = set()
    for number, hit in enumerate(context.hits[:QUOTED], start=1):
        excerpt = _best_sentences(hit.chunk.text, words, quoted)
        if excerpt:
            place = f" ({hit.chunk.place})" if hit.chunk.page is not None or hit.chunk.section else ""
            lines.append(f"> {excerpt}{place} [{number}]")
    return "\n".join(lines)
