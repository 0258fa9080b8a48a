"""Time words resolved against the asking time: ranges, their relation, and latest/earliest intent."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from memory.when import resolve

NOW = datetime(2025, 6, 18, 14, 0, tzinfo=UTC)  # a Wednesday


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "after", "before"),
    [
        ("what happened yesterday?", "2025-06-17", "2025-06-18"),
        ("anything new today", "2025-06-18", "2025-06-19"),
        ("what did we decide last week?", "2025-06-09", "2025-06-16"),
        ("what's been going on this week", "2025-06-16", "2025-06-23"),
        ("who was on call last month", "2025-05-01", "2025-06-01"),
        ("what did we ship in March?", "2025-03-01", "2025-04-01"),
        ("the outage on 3 March", "2025-03-03", "2025-03-04"),
        ("what was said on March 3rd, 2024", "2024-03-03", "2024-03-04"),
        ("plans made in December", "2024-12-01", "2025-01-01"),  # a month still ahead means last year's
        ("what happened on Monday?", "2025-06-16", "2025-06-17"),
        ("what did alice say last friday", "2025-06-13", "2025-06-14"),
        ("the incident two weeks ago", "2025-06-02", "2025-06-09"),
        ("what was decided 3 days ago", "2025-06-15", "2025-06-16"),
        ("on 2025-04-30 who deployed", "2025-04-30", "2025-05-01"),
        ("thinking back to March: what was the staging URL?", "2025-03-01", "2025-04-01"),
    ],
)
def test_a_time_word_becomes_a_range(question, after, before):
    scope = resolve(question, NOW)
    assert (scope.after, scope.before) == (day(after), day(before)) and scope.phrases


@pytest.mark.parametrize(
    ("question", "after", "before"),
    [
        ("what changed since Monday?", "2025-06-16", "now"),
        ("what did we do before March?", None, "2025-03-01"),
        ("anything after June 2?", "2025-06-03", None),
        ("in the last 3 days", "2025-06-16", "now"),
        ("over the past week", "2025-06-12", "now"),
    ],
)
def test_since_before_after_open_the_range_on_one_side(question, after, before):
    scope = resolve(question, NOW)
    assert scope.after == (day(after) if after else None)
    if before == "now":
        assert scope.before is not None and NOW < scope.before < day("2025-06-19")  # up to the asking time
    else:
        assert scope.before == (day(before) if before else None)


@pytest.mark.parametrize(
    ("question", "order"),
    [
        ("What is the standup time now?", "latest"),
        ("who is currently on call", "latest"),
        ("what's the latest release", "latest"),
        ("is the coffee machine still broken", "latest"),
        ("when did we first talk about moving office?", "earliest"),
        ("what was the wifi password originally", "earliest"),
        ("who first brought up moving office?", "earliest"),
        ("which URL should I use for staging?", "latest"),
        ("which password gets me on the wifi today?", "latest"),  # the asking day: what holds now
        ("what was the standup time before March?", "latest"),  # what was in force when March came
        ("what was said yesterday?", None),
        ("what changed this week?", None),
        ("what is the wifi password", None),
    ],
)
def test_now_and_first_say_which_statement_wins(question, order):
    assert resolve(question, NOW).order == order


def test_words_that_only_look_like_time_are_left_alone():
    """ "may" the verb, "this" alone, and a question with no time words give no range."""
    for question in ("may I ask who owns the deploy script?", "what is this about", "where is the lamp oil"):
        scope = resolve(question, NOW)
        assert not scope.bounded and scope.order is None and scope.phrases == ()


def test_explicit_after_and_before_dates_narrow_the_range():
    """/ask after:/before: run from the start of `after` to the end of `before`, within any time words."""
    scope = resolve("what did we decide?", NOW, after=date(2025, 3, 1), before=date(2025, 3, 31))
    assert (scope.after, scope.before) == (day("2025-03-01"), day("2025-04-01"))
    narrowed = resolve("what happened in March?", NOW, after=date(2025, 3, 10))
    assert (narrowed.after, narrowed.before) == (day("2025-03-10"), day("2025-04-01"))
    assert narrowed.holds("2025-03-15T09:00:00+00:00") and not narrowed.holds("2025-03-05T09:00:00+00:00")


def test_an_event_phrase_is_left_for_memory_to_find():
    """ "before the June launch" names an event, not the month; `relative_to` turns the found time into a range."""
    scope = resolve("What was the release version before the June launch?", NOW)
    assert (scope.event, scope.relation, scope.bounded) == ("june launch", "before", False)
    found = scope.relative_to(day("2025-06-05"))
    assert (found.after, found.before, found.event) == (None, day("2025-06-05"), None)
    since = resolve("what changed since the offsite?", NOW)
    assert (since.event, since.relation) == ("offsite", "after")
    assert since.relative_to(day("2025-05-20")).after == day("2025-05-20")


@pytest.mark.parametrize(
    ("question", "event", "relation"),
    [
        ("Before we adopted Unleash, what was the staging URL?", "we adopted unleash", "before"),
        ("What was the demo room before Ben joined?", "ben joined", "before"),
        ("What was the sprint length before we went trunk-based?", "we went trunk-based", "before"),
        ("what changed since we chose Linear over Jira?", "we chose linear over jira", "after"),
    ],
)
def test_an_event_told_as_a_clause_is_left_for_memory_to_find(question, event, relation):
    """A subject and a verb in the past after before/since/after is an event too, marked as told as a clause (memory
    dates it by the message that announces it); "before the launch" is not one, nor a time word ("since Monday")."""
    scope = resolve(question, NOW)
    assert (scope.event, scope.relation, scope.clause, scope.bounded) == (event, relation, True, False)
    assert resolve("What was the standup time before the offsite?", NOW).clause is False
    assert event not in scope.without_phrases(question).lower()  # the event is searched for on its own, no keyword
    assert resolve("what changed since Monday?", NOW).event is None


def test_bare_month_and_day_names_are_no_dates():
    """ "march" or "monday" alone is a word, not a date; with in/on/since/last or a day or year it is one."""
    for question in ("the march madness bracket", "who runs the monday standup", "may I see it"):
        assert not resolve(question, NOW).bounded
    assert resolve("the march 2024 offsite", NOW).bounded and resolve("since monday", NOW).bounded
