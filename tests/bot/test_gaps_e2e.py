"""End to end: every answer carries 👍/👎 buttons that record verdicts; `/memory gaps` shows admins the questions
that found nothing or were voted down; a member who is forgotten takes their questions and votes along."""

from __future__ import annotations

from memory import Memory
from tests.bot.conftest import World, all_text, on_disk, running_bot, seed, settled, world_settings
from tests.fakediscord import FakeDiscord
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings

UP, DOWN = "up", "down"


def buttons(interaction) -> list[str]:
    """The custom ids of the buttons on the answer's messages (the original response and any followups)."""
    bodies = [*interaction.edits, *interaction.followups]
    return [c["custom_id"] for b in bodies for row in b.get("components") or [] for c in row.get("components", [])]


async def gaps(world, user: str = "alice") -> str:
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world[user], "memory", subcommand="gaps"
    )
    await interaction.wait_done()
    await settled(interaction, quiet=0.2)
    return all_text(interaction)


async def test_votes_and_unanswered_questions_reach_memory_gaps(world):
    """An unanswered question and a down-voted answer are listed; an up-voted one is not; the vote is thanked."""
    await world.discord.user_sends_message(world["general"], world["alice"], "the lamp room key is in the blue box")
    await world.settle()
    world.llm.reply = "In the blue box [1]."
    answered = await world.ask("bob", "where is the lamp room key?")
    ids = buttons(answered)
    assert len(ids) == 2 and ids[0].endswith(":up") and ids[1].endswith(":down")
    clicked = await world.discord.user_clicks_button(answered, ids[1], world["bob"])
    await clicked.wait_done()
    assert "Thanks, noted" in all_text(clicked) and clicked.callbacks[0]["data"]["flags"] & 64
    praised = await world.ask("bob", "what is in the blue box?")
    await (await world.discord.user_clicks_button(praised, buttons(praised)[0], world["alice"])).wait_done()
    world.memory.guild_settings.change(world["guild"], {"min_relevance": 0.9})  # a floor nothing below clears
    await world.ask("bob", "what is the capital of peru quinoa llama?")  # nothing in memory about it
    shown = await gaps(world)
    assert "“what is the capital of peru quinoa llama?” — nothing found" in shown
    assert "“where is the lamp room key?” — 👎 1 · 👍 0" in shown
    assert "what is in the blue box" not in shown
    assert f"<@{world['bob']}>" in shown


async def test_a_forgotten_member_takes_their_questions_and_votes_with_them(world):
    """After bob's /privacy forget-me, /memory gaps no longer shows his question and no file holds it."""
    world.memory.guild_settings.change(world["guild"], {"min_relevance": 0.9})
    await world.ask("bob", "who feeds the LIGHTHOUSECAT at night?")
    assert "LIGHTHOUSECAT" in await gaps(world)
    forget = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world["bob"], "privacy", subcommand="forget-me"
    )
    await forget.wait_done()
    await settled(forget, quiet=0.2)
    assert "LIGHTHOUSECAT" not in await gaps(world)
    assert on_disk(world, "LIGHTHOUSECAT") == []


async def test_gaps_is_for_admins_only(world):
    """A member without Manage Server is refused."""
    assert "Manage Server" in await gaps(world, "bob")


async def test_a_click_after_a_restart_still_counts(tmp_path, monkeypatch):
    """The buttons are rebuilt from their custom id: a click on an answer given before a restart counts."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake, llm = FakeDiscord(), FakeOpenAI()
    await fake.start()
    await llm.start()
    memory = None
    try:
        ids = seed(fake)
        settings = world_settings(fake, llm, ids, tmp_path / "data")
        memory = Memory.open(settings, embeddings=HashEmbeddings())
        async with running_bot(settings, fake, memory) as bot:
            answered = await World(fake, llm, bot, memory, settings, ids).ask("bob", "where is the lamp oil?")
        async with running_bot(settings, fake, memory):  # a new process: nothing of the old views is left
            clicked = await fake.user_clicks_button(answered, buttons(answered)[0], ids["owner"])
            await clicked.wait_done()
            assert "Thanks, noted" in all_text(clicked)
        assert [(q.up, q.down) for q in memory.questions.asked(ids["guild"], "2000-01-01")] == [(1, 0)]
    finally:
        if memory is not None:
            memory.close()
        await llm.stop()
        await fake.stop()
