"""The "two-documents" eval set (HotpotQA-like): linked encyclopedia articles, questions needing two of them."""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.evalsets import EvalSet
from benchmarks.evalsets import two_documents_text as text
from benchmarks.evalsets._documents import Asked, numbered_questions, person_names
from memory import FileDocument, utc_iso

GUILD, CHANNEL = "800000000000000003", "800000000000000301"
BRIDGE_QUESTIONS, COMPARISON_QUESTIONS = 150, 50

# What general prose calls an entry (a person: him or her, as the article says).
_PRONOUNS = defaultdict(lambda: ("it", "its"), band=("them", "their"), ship=("her", "her"))


@dataclass
class _Entry:
    """One encyclopedia article: what it states (attributes, and the titles of the articles it links to)."""

    kind: str
    title: str
    facts: dict[str, str] = field(default_factory=dict)
    links: dict[str, _Entry] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") + ".md"

    def link(self, **others: _Entry) -> _Entry:
        self.links |= others
        self.facts |= {name: other.title for name, other in others.items()}
        return self


def _pairs(rng: random.Random, names: Sequence[str], numbers: range, count: int) -> list[tuple[str, int]]:
    """`count` distinct names, each with a distinct number (a year, a length), so that comparisons have a winner."""
    return list(zip(rng.sample(names, count), rng.sample(numbers, count), strict=True))


def _places(rng: random.Random) -> dict[str, list[_Entry]]:
    """Mountains, the rivers rising on them, the towns on the rivers and the universities in the towns."""
    mountains = [_Entry("mountain", name, {"height": f"{height:,}", "range": rng.choice(text.RANGES),
                                           "ascent": str(rng.randint(1780, 1935))})
                 for name, height in _pairs(rng, text.MOUNTAINS, range(900, 3300), 15)]  # fmt: skip
    rivers = [_Entry("river", f"River {name}", {"length": str(length), "mouth": rng.choice(text.SEAS)})
              .link(mountain=rng.choice(mountains))
              for name, length in _pairs(rng, text.RIVERS, range(40, 620), 20)]  # fmt: skip
    names = sorted({start + end for start in text.TOWN_PARTS[0] for end in text.TOWN_PARTS[1]})
    towns = [_Entry("town", name, {"province": rng.choice(text.PROVINCES), "founded": str(founded),
                                   "population": f"{rng.randint(1500, 240000):,}"}).link(river=rng.choice(rivers))
             for name, founded in _pairs(rng, names, range(880, 1860), 45)]  # fmt: skip
    universities = [_Entry("university", name, {"founded": str(founded), "students": f"{rng.randint(2, 40) * 1000:,}"})
                    .link(town=rng.choice(towns))
                    for name, founded in _pairs(rng, text.UNIVERSITIES, range(1480, 1960), 12)]  # fmt: skip
    return {"mountain": mountains, "river": rivers, "town": towns, "university": universities}


def _people(rng: random.Random, world: dict[str, list[_Entry]]) -> dict[str, list[_Entry]]:
    """People by role: founders, singers, captains, inventors, and others who link to nothing."""
    roles = {"founder": 40, "singer": 20, "captain": 20, "inventor": 20, "other": 15}
    names = person_names(rng)
    years = rng.sample(range(1790, 1975), sum(roles.values()))
    people: dict[str, list[_Entry]] = {}
    for role, count in roles.items():
        for _ in range(count):
            (name, woman), born = names.pop(), years.pop()
            died = born + rng.randint(45, 92)
            born_town, moved_town = rng.sample(world["town"], 2)
            facts = {"born_year": str(born), "life": f"{born}-{died}" if died < 2020 else f"born {born}",
                     "profession": rng.choice(text.PROFESSIONS[role]), "Pron": "She" if woman else "He",
                     "pron_obj": "her" if woman else "him", "pron_pos": "her" if woman else "his",
                     "role": text.ROLES["other"].format(Pron="She" if woman else "He")}  # fmt: skip
            person = _Entry("person", name, facts).link(born_town=born_town, moved_town=moved_town)
            people.setdefault(role, []).append(person.link(university=rng.choice(world["university"])))
    return people


def _companies(rng: random.Random, world: dict[str, list[_Entry]], founders: list[_Entry]) -> list[_Entry]:
    """Companies, each founded by one person as an adult; the first few are shipyards, to build the ships."""
    trades = [text.TRADES[1]] * 4 + [rng.choice(text.TRADES) for _ in founders[4:]]
    companies = []
    for word, (trade, product), founder in zip(rng.sample(text.COMPANY_WORDS, 40), trades, founders, strict=True):
        facts = {"product": product, "founded": str(int(founder.facts["born_year"]) + rng.randint(22, 48)),
                 "employees": f"{rng.randint(40, 9000):,}"}  # fmt: skip
        company = _Entry("company", f"{word} {trade}", facts)
        companies.append(company.link(founder=founder, hq=rng.choice(world["town"])))
    return companies


def _ships(rng: random.Random, world: dict[str, list[_Entry]], captains: list[_Entry]) -> list[_Entry]:
    """Ships, each with its captain, home port and builder (a shipyard, if one existed by its launch)."""
    ships = []
    for name, captain in zip(rng.sample(text.SHIP_NAMES, 20), captains, strict=True):
        launched = int(captain.facts["born_year"]) + rng.randint(24, 44)
        builders = [c for c in world["company"] if int(c.facts["founded"]) < launched] or world["company"][:1]
        shipyards = [c for c in builders if c.title.endswith("Shipworks")] or builders
        facts = {"ship_type": rng.choice(text.SHIP_TYPES), "launched": str(launched)}
        ship = _Entry("ship", f"{rng.choice(('SS', 'MV'))} {name}", facts)
        ships.append(ship.link(captain=captain, builder=rng.choice(shipyards), port=rng.choice(world["town"])))
    return ships


def _works(rng: random.Random, world: dict[str, list[_Entry]], people: dict[str, list[_Entry]]) -> None:
    """Companies, bands, ships and inventions, each linked to its person (whose article names it back)."""
    world["company"] = _companies(rng, world, people["founder"])
    bands = rng.sample(sorted(f"The {a} {b}" for a in text.BAND_WORDS[0] for b in text.BAND_WORDS[1]), 20)
    world["band"] = [
        _Entry("band", title, {"genre": rng.choice(text.GENRES), "album": rng.choice(text.ALBUM_WORDS),
                               "formed": str(int(singer.facts["born_year"]) + rng.randint(17, 28))})
        .link(singer=singer, town=rng.choice(world["town"]))
        for title, singer in zip(bands, people["singer"], strict=True)
    ]  # fmt: skip
    world["ship"] = _ships(rng, world, people["captain"])
    devices = sorted((f"{word} {noun}".title(), use) for word in text.INVENTION_WORDS for noun, use in text.INVENTIONS)
    world["invention"] = [
        _Entry("invention", title, {"purpose": purpose,
                                    "year": str(int(inventor.facts["born_year"]) + rng.randint(24, 50))})
        .link(inventor=inventor)
        for (title, purpose), inventor in zip(rng.sample(devices, 20), people["inventor"], strict=True)
    ]  # fmt: skip
    for kind, role in (("company", "founder"), ("band", "singer"), ("ship", "captain"), ("invention", "inventor")):
        for work in world[kind]:
            person = work.links[role]
            person.facts["role"] = text.ROLES[role].format(Pron=person.facts["Pron"], link=work.title)
    world["person"] = [person for group in people.values() for person in group]


def _article(rng: random.Random, entry: _Entry, towns: list[_Entry]) -> str:
    """The article: a heading, the lead that states its facts, then general prose to 85-190 words."""
    base = next(int(entry.facts[k]) for k in ("born_year", "founded", "launched", "formed", "year", "ascent", "length")
                if k in entry.facts)  # fmt: skip
    # Years in the prose come after the entry's own: a person's while they live, anything else's up to now.
    later = (base + 20, base + 40) if entry.kind == "person" else (min(max(base, 1800) + 5, 2018), 2020)
    others = [town.title for town in towns if town.title not in entry.facts.values()]
    it, its = (entry.facts["pron_obj"], entry.facts["pron_pos"]) if entry.kind == "person" else _PRONOUNS[entry.kind]
    fill = {**entry.facts, "title": entry.title, "it": it, "its": its, "Its": its.capitalize()}

    def sentence(template: str) -> str:
        """The template filled in, with new numbers each time."""
        numbers = {"year2": str(rng.randint(*later)), "small": str(rng.randint(2, 9))}
        return template.format_map(
            fill | numbers | {"num": f"{rng.randint(120, 9000):,}", "other_town": rng.choice(others)}
        )

    paragraphs: list[list[str]] = [[sentence(text.LEADS[entry.kind])], [], []]
    words, target = len(entry.title.split()) + len(paragraphs[0][0].split()) + 1, rng.randint(85, 190)
    living = entry.facts.get("life", "").startswith("born")
    own = [s for s in text.FILLERS[entry.kind] if not (living and "died" in s)]
    for slot, template in [(1, s) for s in rng.sample(own, len(own))] + [(2, s) for s in rng.sample(text.GENERAL, 10)]:
        if words >= target:
            break
        paragraphs[slot].append(sentence(template))
        words += len(paragraphs[slot][-1].split())
    return f"# {entry.title}\n\n" + "\n\n".join(" ".join(p) for p in paragraphs if p) + "\n"


def _bridges(rng: random.Random, world: dict[str, list[_Entry]]) -> list[Asked]:
    """Questions about A's linked entry B that name only A: the paths taken in turn, each from a shuffled queue."""
    queues = []
    for path, templates in text.BRIDGE_QUESTIONS.items():
        kind, link, attribute = path.split(".")
        queues.append((link, attribute, templates, rng.sample(world[kind], len(world[kind]))))
    asked: list[Asked] = []
    while len(asked) < BRIDGE_QUESTIONS and any(queue for *_, queue in queues):
        for link, attribute, templates, queue in queues:
            if queue and len(asked) < BRIDGE_QUESTIONS:
                a = queue.pop()
                b = a.links[link]
                gold = (frozenset({a.filename}), frozenset({b.filename}))
                asked.append((rng.choice(templates).format(a=a.title), "bridge", gold, b.facts[attribute]))
    return asked


def _comparisons(rng: random.Random, world: dict[str, list[_Entry]]) -> list[Asked]:
    """Which of two entries of a kind has more or less of a number (a year, a length, a height), kinds in turn."""
    asked: list[Asked] = []
    seen: set[frozenset[str]] = set()
    kinds = list(text.COMPARISONS)
    while len(asked) < COMPARISON_QUESTIONS:
        attribute, *templates = text.COMPARISONS[kinds[len(asked) % len(kinds)]]
        a, b = rng.sample(world[kinds[len(asked) % len(kinds)]], 2)
        x, y = (int(e.facts[attribute].replace(",", "")) for e in (a, b))
        if x == y or frozenset((a.title, b.title)) in seen:
            continue
        seen.add(frozenset((a.title, b.title)))
        which = rng.randrange(2)
        # The first wording asks for the earlier year but for the longer river or the higher peak.
        wants_more = (attribute in ("length", "height")) != bool(which)
        winner = a if (x > y) == wants_more else b
        gold = (frozenset({a.filename}), frozenset({b.filename}))
        asked.append((templates[which].format(a=a.title, b=b.title), "comparison", gold, winner.title))
    return asked


def build(seed: int = 13) -> EvalSet:
    """HotpotQA-like: ~300 linked encyclopedia articles (markdown), ~150 bridge and ~50 comparison questions."""
    rng = random.Random(seed)
    world = _places(rng)
    _works(rng, world, _people(rng, world))
    entries = [entry for kind in sorted(world) for entry in world[kind]]
    files = [
        FileDocument(GUILD, CHANNEL, f"wiki/{entry.filename}", entry.filename,
                     _article(rng, entry, world["town"]).encode(), "text/markdown",
                     created_at=utc_iso(f"2025-04-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z"))
        for n, entry in enumerate(entries)
    ]  # fmt: skip
    asked = _bridges(rng, world) + _comparisons(rng, world)
    rng.shuffle(asked)
    return EvalSet("two-documents", GUILD, files=tuple(files), questions=numbered_questions("two-docs", asked))
