"""Linked documents: a file passage that names another document by its title brings that document along, so a
question about "the founder of X" finds X's page and the founder's own page too (the second hop)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from memory.types import Chunk, Hit
from memory.words import STOPWORDS

LINK_FROM = 2  # the best file passages whose mentions are followed
MAX_MENTIONS = 8  # titles looked up per question (in one keyword query)
MAX_LINKED = 2  # linked documents added per question
STEM = 5  # letters of a word compared when matching a mention's sentence with the question
LINKED_AFTER = 2  # they go after this many of the best hits: the first hop and a runner-up keep their places
# A name as prose writes it: capitalised words, joined by the small words titles hold ("Bank of the North").
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:(?:of|the|de|da|del|van|von|and|on|upon)\s+)*[A-Z][\w'’-]*)*")

_SENTENCE_END = re.compile(r"[.!?](?:\s+|$)|\n\n")
Lookup = Callable[[list[str]], list[Chunk]]  # titles → the passages holding any of them, best first
Similarity = Callable[[list[str]], dict[str, float]]  # chunk ids → their cosine similarity to the question


def title_of(chunk: Chunk) -> str | None:
    """The title a file passage belongs to: its top heading, else its file name without the extension."""
    if chunk.kind != "file":
        return None
    if chunk.section:
        return chunk.section.split(" > ")[0]
    return re.sub(r"\.[A-Za-z0-9]+$", "", chunk.filename or "") or None


def _key(name: str) -> str:
    """A title as compared: its words, without a leading article or case ("The River Aldwater" = "river aldwater")."""
    parts = _tokens(name)
    return " ".join(parts[1:] if parts[:1] in (["the"], ["a"], ["an"]) else parts)


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def mentions(text: str, question: str, own_title: str | None) -> dict[str, str]:
    """The names a passage mentions that the question does not (the question's own names are the first hop), each
    with the sentence that first mentions it; one capitalised word opening a sentence ("She", "Its") is taken for
    an ordinary word."""
    asked = f" {' '.join(_tokens(question))} "
    found: dict[str, str] = {}
    for match in _NAME.finditer(text):
        key = _key(match.group(0))
        before = text[: match.start()].rstrip()
        opener = not before or before[-1] in ".!?:#\n"
        if not key or (opener and " " not in key) or all(w in STOPWORDS for w in key.split()):
            continue
        if f" {key} " in asked or key == _key(own_title or "") or key in found:
            continue
        start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, match.start())), default=0)
        end = next((m.start() for m in _SENTENCE_END.finditer(text, match.end())), len(text))
        found[key] = text[start:end]
    return found


def _stems(text: str, leave_out: str = "") -> set[str]:
    """A text's content words cut to their first five letters: "study" and "studied", "founder" and "founded"."""
    left = set(_tokens(leave_out))
    return {w[:STEM] for w in _tokens(text) if len(w) >= 3 and w not in STOPWORDS and w not in left}


def linked(hits: Sequence[Hit], question: str, lookup: Lookup, similarity: Similarity, floor: float) -> list[Hit]:
    """The hits with up to `MAX_LINKED` documents that the best file passages name by title, placed after the best
    `LINKED_AFTER` hits: above the relevance floor, those named in a sentence sharing the question's words first,
    then those most similar to the question.

    A document is "named" when a passage mentions its top heading (or file name). Chat is left as it is: names in
    chat are mostly people, already searched by their words, and following them found nothing more (measured).
    """
    sources = [h for h in hits if h.chunk.kind == "file"][:LINK_FROM]
    asked = f" {' '.join(_tokens(question))} "
    titles = {_key(t) for h in sources if (t := title_of(h.chunk))}
    if len(titles) > 1 and all(f" {t} " in asked for t in titles):  # "which is older, A or B?": nothing to follow
        return list(hits)
    present = {h.chunk.chunk_id for h in hits[:LINKED_AFTER]}
    present_titles = {_key(t) for h in hits[:LINKED_AFTER] if (t := title_of(h.chunk))}
    # A name said in the words the question asks about ("born in Kettleby" for "where was ... born?") comes first.
    wanted = _stems(question, leave_out=" ".join(titles))
    named: dict[str, str] = {}
    source_of: dict[str, int] = {}  # which source named it first: the best hit's names before the runner-up's
    for index, hit in enumerate(sources):
        for name, sentence in mentions(hit.chunk.text, question, title_of(hit.chunk)).items():
            named.setdefault(name, sentence)
            source_of.setdefault(name, index)
    candidates: dict[str, Chunk] = {}
    overlap: dict[str, int] = {}
    rank: dict[str, int] = {}
    followed = [(n, s) for n, s in named.items() if n not in present_titles][:MAX_MENTIONS]
    titled: dict[str, list[Chunk]] = {}
    for chunk in lookup([name for name, _ in followed]) if followed else []:
        titled.setdefault(_key(title_of(chunk) or ""), []).append(chunk)
    for name, sentence in followed:
        found = titled.get(name, [])
        page = next((c for c in found if c.chunk_id not in present and c.chunk_id not in candidates), None)
        if page is not None:
            candidates[page.chunk_id] = page
            overlap[page.chunk_id] = len(wanted & _stems(sentence, leave_out=name))
            rank[page.chunk_id] = source_of[name]
    if not candidates:
        return list(hits)
    scores = similarity(list(candidates))
    # The second hop is seldom like the question ("the town where X was born" and the town's page), so a page named
    # in a sentence sharing the question's words needs no similarity; others need the floor. No vector yet: left out.
    above = [i for i in candidates if i in scores and (overlap[i] or scores[i] >= floor)]
    best = sorted(above, key=lambda i: (-overlap[i], rank[i], -scores[i]))[:MAX_LINKED]
    if not best:
        return list(hits)
    anchor = hits[min(LINKED_AFTER, len(hits)) - 1].score
    added = [Hit(candidates[i], anchor, round(scores[i], 6)) for i in best]
    chosen = set(best)
    rest = [h for h in hits[LINKED_AFTER:] if h.chunk.chunk_id not in chosen]
    return [*hits[:LINKED_AFTER], *added, *rest]
