"""The answer without a language model: the best sentences of each passage, quoted once each, numbered."""

from __future__ import annotations

from memory import Hit, pack
from memory.extractive import extractive_answer
from tests.fakes import passage

REMINDER = "[2024-03-21 15:02] Jonas: reminder: the deploy key rotates tomorrow at 16:00 UTC, like every Friday."
REPLY = "[2024-03-21 15:04] Sam: thanks, so the deploy key rotation is at 16:00 UTC on Fridays?"


def test_a_message_packed_alone_and_in_its_conversation_is_quoted_once():
    """The reminder is a passage of its own and the first line of its conversation: the answer quotes it for
    source 1, and for source 2 quotes the conversation's other line instead of the reminder again."""
    alone = passage("m1", REMINDER, kind="message", message_ids=("1",))
    window = passage("w1", f"{REMINDER}\n{REPLY}", kind="chat", message_ids=("1", "2"))
    answer = extractive_answer("When does the deploy key rotate?", pack([Hit(alone, 0.9), Hit(window, 0.8)], 1000))
    assert answer.count("reminder: the deploy key rotates tomorrow") == 1
    lines = answer.splitlines()
    assert lines[1].endswith("[1]") and "reminder" in lines[1]
    assert lines[2].endswith("[2]") and "Sam: thanks" in lines[2]


def test_a_passage_with_nothing_new_gets_no_quote_but_keeps_the_numbering():
    """A passage all of whose sentences were quoted already adds no line; the next one keeps its own number."""
    first = passage("m1", REMINDER, kind="message", message_ids=("1",))
    again = passage("m2", REMINDER, kind="chat", message_ids=("1",))
    other = passage("m3", REPLY, kind="message", message_ids=("2",))
    hits = [Hit(first, 0.9), Hit(again, 0.8), Hit(other, 0.7)]
    lines = extractive_answer("When does the deploy key rotate?", pack(hits, 1000)).splitlines()
    assert [line[-3:] for line in lines[1:]] == ["[1]", "[3]"]


def test_adjacent_sentences_are_quoted_together_and_only_a_gap_gets_an_ellipsis():
    """Two quoted sentences that follow each other in the passage are joined by a space; "…" marks a skipped one."""
    rotate = "The deploy key rotates on Fridays."
    when = "The deploy key rotation happens at 16:00 UTC."
    aside = "Lunch is served in the atrium today."
    adjacent = passage("f1", f"{rotate} {when} {aside}", kind="file")
    apart = passage("f2", f"{rotate} {aside} {when}", kind="file")
    question = "When does the deploy key rotation happen?"
    assert extractive_answer(question, pack([Hit(adjacent, 0.9)], 1000)).splitlines()[1] == f"> {rotate} {when} [1]"
    assert extractive_answer(question, pack([Hit(apart, 0.9)], 1000)).splitlines()[1] == f"> {rotate} … {when} [1]"
