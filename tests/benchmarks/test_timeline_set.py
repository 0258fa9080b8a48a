"""The "timeline" eval set: deterministic, well-formed chat, and questions whose gold depends on when they are asked."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from itertools import pairwise

import pytest

from benchmarks.evalsets import EvalSet
from benchmarks.evalsets.timeline import GUILD, FactRecord, build, fact_log
from memory import utc_iso

RANGES = {"now": (35, 45), "last-week": (20, 30), "yesterday": (12, 18), "in-month": (20, 30), "since": (12, 18),
          "first-time": (12, 18), "before-event": (12, 18)}  # fmt: skip
TOPICS = {"standup", "oncall", "wifi", "release", "freeze", "lead", "office", "sprint", "coffee", "demo", "staging"}


@pytest.fixture(scope="module")
def evalset() -> EvalSet:
    return build(5)


@pytest.fixture(scope="module")
def facts() -> list[FactRecord]:
    return fact_log(5)


def test_build_is_deterministic(evalset):
    """The same seed gives the same set; another seed gives another chat and other questions."""
    assert build(5) == evalset
    other = build(6)
    assert other.messages != evalset.messages
    assert [q.asked_at for q in other.questions] != [q.asked_at for q in evalset.questions]


def test_server_shape(evalset):
    """One guild, 3-5 channels, 6-10 people, Jan 6 to Aug 29 2025, every message filled in."""
    assert evalset.name == "timeline" and evalset.guild_id == GUILD
    assert 3 <= len({m.channel_id for m in evalset.messages}) <= 5
    assert 6 <= len({m.author_id for m in evalset.messages}) <= 10
    assert evalset.messages[0].created_at >= "2025-01-06" and evalset.messages[-1].created_at < "2025-08-30"
    for m in evalset.messages:
        assert m.guild_id == GUILD and m.channel_id.isdigit() and m.author_id.isdigit() and m.content
        assert m.created_at == utc_iso(m.created_at)
        assert m.jump_url == f"https://discord.com/channels/{GUILD}/{m.channel_id}/{m.message_id}"


def test_message_ids_are_unique_and_grow_with_time(evalset):
    """Message ids are numeric, unique, and strictly increasing with created_at."""
    ordered = sorted(evalset.messages, key=lambda m: m.created_at)
    assert all(m.message_id.isdigit() for m in ordered)
    assert len({m.message_id for m in ordered}) == len(ordered)
    assert all(int(a.message_id) < int(b.message_id) and a.created_at < b.created_at for a, b in pairwise(ordered))


def test_gold_exists_before_the_question(evalset):
    """Every gold id is a message written before the question is asked; asked_at falls in or just after the period."""
    created = {m.message_id: m.created_at for m in evalset.messages}
    for q in evalset.questions:
        assert q.answer and q.gold and all(q.gold), q.qid
        assert "2025-01-06" <= q.asked_at <= "2025-09-06" and q.asked_at == utc_iso(q.asked_at)
        assert all(i in created and created[i] < q.asked_at for group in q.gold for i in group), q.qid


def test_now_gold_is_the_statement_in_force(evalset, facts):
    """A "now" question's gold: every statement of the value in force, the latest one said; older ones are not."""
    for q in (q for q in evalset.questions if q.kind == "now"):
        said = [f for f in facts if f.topic == q.qid.split("/")[2] and f.created_at < q.asked_at]
        in_force = max(f.change for f in said if f.effective_at <= q.asked_at)
        latest = max(said, key=lambda f: f.created_at)
        assert latest.change == in_force and q.answer == latest.value, q.qid  # nothing announced is still to come
        assert q.gold == (frozenset(f.message_id for f in said if f.change == in_force),), q.qid
        assert any(f.change < in_force for f in said), q.qid  # a superseded statement is there to be picked wrongly


def test_fact_log_matches_the_chat(evalset, facts):
    """Every fact statement is a message; each topic changes 2-5 times, on-call every week."""
    ids = {m.message_id for m in evalset.messages}
    assert all(f.message_id in ids for f in facts)
    first_said: dict[tuple[str, int], str] = {}
    for f in sorted(facts, key=lambda f: f.created_at):
        first_said.setdefault((f.topic, f.change), f.created_at)
    assert all(first_said[f.topic, f.change] <= f.effective_at for f in facts)  # said first, in force then or later
    changes = {f.topic: f.change for f in sorted(facts, key=lambda f: f.change)}  # each topic's last change number
    assert set(changes) == TOPICS
    assert changes["oncall"] >= 30
    assert all(2 <= n <= 5 for topic, n in changes.items() if topic != "oncall")


def test_kinds_and_counts(evalset):
    """Each question kind has about its planned number of questions, with unique ids."""
    counts = Counter(q.kind for q in evalset.questions)
    assert set(counts) == set(RANGES)
    assert all(lo <= counts[kind] <= hi for kind, (lo, hi) in RANGES.items()), counts
    assert 140 <= len(evalset.questions) <= 160
    assert len({q.qid for q in evalset.questions}) == len(evalset.questions)


def test_gold_shapes_by_kind(evalset):
    """ "since": one to three changes; "first-time": one earliest message; "before-event": the event and the value."""
    for q in evalset.questions:
        if q.kind == "since":
            assert 1 <= len(q.gold) <= 3, q.qid
        if q.kind == "first-time":
            assert len(q.gold) == 1 and len(q.gold[0]) == 1, q.qid
        if q.kind == "before-event":
            assert len(q.gold) == 2, q.qid


def test_questions_paraphrase_the_chat(evalset):
    """No question repeats a message's text, and the wording varies."""
    contents = {m.content.lower() for m in evalset.messages}
    assert not any(q.text.lower() in contents for q in evalset.questions)
    assert len({q.text for q in evalset.questions}) >= 80


def test_range_questions_name_their_range(evalset):
    """A question about a range carries it ([start, end), ending by the asking time); the others carry none. "Last
    week" is a Monday-to-Monday week, "yesterday" a day, "in May" the calendar month, "since" up to the asking."""
    spans = {"last-week": timedelta(days=7), "yesterday": timedelta(days=1)}
    for q in evalset.questions:
        if q.kind not in {"last-week", "yesterday", "in-month", "since"}:
            assert q.window is None, q.qid
            continue
        assert q.window is not None, q.qid
        start, end = (datetime.fromisoformat(moment) for moment in q.window)
        asked = datetime.fromisoformat(q.asked_at)
        assert start < end <= asked, q.qid
        if q.kind in spans:
            assert end - start == spans[q.kind] and start.time() == time(), q.qid
        if q.kind == "last-week":
            assert start.weekday() == 0 and asked - end < timedelta(days=7), q.qid
        if q.kind == "in-month":
            assert start.day == 1 and end.day == 1 and q.text.count(f"{start:%B}") == 1, q.qid
        if q.kind == "since":
            assert end == asked, q.qid
