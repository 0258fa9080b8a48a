"""Which of a time-aware question's hits lead (memory/in_force.py), on hits whose scores and similarities are set
here: a passage that shares only a common word with the question, or is only somewhat close in meaning, never
leads by its date alone."""

from __future__ import annotations

from datetime import UTC, datetime

from memory.answer_types import value_check
from memory.in_force import in_range_first, in_time_order, said_words, speakers
from memory.types import Chunk, Hit
from memory.when import TimeScope


def hit(name: str, day: str, text: str, score: float, similarity: float) -> Hit:
    """A one-message chat passage said on `day` (2025-MM-DD)."""
    chunk = Chunk(
        chunk_id=name, kind="message", guild_id="g1", channel_id="c1", record_id="c1", position=0, start_key=day,
        text=f"[{day} 09:00] dana: {text}", tokens=10, message_ids=(name,), author_ids=("u1",),
        created_at=f"{day}T09:00:00+00:00", jump_url=None,
    )  # fmt: skip
    return Hit(chunk, score, similarity)


def test_a_later_keyword_hit_far_less_alike_does_not_lead_the_latest():
    """ "What's the postgres upgrade plan now?": a later message about a laptop upgrade shares "upgrade" and
    scores near the best, but is far less like the question: the postgres plan leads."""
    plan = hit("plan", "2025-03-01", "postgres upgrade plan: the weekend of the 14th", 0.030, 0.62)
    laptop = hit("laptop", "2025-03-20", "the laptop upgrade went fine", 0.028, 0.30)
    ordered = in_time_order([plan, laptop], close_by_meaning={"plan"}, topical={"plan", "laptop"}, order="latest")
    assert [h.chunk.chunk_id for h in ordered] == ["plan", "laptop"]
    alike = hit("alike", "2025-03-20", "postgres upgrade moved to the 21st", 0.028, 0.55)
    ordered = in_time_order([plan, alike], close_by_meaning={"plan"}, topical={"plan", "alike"}, order="latest")
    assert ordered[0] is alike  # as alike as the best one: the later statement is in force


def test_a_hit_close_by_meaning_alone_must_be_closer_still_to_lead():
    """A passage that shares no word with the question leads by its date only when it is nearly as close in meaning
    as the best one; one merely in the same neighbourhood ("the spare HDMI adapter" for "the standup slot") does not."""
    standup = hit("standup", "2025-05-27", "as of June 9 our daily standup will be at 10:30", 0.016, 0.38)
    hdmi = hit("hdmi", "2025-06-13", "the spare HDMI adapter is in the drawer by the printer", 0.010, 0.29)
    near = {"standup", "hdmi"}
    ordered = in_time_order([standup, hdmi], close_by_meaning=near, topical={"standup"}, order="latest")
    assert ordered[0] is standup
    nearly = hit("nearly", "2025-06-13", "standup slot is 10:30 from now on", 0.010, 0.36)
    ordered = in_time_order([standup, nearly], close_by_meaning={"standup", "nearly"}, topical=set(), order="latest")
    assert ordered[0] is nearly


def test_a_range_statement_far_less_alike_than_the_one_in_force_goes_after_it():
    """ "Back in February, what was the office address?": February's only statement on the office is about its
    kitchen; the January message that set the address was in force all February and comes first. A February
    statement as alike as it would come first, as what was said in the range."""
    scope = TimeScope(after=datetime(2025, 2, 1, tzinfo=UTC), before=datetime(2025, 3, 1, tzinfo=UTC))
    address = hit("address", "2025-01-13", "our office is at Harbour Street 12, 3rd floor", 0.016, 0.55)
    kitchen = hit("kitchen", "2025-02-19", "cake in the office kitchen, help yourselves", 0.040, 0.30)
    ordered = in_range_first([kitchen, address], scope, {"address", "kitchen"})
    assert [h.chunk.chunk_id for h in ordered] == ["address", "kitchen"]
    moved = hit("moved", "2025-02-20", "the office moves to Canal Road 88, 2nd floor", 0.030, 0.50)
    ordered = in_range_first([kitchen, moved, address], scope, {"address", "kitchen", "moved"})
    assert [h.chunk.chunk_id for h in ordered] == ["moved", "address", "kitchen"]


def test_now_puts_the_statement_of_the_value_asked_before_a_later_mention():
    """ "What time is standup now?": the later "running late to standup" is as alike and on the topic, but
    states no time; the statement that does leads. Without the check, the later mention would."""
    stated = hit("stated", "2025-03-19", "we're shifting standup to 10:00, effective immediately", 0.024, 0.40)
    mention = hit("mention", "2025-04-03", "running a few minutes late to standup, start without me", 0.025, 0.42)
    both, topical = [mention, stated], {"stated", "mention"}
    check = value_check("What time is standup now?", set())
    ordered = in_time_order(both, close_by_meaning=set(), topical=topical, order="latest", states_value=check)
    assert ordered[0] is stated
    assert in_time_order(both, close_by_meaning=set(), topical=topical, order="latest")[0] is mention


def test_now_lets_a_statement_of_the_value_lead_from_further_away():
    """ "Who leads the team at the moment?": the newest statement names a member but is 0.25 less alike than the
    closest hit (a chat about football, "who's in?"): past the usual reach, within the one for stated values."""
    old = hit("old", "2025-05-13", "Tomás is our team lead, take escalations there", 0.031, 0.45)
    new = hit("new", "2025-05-21", "Kenji is the new team lead, congrats!", 0.023, 0.27)
    football = hit("football", "2025-07-25", "five-a-side football tonight, who's in?", 0.016, 0.52)
    hits, topical = [old, new, football], {"old", "new", "football"}
    check = value_check("Who leads the team at the moment?", speakers(hits) | {"tomás", "kenji"})
    ordered = in_time_order(hits, close_by_meaning=set(), topical=topical, order="latest", states_value=check)
    assert ordered[0] is new
    assert in_time_order(hits, close_by_meaning=set(), topical=topical, order="latest")[0] is old
    earliest = in_time_order(hits, close_by_meaning=set(), topical=topical, order="earliest", states_value=check)
    assert earliest[0] is old  # "the first time" asks for the first mention, whatever it says


def test_said_words_and_speakers_leave_the_stamps_and_authors_out():
    """A restatement is told by the words said, not by the "[date] author:" lines every message has."""
    window = hit("w", "2025-05-13", "Tomás is our team lead", 0.0, 0.0)
    assert said_words(window.chunk.text) == {"tomás", "team", "lead"}
    assert speakers([window]) == {"dana"}
