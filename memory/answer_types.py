"""What kind of value a question about a changing fact asks for (a time, a link, a version, a number, a code, a
member) and whether a passage states one: "what time is standup now?" is answered by "standup is at 10:00", not by
the later "running late to standup"."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

# (what the question says, what a passage that answers it holds), the first that matches the question wins.
_KINDS = [
    (r"\b(url|link|website|site)\b", r"https?://\S+|\b[\w-]+(\.[\w-]+)*\.(dev|com|net|org|io|cloud|app)\b"),
    (r"\b(version|release)\b", r"\bv?\d+\.\d+(\.\d+)?\b"),
    (r"\b(what time|time|o'clock)\b", r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2} ?[ap]\.?m\b"),
    (
        r"\bhow (long|many|much|often)\b|\b(length|duration)\b",
        r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twice)\b",
    ),
    (
        r"\b(address|floor)\b",
        r"\b\d+(st|nd|rd|th) floor\b|\b(street|st|road|rd|avenue|ave|lane|square|quay\w*|way)\.? \d+\b"
        r"|\b\d+ \w+ (street|st|road|rd|avenue|ave|lane|square)\b",
    ),
    (r"\b(password|passcode|pin|code|pw)\b", r"\b(?=[\w-]*\d)(?=[\w-]*[a-z])[\w-]{6,}\b"),
]
_ASKS = [(re.compile(asks, re.IGNORECASE), re.compile(holds, re.IGNORECASE)) for asks, holds in _KINDS]
_WHO = re.compile(r"^\W*who\b|\bwho(?:'s| is| has| leads| runs| should| do)\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")


def value_check(question: str, member_names: Collection[str]) -> Callable[[str], bool] | None:
    """For a question that asks for a kind of value, a check of whether a passage's words state one (a "who"
    question: name one of `member_names`, lower case); None for any other question."""
    for asks, holds in _ASKS:
        if asks.search(question):
            return lambda said: holds.search(said) is not None
    if _WHO.search(question) and member_names:
        names = set(member_names)
        return lambda said: any(word.lower() in names for word in _WORD.findall(said))
    return None
