"""The members a question may name: the candidate names among its words, and the question without a name."""

from __future__ import annotations

import re
from collections.abc import Iterable

from memory.words import STOPWORDS

LONGEST_NAME = 3  # words in the longest display name looked up ("Ana María López")


def sqlite_lower(text: str) -> str:
    """Lower case as SQLite's lower() makes it (ASCII letters only), so a name typed as it is displayed matches."""
    return "".join(c.lower() if c.isascii() else c for c in text)


def name_candidates(question: str) -> list[str]:
    """Every run of one to `LONGEST_NAME` words of the question, lower-cased as `sqlite_lower` does; a lone stop
    word ("will", "may") is left out, so that a member named so is matched only with more words."""
    tokens = [sqlite_lower(t) for t in re.findall(r"\w+", question)]
    runs = [t for t in tokens if t not in STOPWORDS and not t.isdigit()]
    for size in range(2, LONGEST_NAME + 1):
        runs += [" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]
    return list(dict.fromkeys(runs))


def without_names(question: str, names: Iterable[str]) -> str:
    """The question with these names (and their possessive 's) taken out: what it asks about them. A name matches
    every message that says it ("Priya how did it go?"), so left in, it outweighs what is asked."""
    for name in sorted(set(names), key=len, reverse=True):
        spaced = r"\W+".join(re.escape(part) for part in name.split())
        question = re.sub(rf"\b{spaced}(?:'s)?\b", " ", question, flags=re.IGNORECASE)
    return " ".join(question.split())
