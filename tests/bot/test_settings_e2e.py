"""End to end: `/memory settings` shown and changed by admins, refused for others, and applied to /ask and expiry."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

from tests.bot.conftest import all_text, on_disk
from tests.fakes import message


async def settings_command(world, user: str, **options):
    """Run /memory settings [options] from #general and wait for its answer."""
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world[user], "memory", options or None, subcommand="settings"
    )
    await interaction.wait_done()
    return interaction


def prompt_sources(world) -> list[str]:
    prompt = world.llm.requests[-1]["messages"][0]["content"]
    return re.findall(r'<source id="\d+"[^>]*>\n(.*?)\n</source>', prompt, re.DOTALL)


async def test_without_options_it_shows_each_value_and_its_source(world):
    await settings_command(world, "alice", max_sources=3)
    shown = await settings_command(world, "alice")
    text = all_text(shown)
    assert shown.ephemeral and "Saved" not in text
    assert "sources: 3 (server)" in text and "visibility: public (config)" in text
    assert f"budget: {world.settings.retrieval.budget} (config)" in text


async def test_sources_one_puts_exactly_one_source_in_the_prompt(world):
    for i in range(12):
        await world.discord.user_sends_message(world["general"], world["bob"], f"boiler log {i}: " + "pressure " * 40)
    await world.settle()
    await world.ask("bob", "what about the boiler pressure?")
    assert len(prompt_sources(world)) > 1
    shown = await settings_command(world, "alice", max_sources=1)
    assert shown.ephemeral and "Saved" in all_text(shown) and "sources: 1 (server)" in all_text(shown)
    await world.ask("bob", "what about the boiler pressure?")
    assert len(prompt_sources(world)) == 1


async def test_an_extra_instruction_reaches_the_system_prompt(world):
    await world.discord.user_sends_message(world["general"], world["bob"], "the ferry leaves at noon")
    await world.settle()
    await settings_command(world, "alice", extra_instruction="Always answer like a ship's captain.")
    await world.ask("bob", "when does the ferry leave?")
    system = world.llm.requests[-1]["messages"][0]["content"]
    assert "Server instruction: Always answer like a ship's captain." in system


async def test_private_visibility_makes_ask_ephemeral_unless_the_asker_says_otherwise(world):
    await world.discord.user_sends_message(world["general"], world["bob"], "the ferry leaves at noon")
    await world.settle()
    assert not (await world.ask("bob", "when does the ferry leave?")).ephemeral
    await settings_command(world, "alice", visibility="private")
    assert (await world.ask("bob", "when does the ferry leave?")).ephemeral
    assert not (await world.ask("bob", "when does the ferry leave?", private=False)).ephemeral


async def test_bad_values_change_nothing_and_say_why(world):
    shown = await settings_command(world, "alice", max_sources=2, min_relevance=3.0, model="gpt-5-huge")
    text = all_text(shown)
    assert shown.ephemeral and "Nothing was changed" in text
    assert "min_relevance must be a number from 0 to 1" in text and "model must be one of gpt-4o-mini" in text
    assert world.memory.stores.guild_settings.values(world["guild"]) == {}


async def test_a_member_without_manage_server_is_refused_and_nothing_changes(world):
    shown = await settings_command(world, "bob", max_sources=1, visibility="private")
    assert shown.ephemeral and "Manage Server" in all_text(shown) and "Nothing was changed" in all_text(shown)
    assert world.memory.stores.guild_settings.values(world["guild"]) == {}
    assert world.memory.guild_settings.get(world["guild"]).max_sources == world.settings.retrieval.max_sources
    assert not (await world.ask("bob", "anything about ferries?")).ephemeral


async def test_retention_expiry_erases_old_messages_and_keeps_recent_ones(world):
    guild, channel = world["guild"], world["general"]
    recent = datetime.now(UTC) - timedelta(days=1)
    world.memory.remember_messages([
        message(0, "ANCIENT-HARBOUR-REMARK from long ago", guild=guild, channel=channel),
        dataclasses.replace(
            message(1, "fresh harbour remark from yesterday", guild=guild, channel=channel),
            created_at=recent.isoformat(timespec="seconds"),
        ),
    ])  # fmt: skip
    await world.bot.get_cog("Retention").expire()  # no retention set: kept forever
    assert "ANCIENT-HARBOUR-REMARK" in "\n".join(
        m.content for m in world.memory.stores.records.messages(guild, ["1000000"])
    )
    await settings_command(world, "alice", retention_days=30)
    report = await world.bot.get_cog("Retention").expire()
    assert report.messages == 1
    kept = world.memory.stores.records.messages(guild, ["1000000", "1000001"])
    assert [m.content for m in kept] == ["fresh harbour remark from yesterday"]
    assert on_disk(world, "ANCIENT-HARBOUR-REMARK") == []
