"""End to end (reliability.md §5 scenario 11): a bot that receives messages without the Message Content intent
(Discord blanks their text, files and embeds) stores no empty memory, says why once, and answers from what it held."""

from __future__ import annotations

import logging

import discord

import bot.client
from memory import Memory
from tests.bot.conftest import answer_requests, final_text, started_world
from tests.fakes import message

ASKED = bot.client.make_intents


def without_content() -> discord.Intents:
    """The bot's own intents, as a session without Message Content gets them."""
    intents = ASKED()
    intents.message_content = False
    return intents


def stored(memory: Memory, guild: str) -> tuple[list[str], list[str], int]:
    """A guild's message ids, chunk ids and vector count."""
    return (
        memory.stores.records.message_ids_where(guild),
        memory.stores.chunks.guild_chunk_ids(guild),
        memory.vectors.count(guild),
    )


async def test_blank_messages_store_nothing_warn_once_and_old_memory_still_answers(tmp_path, monkeypatch, caplog):
    """Three members' messages (one with a file) arrive blank: no record, chunk or vector is made, one warning names
    the portal switch, and a question is still answered from what memory held before (its passage in the prompt)."""
    monkeypatch.setattr(bot.client, "make_intents", without_content)  # the gateway then blanks members' messages
    caplog.set_level(logging.WARNING, logger="bot.cogs.live")
    async with started_world(tmp_path, monkeypatch) as world:
        guild = world["guild"]
        world.memory.remember_messages(
            [message(0, "the spare office key is in the red cabinet", guild=guild, channel=world["general"])]
        )
        held = stored(world.memory, guild)
        await world.discord.user_sends_message(world["general"], world["alice"], "BLANKED-ONE deploy at noon")
        await world.discord.user_sends_message(
            world["general"], world["bob"], "BLANKED-TWO notes", files=[("n.txt", b"BLANKED-FILE", "text/plain")]
        )
        await world.discord.user_sends_message(world["project"], world["alice"], "BLANKED-THREE in project")
        await world.settle()

        assert stored(world.memory, guild) == held
        warned = [r.getMessage() for r in caplog.records if r.name == "bot.cogs.live"]
        assert len(warned) == 1 and "Message Content intent" in warned[0] and "Developer Portal" in warned[0]

        world.llm.reply = "In the red cabinet [1]."
        interaction = await world.ask("bob", "where is the spare office key?")
        assert final_text(interaction) is not None and "red cabinet" in final_text(interaction)
        prompt = str(answer_requests(world.llm)[-1]["messages"])
        assert "the spare office key is in the red cabinet" in prompt and "BLANKED" not in prompt
