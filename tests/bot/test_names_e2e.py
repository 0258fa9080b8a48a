"""End to end: the bot stores the names Discord gives the guilds and channels it remembers messages in."""

from __future__ import annotations


async def test_a_remembered_message_stores_its_guild_channel_and_thread_names(world):
    """A message in #general and one in its thread store "Lighthouse", "general" and "plans"; a message in a channel
    that is not remembered (#random) stores no name of it."""
    await world.discord.user_sends_message(world["general"], world["alice"], "the lamp is lit at dusk")
    await world.discord.user_sends_message(world["secret_thread"], world["alice"], "plans for the new lens")
    await world.discord.user_sends_message(world["random"], world["alice"], "nobody keeps this")
    await world.settle()
    names = world.memory.names.of_guild(world["guild"])
    assert names.guild == "Lighthouse"
    assert names.channels == {world["general"]: "general", world["secret_thread"]: "plans"}
