"""Turns text into Discord messages: parts of at most 2,000 characters, balanced code fences, safe links, counts."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

MAX_MESSAGE_CHARS = 2000  # Discord refuses longer content with error 50035
EDIT_INTERVAL_SECONDS = 1.0  # streamed edits at most this often: Discord rate-limits message edits
CURSOR = " ▌"
PRIVATE_NOTICE = "🔒 I sent you the answer privately: it draws on channels that not everyone here can read."
_URL = re.compile(r"<?(https?://[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"])>?")
_FENCE = re.compile(r"^(\s*)(```+)(\S*)", re.MULTILINE)


def safe_links(text: str, allowed: Iterable[str]) -> str:
    """Keep links that point at a source (wrapped in <> so Discord shows no preview); drop any other.

    A model led astray by a poisoned passage could otherwise smuggle data out in a link, or a preview.
    """
    allowed_set = set(allowed)

    def replace(match: re.Match[str]) -> str:
        url = match.group(1)
        return f"<{url}>" if url in allowed_set else "[link removed]"

    return _URL.sub(replace, text)


def _open_fence(text: str) -> str | None:
    """The fence line (``` plus language) still open at the end of `text`, if any."""
    opened: str | None = None
    for match in _FENCE.finditer(text):
        opened = None if opened is not None else match.group(2) + match.group(3)
    return opened


def _cut_point(text: str, limit: int) -> int:
    """Where to cut `text` to at most `limit` characters: a paragraph, line or word break if there is one,
    and never before a combining mark, joiner or variation selector (that would split a glyph)."""
    window = text[:limit]
    for separator in ("\n\n", "\n", " "):
        index = window.rfind(separator)
        if index > limit // 3:
            return index + len(separator)
    cut = limit
    while cut > 1 and (
        unicodedata.combining(text[cut]) or text[cut] in "\u200d\ufe0f\ufe0e" or text[cut - 1] == "\u200d"
    ):
        cut -= 1
    return cut


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Split text into parts of at most `limit` characters; a code block cut in two is closed at the end of
    one part and reopened, with its language, at the start of the next."""
    parts: list[str] = []
    rest = text.strip()
    reopen = ""
    while rest:
        candidate = reopen + rest
        still_open = _open_fence(candidate) is not None
        if len(candidate) + (4 if still_open else 0) <= limit:
            parts.append(candidate + ("\n```" if still_open else ""))
            break
        cut = _cut_point(candidate, limit - 4)  # room for a closing "\n```"
        head = candidate[:cut].rstrip()
        fence = _open_fence(head)
        reopen = f"{fence}\n" if fence is not None and len(fence) < limit // 4 else ""
        parts.append(head + ("\n```" if fence is not None else ""))
        rest = candidate[cut:].lstrip(" \n") if fence is None else candidate[cut:].lstrip("\n")
    return [p for p in parts if p.strip()]


def sources_lines(sources: Sequence[tuple[int, str | None, str]]) -> str:
    """The Sources list: `[n] where <jump link>`, one per (number, url, where), links without previews."""
    lines = ["**Sources**"]
    for number, url, where in sources:
        lines.append(f"[{number}] {where} <{url}>" if url else f"[{number}] {where}")
    return "\n".join(lines)


def clip(text: str, limit: int = MAX_MESSAGE_CHARS - 100) -> str:
    """A one-message text cut to `limit` characters with an ellipsis (lists that may grow long)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(number: int, noun: str) -> str:
    """`1 message`, `3 messages`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
