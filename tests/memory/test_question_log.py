"""The question log: what was asked and which sources were used, members' verdicts, and its erasure with the
member, the guild or time; an opted-out member's questions are not kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from memory import Memory, PackedContext
from tests.conftest import files_containing
from tests.fakes import message


def context(memory: Memory, query: str) -> PackedContext:
    return memory.search(query, "g1", budget=500)


def test_questions_are_logged_with_their_sources_and_verdicts(memory: Memory):
    """A found answer keeps its chunk ids, an unanswered one none; verdicts count once per member, the last wins."""
    memory.remember_messages([message(0, "the deploy key rotates on fridays")])
    found = memory.log_question("g1", "c1", "u7", "when does the deploy key rotate?", context(memory, "deploy key"))
    empty = memory.log_question("g1", "c1", "u8", "what is the capital of peru?", PackedContext([], [], 500))
    assert found is not None and empty is not None and found != empty
    memory.questions.vote(found, "u8", "down")
    memory.questions.vote(found, "u9", "up")
    after = memory.questions.vote(found, "u9", "down")  # changed their mind
    assert after is not None and (after.up, after.down) == (0, 2)
    asked = {q.question: q for q in memory.questions.asked("g1", "2000-01-01")}
    assert asked["what is the capital of peru?"].unanswered
    assert memory.sources_of(asked["when does the deploy key rotate?"])[0].text.endswith("fridays")
    assert memory.questions.vote("0" * 16, "u1", "up") is None  # no such question


def test_an_opted_out_member_asks_without_being_logged(memory: Memory):
    """A member who opted out is not logged at all."""
    memory.opt_outs.add("u7")
    assert memory.log_question("g1", "c1", "u7", "anything about QUOKKA?", PackedContext([], [], 500)) is None
    assert memory.questions.asked("g1", "2000-01-01") == []


def test_forgetting_a_member_erases_their_questions_and_votes_from_every_file(memory: Memory, data_dir):
    """forget-me (and forgetting a member in a guild) erases what they asked and how they voted, to the disk."""
    memory.remember_messages([message(0, "the boiler is serviced in june")])
    mine = memory.log_question("g1", "c1", "u7", "when is the WOMBATBOILER serviced?", context(memory, "boiler"))
    theirs = memory.log_question("g1", "c1", "u8", "who services the boiler?", context(memory, "boiler"))
    assert mine and theirs
    memory.questions.vote(theirs, "u7", "down")
    memory.forget_user_everywhere("u7")
    left = memory.questions.asked("g1", "2000-01-01")
    assert [q.question for q in left] == ["who services the boiler?"] and (left[0].up, left[0].down) == (0, 0)
    assert files_containing(data_dir, b"WOMBATBOILER") == []
    memory.forget("g1", user_id="u8")
    assert memory.questions.asked("g1", "2000-01-01") == []


def test_questions_go_with_their_guild_and_after_thirty_days(memory: Memory):
    """Forgetting a guild erases its questions; expiry erases those older than 30 days, whatever the retention."""
    memory.log_question("g1", None, "u1", "question one", PackedContext([], [], 500))
    memory.log_question("g2", None, "u1", "question two", PackedContext([], [], 500))
    memory.forget("g1")
    assert memory.questions.asked("g1", "2000-01-01") == [] and len(memory.questions.asked("g2", "2000-01-01")) == 1
    memory.expire(datetime.now(UTC) + timedelta(days=31))
    assert memory.questions.asked("g2", "2000-01-01") == []
