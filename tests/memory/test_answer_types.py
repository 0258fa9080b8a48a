"""The kind of value a question about a changing fact asks for, and whether a passage states one
(memory/answer_types.py)."""

from __future__ import annotations

import pytest

from memory.answer_types import value_check

MEMBERS = {"kenji", "priya"}


@pytest.mark.parametrize(
    ("question", "states", "mentions"),
    [
        ("Which URL should I use for staging?", "staging moved to https://qa.kestrel.cloud", "staging url? it 404s"),
        ("What's the newest version we've shipped?", "tagged and shipped v3.2.1", "release notes draft is open"),
        ("What time is standup now?", "standup is at 10:15 every day", "running late to standup, start without me"),
        ("How long is a sprint currently?", "sprints become 3 weeks long", "sprint planning board is ready"),
        ("Before the DNS outage, what was the sprint length?", "our sprint length is 4 weeks", "sprint board is up"),
        ("What's the meeting duration now?", "the sync is 30 minutes from today", "the sync ran long again"),
        ("What's our office address now?", "we're now at Quayside 21, 6th floor", "best pizza near the office?"),
        (
            "What was the office address before the move?",
            "from March 31: Harbour Street 12",
            "new wifi pw: Puffin-4286",
        ),
        ("Which floor is the office on now?", "we moved up to the 5th floor", "floor 2 printer is jammed again"),
        ("What's the wifi password at the moment?", "the password is LuckyLynx-7768", "my laptop forgot the wifi"),
        ("Who leads the team at the moment?", "Kenji is the new team lead, congrats!", "team lunch on Friday?"),
        ("who's on call right now?", "pager handover done, Priya is on call", "pager was quiet last night"),
    ],
)
def test_a_question_for_a_value_tells_a_statement_of_one_from_a_mention(question, states, mentions):
    """Each kind: the statement that gives the value passes, the message that only mentions the topic does not."""
    check = value_check(question, MEMBERS)
    assert check is not None
    assert check(states) and not check(mentions)


def test_other_questions_ask_for_no_kind_of_value():
    """A question that asks for no value of a known kind gets no check; nor a "who" question in a guild whose
    speakers are not known."""
    assert value_check("Is the coffee machine working today?", MEMBERS) is None
    assert value_check("What did we decide about the monorepo?", MEMBERS) is None
    assert value_check("Who leads the team now?", set()) is None


def test_a_member_counts_as_a_whole_word_only():
    """ "Priyanka" is not Priya."""
    check = value_check("who has the pager now?", MEMBERS)
    assert check is not None and not check("Priyanka has it") and check("priya has it")
