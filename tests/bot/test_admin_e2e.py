"""End to end: `/memory enable|disable|reset|channels` for admins, refused for other members, overriding config."""

from __future__ import annotations

from tests.bot.conftest import all_text, remembered
from tests.fakediscord import MANAGE_GUILD


async def memory_command(world, user: str, subcommand: str, channel: str | None = None):
    """Run /memory <subcommand> [channel] from #general and wait for its answer."""
    options = {"channel": world[channel]} if channel else None
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world[user], "memory", options, subcommand=subcommand
    )
    await interaction.wait_done()
    return interaction


async def test_enable_starts_remembering_a_channel_config_left_out(world):
    """#random is not in config.yaml; once an admin enables it, its new messages are remembered."""
    await world.discord.user_sends_message(world["random"], world["bob"], "RANDOM-BEFORE chatter")
    await world.settle()
    shown = await memory_command(world, "alice", "enable", "random")
    assert shown.ephemeral and "Now remembering new messages in #random" in all_text(shown)
    await world.discord.user_sends_message(world["random"], world["bob"], "RANDOM-AFTER chatter")
    await world.settle()
    text = remembered(world)
    assert "RANDOM-AFTER" in text and "RANDOM-BEFORE" not in text
    assert world.memory.channel_policies.of_guild(world["guild"]) == {world["random"]: True}


async def test_disable_stops_new_messages_and_keeps_old_ones(world):
    """After disabling #general, new messages there are not remembered; earlier ones are still found."""
    await world.discord.user_sends_message(world["general"], world["bob"], "GENERAL-OLD remark about lighthouses")
    await world.settle()
    shown = await memory_command(world, "alice", "disable", "general")
    assert shown.ephemeral and "No longer remembering new messages in #general" in all_text(shown)
    assert "remembered before stays" in all_text(shown) and "/memory forget" in all_text(shown)
    await world.discord.user_sends_message(world["general"], world["bob"], "GENERAL-NEW remark")
    await world.discord.user_sends_message(world["secret_thread"], world["alice"], "THREAD-NEW follows its parent")
    await world.settle()
    text = remembered(world)
    assert "GENERAL-OLD" in text and "GENERAL-NEW" not in text and "THREAD-NEW" not in text
    assert "GENERAL-OLD" in await world.search("bob", "lighthouses")


async def test_disabling_a_category_stops_its_channels_and_a_channel_policy_wins(world):
    """The category "projects" is enabled by config; disabled here, project-x stops; enabling project-x itself
    (the nearer policy) resumes it."""
    await world.discord.user_sends_message(world["project"], world["alice"], "PROJECT-BEFORE note")
    await world.settle()
    shown = await memory_command(world, "alice", "disable", "category")
    assert shown.ephemeral and "category projects" in all_text(shown)
    await world.discord.user_sends_message(world["project"], world["alice"], "PROJECT-WHILE-OFF note")
    await world.settle()
    assert "PROJECT-BEFORE" in remembered(world) and "PROJECT-WHILE-OFF" not in remembered(world)
    await memory_command(world, "alice", "enable", "project")
    await world.discord.user_sends_message(world["project"], world["alice"], "PROJECT-BACK-ON note")
    await world.settle()
    assert "PROJECT-BACK-ON" in remembered(world) and "PROJECT-WHILE-OFF" not in remembered(world)


async def test_reset_lets_the_config_default_decide_again(world):
    """#general is remembered by config; disabled here, then reset, it is remembered again; a reset of a channel
    with no setting here says so and changes nothing."""
    await memory_command(world, "alice", "disable", "general")
    await memory_command(world, "alice", "enable", "random")
    shown = await memory_command(world, "alice", "reset", "general")
    assert shown.ephemeral and "It is now remembered" in all_text(shown)
    again = await memory_command(world, "alice", "reset", "general")
    assert "had no setting of this server; nothing was changed" in all_text(again)
    assert world.memory.channel_policies.of_guild(world["guild"]) == {world["random"]: True}
    await world.discord.user_sends_message(world["general"], world["bob"], "GENERAL-AFTER-RESET remark")
    await world.settle()
    assert "GENERAL-AFTER-RESET" in remembered(world)


async def test_channels_lists_the_guild_policy_and_the_config_defaults(world):
    """/memory channels shows what was set here, the config.yaml defaults (marked when overridden), and the result."""
    await memory_command(world, "alice", "enable", "random")
    await memory_command(world, "alice", "disable", "general")
    shown = await memory_command(world, "alice", "channels")
    text = all_text(shown)
    assert shown.ephemeral
    here, defaults = text.split("**Defaults from config.yaml**")
    assert "#random: remembered" in here and "#general: not remembered" in here
    assert "#general: remembered (overridden here: not remembered)" in defaults
    assert "#staff: remembered" in defaults and "category projects: remembered" in defaults
    now = text.split("**Remembered now:**")[1]
    assert "#random" in now and "#project-x" in now and "#general" not in now


async def test_a_member_without_manage_server_is_refused_and_nothing_changes(world):
    """The fake does not enforce default permissions (as when a guild overrides them): the run-time check refuses."""
    await memory_command(world, "alice", "disable", "general")
    for subcommand, channel in (("enable", "random"), ("disable", "staff"), ("reset", "general"), ("channels", None)):
        shown = await memory_command(world, "bob", subcommand, channel)
        assert shown.ephemeral and "Manage Server" in all_text(shown), subcommand
    assert world.memory.channel_policies.of_guild(world["guild"]) == {world["general"]: False}
    assert world.bot.policies.of_guild(world["guild"]) == {world["general"]: False}
    await world.discord.user_sends_message(world["general"], world["bob"], "GENERAL-STILL-OFF remark")
    await world.discord.user_sends_message(world["random"], world["bob"], "RANDOM-STILL-OFF remark")
    await world.discord.user_sends_message(world["staff"], world["alice"], "STAFF-STILL-ON remark")
    await world.settle()
    text = remembered(world)
    assert "STAFF-STILL-ON" in text and "GENERAL-STILL-OFF" not in text and "RANDOM-STILL-OFF" not in text


async def test_the_memory_command_is_registered_for_manage_server_only(world):
    """The synced definition carries default member permissions of exactly Manage Server."""
    (definition,) = [c for c in world.discord.commands[world["guild"]] if c["name"] == "memory"]
    assert int(definition["default_member_permissions"]) == MANAGE_GUILD  # Discord sends a string, discord.py an int
    names = {o["name"] for o in definition["options"]}
    assert {"enable", "disable", "reset", "channels", "settings", "backfill", "forget", "stats", "export"} <= names


async def test_a_crafted_interaction_naming_another_servers_channel_is_refused_and_changes_nothing(world):
    """Scenario 12: an admin of this server sends `/memory enable` with a channel of another server (Discord would
    not offer it; a crafted request can). One private line says so; neither server's policies change, and what is
    said in that channel is not remembered."""
    foreign = world.discord.add_channel(world["other_guild"], "elsewhere-random")
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world["alice"], "memory", {"channel": foreign}, subcommand="enable"
    )
    await interaction.wait_done()
    assert interaction.ephemeral and "not one this command can use here" in all_text(interaction)
    assert world.memory.channel_policies.of_guild(world["guild"]) == {}
    assert world.memory.channel_policies.of_guild(world["other_guild"]) == {}
    await world.discord.user_sends_message(foreign, world["carol"], "ELSEWHERE-NOT-REMEMBERED remark")
    await world.settle()
    assert "ELSEWHERE-NOT-REMEMBERED" not in remembered(world, guild="other_guild")
