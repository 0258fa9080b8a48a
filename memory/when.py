"""Time words in a question, resolved against the asking time: a range of message times to search in, and whether
the latest (or the earliest) of several statements should win ("now", "the first time")."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Order = Literal["latest", "earliest"]
MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): n for n, name in enumerate(calendar.month_abbr) if name}
WEEKDAYS = {name.lower(): n for n, name in enumerate(calendar.day_name)}
UNITS = {"day": 1, "week": 7, "month": 30, "year": 365}
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(WEEKDAYS)
_COUNT = r"(\d+|" + "|".join(NUMBERS) + ")"
_LATEST = re.compile(
    r"\b(now|right now|currently|current|latest|these days|at the moment|nowadays|most recent(ly)?|newest|"
    r"up to date|anymore|still|today's|at present|should (?:i|we) use|do (?:i|we) use)\b",
    re.IGNORECASE,
)
_EARLIEST = re.compile(
    r"\b(first time|for the first time|originally|initially|at first|earliest|first (?=\w+ed\b))", re.I
)
_FIRST_WHEN = re.compile(r"^\s*(?:when|who)\b.*\bfirst\b", re.IGNORECASE)  # "who first brought up…"
_GRACE = timedelta(minutes=1)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_EVENT = re.compile(
    r"\b(before|after|since) (?:the|our|my|that) ([a-z][\w' -]{2,40}?)(?=[?.!,;]|$| and | or | when | who )"
)
# An event told as a clause: a subject (we, they, a name...) and a verb in the past ("before we went trunk-based",
# "since Ana joined").
_CLAUSE = re.compile(
    r"\b(before|after|since) ([a-z]+ (?:\w+ed|went|chose|made|took|began|got|set|ran|won|"
    r"built|wrote|left|came|became)\b[^?.!,;]{0,40}?)(?=[?.!,;]|$| and | or | when | who )"
)


@dataclass(frozen=True, slots=True)
class TimeScope:
    """What a question's time words ask for. `after` is inclusive and `before` exclusive (UTC); either may be open.
    `phrases` are the words understood, so that the keyword search can leave them out."""

    after: datetime | None = None
    before: datetime | None = None
    order: Order | None = None
    phrases: tuple[str, ...] = ()
    # "before the launch", "since the offsite": an event whose time memory must find (`relative_to` sets the range)
    event: str | None = None
    # The event is told as a clause ("before we adopted Unleash", "since Ben joined"): something decided or begun,
    # which memory dates by the message that announces it rather than by the talk that led up to it.
    clause: bool = False
    relation: Literal["before", "after"] | None = None
    asked_at: datetime | None = None  # nothing said after the question was asked is part of its answer
    landmark: str | None = None  # the passage that dated the event (a chunk id): a source of the answer too
    strict: bool = False  # dates given as options (after/before) are a wall; time words a strong preference

    def without_phrases(self, text: str) -> str:
        """The question with the time words understood blanked out, for the keyword search: "now" or "last week"
        would match every message that says it."""
        for phrase in self.phrases:
            text = re.sub(re.escape(phrase), " ", text, flags=re.IGNORECASE)
        return text

    @property
    def said_until(self) -> datetime | None:
        """The last moment said by the asking time: the asking time with a minute's grace for clock skew."""
        return None if self.asked_at is None else self.asked_at + _GRACE

    def said_by_then(self, moment: str | None) -> bool:
        """Whether an ISO time is not after the asking time (with a minute's grace for clock skew)."""
        return self.said_until is None or moment is None or datetime.fromisoformat(moment) <= self.said_until

    def relative_to(self, moment: datetime, landmark: str | None = None) -> TimeScope:
        """This scope with its event found at `moment` (said in the passage `landmark`): before it, or from it on."""
        if self.relation == "before":
            return replace(self, before=min(filter(None, [self.before, moment])), event=None, landmark=landmark)
        return replace(self, after=max(filter(None, [self.after, moment])), event=None, landmark=landmark)

    @property
    def bounded(self) -> bool:
        """Whether the question limits the time range at all."""
        return self.after is not None or self.before is not None

    def holds(self, moment: str | None) -> bool:
        """Whether an ISO time falls in the range (a passage without a time never does, when there is a range)."""
        if not self.bounded:
            return True
        if moment is None:
            return False
        when = datetime.fromisoformat(moment)
        return (self.after is None or when >= self.after) and (self.before is None or when < self.before)


def resolve(question: str, now: datetime, *, after: date | None = None, before: date | None = None) -> TimeScope:
    """The time scope of a question asked at `now`, narrowed by explicit `after`/`before` dates (the `/ask` and
    command-line options: from the start of `after` to the end of `before`)."""
    now = now.astimezone(UTC)
    text = question.lower()
    phrases: list[str] = []
    low: datetime | None = None
    high: datetime | None = None
    event: str | None = None
    relation: Literal["before", "after"] | None = None
    match = _EVENT.search(text)
    clause = match is None and (match := _CLAUSE.search(text)) is not None
    if match:  # before the launch: the event is found in memory, not on a calendar
        relation, event = ("before" if match.group(1) == "before" else "after"), match.group(2).strip()
        phrases.append(match.group(0))
        text = text.replace(match.group(0), " ")
    for finder in (_relative_days, _relative_spans, _weekdays, _months, _iso_dates):
        found = finder(text, now)
        if found is not None:
            span, phrase, how = found
            low, high = _apply(span, how, now)
            phrases.append(phrase)
            break
    order: Order | None = None
    if (match := _EARLIEST.search(text)) or (match := _FIRST_WHEN.search(text)):
        order = "earliest"
        phrases.append(match.group(0).strip())
    elif match := _LATEST.search(text):
        order = "latest"
        phrases.append(match.group(0))
    elif relation == "before" or (low is None and high is not None):
        order = "latest"  # "the standup time before the offsite": what was in force when it came
    elif low is not None and high is not None and low <= now < high and high - low <= timedelta(days=1):
        order = "latest"  # "the wifi password today": the asking day asks what holds now
    if after is not None:
        low = max(filter(None, [low, _day_start(after)]))
    if before is not None:
        high = min(filter(None, [high, _day_start(before) + timedelta(days=1)]))
    return TimeScope(
        after=low, before=high, order=order, phrases=tuple(phrases), event=event, clause=clause, relation=relation,
        asked_at=now, strict=after is not None or before is not None,
    )  # fmt: skip


Span = tuple[datetime, datetime]
Found = tuple[Span, str, str] | None  # (span, the phrase, "in" | "since" | "before" | "after")
_RELATION = r"(?:(since|before|after|until|in|on|during|from|back to)\s+)?"  # "thinking back to May"


def _apply(span: Span, relation: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    start, end = span
    if relation == "since" or relation == "from":
        return start, now + timedelta(seconds=1)
    if relation == "before":
        return None, start
    if relation == "after":
        return end, None
    if relation == "until":
        return None, end
    return start, end


def since(text: str, now: datetime) -> datetime:
    """The start of a window given as a duration back from `now` ("90m", "24h", "7d", "2w") or a date.

    Raises:
        ValueError: neither; the message shows what is accepted.
    """
    text = text.strip().lower()
    if match := re.fullmatch(r"(\d+)\s*(m|min|minutes?|h|hours?|d|days?|w|weeks?)", text):
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)[0]]
        return now - timedelta(**{unit: int(match.group(1))})
    try:
        return _day_start(date.fromisoformat(text))
    except ValueError:
        msg = f"a duration like 24h, 7d or 2w, or a date like 2025-03-01, not {text!r}"
        raise ValueError(msg) from None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _relative_days(text: str, now: datetime) -> Found:
    """today, yesterday, this morning, last night, the day before yesterday."""
    today = _day_start(now.date())
    table = {
        "the day before yesterday": (today - timedelta(days=2), today - timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "last night": (today - timedelta(hours=6), today + timedelta(hours=6)),
        "this morning": (today, today + timedelta(hours=12)),
        "today": (today, today + timedelta(days=1)),
        "tonight": (today + timedelta(hours=17), today + timedelta(days=1)),
    }
    for phrase, span in table.items():
        if match := re.search(_RELATION + rf"\b{phrase}\b", text):
            return span, match.group(0), match.group(1) or "in"
    return None


def _relative_spans(text: str, now: datetime) -> Found:
    """this/last week|month|year, N days/weeks ago, in the last|past N days/weeks/months."""
    today = _day_start(now.date())
    units = "(day|week|month|year)"
    rolling = rf"\b(?:in |over |during )?(?:the )?(?:(?:last|past) {_COUNT} {units}s?|past {units})\b"
    if match := re.search(rolling, text):  # "the last 3 days", "the past week": up to now
        unit = match.group(2) or match.group(3)
        days = (_count(match.group(1)) if match.group(1) else 1) * UNITS[unit]
        return (today - timedelta(days=days - 1), now + timedelta(seconds=1)), match.group(0), "in"
    if match := re.search(_RELATION + r"\b(this|last|previous) (week|month|year)\b", text):
        relation, which, unit = match.group(1) or "in", match.group(2), match.group(3)
        start = _unit_start(today, unit)
        if which != "this":  # the whole previous calendar week, month or year
            start = _unit_start(start - timedelta(days=1), unit)
        return (start, _next_unit(start, unit)), match.group(0), relation
    if match := re.search(rf"\b{_COUNT} (day|week|month|year)s? ago\b", text):
        unit = match.group(2)
        moment = today - timedelta(days=_count(match.group(1)) * UNITS[unit])
        start = moment if unit == "day" else _unit_start(moment, unit)
        return (start, start + timedelta(days=1) if unit == "day" else _next_unit(start, unit)), match.group(0), "in"
    return None


def _weekdays(text: str, now: datetime) -> Found:
    """on Monday, last Friday, since Tuesday: the most recent such day before today (today itself for "on")."""
    if match := re.search(_RELATION + rf"\b(last |this |past )?({_WEEKDAY})\b", text):
        relation, qualifier, name = match.group(1), (match.group(2) or "").strip(), match.group(3)
        if relation is None and not qualifier:
            return None  # a bare "monday" ("the monday standup") is no date
        relation = relation or "in"
        today = _day_start(now.date())
        back = (today.weekday() - WEEKDAYS[name]) % 7
        if back == 0 and (qualifier == "last" or relation in {"since", "after"}):
            back = 7
        day = today - timedelta(days=back)
        return (day, day + timedelta(days=1)), match.group(0), relation
    return None


def _months(text: str, now: datetime) -> Found:
    """in March, March 2025, on 3 March, March 3rd: a month or a day; without a year, the latest one not ahead."""
    pattern = (
        _RELATION + rf"\b(?:(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH})|({_MONTH})\.? (\d{{1,2}})(?:st|nd|rd|th)?\b"
        rf"|({_MONTH}))\b(?:,? (\d{{4}}))?"
    )
    for match in re.finditer(pattern, text):
        name = match.group(3) or match.group(4) or match.group(6)
        day_text = match.group(2) or match.group(5)
        if not (match.group(1) or day_text or match.group(7)):
            continue  # a bare month name ("march madness", "may I") is no date
        relation = match.group(1) or "in"
        year = int(match.group(7)) if match.group(7) else now.year
        month = MONTHS[name]
        if not match.group(7) and (month, int(day_text or 1)) > (now.month, now.day):
            year -= 1
        if day_text:
            try:
                start = _day_start(date(year, month, int(day_text)))
            except ValueError:
                continue
            return (start, start + timedelta(days=1)), match.group(0), relation
        start = _day_start(date(year, month, 1))
        return (start, _next_unit(start, "month")), match.group(0), relation
    return None


def _iso_dates(text: str, now: datetime) -> Found:
    """2025-03-04."""
    if match := re.search(_RELATION + _ISO.pattern, text):
        try:
            start = _day_start(date(int(match.group(2)), int(match.group(3)), int(match.group(4))))
        except ValueError:
            return None
        return (start, start + timedelta(days=1)), match.group(0), match.group(1) or "in"
    return None


def _count(word: str) -> int:
    return int(word) if word.isdigit() else NUMBERS[word]


def _unit_start(day: datetime, unit: str) -> datetime:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _next_unit(start: datetime, unit: str) -> datetime:
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1)
