"""End to end (reliability.md §5 scenarios 5 and 7): after a restart the bot's message cache is empty, so edits and
deletes of what it remembered before arrive as raw events only; an edit that shrinks a long message leaves just the
chunk of its new text, and single and bulk deletes erase exactly their messages, to the last byte on disk."""

from __future__ import annotations

from tests.bot.conftest import World, on_disk, remembered, running_bot
from tests.bot.test_lifecycle_e2e import offline_world, reconciled

LONG_WORDS = [f"lengthy{i}word" for i in range(150)]  # ~1,900 characters: one Discord message, several chunks


def chunks_of(world: World, message_id: str) -> list:
    """The chunks that hold a message (its windows and its own passage)."""
    guild = world["guild"]
    held = world.memory.stores.chunks.chunks(world.memory.stores.chunks.guild_chunk_ids(guild))
    return [c for c in held.values() if message_id in c.message_ids]


async def test_edits_and_deletes_of_messages_remembered_before_a_restart(tmp_path, monkeypatch):
    """A 5-chunk message edited down to one line after a restart has one chunk left, with the new text, and none of
    its old words is found or on disk; a delete and a bulk delete of three, also uncached, erase exactly those four
    messages of six; chunks and vectors agree throughout."""
    async with offline_world(tmp_path, monkeypatch, chunking={"chat_window_tokens": 80}) as world:
        fake, guild = world.discord, world["guild"]
        async with running_bot(world.settings, fake, world.memory) as world.bot:
            long = await fake.user_sends_message(world["project"], world["bob"], " ".join(LONG_WORDS))
            short = [
                await fake.user_sends_message(world["general"], world["alice"], f"short note {i} SHORTMARK{i}")
                for i in range(6)
            ]
            await world.settle()
            assert len(chunks_of(world, long["id"])) >= 5

        async with running_bot(world.settings, fake, world.memory) as world.bot:
            await reconciled(world)  # nothing changed while it was down: the restart pass itself erases nothing
            assert len(chunks_of(world, long["id"])) >= 5 and all(chunks_of(world, m["id"]) for m in short)
            assert world.bot.get_cog("LiveMemory") is not None and not world.bot.cached_messages  # the cache is empty

            await fake.user_edits_message(world["project"], long["id"], "now only KEPTLINE remains")
            await fake.user_deletes_message(world["general"], short[0]["id"])
            await fake.user_bulk_deletes(world["general"], [m["id"] for m in short[1:4]])
            await world.settle()

            left = chunks_of(world, long["id"])
            assert [c.text.count("KEPTLINE") for c in left] == [1]
            held = remembered(world)
            assert not any(word in held for word in LONG_WORDS)
            shown = world.memory.search("lengthy7word lengthy99word", guild, max_sources=20).hits
            assert all(not any(w in h.chunk.text for w in LONG_WORDS) for h in shown)
            assert all(on_disk(world, word) == [] for word in (LONG_WORDS[0], LONG_WORDS[77], LONG_WORDS[-1]))

            kept_ids = set(world.memory.stores.records.channel_message_ids(guild, world["general"]))
            assert kept_ids == {short[4]["id"], short[5]["id"]}
            assert all(f"SHORTMARK{i}" not in held and on_disk(world, f"SHORTMARK{i}") == [] for i in range(4))
            assert "SHORTMARK4" in held and "SHORTMARK5" in held
            chunks = world.memory.stores.chunks.guild_chunk_ids(guild)
            assert world.memory.vectors.count(guild) == len(chunks)
