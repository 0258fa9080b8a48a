"""End to end: `/recap` recaps only what the asker can read, cites its conversations with jump links, and goes
privately to the asker when the channel's other readers could not read its sources."""

from __future__ import annotations

from bot.render import PRIVATE_NOTICE
from tests.bot.conftest import all_text, final_text, settled


async def recap(world, user: str, **options):
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world[user], "recap", options or None
    )
    await interaction.wait_done(lambda i: final_text(i) is not None)
    await settled(interaction)
    return interaction


async def test_a_recap_holds_only_what_the_asker_can_read_and_cites_it(world):
    """Bob's recap draws on #general, not #staff; its text is the model's, its sources link to the messages."""
    await world.discord.user_sends_message(world["general"], world["alice"], "the release is blocked by the sso test")
    await world.discord.user_sends_message(world["staff"], world["alice"], "staff only: budget cuts in q3 narwhal")
    await world.settle()
    world.llm.reply = "- Alice says the release is blocked by the SSO test [1]."
    shown = await recap(world, "bob", since="1h", private=True)
    prompt = world.llm.last_prompt_text()
    assert "blocked by the sso test" in prompt and "narwhal" not in prompt
    text = all_text(shown)
    assert world.llm.reply in text and f"<https://discord.com/channels/{world['guild']}/{world['general']}/" in text


async def test_a_public_recap_of_private_channels_goes_to_the_asker_alone(world):
    """Alice (staff) recaps publicly in #general: #staff is among the sources, so the recap is sent privately."""
    await world.discord.user_sends_message(world["staff"], world["alice"], "staff offsite moves to lisbon")
    await world.settle()
    world.llm.reply = "- The staff offsite moves to Lisbon [1]."
    shown = await recap(world, "alice")
    assert shown.edits[0]["content"] == PRIVATE_NOTICE
    assert shown.followups and shown.followups[-1].get("flags", 0) & 64 and "Lisbon" in all_text(shown)


async def test_a_bad_since_is_one_line(world):
    """`since` that is neither a duration nor a date is refused, naming the forms it takes."""
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world["bob"], "recap", {"since": "a while"}
    )
    await interaction.wait_done()
    assert "must be a duration like 24h" in interaction.callbacks[0]["data"]["content"]
    assert world.llm.requests == []
