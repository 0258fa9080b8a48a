"""The "conversations" eval set: a seeded, LoCoMo-like chat of a fictional Discord server over four months, with
single-hop, multi-hop, temporal and open-domain questions whose evidence is the messages that state the facts."""

from __future__ import annotations

import random
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from benchmarks.evalsets import EvalSet
from benchmarks.evalsets import conversations_smalltalk_text as smalltalk
from benchmarks.evalsets import conversations_text as words
from benchmarks.evalsets.conversations_questions import make_questions
from memory import ChatMessage, utc_iso

GUILD = "800000000000000001"
START_MS = int(datetime(2024, 1, 15, 8, 0, tzinfo=UTC).timestamp() * 1000)
DISCORD_EPOCH_MS = 1_420_070_400_000
CHANNEL_IDS = {name: channel_id for name, channel_id, _ in words.CHANNELS}
Decks = dict[tuple[str, str], list[str]]  # fact templates left to deal, by (kind, variant)


@dataclass
class Fact:
    """One personal fact, said once; where and when it was said is filled in when the chat is written."""

    kind: str
    variant: str  # "static", "reply" (answers someone's prompt), "event" (happens the day it is said), "future"
    author: int  # index of the persona who says it
    values: dict[str, str]
    session: int = -1
    message_id: str = ""
    when: datetime | None = None
    content: str = ""


@dataclass
class Persona:
    """A member of the server and the facts that are true of them."""

    name: str
    author_id: str
    facts: dict[str, Fact] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)  # sessions already holding one of their facts: one fact a session


@dataclass
class Session:
    """A burst of chat in one channel."""

    channel: str
    start_ms: int
    size: int
    facts: list[Fact] = field(default_factory=list)


def build(seed: int = 7) -> EvalSet:
    """The "conversations" set for a seed: the same seed always gives the same chat and questions."""
    rng = random.Random(seed)
    personas, head_offices = _cast(rng)
    sessions = _sessions(rng)
    for persona in personas:
        for fact in persona.facts.values():
            _seat(rng, fact, personas[fact.author], sessions)
    for persona in personas:  # a head office is said in another session than the employee's job
        job = persona.facts["job"]
        office = head_offices[job.values["company"]]
        _seat(rng, office, personas[office.author], sessions, avoid={job.session})
    decks: Decks = {}
    messages = [message for session in sessions for message in _Scene(rng, personas, session, decks).write()]
    return EvalSet("conversations", GUILD, tuple(messages), questions=make_questions(rng, personas, head_offices))


def _cast(rng: random.Random) -> tuple[list[Persona], dict[str, Fact]]:
    """The personas and their facts (every value drawn without replacement, so each identifies one person)."""
    count = rng.randint(9, 11)
    movers = rng.sample(range(count), (3 * count) // 5)
    homes = rng.sample(words.HOMES, count + len(movers))
    new_homes = dict(zip(movers, homes[count:], strict=True))  # where each mover goes
    drawn = zip(
        rng.sample(words.NAMES, count), rng.sample(words.DESTINATIONS, count), rng.sample(words.COMPANIES, count),
        rng.sample(words.HEAD_OFFICES, count), rng.sample(words.ROLES, count), rng.sample(words.HOBBIES, count),
        rng.sample(words.ITEMS, count), rng.sample(words.MILESTONES, count), rng.sample(words.PETS, count),
        rng.sample(words.PET_NAMES, count), rng.sample(words.RELATIVES, count), strict=True,
    )  # fmt: skip
    pet_less = set(rng.sample(range(count), 2))  # not everyone has a pet
    personas: list[Persona] = []
    head_offices: dict[str, Fact] = {}
    for i, (name, dest, company, office, role, hobby, item, milestone, pet, pet_name, relative) in enumerate(drawn):
        persona = Persona(name, str(700_000_000_000_001_000 + 1_000 * i + rng.randrange(1_000)))
        city, country, continent = homes[i]
        trip_variant = rng.choice(("event", "event", "future", "reply"))
        employer = {"company": company, "company_s": f"{company}'" if company.endswith("s") else f"{company}'s"}
        facts = {
            "home": ("static", {"city": city, "country": country, "continent": continent}),
            "job": (_variant(rng, "event"), {**employer, "role": role}),
            "hobby": (_variant(rng), {"hobby": hobby[0], "doing": hobby[1]}),
            "trip": (trip_variant, {"dest": dest[0], "country": dest[1], "continent": dest[2], "language": dest[3],
                                    "currency": dest[4], "went": "travelled to" if trip_variant == "event"
                                    else "is travelling to"}),
            "family": (_variant(rng), {"rel": relative[0], "fam": relative[1]}),
            "purchase": ("event", {"item": item[0], "thing": item[1]}),
            "milestone": ("event", dict(zip(("did", "do", "done", "achieving"), milestone, strict=True))),
        }  # fmt: skip
        if i in new_homes:
            new, land, area = new_homes[i]
            facts["move"] = ("event", {"city": new, "old": city, "country": land, "continent": area})
        if i not in pet_less:
            facts["pet"] = (_variant(rng, "event"), {"kind": pet[0], "klass": pet[1], "cover": pet[2], "pet": pet_name})
        persona.facts = {kind: Fact(kind, variant, i, values) for kind, (variant, values) in facts.items()}
        office_values = {**employer, "hq": office[0], "hq_country": office[1]}
        head_offices[company] = Fact("hq", "static", rng.randrange(count), office_values)
        personas.append(persona)
    return personas, head_offices


def _variant(rng: random.Random, third: str = "static") -> str:
    """How a fact is said: stated outright, as an answer to someone's question, or (for events) on the day."""
    return rng.choice(("static", "reply", third))


def _sessions(rng: random.Random) -> list[Session]:
    """The chat's skeleton: 10-60 message bursts, hours to days apart, until about 2,300-2,700 messages."""
    target = rng.randint(2_300, 2_700)
    names = [name for name, _, _ in words.CHANNELS]
    weights = [weight for _, _, weight in words.CHANNELS]
    sessions: list[Session] = []
    start_ms, total = START_MS, 0
    while total < target:
        size = rng.randint(10, 60)
        sessions.append(Session(rng.choices(names, weights)[0], start_ms, size))
        total += size
        # the gap starts after the longest the burst can last (five minutes a message, prompts included)
        start_ms += (size + 10) * 300_000 + int(rng.uniform(3, 64) * 3_600_000)
        if datetime.fromtimestamp(start_ms / 1000, UTC).hour < 7:  # few bursts start in the small hours
            start_ms += 7 * 3_600_000
    return sessions


def _seat(rng: random.Random, fact: Fact, persona: Persona, sessions: list[Session], avoid: Iterable[int] = ()) -> None:
    """Put a fact in a session of its usual channel: a home early, a move late, one of a persona's facts each."""
    span = {"home": (0.0, 0.35), "move": (0.45, 1.0)}.get(fact.kind, (0.0, 1.0))
    low, high = int(span[0] * len(sessions)), int(span[1] * len(sessions))
    channels = words.FACT_CHANNELS[fact.kind] if rng.random() < 0.8 else tuple(CHANNEL_IDS)
    blocked = persona.used | set(avoid)
    free = [i for i in range(len(sessions)) if i not in blocked and len(sessions[i].facts) < 3]
    in_span = [i for i in free if low <= i < high]
    fitting = [i for i in in_span if sessions[i].channel in channels]
    fact.session = rng.choice(fitting or in_span or free)
    sessions[fact.session].facts.append(fact)
    persona.used.add(fact.session)


def _fill(rng: random.Random, template: str, values: dict[str, str]) -> str:
    """A template with its known values, and filler slots drawn from the pools (distinct within a message)."""
    slots = dict(values)
    for _, name, _, _ in string.Formatter().parse(template):
        if name and name not in slots:
            pool = smalltalk.SLOTS[name.rstrip("0123456789")]
            slots[name] = rng.choice([value for value in pool if value not in slots.values()] or pool)
    return template.format(**slots)


class _Scene:
    """Writes one session: its members, its messages (ids are snowflakes of their time, so they grow with it)."""

    def __init__(self, rng: random.Random, personas: list[Persona], session: Session, decks: Decks) -> None:
        self.rng, self.personas, self.session, self.decks = rng, personas, session, decks
        self.channel_id, self.ms = CHANNEL_IDS[session.channel], session.start_ms
        authors = {fact.author for fact in session.facts}
        self.people = sorted(authors | set(rng.sample(range(len(personas)), rng.randint(2, 4))))
        self.out: list[ChatMessage] = []

    def say(self, who: int, content: str, reply_to: str | None = None) -> ChatMessage:
        if self.out:
            self.ms += self.rng.randint(60_000, 300_000)
        message_id = str(((self.ms - DISCORD_EPOCH_MS) << 22) | self.rng.randrange(1 << 22))
        persona, created_at = self.personas[who], utc_iso(datetime.fromtimestamp(self.ms / 1000, UTC))
        url = f"https://discord.com/channels/{GUILD}/{self.channel_id}/{message_id}"
        message = ChatMessage(GUILD, self.channel_id, message_id, persona.author_id, persona.name, content, created_at,
                              jump_url=url, reply_to=reply_to)  # fmt: skip
        self.out.append(message)
        return message

    def write(self) -> list[ChatMessage]:
        """Filler among a few members, the facts mid-stream (some answering a prompt), reactions after them."""
        rng, session = self.rng, self.session
        at = dict(zip(rng.sample(range(1, session.size), len(session.facts)), session.facts, strict=True))
        last, reacting = -1, None
        said: set[str] = set()  # filler templates used in this session: none twice
        for position in range(session.size):
            if (fact := at.get(position)) is not None:
                self.state(fact)
                last, reacting = fact.author, fact
                continue
            speaker = rng.choice([p for p in self.people if p != last])
            other = self.personas[rng.choice([p for p in self.people if p != speaker])].name
            previous = self.out[-1] if self.out else None
            if position == 0 and rng.random() < 0.6:
                self.say(speaker, _greeting(rng, session.start_ms))
            elif reacting is not None and rng.random() < 0.5:
                self.say(speaker, rng.choice(words.REACTIONS[reacting.kind]), reacting.message_id)
            elif previous is not None and previous.content.endswith("?") and rng.random() < 0.45:
                self.say(speaker, _fill(rng, rng.choice(smalltalk.ANSWERS), {"other": other}), previous.message_id)
            else:
                content = _distractor(rng, self.personas, speaker) if rng.random() < 0.07 else None
                reply_to = previous.message_id if previous is not None and rng.random() < 0.1 else None
                self.say(speaker, content or _filler(rng, session.channel, other, said), reply_to)
            last, reacting = speaker, None
        return self.out

    def state(self, fact: Fact) -> None:
        """Say a fact, after someone else's prompt when it is a reply; remember which message and when."""
        reply_to = None
        if fact.variant == "reply":
            asker = self.rng.choice([p for p in self.people if p != fact.author])
            reply_to = self.say(asker, self.rng.choice(words.PROMPTS[fact.kind])).message_id
        template = _deal(self.rng, self.decks, (fact.kind, fact.variant))
        message = self.say(fact.author, _fill(self.rng, template, fact.values), reply_to)
        fact.message_id, fact.content = message.message_id, message.content
        fact.when = datetime.fromisoformat(message.created_at)


def _deal(rng: random.Random, decks: Decks, key: tuple[str, str]) -> str:
    """The next fact template of a kind from a shuffled deck: every wording is used before any comes back."""
    if not decks.get(key):
        decks[key] = rng.sample(words.FACTS[key], len(words.FACTS[key]))
    return decks[key].pop()


def _filler(rng: random.Random, channel: str, other: str, said: set[str]) -> str:
    """Small talk: a reaction, or a channel or general template (not yet used in the session), lightly framed."""
    roll = rng.random()
    if roll < 0.14:
        return _fill(rng, rng.choice(smalltalk.REACTS), {})
    pool = smalltalk.FILLER.get(channel, smalltalk.FILLER["*"]) if roll < 0.55 else smalltalk.FILLER["*"]
    fresh = [t for t in pool if t not in said] or [t for t in smalltalk.FILLER["*"] if t not in said]
    template = rng.choice(fresh or pool)
    said.add(template)
    text = _fill(rng, template, {"other": other})
    # a light framing now and then, never after a question or an exclamation (it would read as noise)
    prefix = rng.choice(smalltalk.PREFIXES) if rng.random() < 0.12 and text[0].islower() else ""
    suffix = rng.choice(smalltalk.SUFFIXES) if rng.random() < 0.15 and text[-1].isalnum() else ""
    return f"{prefix}{text}{suffix}"


def _greeting(rng: random.Random, start_ms: int) -> str:
    """A session's first line, fitting the hour it starts."""
    hour = datetime.fromtimestamp(start_ms / 1000, UTC).hour
    part = "morning" if 5 <= hour < 12 else "afternoon" if 12 <= hour < 18 else "evening" if hour >= 18 else "night"
    return _fill(rng, rng.choice(smalltalk.GREETINGS[part]), {})


def _distractor(rng: random.Random, personas: list[Persona], speaker: int) -> str | None:
    """Something true of another persona, said by one it is not true of (a wish, a friend's, a rumour)."""
    slot = rng.choice(sorted(smalltalk.DISTRACTORS))
    kind, key = smalltalk.DISTRACTOR_SOURCE[slot]
    owners = [p for i, p in enumerate(personas) if i != speaker and kind in p.facts]
    if not owners:
        return None
    values = {slot: rng.choice(owners).facts[kind].values[key], "other_pet": rng.choice(smalltalk.OTHER_PET_NAMES)}
    return _fill(rng, rng.choice(smalltalk.DISTRACTORS[slot]), values)
