"""The "conversations" eval set: deterministic, well-formed chat, and questions whose evidence is in it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from benchmarks.evalsets import EvalSet
from benchmarks.evalsets.conversations import GUILD, build
from memory import ChatMessage

# A gap this long, or a change of channel, starts a new session (bursts are 1-5 minutes a message, hours apart).
SESSION_GAP = timedelta(minutes=30)


@pytest.fixture(scope="module")
def evalset() -> EvalSet:
    return build(7)


def _sessions(messages: tuple[ChatMessage, ...]) -> dict[str, int]:
    """Each message's session number, read off the chat itself (channel and time gaps)."""
    number, previous, out = -1, None, {}
    for message in sorted(messages, key=lambda m: m.created_at):
        moment = datetime.fromisoformat(message.created_at)
        if previous is None or message.channel_id != previous[0] or moment - previous[1] > SESSION_GAP:
            number += 1
        out[message.message_id] = number
        previous = (message.channel_id, moment)
    return out


def test_build_is_deterministic(evalset):
    """The same seed gives the same set; another seed gives another chat and other questions."""
    assert build(7) == evalset
    other = build(8)
    assert other.messages != evalset.messages
    assert [q.text for q in other.questions] != [q.text for q in evalset.questions]


def test_message_ids_are_unique_and_grow_with_time(evalset):
    """Message ids are numeric, unique, and strictly increasing in created_at order."""
    ids = [int(m.message_id) for m in sorted(evalset.messages, key=lambda m: m.created_at)]
    assert len(set(ids)) == len(ids)
    assert all(a < b for a, b in pairwise(ids))


def test_chat_shape(evalset):
    """About 2-3k messages over about four months, in 4-6 channels, by 8-12 distinct people, well formed."""
    messages = evalset.messages
    assert evalset.name == "conversations"
    assert evalset.guild_id == GUILD == "800000000000000001"
    assert 2_000 <= len(messages) <= 3_000
    assert 4 <= len({m.channel_id for m in messages}) <= 6
    authors = {m.author_id: m.author_name for m in messages}
    assert 8 <= len(authors) <= 12
    assert len(set(authors.values())) == len(authors)
    times = sorted(datetime.fromisoformat(m.created_at) for m in messages)
    assert timedelta(days=90) <= times[-1] - times[0] <= timedelta(days=150)
    for m in messages:
        assert m.guild_id == GUILD
        assert m.channel_id.isdigit() and m.author_id.isdigit() and m.message_id.isdigit()
        assert m.created_at.endswith("+00:00")
        assert m.jump_url == f"https://discord.com/channels/{GUILD}/{m.channel_id}/{m.message_id}"
    sizes = Counter(_sessions(messages).values())
    assert all(10 <= size <= 65 for size in sizes.values())


def test_every_gold_id_is_a_message(evalset):
    """Every evidence id of every question is the id of a message in the set."""
    ids = {m.message_id for m in evalset.messages}
    for question in evalset.questions:
        assert question.gold and all(group for group in question.gold)
        assert all(evidence in ids for group in question.gold for evidence in group), question.qid


def test_question_kinds_and_counts(evalset):
    """About 150 questions: ~50 single-hop, ~45 multi-hop, ~30 temporal, ~25 open-domain, with unique ids."""
    counts = Counter(q.kind for q in evalset.questions)
    assert set(counts) == {"single-hop", "multi-hop", "temporal", "open-domain"}
    assert 45 <= counts["single-hop"] <= 55
    assert 40 <= counts["multi-hop"] <= 50
    assert 25 <= counts["temporal"] <= 35
    assert 20 <= counts["open-domain"] <= 30
    assert len({q.qid for q in evalset.questions}) == len(evalset.questions)
    assert len({q.text for q in evalset.questions}) == len(evalset.questions)
    assert all(q.answer for q in evalset.questions)


def test_multi_hop_needs_two_sessions(evalset):
    """Each multi-hop question has two evidence groups, whose messages are in different sessions."""
    session = _sessions(evalset.messages)
    for question in (q for q in evalset.questions if q.kind == "multi-hop"):
        assert len(question.gold) == 2, question.qid
        first, second = ({session[i] for i in group} for group in question.gold)
        assert not first & second, question.qid


def test_single_hop_and_open_domain_have_one_group(evalset):
    """Single-hop and open-domain questions need one fact; temporal ones one or two."""
    for question in evalset.questions:
        if question.kind in ("single-hop", "open-domain"):
            assert len(question.gold) == 1, question.qid
        if question.kind == "temporal":
            assert len(question.gold) in (1, 2), question.qid


def test_temporal_answers_state_the_message_date(evalset):
    """A one-fact temporal answer is the date of its evidence message."""
    by_id = {m.message_id: m for m in evalset.messages}
    for question in (q for q in evalset.questions if q.kind == "temporal" and len(q.gold) == 1):
        moment = datetime.fromisoformat(by_id[next(iter(question.gold[0]))].created_at)
        assert f"{moment.day} {moment:%B %Y}" in question.answer, question.qid


def test_questions_do_not_quote_their_evidence(evalset):
    """No question holds the full wording of a gold message."""
    by_id = {m.message_id: m.content.lower() for m in evalset.messages}
    for question in evalset.questions:
        text = question.text.lower()
        assert not any(by_id[i] in text for group in question.gold for i in group), question.qid
