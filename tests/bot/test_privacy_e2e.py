"""End to end: members' privacy commands, "Forget this message", and erasure when the bot leaves a guild."""

from __future__ import annotations

import json

from bot.cogs.privacy import FORGET_MESSAGE_MENU
from tests.bot.conftest import all_text, on_disk, remembered, wait_until
from tests.conftest import files_containing


async def privacy(world, user: str, subcommand: str, *, guild: str = "guild", channel: str = "general"):
    """Run /privacy <subcommand> and wait for its answer."""
    interaction = await world.discord.user_runs_slash_command(
        world[guild], world[channel], world[user], "privacy", subcommand=subcommand
    )
    await interaction.wait_done()
    return interaction


async def forget_menu(world, user: str, message_id: str, *, channel: str = "general"):
    """Run the "Forget this message" context menu on a message and wait for its answer."""
    interaction = await world.discord.user_runs_message_command(
        world["guild"], world[channel], world[user], FORGET_MESSAGE_MENU, message_id
    )
    await interaction.wait_done()
    await world.settle()
    return interaction


async def test_opt_out_stops_remembering_and_opt_in_resumes(world):
    """After /privacy opt-out a member's messages are not stored (others' are); after opt-in they are again."""
    shown = await privacy(world, "bob", "opt-out")
    assert shown.ephemeral and "opted out" in all_text(shown)
    await world.discord.user_sends_message(world["general"], world["bob"], "BOB-WHILE-OUT private remark")
    await world.discord.user_sends_message(world["general"], world["alice"], "alice keeps talking here")
    await world.settle()
    text = remembered(world)
    assert "BOB-WHILE-OUT" not in text and "alice keeps talking" in text
    shown = await privacy(world, "bob", "opt-in")
    assert shown.ephemeral and "opted in again" in all_text(shown)
    await world.discord.user_sends_message(world["general"], world["bob"], "BOB-BACK-IN remark")
    await world.settle()
    assert "BOB-BACK-IN" in remembered(world) and "BOB-WHILE-OUT" not in remembered(world)


async def test_forget_me_erases_the_member_everywhere_with_a_count(world):
    """/privacy forget-me erases the member's messages in both guilds, down to the bytes on disk; others stay."""
    world.discord.add_member(world["other_guild"], world["alice"])
    await world.discord.user_sends_message(world["general"], world["alice"], "ALICE-GUILD-ONE secret plan")
    await world.discord.user_sends_message(world["project"], world["alice"], "ALICE-PROJECT note")
    await world.discord.user_sends_message(world["other_general"], world["alice"], "ALICE-GUILD-TWO remark")
    await world.discord.user_sends_message(world["general"], world["bob"], "bob stays remembered")
    await world.discord.user_sends_message(world["other_general"], world["carol"], "carol stays too")
    await world.settle()
    assert "ALICE-GUILD-TWO" in remembered(world, "other_guild")
    shown = await privacy(world, "alice", "forget-me")
    assert shown.ephemeral and "Erased 3 messages" in all_text(shown)
    data_dir = world.settings.storage.data_dir
    for needle in (b"ALICE-GUILD-ONE", b"ALICE-PROJECT", b"ALICE-GUILD-TWO"):
        assert files_containing(data_dir, needle) == []
    assert "bob stays" in remembered(world) and "carol stays" in remembered(world, "other_guild")


async def test_my_data_shows_counts_and_attaches_json(world):
    """/privacy my-data answers privately with counts and a JSON file of what is held."""
    for text in ("first note from bob", "second note from bob"):
        await world.discord.user_sends_message(world["general"], world["bob"], text)
    await world.discord.user_sends_message(world["general"], world["alice"], "alice is not in bob's data")
    await world.settle()
    shown = await privacy(world, "bob", "my-data")
    assert shown.ephemeral and "I hold 2 messages and 0 files" in all_text(shown) and "#general" in all_text(shown)
    (name, payload), *_ = shown.files
    data = json.loads(payload)
    assert name == "my-data.json" and data["user_id"] == world["bob"] and data["messages"] == 2
    assert data["guilds"][world["guild"]]["channels"][world["general"]]["messages"] == 2
    assert data["opted_out"] is False and b"alice" not in payload


async def test_forget_this_message_for_author_and_admin_refused_for_others(world):
    """The author and a member with Manage Messages can erase a message; another member is refused."""
    by_bob = await world.discord.user_sends_message(world["general"], world["bob"], "BOB-OWN-MESSAGE text")
    by_alice = await world.discord.user_sends_message(world["general"], world["alice"], "ALICE-MODERATED text")
    kept = await world.discord.user_sends_message(world["general"], world["alice"], "ALICE-KEPT text")
    await world.settle()
    refused = await forget_menu(world, "bob", kept["id"])
    assert refused.ephemeral and "Manage Messages" in all_text(refused)
    assert "ALICE-KEPT" in remembered(world)
    shown = await forget_menu(world, "bob", by_bob["id"])
    assert shown.ephemeral and "Forgotten" in all_text(shown)
    shown = await forget_menu(world, "owner", by_alice["id"])  # the owner holds every permission
    assert shown.ephemeral and "Forgotten" in all_text(shown)
    text = remembered(world)
    assert "BOB-OWN-MESSAGE" not in text and "ALICE-MODERATED" not in text and "ALICE-KEPT" in text
    assert on_disk(world, "BOB-OWN-MESSAGE") == []


async def test_removal_erases_the_guild_but_an_outage_does_not(world):
    """GUILD_DELETE with `unavailable` erases nothing; a real removal erases that guild only."""
    await world.discord.user_sends_message(world["general"], world["alice"], "LIGHTHOUSE-MEMORY text")
    await world.discord.user_sends_message(world["other_general"], world["carol"], "ELSEWHERE-MEMORY text")
    await world.settle()
    await world.discord.remove_bot_from_guild(world["other_guild"], unavailable=True)
    await world.settle()  # the outage was handled, not merely not yet seen
    assert "ELSEWHERE-MEMORY" in remembered(world, "other_guild")
    await world.discord.remove_bot_from_guild(world["guild"], unavailable=False)
    await wait_until(lambda: not world.memory.stores.chunks.guild_chunk_ids(world["guild"]))
    assert on_disk(world, "LIGHTHOUSE-MEMORY") == []
    assert "ELSEWHERE-MEMORY" in remembered(world, "other_guild")
