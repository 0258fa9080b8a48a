"""Which of a time-aware question's hits come first: what was said in its range, or the statement in force (the latest
or the earliest of several on one topic), ahead of passages that only ask or react."""

from __future__ import annotations

import re
from collections.abc import Callable

from memory.types import Hit, utc_iso
from memory.when import TimeScope
from memory.words import STOPWORDS, words

EVENT_LOOK = 5  # the best passages about an event a question names, of which the first that tells it dates it
IN_FORCE_BEFORE = 3  # for a range, the latest hits said before it began that are kept after those inside it
IN_FORCE_CLOSEST = 2  # and those closest to the question, when it names a topic
_SAID = re.compile(r"^\[[^\]]*\] [^:\n]+: (.*)$", re.MULTILINE)  # a message line of a chat passage
_SPEAKER = re.compile(r"^\[[^\]]*\] ([^:\n]+): ", re.MULTILINE)
_STATEMENT_WORDS = 3  # a message of fewer words ("sure", "me!", "nice one") is a reaction, not a statement
TIME_BAND = 0.75  # for "now" or "the first time", hits scoring this share of the best one are ordered by time
TIME_REACH = 0.2  # and at most this much less like the question than the closest hit
MEANING_REACH = 0.05  # a hit close by meaning alone (no shared word) must be closer still
VALUE_REACH = 0.3  # for "now", a statement on the topic that states the kind of value asked may be this much less alike
# What announces a decision or an arrival ("decision: feature flags go through Unleash", "welcome Ben! first day")
_ANNOUNCES = re.compile(
    r"\b(decided|decision|agreed|we're going with|we chose|we picked|it's official|from now on|welcome|first day|"
    r"started today)\b",
    re.IGNORECASE,
)


def in_range_first(hits: list[Hit], scope: TimeScope, topical: set[str]) -> list[Hit]:
    """The hits said in the range, then the latest few said just before it began (what was in force when the range
    opened: "the wifi password in June" may have been set in May); none at all in the range: all, as they were.
    When the question names a topic, the range's statements on it come first, then the latest few statements on
    it said before and the closest few (for "the standup time during May", the April message that set it), then
    the range's lone questions on it ("best pizza near the office?" states nothing), then the range's rest. A
    range given as dates (`after`/`before` options) keeps only what is inside it."""
    inside = [h for h in hits if scope.holds(h.chunk.created_at)]
    if scope.strict or not inside:
        return inside if scope.strict else hits
    start = None if scope.after is None else utc_iso(scope.after)
    earlier = [h for h in hits if start is not None and h.chunk.created_at and h.chunk.created_at < start]
    earlier.sort(key=lambda h: str(h.chunk.created_at), reverse=True)
    if not topical:
        return inside + earlier[:IN_FORCE_BEFORE]
    on_topic = [h for h in inside if h.chunk.chunk_id in topical]
    # The latest statements on the topic said before the range, and the closest (a lone question states nothing).
    stated = [h for h in earlier if h.chunk.chunk_id in topical and not asks_only(h)]
    closest = sorted(stated, key=lambda h: -(h.similarity or 0.0))[:IN_FORCE_CLOSEST]
    chosen = {h.chunk.chunk_id for h in [*stated[:IN_FORCE_BEFORE], *closest]}
    in_force = [h for h in stated if h.chunk.chunk_id in chosen]
    statements = [h for h in on_topic if not asks_only(h)]
    questions = [h for h in on_topic if asks_only(h)]
    # A range statement far less like the question than one in force shares a common word only ("near the office")
    reach = max((h.similarity or 0.0 for h in [*statements, *in_force]), default=0.0) - TIME_REACH
    strong = [h for h in statements if (h.similarity or 0.0) >= reach]
    weak = [h for h in statements if (h.similarity or 0.0) < reach]
    rest = (h for h in inside if h.chunk.chunk_id not in topical)
    return [*strong, *in_force, *weak, *questions, *rest]


def in_time_order(
    hits: list[Hit],
    close_by_meaning: set[str],
    topical: set[str],
    order: str,
    states_value: Callable[[str], bool] | None = None,
) -> list[Hit]:
    """The hits on the question's topic whose fused score is close to the best one's, or whose similarity is close
    to the best similarity, go first, the latest (or the earliest) of them first: of several statements about one
    thing, the one in force wins. For the latest, a lone question ("who's on call right now?") states nothing, so
    it goes after the statements; for the first mention, a question counts like any message.

    `states_value` (`memory.answer_types`) checks a passage's words for the kind of value the question asks for:
    for the latest, a statement on the topic that states one also leads when it is up to VALUE_REACH less alike
    ("Kenji is the new team lead, congrats!" for "who leads the team at the moment?"), and the statements that
    state one go before those that only mention the topic ("running late to standup")."""
    best = hits[0].score if hits else 0.0
    # A keyword hit far less like the question than the best one shares a common word only ("the upgrade")
    closest = max((h.similarity or 0.0 for h in hits), default=0.0)
    valued = states_value if order == "latest" else None
    asking: dict[str, bool] = {}  # asks_only by chunk id: the sorts and checks below ask it again and again

    def asks(h: Hit) -> bool:
        if h.chunk.chunk_id not in asking:
            asking[h.chunk.chunk_id] = asks_only(h)
        return asking[h.chunk.chunk_id]

    def states(h: Hit) -> bool:
        return valued is not None and valued(said_text(h.chunk.text))

    def leads(h: Hit) -> bool:
        similarity = h.similarity or 0.0
        if h.chunk.chunk_id in topical and h.score >= best * TIME_BAND and similarity >= closest - TIME_REACH:
            return True
        if valued and h.chunk.chunk_id in topical and similarity >= closest - VALUE_REACH and states(h) and not asks(h):
            return True
        return h.chunk.chunk_id in close_by_meaning and similarity >= closest - MEANING_REACH

    close = [h for h in hits if h.chunk.created_at and leads(h)]
    close.sort(key=lambda h: str(h.chunk.created_at), reverse=order == "latest")
    if order == "latest":  # what is in force is stated; the first mention of something may well be a question
        close.sort(key=lambda h: (asks(h), not states(h)))  # stable: each group in time order
    first = {h.chunk.chunk_id for h in close}
    return [*close, *(h for h in hits if h.chunk.chunk_id not in first)]


def asks_only(hit: Hit) -> bool:
    """Whether a chat passage states nothing: each of its messages asks something or is a short reaction ("who's
    on call?", "can we keep standup short today? I have a hard stop", then "sure")."""
    chunk = hit.chunk
    if chunk.kind == "file":
        return False
    return all("?" in text or len(text.split()) < _STATEMENT_WORDS for text in _messages(chunk.text))


def _messages(text: str) -> list[str]:
    """What each message of a chat passage says, without its stamp and author (a file piece: its text, whole)."""
    return [m.group(1) for m in _SAID.finditer(text)] or [text]


def said_text(text: str) -> str:
    """What a chat passage's messages say, without their stamps and authors (a file piece: its text)."""
    return " ".join(_messages(text))


def said_words(text: str) -> set[str]:
    """The words a passage's messages say, stop words left out."""
    return {w for w in words(said_text(text)) if w not in STOPWORDS}


def speakers(hits: list[Hit]) -> set[str]:
    """The names, lower case, of the members who speak in these chat passages."""
    return {name.strip().lower() for h in hits if h.chunk.kind != "file" for name in _SPEAKER.findall(h.chunk.text)}


def first_telling(hits: list[Hit], announced: bool = False) -> Hit | None:
    """The first hit that tells something rather than only asking, else the first: an event is dated where it is
    told ("we started the changelog"), not where it was proposed ("should we post a changelog?"). With `announced`
    (an event told as a clause, "before we adopted Unleash"), the first that announces it goes first: the talk
    that led up to a decision tells things too ("unleash looks like the self-hosted option that fits us")."""
    telling = [h for h in hits if not asks_only(h)]
    if announced:
        telling.sort(key=lambda h: _ANNOUNCES.search(said_text(h.chunk.text)) is None)  # stable: best first
    return next(iter(telling), hits[0] if hits else None)
