"""End to end: a restart (or a new gateway session) loses nothing Discord still has. The reconciliation reads the
history after each channel's mark even when live messages were stored first; more than the bound leaves a hole that
admins are shown with the backfill that fills it; what was left out on purpose stays out; a RESUME needs no pass."""

from __future__ import annotations

import logging

from memory import ChannelMark
from tests.bot.conftest import World, all_text, remembered, running_bot, settled, wait_until
from tests.bot.test_lifecycle_e2e import offline_world, reconciled


def held_ids(world: World, channel: str = "general") -> set[str]:
    return set(world.memory.stores.records.message_ids_where(world["guild"], channel_id=world[channel]))


def mark_of(world: World, channel: str = "general") -> ChannelMark | None:
    return world.memory.marks.of_guild(world["guild"]).get(world[channel])


def history_reads(world: World, channel: str = "general") -> list[dict[str, str]]:
    path = f"/channels/{world[channel]}/messages"
    return [r.query for r in world.discord.requests if r.method == "GET" and r.path == path]


async def send(world: World, text: str, count: int, *, channel: str = "general", user: str = "bob") -> list[str]:
    sent = [await world.discord.user_sends_message(world[channel], world[user], f"{text} {i}") for i in range(count)]
    return [m["id"] for m in sent]


async def admin_command(world: World, subcommand: str, options: dict | None = None) -> str:
    interaction = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world["alice"], "memory", options or {}, subcommand=subcommand
    )
    await interaction.wait_done()
    await settled(interaction, quiet=0.2)
    return all_text(interaction)


async def test_messages_sent_while_down_are_remembered_though_live_traffic_is_stored_first(tmp_path, monkeypatch):
    """The issue's sequence: messages remembered, the bot down while more are sent, then live messages stored right
    after it is ready, before the reconciliation reads any history (held back here). The live messages do not move
    the mark, so the pass reads after the mark from before the restart (after=) and every message is remembered."""
    async with offline_world(tmp_path, monkeypatch, discord={"reconcile_messages": 10}) as world:
        async with running_bot(world.settings, world.discord, world.memory) as world.bot:
            before = await send(world, "before the restart", 30)
            await world.settle()
            assert mark_of(world) == ChannelMark(world["guild"], world["general"], before[-1])
        offline = await send(world, "sent while down", 40)
        gate = world.discord.hold_history()
        world.discord.requests.clear()

        async with running_bot(world.settings, world.discord, world.memory) as world.bot:
            live = await send(world, "live right after ready", 20)
            await wait_until(lambda: set(live) <= held_ids(world), timeout=30)
            pending = [r for r in world.discord.requests if r.path.endswith(f"{world['general']}/messages")]
            assert all(r.status is None for r in pending)  # the pass has read no history yet
            assert mark_of(world) == ChannelMark(world["guild"], world["general"], before[-1])  # live did not move it
            gate.set()
            report = await reconciled(world)
            after = await send(world, "after the pass", 1)
            await wait_until(lambda: set(after) <= held_ids(world))
            assert mark_of(world) == ChannelMark(world["guild"], world["general"], after[-1])  # live moves it now
        held = held_ids(world)

    sent = {*before, *offline, *live, *after}
    assert held == sent, f"{len(sent - held)} of {len(sent)} lost"
    assert report.added == 40 and report.gaps == 0
    reads = history_reads(world)
    assert reads[0] == {"limit": "10"}  # the latest window first, then what lies between the mark and it
    assert reads[1]["after"] == before[-1] and len(reads) == 2


async def test_more_missed_than_the_bound_is_shown_to_admins_with_the_backfill_that_fills_it(
    tmp_path, monkeypatch, caplog
):
    """8 messages sent while down, a window of 5 and a bound of 2: the 2 after the mark and the latest 5 are
    remembered, one in between is not. The log and /memory backfill-status say so, naming the exact command; once
    an admin runs it, the hole is filled and the notice is gone."""
    sections = {"discord": {"reconcile_messages": 5, "reconcile_max_missed": 2}}
    async with offline_world(tmp_path, monkeypatch, **sections) as world:
        async with running_bot(world.settings, world.discord, world.memory) as world.bot:
            await world.discord.user_sends_message(world["general"], world["bob"], "before the outage WREN")
            await world.settle()
        missed = await send(world, "missed message MISSED", 8)
        world.discord.requests.clear()

        with caplog.at_level(logging.WARNING, logger="bot.reconcile"):
            async with running_bot(world.settings, world.discord, world.memory) as world.bot:
                report = await reconciled(world)
                after_pass = held_ids(world)
                shown = await admin_command(world, "backfill-status")
                gaps = await admin_command(world, "gaps")
                command = next(line for line in shown.splitlines() if "/memory backfill channel:" in line)
                since = command.rsplit("since:", 1)[1].split("`")[0]
                await admin_command(world, "backfill", {"channel": world["general"], "since": int(since)})
                await wait_until(lambda: mark_of(world) is not None and mark_of(world).missed_before is None)
                cleared = await admin_command(world, "backfill-status")
                await wait_until(lambda: not world.bot.backfiller.running(world["guild"], world["general"]))
                live = await send(world, "live after the backfill", 1)  # read to its end: live marks move again
                await wait_until(lambda: mark_of(world) is not None and mark_of(world).newest_id == live[-1])
            filled, text = held_ids(world), remembered(world)

    assert report.gaps == 1 and report.added == 7
    assert set(missed) - after_pass == {missed[2]}
    assert f"/memory backfill channel:<#{world['general']}> since:2" in command and "Missed while offline" in shown
    assert "Missed while offline" in gaps and f"channel:<#{world['general']}>" in gaps
    assert f"run /memory backfill channel:<#{world['general']}> since:2 to read the rest" in caplog.text
    wren = min(filled - set(missed))  # the mark the pass started from (WREN; the other is the live one)
    assert history_reads(world)[:2] == [{"limit": "5"}, {"limit": "2", "after": wren}]
    assert set(missed) <= filled and "Missed while offline" not in cleared and "MISSED 2" in text


async def test_what_was_left_out_on_purpose_stays_out_after_a_restart(tmp_path, monkeypatch):
    """A bot's message, an opted-out member's, and one sent while the channel was disabled move the mark but are
    not remembered; after a restart (the channel enabled again meanwhile) the pass does not bring them back."""
    async with offline_world(tmp_path, monkeypatch) as world:
        fake = world.discord
        async with running_bot(world.settings, fake, world.memory) as world.bot:
            kept = await send(world, "kept KITE", 1)
            await admin_command(world, "disable", {"channel": world["general"]})
            disabled = await send(world, "said while disabled HARRIER", 1, user="alice")
            await wait_until(lambda: mark_of(world) is not None and mark_of(world).newest_id == disabled[-1])
            await admin_command(world, "enable", {"channel": world["general"]})
            opting = await fake.user_runs_slash_command(
                world["guild"], world["general"], world["bob"], "privacy", subcommand="opt-out"
            )
            await opting.wait_done()
            await world.settle()
        await fake.user_sends_message(world["general"], world["otherbot"], "a bot while down SKUA")
        await send(world, "opted out while down OSPREY", 1)
        sent_later = await send(world, "alice while down PEREGRINE", 1, user="alice")

        async with running_bot(world.settings, fake, world.memory) as world.bot:
            await reconciled(world)
            held, ids, mark = remembered(world), held_ids(world), mark_of(world)

    assert "KITE" in held and "PEREGRINE" in held
    assert all(word not in held for word in ("HARRIER", "SKUA", "OSPREY"))
    assert ids == {*kept, *sent_later} and mark is not None and mark.newest_id == sent_later[-1]


async def test_a_new_session_is_reconciled_and_a_resumed_one_needs_no_pass(world):
    """A RESUME replays what was missed: no pass runs and the replayed messages move the mark. A new session (the
    old one forgotten by Discord) replays nothing: its pass reads what was sent in between."""
    fake = world.discord
    cog = world.bot.get_cog("LiveMemory")
    await wait_until(lambda: cog.reconciling is not None and cog.reconciling.done())
    first_pass = cog.reconciling
    await send(world, "before the reconnects", 3)
    await world.settle()

    await fake.request_reconnect()  # RESUME
    replayed = await send(world, "replayed on resume", 2)
    await wait_until(lambda: set(replayed) <= held_ids(world))
    assert cog.reconciling is first_pass
    assert mark_of(world).newest_id == replayed[-1]

    fake.end_sessions()
    gap = await send(world, "sent between sessions", 4)  # delivered to no session, never replayed
    gate = fake.hold_history()
    await fake.close_connections()
    await wait_until(lambda: cog.reconciling is not first_pass and fake.connected_sessions() == 1, timeout=30)
    early = await send(world, "live before the new pass reads", 1)
    await wait_until(lambda: set(early) <= held_ids(world))
    assert mark_of(world).newest_id == replayed[-1]  # the new session's live messages wait for its pass
    gate.set()
    report = await reconciled(world)
    assert report.added == 4 and set(gap) <= held_ids(world)
    live = await send(world, "live in the new session", 1)
    await wait_until(lambda: mark_of(world) is not None and mark_of(world).newest_id == live[-1])


async def test_a_thread_begun_while_the_bot_was_down_is_read_from_its_start(tmp_path, monkeypatch):
    """A thread memory knows nothing of (made while the bot was away, or just before it stopped, with nothing stored
    yet) has no mark: the pass reads it from its first message (after= the id just before the thread's own)."""
    async with offline_world(tmp_path, monkeypatch) as world:
        async with running_bot(world.settings, world.discord, world.memory) as world.bot:
            await reconciled(world)
        thread = await world.discord.user_creates_thread(world["general"], world["bob"], "made while down")
        said = [(await world.discord.user_sends_message(thread, world["bob"], f"said {i}"))["id"] for i in range(6)]
        world.discord.requests.clear()
        async with running_bot(world.settings, world.discord, world.memory) as world.bot:
            report = await reconciled(world)
        held = set(world.memory.stores.records.message_ids_where(world["guild"], channel_id=thread))
        mark = world.memory.marks.of_guild(world["guild"])[thread]
    assert held == set(said) and report.added == 6
    reads = [r.query for r in world.discord.requests if r.method == "GET" and r.path == f"/channels/{thread}/messages"]
    assert reads and "after" not in reads[0]  # the latest window, which holds the whole (short) thread
    assert mark.newest_id == said[-1]


async def test_a_channel_enabled_then_restarted_before_anyone_spoke_loses_nothing_sent_while_down(
    tmp_path, monkeypatch
):
    """`/memory enable` gives the channel its mark at once: after a restart before its first message was stored,
    the pass reads what was said while the bot was down, and not what was said before it was enabled."""
    async with offline_world(tmp_path, monkeypatch) as world:
        before = await send(world, "said before it was enabled", 3, channel="random")
        async with running_bot(world.settings, world.discord, world.memory) as world.bot:
            await reconciled(world)
            text = await admin_command(world, "enable", {"channel": world["random"]})
            assert "Now remembering" in text
            await wait_until(lambda: mark_of(world, "random") is not None)
        down = await send(world, "said while down", 4, channel="random")
        async with running_bot(world.settings, world.discord, world.memory) as world.bot:
            report = await reconciled(world)
        held = held_ids(world, "random")
    assert held == set(down) and not held & set(before)
    assert report.added == 4


async def test_a_live_message_racing_a_backfill_page_that_holds_it_is_stored_once(tmp_path, monkeypatch):
    """Scenario 28: a backfill's history read waits (a slow Discord) while a live message is stored; then the
    backfill stores its pages. Every message is held, and a second backfill of the channel changes no chunk (the
    same ids, upserted: nothing doubled, nothing re-windowed differently)."""
    async with offline_world(tmp_path, monkeypatch) as world:
        older = await send(world, "said before it was enabled", 5, channel="random")
        async with running_bot(world.settings, world.discord, world.memory) as world.bot:
            await reconciled(world)
            await admin_command(world, "enable", {"channel": world["random"]})
            gate = world.discord.hold_history()
            await admin_command(world, "backfill", {"channel": world["random"]})
            await wait_until(
                lambda: any(r.path.endswith(f"{world['random']}/messages") for r in world.discord.requests)
            )
            live = await send(world, "live while the page is read", 1, channel="random")
            await wait_until(lambda: set(live) <= held_ids(world, "random"))
            gate.set()
            backfills = world.memory.backfills
            await wait_until(lambda: all(c.done for c in backfills.all(world["guild"])), timeout=30)
            await world.settle()
            chunks = set(world.memory.stores.chunks.guild_chunk_ids(world["guild"]))
            held = world.memory.stores.records.message_ids_where(world["guild"], channel_id=world["random"])
            await admin_command(world, "backfill", {"channel": world["random"]})
            await wait_until(lambda: all(c.done for c in backfills.all(world["guild"])), timeout=30)
            await world.settle()
            again = set(world.memory.stores.chunks.guild_chunk_ids(world["guild"]))
    assert sorted(held) == sorted({*older, *live})
    assert again == chunks
