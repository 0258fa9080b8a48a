"""The answer without a language model: the best sentences of each passage, quoted once each, numbered."""

from __future__ import annotations

from memory import Hit, pack
from memory.extractive import extractive_answer
from memory.tokens import count_tokens
from memory.types import Chunk

REMINDER = "[2024-03-21 15:02] Jonas: reminder: the deploy key rotates tomorrow at 16:00 UTC, like every Friday."
REPLY = "[2024-03-21 15:04] Sam: thanks, so the deploy key rotation is at 16:00 UTC on Fridays?"


def chunk(chunk_id: str, text: str, kind: str, message_ids: tuple[str, ...]) -> Chunk:
    return Chunk(chunk_id=chunk_id, kind=kind, guild_id="g", channel_id="c", record_id="chat:c", position=0,  # type: ignore[arg-type]
                 start_key=chunk_id, text=text, tokens=count_tokens(text), message_ids=message_ids, author_ids=(),
                 created_at=None, jump_url=None)  # fmt: skip


def test_a_message_packed_alone_and_in_its_conversation_is_quoted_once():
    """The reminder is a passage of its own and the first line of its conversation: the answer quotes it for
    source 1, and for source 2 quotes the conversation's other line instead of the reminder again."""
    alone = chunk("m1", REMINDER, "message", ("1",))
    window = chunk("w1", f"{REMINDER}\n{REPLY}", "chat", ("1", "2"))
    answer = extractive_answer("When does the deploy key rotate?", pack([Hit(alone, 0.9), Hit(window, 0.8)], 1000))
    assert answer.count("reminder: the deploy key rotates tomorrow") == 1
    lines = answer.splitlines()
    assert lines[1].endswith("[1]") and "reminder" in lines[1]
    assert lines[2].endswith("[2]") and "Sam: thanks" in lines[2]


def test_a_passage_with_nothing_new_gets_no_quote_but_keeps_the_numbering():
    """A passage all of whose sentences were quoted already adds no line; the next one keeps its own number."""
    first = chunk("m1", REMINDER, "message", ("1",))
    again = chunk("m2", REMINDER, "chat", ("1",))
    other = chunk("m3", REPLY, "message", ("2",))
    hits = [Hit(first, 0.9), Hit(again, 0.8), Hit(other, 0.7)]
    lines = extractive_answer("When does the deploy key rotate?", pack(hits, 1000)).splitlines()
    assert [line[-3:] for line in lines[1:]] == ["[1]", "[3]"]
