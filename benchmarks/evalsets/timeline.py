"""The "timeline" evaluation set: a team's Discord server over eight months in which facts change, and questions
whose right answer depends on when they are asked (now, last week, yesterday, in a month, since, first, before)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from benchmarks.evalsets import EvalSet
from benchmarks.evalsets import timeline_text as words
from memory import ChatMessage, utc_iso

GUILD = "800000000000000004"
FIRST_DAY, LAST_DAY = date(2025, 1, 6), date(2025, 8, 29)
END = datetime.combine(LAST_DAY, time(23, 59), tzinfo=UTC)
DISCORD_EPOCH_MS = 1_420_070_400_000
DAY, WEEK = timedelta(days=1), timedelta(days=7)


class Person(NamedTuple):
    pid: str
    name: str
    role: str
    joined: date


class FactRecord(NamedTuple):
    """One message stating a changing fact: which value, which change of its topic, and when that holds from."""

    topic: str
    value: str
    change: int
    message_id: str
    created_at: str
    effective_at: str


@dataclass
class Draft:
    """A message before its id: ids follow time order, known only once every message is written."""

    at: datetime
    channel: str
    author: Person
    text: str
    message_id: str = ""


@dataclass
class Change:
    """One value of a changing fact, first said by drafts[0], in force from `effective` (later if said early)."""

    topic: str
    index: int
    value: str
    drafts: list[Draft]
    effective: datetime


@dataclass
class Event:
    """A one-off event, or a recurring discussion (kind "thread"), with the messages about it."""

    key: str
    kind: str
    at: datetime
    answer: str
    ref: str = ""  # how another question names it: "the Lisbon offsite", "Ana joined"
    subject: str = ""
    drafts: list[Draft] = field(default_factory=list)


@dataclass
class World:
    """Everything written so far, and the facts and events it holds."""

    rng: random.Random
    people: list[Person]
    drafts: list[Draft] = field(default_factory=list)
    changes: dict[str, list[Change]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    threads: list[Event] = field(default_factory=list)
    taken: set[datetime] = field(default_factory=set)

    def someone(self, at: datetime, avoid: Iterable[str] = ()) -> Person:
        """A person already on the team at `at` (a hire posts nothing before joining)."""
        return self.rng.choice([p for p in self.people if p.joined <= at.date() and p.name not in set(avoid)])

    def post(self, at: datetime, channel: str, text: str, by: Person | None = None, avoid: Iterable[str] = ()) -> Draft:
        while at in self.taken:  # one message a second, so time order is total and ids follow it
            at += timedelta(seconds=1)
        self.taken.add(at)
        self.drafts.append(Draft(at, channel, by or self.someone(at, avoid), text))
        return self.drafts[-1]

    def say(self, at: datetime, channel: str, templates: Sequence[str], **slots: object) -> Draft:
        return self.post(at, channel, self.rng.choice(templates).format(**slots), avoid=[str(slots.get("v", ""))])

    def kind(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]


def build(seed: int = 5) -> EvalSet:
    """The set: about 3,000 messages over Jan-Aug 2025 and 150 questions whose answer depends on `asked_at`."""
    from benchmarks.evalsets.timeline_questions import make_questions  # it imports this module: imported when used

    world = _world(seed)
    messages = tuple(_message(d) for d in world.drafts)
    return EvalSet(name="timeline", guild_id=GUILD, messages=messages, questions=tuple(make_questions(world, seed)))


def fact_log(seed: int = 5) -> list[FactRecord]:
    """Every message that states a changing fact, for checking questions against (the builder's own record)."""
    changes = [c for cs in _world(seed).changes.values() for c in cs]
    return [FactRecord(c.topic, c.value, c.index, d.message_id, utc_iso(d.at), utc_iso(c.effective))
            for c in changes for d in c.drafts]  # fmt: skip


# --- time helpers --------------------------------------------------------------------------------------------


def _at(day: date, hour: float = 0.0) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC) + timedelta(seconds=int(hour * 3600))


def _day_at(day: date, rng: random.Random, first: float = 7.0, last: float = 17.0) -> datetime:
    """A moment of a working day, in UTC (the team sits in Central Europe)."""
    return _at(day, rng.uniform(first, last))


def _workday(rng: random.Random, first: date, last: date) -> date:
    days = [first + DAY * n for n in range(max((last - first).days, 0) + 1)]
    return rng.choice([d for d in days if d.weekday() < 5] or days)


def _between(rng: random.Random, first: datetime, last: datetime) -> datetime:
    return first + timedelta(seconds=rng.randint(0, max(int((last - first).total_seconds()), 0)))


def _monday(moment: datetime) -> datetime:
    return _at(moment.date() - DAY * moment.weekday())


def _fmt(moment: datetime | date) -> str:
    return f"{moment:%a} {moment.day} {moment:%b} {moment.year}"


def _when(said: date, monday: date, rng: random.Random) -> str:
    """How an early announcement names the Monday it takes effect, seen from the day it is said."""
    day, month = monday.day, f"{monday:%B}"
    if (monday - said).days <= 7:
        return rng.choice(("from next Monday", "starting Monday", f"as of Monday {day} {month}"))
    return rng.choice((f"from Monday {day} {month}", f"starting {month} {day}", f"as of {month} {day}"))


# --- the server's history -------------------------------------------------------------------------------------


def _world(seed: int) -> World:
    rng = random.Random(seed)
    starts = [FIRST_DAY - DAY * 400] * (len(words.PEOPLE) - words.HIRED)
    starts += [FIRST_DAY + WEEK * rng.randint(lo, hi) for lo, hi in ((7, 10), (19, 22), (27, 30))]  # Mondays
    people = [Person(str(810_000_000_000_000_001 + n), name, role, joined)
              for n, ((name, role), joined) in enumerate(zip(words.PEOPLE, starts, strict=True))]  # fmt: skip
    world = World(rng, people)
    _events(world)
    world.changes["oncall"] = _on_call(world)
    for topic in (t for t in words.TOPICS if t != "oncall"):
        world.changes[topic] = _fact(world, topic)
    _threads(world)
    _filler(world)
    world.drafts.sort(key=lambda d: d.at)
    for n, draft in enumerate(world.drafts):  # Discord snowflakes: milliseconds since 2015, then a counter
        draft.message_id = str(((int(draft.at.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) + n % 4096)
    return world


def _event(world: World, kind: str, key: str, day: date, answer: str, ref: str, /, **slots: object) -> Event:
    """An event and its messages, following its kind's script (announced before, reported, followed up)."""
    rng, event = world.rng, Event(f"{kind}-{key}", kind, _at(day, 7), answer, ref, str(slots.get("subject", "")))
    for first, last, early, late, chance, templates, by_hire in words.SCRIPTS[kind]:
        if rng.random() < chance:
            at = _day_at(_workday(rng, day + DAY * first, day + DAY * last), rng, early, late)
            text = rng.choice(templates).format(**slots)
            by = next((p for p in world.people if p.name == slots["name"]), None) if by_hire else None
            event.drafts.append(world.post(at, words.EVENT_CHANNEL[kind], text, by, avoid=[str(slots.get("name"))]))
    world.events.append(event)
    return event


def _events(world: World) -> None:
    """Hires, launches (one a month at most), offsites, outages and decisions, spread over the period."""
    rng = world.rng
    for person in world.people[-words.HIRED :]:
        answer = f"{person.name}, the new {person.role}"
        _event(world, "hire", person.name.lower(), person.joined, answer, f"{person.name} joined", **person._asdict())
    launches = [words.LAUNCHES[0], *rng.sample(words.LAUNCHES[1:], 3)]  # dark mode always: a discussion leads to it
    for month, (name, detail) in zip(sorted(rng.sample(range(2, 9), 4)), rng.sample(launches, 4), strict=True):
        day, short = _workday(rng, date(2025, month, 3), date(2025, month, 26)), name.removeprefix("the ")
        ref = rng.choice((f"the {day:%B} launch", f"the {short} launch"))
        _event(world, "launch", short.replace(" ", "-"), day, f"{name} ({_fmt(day)})", ref, name=name, detail=detail)
    for (city, venue), (lo, hi) in zip(rng.sample(words.OFFSITES, 2), ((9, 14), (24, 30)), strict=True):
        day = FIRST_DAY + WEEK * rng.randint(lo, hi) + DAY * 3  # a Thursday
        slots = {"city": city, "venue": venue, "day": f"Thursday {day.day} {day:%B}"}
        _event(world, "offsite", city.lower(), day, f"{city}, at {venue}", f"the {city} offsite", **slots)
    for (service, symptom, cause), day in zip(rng.sample(words.OUTAGES, 7), _spread_days(rng, 7), strict=True):
        slots = {"service": service, "symptom": symptom, "cause": cause, "minutes": rng.randint(20, 95)}
        answer, ref = f"the {service} outage on {_fmt(day)}: {cause}", f"the {service} outage"
        _event(world, "outage", service.lower().replace(" ", "-"), day, answer, ref, **slots)
    threads = [t for t in words.THREADS if t.decision]
    for thread, day in zip(rng.sample(threads, len(threads)), _spread_days(rng, len(threads)), strict=True):
        _event(world, "decision", thread.key, day, thread.answer, thread.decided, decision=thread.decision,
               subject=thread.subject)  # fmt: skip


def _spread_days(rng: random.Random, count: int, margin: int = 1) -> list[date]:
    """`count` working days from late January to late August, one in each equal span (so never close together)."""
    first, span = date(2025, 1, 27), (date(2025, 8, 22) - date(2025, 1, 27)) // count
    return [_workday(rng, first + span * n, first + span * (n + 1) - DAY * margin) for n in range(count)]


def _values(world: World, topic: str, count: int) -> list[str]:
    """The values a topic takes in turn, never the same one twice (an old value is never the new one)."""
    rng = world.rng
    if topic == "lead":
        return rng.sample([p.name for p in world.people[: -words.HIRED] if p.role != "product manager"], count)
    if topic == "wifi":
        adjectives, animals = (rng.sample(pool, count) for pool in words.WIFI_WORDS)
        return [f"{a}{b}-{rng.randint(1000, 9999)}" for a, b in zip(adjectives, animals, strict=True)]
    if topic == "release":
        minor, patch, made = rng.randint(2, 4), 0, []
        for _ in range(count):
            made.append(f"v3.{minor}.{patch}")
            minor, patch = (minor, patch + 1) if rng.random() < 0.35 else (minor + 1, 0)
        return made
    if topic == "coffee":  # broken and working by turns
        broken, working = rng.sample(words.COFFEE[1], 2), rng.sample(words.COFFEE[2], 2)
        return [words.COFFEE[0], *[(broken if n % 2 else working)[(n - 1) // 2] for n in range(1, count)]]
    return rng.sample(words.TOPICS[topic].values, count)


def _fact(world: World, topic: str) -> list[Change]:
    """A topic's values: said in the first two weeks, then changed two to five times, spread over the period."""
    rng, spec = world.rng, words.TOPICS[topic]
    n = 2 if topic in ("lead", "office") else rng.randint(4, 5) if topic == "release" else rng.randint(2, 4)
    n = min(n, len(spec.values) - 1) if spec.values else n  # a pool of four sprint lengths allows three changes
    values = _values(world, topic, n + 1)
    opening = world.say(
        _day_at(_workday(rng, FIRST_DAY, FIRST_DAY + DAY * 11), rng), spec.channel, spec.state, v=values[0]
    )
    changes = [Change(topic, 0, values[0], [opening], opening.at)]
    for index, day in enumerate(_spread_days(rng, n, margin=15), start=1):  # room for an early announcement
        if rng.random() >= spec.ahead_p:
            said = world.say(_day_at(day, rng), spec.channel, spec.change, v=values[index])
            changes.append(Change(topic, index, values[index], [said], said.at))
            continue
        monday = day + DAY * (7 - day.weekday() + (7 if rng.random() < 0.3 else 0))
        said = world.say(_day_at(day, rng), spec.channel, spec.ahead, v=values[index], when=_when(day, monday, rng))
        changes.append(Change(topic, index, values[index], [said], _at(monday, 7)))
        if rng.random() < 0.6:
            changes[-1].drafts.append(
                world.say(_day_at(monday, rng, 7.2, 12), spec.channel, spec.remind, v=values[index])
            )
    _restate(world, changes)
    return changes


def _on_call(world: World) -> list[Change]:
    """A weekly rotation (hires join it after two weeks), sometimes announced on the Friday; two sick-day swaps."""
    rng, spec = world.rng, words.TOPICS["oncall"]
    queue = rng.sample([p for p in world.people[: -words.HIRED] if p.role != "product manager"], 6)
    hires = [p for p in world.people[-words.HIRED :] if p.role != "product designer"]
    swaps, changes = set(rng.sample(range(3, 33), 2)), []
    for week in range((LAST_DAY - FIRST_DAY).days // 7 + 1):
        monday = FIRST_DAY + WEEK * week
        queue += [h for h in hires if h.joined + DAY * 14 <= monday and h not in queue]
        for _ in range(2 if changes and changes[-1].value == queue[0].name else 1):  # skip a swap's stand-in
            queue.append(queue.pop(0))
        name = queue[-1].name
        if changes and rng.random() < spec.ahead_p:
            said = world.say(_day_at(monday - DAY * 3, rng, 12, 17), "incidents", spec.ahead, v=name)
            changes.append(Change("oncall", len(changes), name, [said], _at(monday, 7)))
            if rng.random() < 0.4:
                changes[-1].drafts.append(world.say(_day_at(monday, rng, 7.1, 10), "incidents", spec.remind, v=name))
        else:
            said = world.say(_day_at(monday, rng, 7.1, 10), "incidents", spec.state, v=name)
            changes.append(Change("oncall", len(changes), name, [said], said.at))
        if week in swaps:
            stand_in = rng.choice(queue[1:-1]).name
            said = world.say(_day_at(monday + DAY * 2, rng, 7, 11), "incidents", spec.change, v=stand_in, prev=name)
            changes.append(Change("oncall", len(changes), stand_in, [said], said.at))
    _restate(world, changes)
    return changes


def _restate(world: World, changes: list[Change]) -> None:
    """Now and then someone asks for a value and gets it: more statements of the same change."""
    rng, spec = world.rng, words.TOPICS[changes[0].topic]
    for current, following in zip(changes, [*changes[1:], None], strict=True):
        first, last = current.effective + DAY, (following.drafts[0].at if following else END) - DAY
        for _ in range(rng.choice((0, 1, 1, 2)) if last > first else 0):
            ask = world.post(_day_at(_workday(rng, first.date(), last.date()), rng), spec.channel, rng.choice(spec.ask))
            text = rng.choice(spec.state).format(v=current.value)
            reply = world.post(ask.at + timedelta(minutes=rng.randint(1, 15)), spec.channel, text,
                               avoid=[ask.author.name, current.value])  # fmt: skip
            current.drafts.append(reply)


def _threads(world: World) -> None:
    """Recurring discussions; one that leads somewhere (a decision, the move, a hire) starts weeks before it."""
    rng = world.rng
    ends = {e.key.removeprefix("decision-"): e.drafts[0].at for e in world.kind("decision")}
    ends |= {"office": world.changes["office"][1].drafts[0].at, "hiring": world.kind("hire")[0].drafts[0].at,
             "offsite": min(e.drafts[0].at for e in world.kind("offsite")),
             "darkmode": next(e.drafts[0].at for e in world.events if e.key == "launch-dark-mode")}  # fmt: skip
    for thread in words.THREADS:
        end = ends.get(thread.key)
        if end is None:
            first = _workday(rng, date(2025, 1, 13), date(2025, 5, 30))
            last = first + DAY * rng.randint(60, 120)
        else:
            last = end.date() - DAY * 3
            first = max(FIRST_DAY + DAY, last - DAY * rng.randint(25, 70))
        days = [_workday(rng, first, first + DAY * 6)]  # the first mention stays first: the others come later
        days += sorted(_workday(rng, first + DAY * 7, last) for _ in thread.mentions[1:])
        channel = "general" if thread.key in ("office", "hiring", "offsite", "desks", "nomeet") else "engineering"
        drafts = [world.post(_day_at(day, rng), channel, text) for day, text in zip(days, thread.mentions, strict=True)]
        world.threads.append(Event(thread.key, "thread", drafts[0].at, "", subject=thread.phrase, drafts=drafts))


def _filler(world: World) -> None:
    """Everyday talk: six to eleven exchanges each working day, a few at weekends."""
    rng, channels = world.rng, list(words.FILLER)
    for n in range((LAST_DAY - FIRST_DAY).days + 1):
        day = FIRST_DAY + DAY * n
        for _ in range(rng.randint(6, 11) if day.weekday() < 5 else rng.choice((0, 0, 1, 2))):
            channel = rng.choices(channels, (25, 35, 15, 25))[0] if day.weekday() < 5 else "random"
            template = rng.choice(words.FILLER[channel] if day.weekday() < 5 else words.WEEKEND)
            at, present = _day_at(day, rng, 6.5, 17.5), [p for p in world.people if p.joined <= day]
            for author, line in zip(rng.sample(present, template.count("|") + 1), template.split("|"), strict=True):
                slots = {k: rng.choice(pool) for k, pool in words.SLOTS.items() if "{" + k + "}" in line}
                world.post(at, channel, line.format(person=rng.choice(present).name, **slots), author)
                at += timedelta(minutes=rng.randint(1, 12))


def _message(draft: Draft) -> ChatMessage:
    channel = words.CHANNELS[draft.channel]
    return ChatMessage(guild_id=GUILD, channel_id=channel, message_id=draft.message_id, author_id=draft.author.pid,
                       author_name=draft.author.name, content=draft.text, created_at=utc_iso(draft.at),
                       jump_url=f"https://discord.com/channels/{GUILD}/{channel}/{draft.message_id}")  # fmt: skip
