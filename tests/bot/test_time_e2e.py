"""End to end: /ask's `after`/`before` options and the asking time reach retrieval, and sources carry dates."""

from __future__ import annotations

from memory import ChatMessage


def old_message(world, number: int, day: str, text: str) -> ChatMessage:
    message_id = str(7_000_000 + number)
    return ChatMessage(
        guild_id=world["guild"], channel_id=world["general"], message_id=message_id, author_id=world["bob"],
        author_name="bob", content=text, created_at=f"{day}T10:00:00.000000+00:00",
        jump_url=f"https://discord.com/channels/{world['guild']}/{world['general']}/{message_id}",
    )  # fmt: skip


async def test_ask_after_and_before_bound_the_sources_and_the_prompt_knows_the_time(world):
    """/ask after:… keeps older passages out of the prompt; the prompt names the asking time and each date."""
    world.memory.remember_messages([
        old_message(world, 1, "2024-03-01", "the boiler service contract is with Acme"),
        old_message(world, 2, "2024-03-20", "the boiler service contract moved to Borealis"),
    ])  # fmt: skip
    world.llm.reply = "Borealis [1]."
    await world.ask("alice", "who has the boiler service contract?", after="2024-03-10")
    prompt = world.llm.last_prompt_text()
    assert "Borealis" in prompt and "Acme" not in prompt
    assert 'when="2024-03-20 10:00"' in prompt and "The question is asked on" in prompt
    await world.ask("alice", "who has the boiler service contract?", before="2024-03-10")
    assert "Acme" in world.llm.last_prompt_text() and "Borealis" not in world.llm.last_prompt_text()


async def test_a_bad_date_is_one_line_and_asks_nothing(world):
    """An `after` that is not a date is refused with a line that shows the format; the model is not called."""
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world["alice"], "ask", {"question": "anything?", "after": "last tuesday"}
    )
    await interaction.wait_done()
    assert "must be a date like 2025-03-01" in interaction.callbacks[0]["data"]["content"]
    assert world.llm.requests == []
