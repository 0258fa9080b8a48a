"""End to end: what changed while the bot was offline is reconciled on restart; deleted channels and threads,
attachments removed by an edit and permission changes are handled while it runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from bot.reconcile import ReconcileReport
from memory import Memory
from tests.bot.conftest import World, on_disk, remembered, running_bot, seed, wait_until, world_settings
from tests.fakediscord import VIEW_CHANNEL, FakeDiscord
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings


@contextlib.asynccontextmanager
async def offline_world(tmp_path, monkeypatch, **sections) -> AsyncIterator[World]:
    """The seeded fake Discord plus a public thread in #general, and memory; the bot is started by the test
    (so that it can be stopped and restarted). `world.bot` is the running bot, set by `restart`."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake, llm = FakeDiscord(), FakeOpenAI()
    await fake.start()
    await llm.start()
    ids = seed(fake)
    ids["thread"] = fake.add_thread(ids["guild"], ids["general"], "release talk", members=[ids["bob"]])
    settings = world_settings(fake, llm, ids, tmp_path / "data", **sections)
    memory = Memory.open(settings, embeddings=HashEmbeddings())
    try:
        yield World(fake, llm, None, memory, settings, ids)  # type: ignore[arg-type]
    finally:
        memory.close()
        await llm.stop()
        await fake.stop()


async def reconciled(world: World) -> ReconcileReport:
    """The report of the pass the bot started when it became ready, once its writes are stored."""
    await wait_until(lambda: world.bot.get_cog("LiveMemory").reconciling is not None)
    assert world.bot.get_cog("LiveMemory").reconciling is not None
    report = await asyncio.wait_for(world.bot.get_cog("LiveMemory").reconciling, 30)
    await world.settle()
    return report


async def test_a_restart_catches_edits_deletes_removed_files_new_messages_and_deleted_channels(tmp_path, monkeypatch):
    async with offline_world(tmp_path, monkeypatch) as world:
        fake = world.discord
        async with running_bot(world.settings, fake, world.memory) as world.bot:
            sent = [
                await fake.user_sends_message(world["general"], world["bob"], f"general note {i} REF{i}")
                for i in range(5)
            ]
            with_file = await fake.user_sends_message(
                world["general"], world["bob"], "two files attached",
                files=[("a.txt", b"first file says ALBATROSS", "text/plain"),
                       ("b.txt", b"second file says PUFFIN", "text/plain")],
            )  # fmt: skip
            await fake.user_sends_message(world["thread"], world["bob"], "the thread says SANDPIPER")
            await fake.user_sends_message(world["project"], world["alice"], "project x codename SOOTYTERN")
            await world.settle()
            assert all(word in remembered(world) for word in ("REF0", "ALBATROSS", "PUFFIN", "SANDPIPER", "SOOTYTERN"))

        # While the bot is offline: an edit, a delete, an edit dropping a file, new messages, a deleted channel.
        await fake.user_edits_message(world["general"], sent[1]["id"], "general note 1 now says CORMORANT")
        await fake.user_deletes_message(world["general"], sent[2]["id"])
        keep = [a["id"] for a in with_file["attachments"] if a["filename"] == "b.txt"]
        await fake.user_edits_message(world["general"], with_file["id"], "one file left", keep_attachments=keep)
        await fake.user_sends_message(world["general"], world["alice"], "sent while away PETREL")
        await fake.user_sends_message(world["general"], world["otherbot"], "a bot said SKUA")
        await fake.user_sends_message(world["random"], world["alice"], "not remembered here GULL")
        await fake.user_sends_message(world["thread"], world["bob"], "the thread adds PLOVER")
        await fake.delete_channel(world["project"])

        async with running_bot(world.settings, fake, world.memory) as world.bot:
            report = await reconciled(world)
            held = remembered(world)

    assert report.deleted == 1 and report.added == 2 and report.channels_deleted == 1 and report.gaps == 0
    assert "CORMORANT" in held and "REF1" not in held
    assert "PETREL" in held and "PLOVER" in held and "PUFFIN" in held and "REF4" in held
    for gone in ("REF2", "ALBATROSS", "SOOTYTERN"):  # erased from every file, not only from what is searched
        assert gone not in held and not on_disk(world, gone), gone
    for never in ("SKUA", "GULL"):
        assert never not in held


async def test_reconciliation_reads_only_the_configured_number_of_messages(tmp_path, monkeypatch):
    """The latest `discord.reconcile_messages` are compared with memory: an edit made offline inside them is seen,
    an older one is not. With nothing sent while away, that one page is all that is read (the window reaches the
    mark, so there is no history after it to read; see test_restart_gap_e2e for what is)."""
    async with offline_world(tmp_path, monkeypatch, discord={"reconcile_messages": 5}) as world:
        fake = world.discord
        async with running_bot(world.settings, fake, world.memory) as world.bot:
            sent = [await fake.user_sends_message(world["general"], world["bob"], f"note WREN{i}") for i in range(8)]
            await world.settle()
        await fake.user_edits_message(world["general"], sent[1]["id"], "an old note now says EGRET")
        await fake.user_edits_message(world["general"], sent[6]["id"], "a recent note now says IBIS")
        fake.requests.clear()

        async with running_bot(world.settings, fake, world.memory) as world.bot:
            report = await reconciled(world)
            held = remembered(world)
        pages = [r for r in fake.requests if r.method == "GET" and r.path.endswith("/messages")]

    assert report.checked == 5 and report.added == 0 and report.gaps == 0
    assert "IBIS" in held and "WREN6" not in held
    assert "EGRET" not in held and "WREN1" in held
    # One page of 5 per channel read: #general, and the remembered threads, which hold no memory but got their mark
    # at the first pass (a thread memory knows nothing of is read from its start); #staff holds no memory nor mark.
    threads = {t.id for g in world.bot.guilds for t in g.threads if world.bot.policies.is_enabled(t)}
    assert world["thread"] in {str(t) for t in threads}
    assert sorted(r.path for r in pages) == sorted(f"/channels/{c}/messages" for c in [world["general"], *threads])
    assert all(r.query == {"limit": "5"} for r in pages)


async def test_deleting_a_channel_or_thread_erases_its_memory_and_policy(world):
    fake = world.discord
    thread = fake.add_thread(world["guild"], world["general"], "late thread", members=[world["bob"]])
    await fake.user_sends_message(world["project"], world["alice"], "the project channel says KITTIWAKE")
    await fake.user_sends_message(world["general"], world["alice"], "general stays PIPIT")
    await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world["alice"], "memory", {"channel": world["project"]}, subcommand="enable"
    )
    await world.settle()
    assert "KITTIWAKE" in remembered(world)
    assert world.memory.channel_policies.of_guild(world["guild"]) == {world["project"]: True}

    await fake.delete_channel(world["project"])
    await fake.delete_channel(thread)  # a thread the bot never saw: nothing to do, nothing breaks
    await world.settle()
    await wait_until(lambda: world.memory.channel_policies.of_guild(world["guild"]) == {})

    assert "KITTIWAKE" not in remembered(world) and "PIPIT" in remembered(world)
    assert on_disk(world, "KITTIWAKE") == []


async def test_a_deleted_thread_is_forgotten_and_its_parent_kept(tmp_path, monkeypatch):
    async with (
        offline_world(tmp_path, monkeypatch) as world,
        running_bot(world.settings, world.discord, world.memory) as world.bot,
    ):
        await world.discord.user_sends_message(world["thread"], world["bob"], "thread only LAPWING")
        await world.discord.user_sends_message(world["general"], world["bob"], "parent only DUNLIN")
        await world.settle()
        assert "LAPWING" in remembered(world)
        await world.discord.delete_channel(world["thread"])
        await world.settle()
        held = remembered(world)
    assert "LAPWING" not in held and "DUNLIN" in held
    assert on_disk(world, "LAPWING") == []


async def test_an_edit_that_removes_an_attachment_forgets_that_file(world):
    sent = await world.discord.user_sends_message(
        world["general"], world["bob"], "see the files",
        files=[("keep.txt", b"kept: EIDER", "text/plain"), ("drop.txt", b"dropped: SCOTER", "text/plain")],
    )  # fmt: skip
    await world.settle()
    assert "SCOTER" in remembered(world)
    keep = [a["id"] for a in sent["attachments"] if a["filename"] == "keep.txt"]

    await world.discord.user_edits_message(world["general"], sent["id"], "see the file", keep_attachments=keep)
    await world.settle()

    assert "SCOTER" not in remembered(world) and "EIDER" in remembered(world)
    assert on_disk(world, "SCOTER") == []


async def test_a_permission_change_takes_effect_at_the_next_question(world):
    """Visibility is worked out when a question is asked, so a role losing #staff loses its memory at once."""
    await world.discord.user_sends_message(world["staff"], world["alice"], "the staff rota code is MERLIN")
    await world.settle()
    assert "MERLIN" in await world.search("alice", "staff rota code")

    await world.discord.set_overwrites(
        world["staff"],
        [
            {"id": world["guild"], "type": 0, "allow": 0, "deny": VIEW_CHANNEL},
            {"id": world["staff_role"], "type": 0, "allow": 0, "deny": VIEW_CHANNEL},
            {"id": world.discord.bot_user_id, "type": 1, "allow": VIEW_CHANNEL, "deny": 0},
        ],
    )
    staff = world.bot.get_channel(int(world["staff"]))
    role = world.bot.get_guild(int(world["guild"])).get_role(int(world["staff_role"]))
    await wait_until(lambda: staff.overwrites_for(role).view_channel is False)  # CHANNEL_UPDATE arrived

    assert "MERLIN" not in await world.search("alice", "staff rota code")
    assert "MERLIN" in remembered(world)  # still remembered: the owner (and whoever regains access) can find it
    assert "MERLIN" in await world.search("owner", "staff rota code")


async def test_threads_and_forum_posts_started_while_running_are_remembered_then_forgotten_when_deleted(world):
    """THREAD_CREATE puts a new thread in discord.py's cache, so its messages follow the parent's policy."""
    fake = world.discord
    forum = fake.add_channel(world["guild"], "questions", kind=15, parent_id=world["category"])
    await fake.announce_guild(world["guild"])  # the bot learns of the forum (no CHANNEL_CREATE in the fake)
    await wait_until(lambda: world.bot.get_channel(int(forum)) is not None)
    thread = await fake.user_creates_thread(world["general"], world["bob"], "release plans")
    post = await fake.user_creates_thread(forum, world["bob"], "how do I rotate keys?")
    await wait_until(lambda: world.bot.get_channel(int(thread)) is not None and world.bot.get_channel(int(post)))
    await fake.user_sends_message(thread, world["bob"], "the thread decided on FULMAR")
    await fake.user_sends_message(post, world["bob"], "the forum post asks about SHEARWATER")
    await fake.user_sends_message(world["random"], world["bob"], "not here NODDY")
    await world.settle()
    assert "FULMAR" in remembered(world) and "SHEARWATER" in remembered(world)
    assert "FULMAR" in await world.search("alice", "what did the thread decide")

    await fake.delete_channel(thread)
    await fake.delete_channel(forum)  # its posts go with it
    await world.settle()

    assert "FULMAR" not in remembered(world) and "SHEARWATER" not in remembered(world)
    assert on_disk(world, "SHEARWATER") == []


async def test_a_restart_embeds_what_a_crash_or_a_repair_left_without_vectors(tmp_path, monkeypatch):
    async with offline_world(tmp_path, monkeypatch) as world:
        async with running_bot(world.settings, world.discord, world.memory) as world.bot:
            for i in range(30):
                await world.discord.user_sends_message(world["general"], world["bob"], f"note {i} before the crash")
            await world.settle()
        chunks = len(world.memory.stores.chunks.guild_chunk_ids(world["guild"]))
        world.memory.vectors.drop_guild(world["guild"])  # as a repair at open leaves it
        world.memory.stores.chunks.mark_guild_unembedded(world["guild"])

        async with running_bot(world.settings, world.discord, world.memory) as world.bot:
            await wait_until(lambda: world.memory.stores.chunks.pending_chunks(world["guild"]) == [], timeout=30)
            assert world.memory.vectors.count(world["guild"]) == chunks > 0
