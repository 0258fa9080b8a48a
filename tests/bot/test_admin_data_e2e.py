"""End to end: `/memory forget|stats|export` for admins, refused for other members, erasure reaching the disk."""

from __future__ import annotations

import json

import pytest

from bot.cogs.admin._confirm import CANCEL_ID, CONFIRM_ID
from tests.bot.conftest import all_text, on_disk, remembered, settled


async def memory_command(world, user: str, subcommand: str, options: dict | None = None):
    """Run /memory <subcommand> from #general and wait for its complete answer."""
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world[user], "memory", options, subcommand=subcommand
    )
    await interaction.wait_done()
    await settled(interaction, quiet=0.2)
    return interaction


async def chatter(world) -> dict[str, str]:
    """Bob and alice talk in #general and #project-x; carol in the other guild."""
    sent = {
        "bob_general": await world.discord.user_sends_message(world["general"], world["bob"], "BOBGENERAL harbour"),
        "alice_general": await world.discord.user_sends_message(world["general"], world["alice"], "ALICEGENERAL tide"),
        "bob_project": await world.discord.user_sends_message(world["project"], world["bob"], "BOBPROJECT beacon"),
        "carol": await world.discord.user_sends_message(world["other_general"], world["carol"], "CAROLOTHER fog"),
    }
    await world.settle()
    return {name: str(message["id"]) for name, message in sent.items()}


async def test_forget_a_message_by_link(world):
    """Only the linked message goes, from SQLite and from every file on disk."""
    ids = await chatter(world)
    link = f"https://discord.com/channels/{world['guild']}/{world['general']}/{ids['bob_general']}"
    shown = await memory_command(world, "alice", "forget", {"message": link})
    assert shown.ephemeral and "erased 1 message" in all_text(shown)
    text = remembered(world)
    assert "BOBGENERAL" not in text and "ALICEGENERAL" in text and "BOBPROJECT" in text
    assert on_disk(world, "BOBGENERAL") == []


async def test_a_link_to_another_server_is_refused(world):
    """A message link of another guild erases nothing."""
    ids = await chatter(world)
    link = f"https://discord.com/channels/{world['other_guild']}/{world['other_general']}/{ids['carol']}"
    shown = await memory_command(world, "alice", "forget", {"message": link})
    assert shown.ephemeral and "not a link to a message of this server" in all_text(shown)
    assert "CAROLOTHER" in remembered(world, "other_guild")


async def test_forget_a_channel(world):
    """#general goes; #project-x and the other guild stay."""
    await chatter(world)
    shown = await memory_command(world, "alice", "forget", {"channel": world["general"]})
    assert shown.ephemeral and "Forgot #general: erased 2 messages" in all_text(shown)
    text = remembered(world)
    assert "BOBGENERAL" not in text and "ALICEGENERAL" not in text and "BOBPROJECT" in text
    assert on_disk(world, "ALICEGENERAL") == [] and "CAROLOTHER" in remembered(world, "other_guild")


async def test_forget_a_member(world):
    """Bob's messages in every channel of this guild go; alice's stay."""
    await chatter(world)
    shown = await memory_command(world, "alice", "forget", {"member": world["bob"]})
    assert shown.ephemeral and "erased 2 messages" in all_text(shown)
    text = remembered(world)
    assert "BOBGENERAL" not in text and "BOBPROJECT" not in text and "ALICEGENERAL" in text
    assert on_disk(world, "BOBPROJECT") == []


async def test_forget_needs_exactly_one_option(world):
    """Two options at once erase nothing."""
    await chatter(world)
    shown = await memory_command(world, "alice", "forget", {"channel": world["general"], "everything": True})
    assert shown.ephemeral and "exactly one" in all_text(shown)
    assert "BOBGENERAL" in remembered(world)


async def test_forget_everything_asks_and_cancel_keeps_memory(world):
    """The question comes with buttons; Cancel erases nothing; another admin cannot confirm."""
    await chatter(world)
    shown = await memory_command(world, "alice", "forget", {"everything": True})
    assert shown.ephemeral and "erases **everything**" in all_text(shown)
    other = await world.discord.user_clicks_button(shown, CONFIRM_ID, world["owner"])
    await other.wait_done()
    assert "Only the admin who asked" in all_text(other)
    clicked = await world.discord.user_clicks_button(shown, CANCEL_ID, world["alice"])
    await clicked.wait_done()
    assert "Cancelled" in all_text(clicked)
    assert "BOBGENERAL" in remembered(world) and "BOBPROJECT" in remembered(world)


async def test_forget_everything_confirmed_erases_this_guild_only(world):
    """Confirm erases every message of this guild, on disk too; the other guild keeps its memory."""
    await chatter(world)
    shown = await memory_command(world, "alice", "forget", {"everything": True})
    clicked = await world.discord.user_clicks_button(shown, CONFIRM_ID, world["alice"])
    await clicked.wait_done(lambda i: "Forgot everything" in all_text(i))
    assert "erased 3 messages" in all_text(clicked)
    assert remembered(world) == "" and world.memory.stores.records.message_ids_where(world["guild"]) == []
    assert on_disk(world, "BOBGENERAL") == [] and on_disk(world, "BOBPROJECT") == []
    assert "CAROLOTHER" in remembered(world, "other_guild")


async def test_stats_shows_counts_per_channel(world):
    """Counts for the guild and per channel by name, the disk and the last ingest."""
    await chatter(world)
    shown = await memory_command(world, "alice", "stats")
    text = all_text(shown)
    assert shown.ephemeral and "3 messages" in text and "#general: 2 messages" in text
    assert "#project-x: 1 message," in text and "Disk:" in text and "Last ingest: 20" in text


async def test_export_attaches_what_was_remembered(world):
    """The JSON file holds this guild's messages by channel, as remembered, and nothing of the other guild."""
    ids = await chatter(world)
    shown = await memory_command(world, "alice", "export")
    assert shown.ephemeral and "3 messages from 2 channels" in all_text(shown)
    (name, payload), *_ = shown.files
    document = json.loads(payload)
    assert name.endswith(".json") and document["guild"] == {"id": world["guild"], "name": "Lighthouse"}
    exported = {
        m["id"]: (entry["channel"]["name"], m["author"]["id"], m["content"])
        for entry in document["channels"]
        for m in entry["messages"]
    }
    assert exported == {
        ids["bob_general"]: ("general", world["bob"], "BOBGENERAL harbour"),
        ids["alice_general"]: ("general", world["alice"], "ALICEGENERAL tide"),
        ids["bob_project"]: ("project-x", world["bob"], "BOBPROJECT beacon"),
    }


@pytest.mark.parametrize(
    ("subcommand", "options"),
    [("forget", {"everything": True}), ("forget", {"member": "bob"}), ("stats", None), ("export", None)],
)
async def test_a_member_without_manage_server_is_refused(world, subcommand, options):
    """Bob (no Manage Server) gets a private refusal; memory is unchanged and no file is sent."""
    await chatter(world)
    before = remembered(world)
    options = {k: world[v] if k == "member" else v for k, v in (options or {}).items()} or None
    shown = await memory_command(world, "bob", subcommand, options)
    assert shown.ephemeral and "Only members with the Manage Server permission" in all_text(shown)
    assert not shown.files and remembered(world) == before
    assert CONFIRM_ID not in json.dumps(shown.callbacks)
