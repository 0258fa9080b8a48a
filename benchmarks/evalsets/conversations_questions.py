"""The "conversations" set's question makers: single-hop, multi-hop, temporal, open-domain, with evidence."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks.evalsets import EvalQuestion
from benchmarks.evalsets import conversations_questions_text as wording

if TYPE_CHECKING:
    from benchmarks.evalsets.conversations import Fact, Persona

COUNTS = {"single-hop": 50, "multi-hop": 45, "temporal": 30, "open-domain": 25}


@dataclass(frozen=True)
class Candidate:
    """A question that could be asked; `group` spreads the picks over question shapes."""

    group: str
    text: str
    gold: tuple[frozenset[str], ...]
    answer: str


def make_questions(rng: random.Random, personas: list[Persona], offices: dict[str, Fact]) -> tuple[EvalQuestion, ...]:
    """About 150 questions, spread over shapes and people, numbered per kind."""
    multi = _multi_hop(rng, personas)
    chains = _pick(rng, _chains(rng, personas, offices), 8)
    temporal = _temporal(rng, personas)
    picks = {
        "single-hop": _pick(rng, _single_hop(rng, personas, offices), COUNTS["single-hop"]),
        "multi-hop": chains + _pick(rng, multi, COUNTS["multi-hop"] - len(chains)),
        "temporal": _pick(rng, temporal[0], 20) + _pick(rng, temporal[1], COUNTS["temporal"] - 20),
        "open-domain": _pick(rng, _open_domain(rng, personas, offices), COUNTS["open-domain"]),
    }
    return tuple(
        EvalQuestion(f"conv-{kind.split('-')[0]}-{n:03d}", c.text, kind, c.gold, answer=c.answer)
        for kind, candidates in picks.items()
        for n, c in enumerate(candidates, start=1)
    )


def _pick(rng: random.Random, candidates: list[Candidate], count: int) -> list[Candidate]:
    """Up to `count` candidates, one group at a time in turn, so no question shape crowds out the others."""
    groups: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        groups.setdefault(candidate.group, []).append(candidate)
    queues = [rng.sample(groups[name], len(groups[name])) for name in sorted(groups)]
    rng.shuffle(queues)
    picked: list[Candidate] = []
    seen: set[str] = set()
    while len(picked) < count and any(queues):
        for queue in queues:
            if queue and len(picked) < count and (candidate := queue.pop()).text not in seen:
                picked.append(candidate)
                seen.add(candidate.text)
    return picked


def _attr_fact(persona: Persona, attr: str) -> Fact | None:
    """The fact that answers an attribute; where someone lives now is the move, when they moved (the update)."""
    if attr == "city_now":
        return persona.facts.get("move") or persona.facts["home"]
    if attr == "city_before":
        return persona.facts["home"] if "move" in persona.facts else None
    return persona.facts.get(wording.ATTR_KIND[attr])


def _evidence(persona: Persona, fact: Fact) -> frozenset[str]:
    """The messages that state a fact: the move also names the old home when its wording says goodbye to it."""
    ids = {fact.message_id}
    move = persona.facts.get("move")
    if fact.kind == "home" and move is not None and fact.values["city"] in move.content:
        ids.add(move.message_id)
    return frozenset(ids)


def _day(fact: Fact) -> str:
    """The date of a fact's message, as an answer says it."""
    assert fact.when is not None  # noqa: S101 - every fact is written before questions are asked
    return f"{fact.when.day} {fact.when:%B %Y}"


def _city_answer(persona: Persona, attr: str, answer: str) -> str:
    """Mark where the current home differs from an earlier message: the move is the update that holds now."""
    move = persona.facts.get("move")
    if attr == "city_now" and move is not None:
        return f"{answer} (current; moved there from {move.values['old']} on {_day(move)})"
    if attr == "city_before" and move is not None:
        return f"{answer} (before moving to {move.values['city']})"
    return answer


def _single_hop(rng: random.Random, personas: list[Persona], offices: dict[str, Fact]) -> list[Candidate]:
    """One fact each: every attribute of every persona, and every company's head office."""
    out: list[Candidate] = []
    for persona in personas:
        for attr, (templates, answer) in wording.SINGLE.items():
            fact = _attr_fact(persona, attr) if attr != "hq" else None
            if fact is None:
                continue
            text = rng.choice(templates).format(name=persona.name, **fact.values)
            reply = _city_answer(persona, attr, answer.format(**fact.values))
            out.append(Candidate(attr, text, (_evidence(persona, fact),), reply))
    templates, answer = wording.SINGLE["hq"]
    for office in offices.values():
        out.append(Candidate("hq", rng.choice(templates).format(**office.values), (frozenset({office.message_id}),),
                             answer.format(**office.values)))  # fmt: skip
    return out


def _identities(persona: Persona) -> list[tuple[str, Fact]]:
    """The facts that single a persona out, by WHO key: a home is "used to live in" once they have moved."""
    out = [(kind, fact) for kind, fact in persona.facts.items() if kind in wording.WHO and kind != "home"]
    out.append(("home_before" if "move" in persona.facts else "home", persona.facts["home"]))
    return out


def _multi_hop(rng: random.Random, personas: list[Persona]) -> list[Candidate]:
    """Two facts of one person from different sessions: one says who they are, the other answers."""
    out: list[Candidate] = []
    for persona in personas:
        for who_kind, known in _identities(persona):
            who_gold = _evidence(persona, known)
            for attr, (templates, answer) in wording.ASK.items():
                asked = _attr_fact(persona, attr)
                if asked is None or asked.session == known.session or who_gold & {asked.message_id}:
                    continue
                who = rng.choice(wording.WHO[who_kind]).format(**known.values)
                text = rng.choice(templates).format(who=who, rel=asked.values.get("rel", ""))
                gold = (who_gold, _evidence(persona, asked))
                reply = _city_answer(persona, attr, answer.format(**asked.values))
                out.append(Candidate(f"{who_kind}>{attr}", text, gold, reply))
    return out


def _chains(rng: random.Random, personas: list[Persona], offices: dict[str, Fact]) -> list[Candidate]:
    """Person -> employer -> head office: the company is the bridge, named by neither the question nor the asker."""
    out: list[Candidate] = []
    for persona in personas:
        job = persona.facts["job"]
        office = offices[job.values["company"]]
        gold = (frozenset({job.message_id}), frozenset({office.message_id}))
        answer = f"{office.values['hq']} (the company is {job.values['company']})"
        out.append(Candidate("chain", rng.choice(wording.CHAIN).format(name=persona.name), gold, answer))
    return out


def _when(days: int) -> str:
    """How far apart two events are, as people say it ("the week after", "about a month before")."""
    amount = next((said for most, said in wording.SPANS if abs(days) <= most), "a few months")
    return f"{amount} {'after' if days > 0 else 'before'}"


def _temporal(rng: random.Random, personas: list[Persona]) -> tuple[list[Candidate], list[Candidate]]:
    """When each dated event happened; and pairs of one person's events: which first, how far apart, what next."""
    absolute: list[Candidate] = []
    relative: list[Candidate] = []
    for persona in personas:
        events = [f for kind, f in persona.facts.items() if kind in wording.EVENT_BASE and f.variant == "event"]
        for event in events:
            base = wording.EVENT_BASE[event.kind].format(**event.values)
            text = rng.choice(wording.WHEN).format(name=persona.name, base=base)
            absolute.append(Candidate(event.kind, text, (frozenset({event.message_id}),), f"on {_day(event)}"))
        for a in events:
            for b in events:
                if a is b or a.when is None or b.when is None or abs((b.when.date() - a.when.date()).days) < 2:
                    continue
                relative.append(_relative(rng, persona, a, b, (b.when.date() - a.when.date()).days))
    return absolute, relative


def _relative(rng: random.Random, persona: Persona, a: Fact, b: Fact, days: int) -> Candidate:
    """One question about two dated events of a persona (`days` from a to b), in one of three shapes."""
    gerund = {f.kind: wording.EVENT_GERUND[f.kind].format(**f.values) for f in (a, b)}
    gold = (frozenset({a.message_id}), frozenset({b.message_id}))
    shape = rng.choice(("order", "gap", "what"))
    if shape == "order":
        first, second = (a, b) if days > 0 else (b, a)
        shown = rng.sample([gerund[a.kind], gerund[b.kind]], 2)
        text = rng.choice(wording.ORDER).format(name=persona.name, a=shown[0], b=shown[1])
        answer = f"{gerund[first.kind]} ({_day(first)}), then {gerund[second.kind]} ({_day(second)})"
        return Candidate(shape, text, gold, answer[0].upper() + answer[1:])
    if shape == "gap" and days > 0:
        base = wording.EVENT_BASE[b.kind].format(**b.values)
        text = rng.choice(wording.GAP).format(anchor=gerund[a.kind], name=persona.name, base=base)
        return Candidate(shape, text, gold, f"{days} days ({_day(a)} to {_day(b)})")
    template, answer = wording.RELATIVE[b.kind]
    text = template.format(name=persona.name, when=_when(days), anchor=gerund[a.kind])
    return Candidate("what", text, gold, f"{answer.format(**b.values)} (on {_day(b)}; {gerund[a.kind]}: {_day(a)})")


def _open_domain(rng: random.Random, personas: list[Persona], offices: dict[str, Fact]) -> list[Candidate]:
    """A fact plus world knowledge: where a trip or a home is, what a pet is, which country a head office is in."""
    out: list[Candidate] = []
    for persona in personas:
        facts = persona.facts
        sources = {"trip": facts["trip"], "city": _attr_fact(persona, "city_now"), "pet": facts.get("pet")}
        office = offices[persona.facts["job"].values["company"]]
        for attr, (templates, answer) in wording.OPEN.items():
            fact = office if attr == "hq_country" else sources[attr.split("_")[0]]
            if fact is None:
                continue
            text = rng.choice(templates).format(name=persona.name, **fact.values)
            out.append(Candidate(attr, text, (_evidence(persona, fact),), answer.format(**fact.values)))
    return out
