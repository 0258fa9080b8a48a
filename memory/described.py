"""Questions that pick a member out by what they said rather than by name ("what does the member who moved to
Tallinn do for work?"): the description found in the question, and the question with it taken out."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Nouns that stand for a member in a description; "the Moonbeam Studios employee" may name a company first.
_HEADS = (
    r"(?:member|person|one|user|owner|employee|guy|woman|man|girl|boy|friend|colleague|teammate|someone|somebody|"
    r"folks|people)"
)
_DESCRIPTION = re.compile(
    r"\b(?:whoever\b[^?,.;!]*"
    rf"|(?:the|a|an)\s+(?:[A-Z][\w'-]*\s+){{0,3}}{_HEADS}\b"
    r"(?:\s+(?:who|whose|that|with|based|employed|from|into|living|working)\b[^?,.;!]*)?)"
)
TAIL_WORDS = 5  # the description may run on into the question's own verb ("... Tallinn do for work"): cuts tried


@dataclass(frozen=True, slots=True)
class Description:
    """One way to read a question's description of a member: the description and what is asked about them."""

    said: str  # "the member who relocated to Tallinn": what the member said of themselves, to search for
    asked: str  # "What does do for work?": the question without it, to rank that member's messages by


def descriptions(question: str) -> list[Description]:
    """The readings of the first description of a member in the question, longest first; none when it has none.
    Where the description ends is not known from the words alone ("the member who got a drum kit work for"), so
    each reading stops up to TAIL_WORDS words earlier; the caller keeps the one whose best match is closest."""
    found = _DESCRIPTION.search(question)
    if found is None:
        return []
    parts = found.group(0).split()
    if len(parts) < 3:  # "the person" alone describes no one
        return []
    head = next((k for k, part in enumerate(parts) if re.fullmatch(_HEADS + "|whoever", part, re.I)), 0)
    out = []
    for cut in range(max(0, min(TAIL_WORDS, len(parts) - head - 4)) + 1):
        if cut and parts[len(parts) - cut][:1].isupper():  # a name ("Toronto") is part of the description
            break
        said = " ".join(parts[: len(parts) - cut])
        rest = " ".join(parts[len(parts) - cut :])
        asked = re.sub(
            r"\s+([?.!,;])", r"\1", " ".join(f"{question[: found.start()]} {rest} {question[found.end() :]}".split())
        )
        out.append(Description(said, asked))
    return out
