"""The "timeline" set's question makers: questions whose answer depends on when they are asked, with evidence."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from benchmarks.evalsets import EvalQuestion
from benchmarks.evalsets import timeline_questions_text as wording
from benchmarks.evalsets import timeline_text as words
from benchmarks.evalsets.timeline import DAY, END, LAST_DAY, WEEK, _at, _between, _day_at, _fmt, _monday, _workday
from memory import utc_iso

if TYPE_CHECKING:
    from benchmarks.evalsets.timeline import Change, Draft, Event, World

LATEST_ASK = END + timedelta(days=7)  # questions may also be asked in the week after the period
TARGETS = {"now": 40, "last-week": 25, "yesterday": 15, "in-month": 25, "since": 15, "first-time": 15,
           "before-event": 15}  # fmt: skip
EVENT_KINDS = ("outage", "decision", "launch", "hire", "offsite")
Span = tuple[datetime, datetime]  # a range of times, [start, end)


class Candidate(NamedTuple):
    category: str  # questions are spread over categories (topics, event kinds)
    key: str
    asked: datetime
    text: str
    gold: tuple[frozenset[str], ...]
    answer: str
    window: Span | None = None  # the range a range question asks about


def make_questions(world: World, seed: int) -> list[EvalQuestion]:
    """About 150 questions about the world, spread over kinds, topics and event kinds."""
    rng = random.Random(f"timeline-questions-{seed}")  # apart from the history's: a question change moves no message
    candidates = {"now": _now(world, rng), "last-week": _recent(world, rng, weekly=True),
                  "yesterday": _recent(world, rng, weekly=False), "in-month": _in_month(world, rng),
                  "since": _since(world, rng), "first-time": _first_time(world, rng),
                  "before-event": _before_event(world, rng)}  # fmt: skip
    picked = [(kind, n, c) for kind, got in candidates.items() for n, c in enumerate(_spread(rng, got, TARGETS[kind]))]
    return [EvalQuestion(f"timeline/{kind}/{c.key}/{n:02d}", c.text, kind, c.gold, utc_iso(c.asked), c.answer,
                         None if c.window is None else (utc_iso(c.window[0]), utc_iso(c.window[1])))
            for kind, n, c in picked]  # fmt: skip


def _spread(rng: random.Random, candidates: list[Candidate], target: int) -> list[Candidate]:
    """`target` candidates taken in turn from each category, so that no topic or kind dominates."""
    rng.shuffle(candidates)
    by_category: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        if candidate.gold and all(candidate.gold) and candidate.asked <= LATEST_ASK:
            by_category[candidate.category].append(candidate)  # its evidence is written by the time it is asked
    picks: list[Candidate] = []
    while len(picks) < target and any(by_category.values()):
        picks += [queue.pop() for queue in by_category.values() if queue][: target - len(picks)]
    return picks


def _ids(drafts: Iterable[Draft], asked: datetime) -> frozenset[str]:
    return frozenset(d.message_id for d in drafts if d.at < asked)


def _in_force(world: World, topic: str, at: datetime) -> Change | None:
    live = [c for c in world.changes[topic] if c.effective < at]
    return live[-1] if live else None


def _pending(world: World, at: datetime, topics: Iterable[str] | None = None) -> bool:
    """Is a change announced but not yet in force? (then "now" has two fair answers, so such moments are skipped)"""
    return any(c.drafts[0].at < at < c.effective for t in topics or world.changes for c in world.changes[t])


def _fact_question(
    category: str, asked: datetime, text: str, changes: Sequence[Change], window: Span | None = None
) -> Candidate:
    answer = ", then ".join(f"{c.value} (from {_fmt(c.effective)})" for c in changes) if len(changes) > 1 else ""
    gold = tuple(_ids(c.drafts, asked) for c in changes)
    return Candidate(category, changes[0].topic, asked, text, gold, answer or changes[0].value, window)


def _event_question(
    rng: random.Random, when: str, events: list[Event], asked: datetime, window: Span, month: str = ""
) -> Candidate:
    kind = events[0].kind
    templates = [t for t in wording.EVENT_QUESTIONS[kind][when] if len(events) == 1 or "{subject}" not in t]
    text = rng.choice(templates).format(subject=events[0].subject, month=month)
    answer, gold = "; ".join(e.answer for e in events), tuple(_ids(e.drafts, asked) for e in events)
    return Candidate(kind, kind, asked, text, gold, answer, window)


def _now(world: World, rng: random.Random) -> list[Candidate]:
    out = []
    for _ in range(400):
        topic, asked = rng.choice(list(words.TOPICS)), _between(rng, _at(date(2025, 2, 3)), LATEST_ASK)
        change = _in_force(world, topic, asked)
        if change is not None and change.index and not _pending(world, asked, [topic]):  # index 0: nothing superseded
            out.append(_fact_question(topic, asked, rng.choice(words.TOPICS[topic].now), [change]))
    return out


def _recent(world: World, rng: random.Random, *, weekly: bool) -> list[Candidate]:
    """Events and changes of last week (Monday to Sunday) or of yesterday, asked the week or the day after."""
    when, span, days = ("last-week", WEEK, 4) if weekly else ("yesterday", DAY, 0)

    def window(moment: datetime) -> datetime:
        return _monday(moment) if weekly else _at(moment.date())

    def asked_after(start: datetime) -> datetime:
        return _day_at(_workday(rng, (start + span).date(), (start + span).date() + DAY * days), rng, 7, 18)

    out = []
    for kind in EVENT_KINDS:
        windows: dict[datetime, list[Event]] = defaultdict(list)
        for event in world.kind(kind):
            windows[window(event.at)].append(event)
        for start, events in windows.items():
            if len(events) < len(world.kind(kind)):  # another of its kind at another time: the time-blind pick
                out.append(_event_question(rng, when, events, asked_after(start), (start, start + span)))
    for topic, changes in world.changes.items():
        for change in changes[1:]:
            if sum(window(c.effective) == window(change.effective) for c in changes) == 1:
                templates = wording.RECENT[when]["oncall" if topic == "oncall" else "fact"]
                text = rng.choice(templates).format(noun=words.TOPICS[topic].noun)
                start = window(change.effective)
                out.append(_fact_question(topic, asked_after(start), text, [change], (start, start + span)))
    return out


def _in_month(world: World, rng: random.Random) -> list[Candidate]:
    out = []
    for month in range(1, 9):
        day, last = date(2025, month, 1), _at(date(2025, month + 1, 1))
        first = _at(day + DAY * (7 - day.weekday() if day.weekday() > 4 else 0), 12)  # from noon of its first workday
        for topic, changes in world.changes.items():
            asked = _between(rng, last + DAY, min(last + DAY * 45, LATEST_ASK))
            held = [c for c, n in zip(changes, [*changes[1:], None], strict=True)
                    if c.effective < last and (n is None or n.effective > first)]  # fmt: skip
            if not 1 <= len(held) <= (6 if topic == "oncall" else 2) or _in_force(world, topic, asked) in held:
                continue  # the value in force when asked would then be a right answer too
            templates = wording.IN_MONTH["oncall" if topic == "oncall" else "fact"]
            text = rng.choice(templates).format(noun=words.TOPICS[topic].noun, month=f"{first:%B}")
            out.append(_fact_question(topic, asked, text, held, (_at(day), last)))
        for kind in ("outage", "decision", "launch", "hire"):
            events = [e for e in world.kind(kind) if first <= e.at < last]
            if 1 <= len(events) <= 3 and len(events) < len(world.kind(kind)):
                asked = _between(rng, last + DAY, min(last + DAY * 45, LATEST_ASK))
                out.append(_event_question(rng, "in-month", events, asked, (_at(day), last), f"{first:%B}"))
    return out


def _since(world: World, rng: random.Random) -> list[Candidate]:
    """Changes of any topic in the last few days (a window without events), or of one topic over some weeks."""
    out = []
    for attempt in range(600):
        asked = _day_at(_workday(rng, date(2025, 2, 10), LAST_DAY), rng, 8, 18)
        if attempt % 2:
            weekday, key = asked.weekday(), "any"
            if weekday and (weekday == 4 or rng.random() < 0.5):
                since, phrase = _monday(asked), "Monday"
            else:  # "last Thursday" only when no Thursday has passed yet this week, so which one is never in doubt
                since = _monday(asked) - WEEK + DAY * rng.randint(weekday + 1, 4)
                phrase = f"last {since:%A}"
            changes = [c for cs in world.changes.values() for c in cs if since <= c.effective < asked]
            if any(since <= e.at < asked for e in world.events) or _pending(world, asked):
                continue
            text = rng.choice(wording.SINCE_ANY).format(since=phrase)
        else:
            key = rng.choice([t for t in words.TOPICS if t != "oncall"])
            since = _at(asked.date() - DAY * rng.randint(20, 90))
            changes = [c for c in world.changes[key] if since <= c.effective < asked]
            if _pending(world, asked, [key]) or since <= world.changes[key][0].effective:
                continue  # an older value must be there to be confused with the new ones
            text = rng.choice(wording.SINCE_TOPIC).format(noun=words.TOPICS[key].noun, since=f"{since:%B} {since.day}")
        if 1 <= len(changes) <= 3:
            answer = "; ".join(f"{words.TOPICS[c.topic].noun}: {c.value}" for c in changes)
            out.append(Candidate(key if key == "any" else "topic", key, asked, text,
                                 tuple(_ids(c.drafts, asked) for c in changes), answer, (since, asked)))  # fmt: skip
    return out


def _first_time(world: World, rng: random.Random) -> list[Candidate]:
    out = []
    for thread in world.threads:
        first, last = thread.drafts[0], max(d.at for d in thread.drafts)
        asked = _between(rng, last + DAY, min(last + DAY * 40, LATEST_ASK))
        text, answer = rng.choice(wording.FIRST).format(phrase=thread.subject), f"{_fmt(first.at)}, {first.author.name}"
        out.append(Candidate(thread.key, thread.key, asked, text, (frozenset({first.message_id}),), answer))
    return out


def _before_event(world: World, rng: random.Random) -> list[Candidate]:
    """A value in force when an event happened that has changed since; finding the event is part of the question."""
    out = []
    for event in world.events:
        for topic in (t for t in words.TOPICS if t != "oncall"):
            changes, held = world.changes[topic], _in_force(world, topic, event.at)
            near = [c for c in changes if min(abs(c.drafts[0].at - event.at), abs(c.effective - event.at)) < DAY * 4]
            if held is None or held is changes[-1] or near:
                continue  # "before" is only clear when nothing of the topic changed around the event
            asked = _between(rng, max(event.at + DAY * 5, changes[held.index + 1].effective + DAY), LATEST_ASK)
            if not _pending(world, asked, [topic]):
                text = rng.choice(wording.BEFORE).format(noun=words.TOPICS[topic].noun, event=event.ref)
                gold = (_ids(event.drafts, asked), _ids(held.drafts, asked))
                out.append(Candidate(topic, topic, asked, text, gold, held.value))
    return out
