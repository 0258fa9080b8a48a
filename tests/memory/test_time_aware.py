"""Time-aware questions: "now" takes the statement in force at the asking time, ranges keep their passages, and
a question about a range alone ("what happened yesterday?") finds it; sources keep their dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from memory import ChatMessage, Memory, utc_iso
from memory.extractive import extractive_answer
from tests.conftest import make_settings
from tests.fakes import HashEmbeddings

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)  # a Monday


def said(number: int, day: int, text: str, *, channel: str = "team", hour: int = 9) -> ChatMessage:
    """A message `day` days after START (one conversation a day: days are further apart than the chat gap)."""
    moment = START + timedelta(days=day, hours=hour - 9, minutes=number % 50)
    message_id = str(5_000_000 + number)
    return ChatMessage(
        guild_id="g1", channel_id=channel, message_id=message_id, author_id="u1", author_name="dana",
        content=text, created_at=utc_iso(moment), jump_url=f"https://discord.com/channels/g1/{channel}/{message_id}",
    )  # fmt: skip


@pytest.fixture
def team(tmp_path):
    """Standup times said on three dates, weekly chatter, a launch, and unrelated filler in between."""
    messages = [
        said(1, 0, "standup is at 9:30 every morning in the big room"),
        said(2, 30, "heads up: standup moves to 10:00 starting today"),
        said(3, 75, "from now on the standup time is 9:45, it suits the new hires"),
        said(4, 20, "the staging server was rebooted after the disk filled up"),
        said(5, 41, "the staging server was rebooted again, someone left a debug log on"),
        said(6, 60, "we launch the mobile app on friday, fingers crossed"),
        said(7, 62, "the mobile app launch went well, thanks all"),
        said(8, 50, "the release version is 2.3 now"),
        said(9, 70, "release 2.4 is out"),
        said(10, 79, "pizza for lunch anyone?", hour=12),
        said(11, 79, "the printer on floor two is jammed again", hour=15),
        *[said(20 + i, i * 3 + 1, f"random chatter number {i} about weekend plans and the weather") for i in range(25)],
    ]
    memory = Memory.open(make_settings(tmp_path / "data"), embeddings=HashEmbeddings())  # no relevance floor
    memory.remember_messages(messages)
    yield memory
    memory.close()


def first_ids(memory: Memory, question: str, now: datetime, **options) -> list[str]:
    return [m for h in memory.search(question, "g1", now=now, **options).hits for m in h.chunk.message_ids]


def test_now_takes_the_latest_statement_before_the_asking_time(team):
    """Asked after all three, "now" answers 9:45; asked in between, the statement in force then wins."""
    late = START + timedelta(days=80)
    assert first_ids(team, "what is the standup time now?", late)[0] == "5000003"
    between = START + timedelta(days=40)
    found = first_ids(team, "what is the standup time now?", between)
    assert found[0] == "5000002" and "5000003" not in found  # said later than the question: not part of it


def test_now_also_considers_what_was_said_in_the_last_two_weeks(tmp_path):
    """A weekly rota says who is on call twenty times in the same words; this week's handover is put otherwise.
    With two candidates a leg, the time-blind legs return older weeks only: "now" still finds this week's."""
    names = ["Ana", "Ben", "Chen", "Dev", "Eli"]
    messages = [
        said(1 + week, week * 7, f"the person on call is {names[week % 5]}, ping the pager") for week in range(20)
    ]
    handover = said(40, 20 * 7, "handover done: Farah is the one to call from today")
    messages.append(replace(handover, author_id="u2", author_name="erin"))  # not the rota's author: no member leg
    settings = make_settings(tmp_path / "data", retrieval={"candidates": 2, "min_relevance": 0.0, "neighbours": 0})
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        memory.remember_messages(messages)
        found = first_ids(memory, "who is the person on call now?", START + timedelta(days=20 * 7 + 4))
        earlier = first_ids(memory, "who is the person on call now?", START + timedelta(days=19 * 7 + 4))
    assert "5000040" in found
    assert "5000040" not in earlier  # asked before the handover: not part of the answer


def test_now_puts_this_fortnights_statement_holding_the_questions_words_first(tmp_path, real_embeddings):
    """A weekly rota and an old window that asks "who's on call right now?" and answers it are closer to the
    question (by the real model) than this week's handover, put otherwise; the handover holds every word of the
    question and was said in the last two weeks, so it is on the topic and, being the latest, comes first."""
    names = ["Priya", "Tomás", "Maya", "Kenji", "Liam", "Sofia", "Noor", "Zoe"]
    rota = [said(1 + week, week * 7, f"on call this week: {names[week]} 📟") for week in range(8)]
    window = [said(20, 8 * 7, "who's on call right now?"), said(21, 8 * 7, f"on call this week: {names[0]} 📟")]
    handover = said(30, 9 * 7 + 6, "pager handover done, Noor is on call")
    # Each says it in turn, so that a member named in a statement is one of the speakers (a "who" question's value).
    messages = [replace(m, author_name=names[n % 8]) for n, m in enumerate([*rota, *window, handover])]
    settings = make_settings(tmp_path / "data", retrieval={"candidates": 3, "min_relevance": 0.2})
    with Memory.open(settings, embeddings=real_embeddings) as memory:
        memory.remember_messages(messages)
        found = first_ids(memory, "Who's currently on call?", START + timedelta(days=9 * 7 + 7))
    assert found[0] == "5000030", found


def test_a_range_without_a_topic_is_read_by_meaning_back_to_its_start(tmp_path, real_embeddings):
    """ "What changed since Monday?", asked on Thursday: Monday's change is older than the range's newest passages,
    which are chatter. With the range's own leg alone deciding (the time-blind legs weigh nothing here), it is found
    because the range is ranked by meaning, not cut to its newest few."""
    chatter = ["lunch was great today", "raining again, of course", "anyone seen my blue mug?", "happy birthday Sam!"]
    messages = [said(1, 0, "standup moves to 09:15 from today, new time for everyone")]
    messages += [said(10 + n, 1 + n // 4, chatter[n % 4], hour=10 + n % 4) for n in range(12)]
    settings = make_settings(
        tmp_path / "data",
        retrieval={"candidates": 3, "dense_weight": 0.0, "lexical_weight": 0.0, "member_weight": 0.0},
    )
    with Memory.open(settings, embeddings=real_embeddings) as memory:
        memory.remember_messages(messages)
        found = first_ids(memory, "What changed since Monday?", START + timedelta(days=3, hours=8))
    assert found[0] == "5000001", found


def test_an_event_told_as_a_clause_is_dated_by_the_message_that_announces_it(tmp_path):
    """ "Before we adopted Unleash": the talk that led up to the decision tells things too ("unleash looks like
    the option that fits us", in January), but the decision of March dates it, so the staging URL set in February
    is the one in force before it, ahead of January's and April's."""
    messages = [
        said(1, 0, "staging url: https://old.example.dev"),
        said(2, 10, "unleash looks like the self-hosted feature flag option that fits us"),
        said(3, 40, "staging url: https://middle.example.dev"),
        said(4, 60, "decision: feature flags go through Unleash, no more env-var toggles"),
        said(5, 80, "staging url: https://new.example.dev"),
    ]
    with Memory.open(make_settings(tmp_path / "data"), embeddings=HashEmbeddings()) as memory:
        memory.remember_messages(messages)
        scope = memory.time_scope(
            "Before we adopted Unleash, what was the staging URL?", "g1", now=START + timedelta(days=90)
        )
        found = first_ids(memory, "Before we adopted Unleash, what was the staging URL?", START + timedelta(days=90))
    assert scope.landmark is not None and scope.before == datetime.fromisoformat(messages[3].created_at)
    assert found[0] == "5000003", found
    assert "5000005" not in found  # said after the decision: not what was in force before it


def test_the_first_time_takes_the_earliest_statement(team):
    """ "When was the staging server first rebooted?" puts the earlier reboot ahead of the later one."""
    found = first_ids(team, "when was the staging server rebooted for the first time?", START + timedelta(days=80))
    assert found.index("5000004") < found.index("5000005")


def test_a_range_keeps_only_its_passages(team):
    """ "In February" puts the reboot of February 16 (day 41) ahead of the one of January (kept after it, as what
    was in force when February began)."""
    found = first_ids(team, "was the staging server rebooted in February?", START + timedelta(days=80))
    assert found[0] == "5000005" and found.index("5000005") < found.index("5000004")


def test_what_was_in_force_in_a_range_comes_before_the_questions_asked_in_it(tmp_path):
    """ "What was the wifi password in February?": the January message that set it is in force all February; it
    comes after February's statements on the wifi but before February's lone questions about it, which state
    nothing."""
    messages = [
        said(1, 0, "the office wifi password is BlueHeron42"),
        *[said(2 + i, 30 + i, "what's the wifi password again?") for i in range(3)],
        said(6, 40, "the wifi in the kitchen is slow today"),
        *[said(20 + i, 55 + i, f"random chatter number {i} about weekend plans and the weather") for i in range(25)],
    ]
    with Memory.open(make_settings(tmp_path / "data"), embeddings=HashEmbeddings()) as memory:
        memory.remember_messages(messages)
        found = first_ids(memory, "what was the wifi password in February?", START + timedelta(days=80))
    questions = [found.index(str(5_000_002 + i)) for i in range(3)]
    assert found[0] == "5000006" and found.index("5000001") < min(questions)


def test_a_question_about_a_range_alone_finds_what_was_said_then(team):
    """ "What happened yesterday?" names no topic: the day's passages come back, even under a strict floor."""
    asked = START + timedelta(days=80, hours=1)
    found = first_ids(team, "what happened yesterday?", asked, min_relevance=0.9)
    assert {"5000010", "5000011"} <= set(found) and all(m in {"5000010", "5000011"} for m in found)


def test_a_range_keeps_its_passages_under_the_floor_when_the_question_names_a_topic(team):
    """ "What broke yesterday?" names a topic the day's messages do not put in its words ("the printer ... is
    jammed"): under a strict floor they still come back, and nothing from another day does."""
    asked = START + timedelta(days=80, hours=1)
    found = first_ids(team, "what broke yesterday?", asked, min_relevance=0.9)
    assert "5000011" in found and all(m in {"5000010", "5000011"} for m in found)


def test_an_event_is_found_in_memory_and_bounds_the_range(team):
    """ "Before the mobile app launch" ends the range at the launch's messages (day 60): release 2.3, not 2.4."""
    asked = START + timedelta(days=80)
    scope = team.time_scope("which release version did we have before the mobile app launch?", "g1", now=asked)
    assert scope.event is None and scope.before is not None and scope.before.date() == date(2025, 3, 7)
    found = first_ids(team, "which release version did we have before the mobile app launch?", asked)
    assert "5000008" in found and "5000009" not in found
    assert found.index("5000006") == 1  # the message that dated the launch is a source, after the best one


def test_an_event_first_mentioned_after_the_asking_time_is_not_dated_by_it(team):
    """Asked on day 55, "before the mobile app launch" names an event memory first hears of on day 60: the launch
    messages do not date it (whatever the search finds instead was said by then)."""
    asked = START + timedelta(days=55)
    scope = team.time_scope("which release version did we have before the mobile app launch?", "g1", now=asked)
    assert scope.event is None and (scope.before is None or scope.before <= asked)


def test_explicit_after_and_before_dates(team):
    """search after/before (the /ask and command-line options) bound the range by whole days."""
    found = first_ids(team, "staging server rebooted", START + timedelta(days=80), after=date(2025, 2, 1))
    assert "5000005" in found and "5000004" not in found


def test_without_time_words_nothing_changes(team):
    """A question with no time words ranks as before: both reboots come back."""
    found = first_ids(team, "staging server rebooted", START + timedelta(days=80))
    assert {"5000004", "5000005"} <= set(found)


def test_the_model_is_told_when_the_question_is_asked_and_which_source_wins(team):
    """The system prompt names the asking time and, for "now", that the most recent source is right."""
    from memory.answering import time_note

    question = team.question("what is the standup time now?", "g1", now=START + timedelta(days=80))
    note = time_note(question)
    assert note is not None and "2025-03-27" in note and "most recent one is right" in note
    context = team.search(question.text, "g1", scope=question.scope, budget=500)
    assert context.hits[0].chunk.created_at and "9:45" in extractive_answer(question.text, context)


def test_the_first_mention_may_be_a_question(tmp_path):
    """ "When did we first talk about a monorepo?": the first mention was a question, and it comes first; asked
    "what is the monorepo plan now?", the later statement of the plan comes before the questions."""
    messages = [
        said(1, 0, "what about a monorepo?"),
        said(2, 10, "the monorepo doc is ready"),
        said(3, 20, "decided: the monorepo plan is a go"),
        said(4, 30, "are we doing the monorepo?"),
        *[said(20 + i, 40 + i, f"random chatter number {i} about weekend plans and the weather") for i in range(25)],
    ]
    with Memory.open(make_settings(tmp_path / "data"), embeddings=HashEmbeddings()) as memory:
        memory.remember_messages(messages)
        asked = START + timedelta(days=80)
        first = first_ids(memory, "when did we first talk about a monorepo?", asked)
        now = first_ids(memory, "what is the monorepo plan now?", asked)
    assert first[0] == "5000001"
    assert now.index("5000003") < now.index("5000004")


def test_a_passage_sharing_only_a_common_word_does_not_lead_by_its_date(tmp_path):
    """ "Who first brought up upgrading postgres?": an earlier message about an unrelated upgrade shares one word
    with the question but is far less like it, so the first message about the postgres upgrade leads; asked what the
    upgrade plan is now, a later message on another upgrade does not lead either."""
    messages = [
        said(1, 0, "type errors in the billing service after the upgrade"),
        said(2, 10, "postgres upgrading soon: postgres 12 goes end of life"),
        said(3, 20, "postgres upgrading plan: the weekend of the 14th"),
        said(4, 30, "the laptop upgrade went fine"),
        *[said(20 + i, 40 + i, f"random chatter number {i} about weekend plans and the weather") for i in range(25)],
    ]
    with Memory.open(make_settings(tmp_path / "data"), embeddings=HashEmbeddings()) as memory:
        memory.remember_messages(messages)
        asked = START + timedelta(days=80)
        first = first_ids(memory, "who first brought up upgrading postgres?", asked)
        now = first_ids(memory, "what is the postgres upgrading plan now?", asked)
    assert first[0] == "5000002" and first.index("5000002") < first.index("5000001")
    assert now[0] == "5000003" and now.index("5000003") < now.index("5000004")


class SynonymEmbeddings(HashEmbeddings):
    """Hashed words (in many dimensions: few collisions), with "shipped" embedded as "launch": a fake embedder that
    knows two words mean one thing (what the real model does for paraphrases), so a passage can be close in meaning
    without sharing a keyword."""

    def _vector(self, text: str) -> list[float]:
        return super()._vector(text.lower().replace("shipped", "launch"))


def test_a_range_is_searched_by_meaning_not_only_by_its_newest_passages(tmp_path):
    """ "What did we launch in March?": March holds far more passages than a leg's candidates, and the one on the
    topic says "shipped", not "launch", early in the month; February's launch talk crowds the dense leg. The range's
    own passages ranked by meaning find it first."""
    messages = [
        said(1, 54, "the billing export shipped to customers"),  # March 1
        *[said(100 + i, 24 + i % 28, f"what did we launch at the launch party {i}?", hour=10) for i in range(200)],
        *[said(400 + i, 55 + i % 28, "chatter about the weekend and the weather", hour=10 + i % 5) for i in range(150)],
    ]
    with Memory.open(make_settings(tmp_path / "data"), embeddings=SynonymEmbeddings(4096)) as memory:
        memory.remember_messages(messages)
        found = first_ids(memory, "what did we launch in March?", START + timedelta(days=94))
    assert found[0] == "5000001"


def test_now_passes_over_a_later_passage_that_only_asks_and_reacts(tmp_path):
    """ "Can we keep standup short today? I have a hard stop" answered "sure" says nothing about when standup is,
    though it is later and about standup: the statement in force comes first."""
    messages = [
        said(1, 0, "standup is at 9:30 every morning in the big room"),
        said(2, 10, "can we keep standup short today? I have a hard stop"),
        said(3, 10, "sure"),
        *[said(20 + i, i * 2 + 1, f"random chatter number {i} about weekend plans and the weather") for i in range(8)],
    ]
    with Memory.open(make_settings(tmp_path / "data"), embeddings=HashEmbeddings()) as memory:
        memory.remember_messages(messages)
        hits = memory.search("what time is standup now?", "g1", now=START + timedelta(days=20)).hits
        assert hits[0].chunk.message_ids == ("5000001",)
        assert any("5000002" in h.chunk.message_ids for h in hits)  # found, only not first


@pytest.mark.real_model
def test_now_takes_a_later_restatement_over_an_earlier_window_holding_the_question(tmp_path, real_embeddings):
    """Asked "who should I page if prod breaks now?", the window where someone asked who had the pager is closest to
    the question, but the handover said alone a month later is what holds now: it says the same kind of thing anew."""
    messages = [
        said(1, 0, "who has the pager right now?"),
        said(2, 0, "handover done, Tomás is on call"),
        said(3, 30, "handover done, Liam is on call"),
        said(4, 12, "the on-call rotation doc moved to the wiki"),
        *[said(20 + i, i * 2 + 1, f"random chatter number {i} about weekend plans and the weather") for i in range(20)],
    ]
    with Memory.open(make_settings(tmp_path / "data"), embeddings=real_embeddings) as memory:
        memory.remember_messages(messages)
        hits = memory.search("Who should I page if prod breaks now?", "g1", now=START + timedelta(days=31)).hits
        window = next(h for h in hits if h.chunk.message_ids == ("5000001", "5000002"))
        alone = next(h for h in hits if h.chunk.message_ids == ("5000003",))
        assert (window.similarity or 0.0) > (alone.similarity or 0.0) + 0.1  # the case this is about
        assert hits[0] is alone


@pytest.mark.real_model
def test_an_event_is_dated_where_it_is_told_not_where_it_was_proposed(tmp_path, real_embeddings):
    """ "Before the changelog launch": the question proposing a changelog comes up first for the words, but the
    changelog launched when a message said so; the sprint length in force then is the one set just before it."""
    messages = [
        said(1, 0, "sprints are 4 weeks long"),
        said(2, 20, "should we launch a changelog for customers?"),
        said(3, 30, "we're switching to 2 week sprints, starting with this one"),
        said(4, 40, "the changelog is live, the first post went out today"),
        said(5, 50, "planning note: we go to 1 week sprints"),
        *[said(20 + i, 2 + i * 5, f"random chatter number {i} about weekend plans and the weather") for i in range(4)],
    ]
    question = "What was the sprint length before the changelog launch?"
    asked = START + timedelta(days=80)
    with Memory.open(make_settings(tmp_path / "data"), embeddings=real_embeddings) as memory:
        memory.remember_messages(messages)
        scope = memory.time_scope(question, "g1", now=asked)
        found = first_ids(memory, question, asked)
    assert scope.before is not None and scope.before.date() == (START + timedelta(days=40)).date()
    assert found[0] == "5000003" and "5000005" not in found
