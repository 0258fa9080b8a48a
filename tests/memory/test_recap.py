"""Recaps: the conversations of a window in time order, each cited; the most central message of each without a
model; with one, a summary that is map-reduced when the conversations do not fit one prompt."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from memory import ChatMessage, Memory, Recapper, count_tokens, utc_iso
from memory.llm import close_chat_model, make_chat_model
from memory.recap import central_message, conversations
from memory.settings import LLMSettings
from tests.fakeopenai import FakeOpenAI

DAY = datetime(2025, 6, 17, 9, 0, tzinfo=UTC)


def said(number: int, minutes: float, text: str, *, channel: str = "dev", author: str = "dana") -> ChatMessage:
    message_id = str(6_000_000 + number)
    return ChatMessage(
        guild_id="g1", channel_id=channel, message_id=message_id, author_id=author, author_name=author,
        content=text, created_at=utc_iso(DAY + timedelta(minutes=minutes)),
        jump_url=f"https://discord.com/channels/g1/{channel}/{message_id}",
    )  # fmt: skip


CHAT = [
    said(1, -60 * 24, "an old remark from the day before about lunch"),
    said(2, 0, "the release is blocked by the flaky login test"),
    said(3, 2, "which login test? the sso one?", author="omar"),
    said(4, 4, "yes the sso login test, I will quarantine the flaky login test today"),
    said(5, 10, "standup moves to 10:00 from Monday", channel="general", author="lena"),
    said(6, 240, "we picked Borealis for the boiler contract", author="omar"),
    said(7, 243, "great, Borealis it is"),
]


@pytest.fixture
def team(memory: Memory) -> Memory:
    memory.remember_messages(CHAT)
    return memory


def test_messages_group_into_conversations_by_channel_and_silence():
    """A silence longer than the chat gap, or another channel, starts a new conversation; they run in time order."""
    held = conversations(CHAT[1:], gap_minutes=30)
    assert [[m.message_id[-1] for m in c.messages] for c in held] == [["2", "3", "4"], ["5"], ["6", "7"]]
    assert central_message(held[0]).message_id == "6000004"  # shares most words with the rest


async def test_without_a_model_the_recap_quotes_each_conversation_in_time_order(team: Memory):
    """Three conversations in the window, each quoted once with its channel and a number; the day before is out."""
    recap = await Recapper(team, None).recap(
        "g1", after=DAY - timedelta(hours=1), before=DAY + timedelta(hours=8), channel_names={"dev": "dev"}
    )
    assert not recap.generated and recap.messages == 6
    points = [line for line in recap.text.splitlines() if line.startswith("• ")]
    assert len(points) == 3 and [p.rsplit("[", 1)[1] for p in points] == ["1]", "2]", "3]"]
    assert "quarantine the flaky login test" in points[0] and "in #dev" in points[0]
    assert "standup moves" in points[1] and "in the channel" in points[1]  # a channel with no name given
    assert "old remark" not in recap.text
    assert recap.context.hits[0].chunk.jump_url == "https://discord.com/channels/g1/dev/6000002"


async def test_a_recap_can_be_confined_to_channels_and_says_when_nothing_was_said(team: Memory):
    """Only the asked-for channels count; an empty window says so and cites nothing."""
    recapper = Recapper(team, None)
    general = await recapper.recap("g1", after=DAY - timedelta(hours=1), before=DAY + timedelta(hours=8),
                                   channels=["general"])  # fmt: skip
    assert [h.chunk.channel_id for h in general.context.hits] == ["general"]
    empty = await recapper.recap("g1", after=DAY + timedelta(days=3), before=DAY + timedelta(days=4))
    assert empty.context.hits == [] and empty.text.startswith("Nothing was said there between 2025-06-20")


@pytest.fixture
async def fake_llm():
    server = FakeOpenAI()
    await server.start()
    yield server
    await server.stop()


def cited_numbers(messages: list[dict]) -> list[int]:
    prompt = "\n".join(str(m.get("content")) for m in messages)
    return [int(n) for n in re.findall(r'<conversation id="(\d+)">', prompt)]


async def test_with_a_model_the_conversations_are_summarised_in_one_call_when_they_fit(team, fake_llm, monkeypatch):
    """One request holding every conversation, numbered in time order; the recap is the model's, with citations."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake_llm.reply = "- The release is blocked by a flaky test [1]\n- Borealis won the boiler contract [3]"
    llm = LLMSettings(base_url=fake_llm.base_url, model="gpt-4o-mini", max_retries=0, timeout_seconds=2)
    model = make_chat_model(llm)
    try:
        recap = await Recapper(team, model, llm=llm).recap(
            "g1", after=DAY - timedelta(hours=1), before=DAY + timedelta(hours=8), guild_name="Lighthouse"
        )
    finally:
        await close_chat_model(model)
    assert len(fake_llm.requests) == 1 and cited_numbers(fake_llm.requests[0]["messages"]) == [1, 2, 3]
    assert recap.generated and recap.text == fake_llm.reply and recap.used_sources == (1, 3)
    assert "Lighthouse" in fake_llm.requests[0]["messages"][0]["content"]


async def test_conversations_beyond_one_prompt_are_map_reduced_within_the_window(memory, fake_llm, monkeypatch):
    """With a small window, batches of conversations are recapped apart, then merged; no prompt exceeds the room."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    long_day = [said(i, i * 45, f"topic {i}: " + "details of the plan and its owners " * 12) for i in range(12)]
    memory.remember_messages(long_day)

    def reply(messages: list[dict]) -> str:
        numbers = cited_numbers(messages)
        if numbers:
            return " ".join(f"point [{n}]" for n in numbers)
        return "merged: " + " ".join(re.findall(r"\[\d+\]", str(messages[-1]["content"])))

    fake_llm.reply = reply
    llm = LLMSettings(base_url=fake_llm.base_url, model="gpt-4o-mini", max_retries=0, timeout_seconds=2,
                      context_window=1200, max_answer_tokens=200)  # fmt: skip
    model = make_chat_model(llm)
    try:
        recap = await Recapper(memory, model, llm=llm).recap("g1", after=DAY - timedelta(hours=1),
                                                             before=DAY + timedelta(days=1))  # fmt: skip
    finally:
        await close_chat_model(model)
    mapped = [r for r in fake_llm.requests if cited_numbers(r["messages"])]
    assert len(mapped) >= 2 and sorted(n for r in mapped for n in cited_numbers(r["messages"])) == list(range(1, 13))
    for request in fake_llm.requests:  # every prompt leaves room for the answer in the 1,200-token window
        assert sum(count_tokens(str(m["content"]), "gpt-4o-mini") for m in request["messages"]) <= 1200 - 200
    assert len(fake_llm.requests) > len(mapped)  # at least one merge
    assert recap.text.startswith("merged:") and recap.used_sources == tuple(range(1, 13))
