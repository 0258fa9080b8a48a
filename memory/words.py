"""The words of a text as the keyword leg sees them: lower case, each once, and the stop words to leave out."""

from __future__ import annotations

import re

# Words too common to help a keyword search; a query made only of them still searches for them.
STOPWORDS = frozenset(
    [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "did", "do", "does", "for", "from", "had", "has",
        "have", "how", "i", "in", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "that",
        "the", "their", "them", "then", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when",
        "where", "which", "who", "why", "will", "with", "you", "your", "about", "can", "could", "would", "should",
        "into", "than", "s", "t", "d", "ll", "m", "re", "ve",  # what words() makes of "what's", "don't", "we're"
    ]
)  # fmt: skip


def words(text: str) -> list[str]:
    """The distinct words of a text, lower-cased, in order of first appearance."""
    return list(dict.fromkeys(w.lower() for w in re.findall(r"\w+", text)))
