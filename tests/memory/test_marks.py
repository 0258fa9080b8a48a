"""Channel marks: each kind moves as `memory.marks` says, only forward, in the transaction that stores the messages
it covers; a store from before marks starts from the newest message it holds; erasure takes the marks along."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from memory import ChannelMark, HistoryMark, Memory
from memory.stores.sqlite import open_sqlite_stores
from memory.stores.sqlite.migrations import SCHEMA_VERSION
from tests.conftest import downgrade_store, make_settings
from tests.fakes import HashEmbeddings, message


def mark(newest: int, kind: str, *, session: str = "s1", after: int = 0, missed: int | None = None) -> HistoryMark:
    return HistoryMark(
        "g1", "c1", str(newest), kind, session=session, read_after=str(after),  # type: ignore[arg-type]
        missed_before=None if missed is None else str(missed),
    )  # fmt: skip


@pytest.fixture
def memory(tmp_path):
    with Memory.open(make_settings(tmp_path / "data"), embeddings=HashEmbeddings()) as opened:
        yield opened


def held(memory: Memory) -> ChannelMark | None:
    return memory.marks.of_guild("g1").get("c1")


def test_stored_marks_make_the_first_mark_and_move_it_only_in_the_session_it_was_made_in(memory):
    """The first stored message makes the mark; later ones of the same session move it; another session's (live
    messages after a restart, before the channel is reconciled) do not; a seen message never makes one."""
    memory.remember_messages([], marks=[mark(5, "seen")])
    assert held(memory) is None
    memory.remember_messages([message(10, "first")], marks=[mark(1_000_010, "stored")])
    memory.remember_messages([message(11, "second")], marks=[mark(1_000_011, "stored")])
    assert held(memory) == ChannelMark("g1", "c1", "1000011")
    memory.remember_messages([message(12, "after a restart")], marks=[mark(1_000_012, "stored", session="s2")])
    memory.remember_messages([], marks=[mark(1_000_013, "seen", session="s2")])
    assert held(memory) == ChannelMark("g1", "c1", "1000011")
    memory.remember_messages([], marks=[mark(1_000_013, "seen")])  # a bot's message, same session
    assert held(memory) == ChannelMark("g1", "c1", "1000013")
    memory.remember_messages([], marks=[mark(1_000_009, "stored")])  # never backwards
    assert held(memory) == ChannelMark("g1", "c1", "1000013")


def test_a_reconciliation_opens_its_session_or_keeps_a_hole_closed(memory):
    """A reconciliation without a hole moves the mark and lets its session's live marks move it; one with a hole
    moves it to the end of what it read, notes the hole and closes the channel even to its own session."""
    memory.remember_messages([], marks=[mark(100, "reconciled", session="old")])
    memory.remember_messages([], marks=[mark(150, "reconciled", session="s2", after=100, missed=400)])
    assert held(memory) == ChannelMark("g1", "c1", "150", missed_before="400")
    memory.remember_messages([], marks=[mark(450, "stored", session="s2")])
    assert held(memory) == ChannelMark("g1", "c1", "150", missed_before="400")

    memory.remember_messages([], marks=[mark(500, "reconciled", session="s3", after=150)])
    memory.remember_messages([], marks=[mark(501, "stored", session="s3")])
    assert held(memory) == ChannelMark("g1", "c1", "501")


def test_a_read_that_does_not_reach_the_mark_leaves_it_and_one_that_does_fills_the_hole(memory):
    """A backfill batch read after a point past the mark would skip what lies between: the mark stays. A batch
    read from the mark on moves it, and once the mark reaches a hole's end the hole is gone."""
    memory.remember_messages([], marks=[mark(150, "reconciled", session="s2", after=100, missed=400)])
    memory.remember_messages([], marks=[mark(300, "backfilled", after=200)])
    assert held(memory) == ChannelMark("g1", "c1", "150", missed_before="400")
    memory.remember_messages([], marks=[mark(250, "backfilled", after=120)])
    assert held(memory) == ChannelMark("g1", "c1", "250", missed_before="400")
    memory.remember_messages([], marks=[mark(420, "backfilled", after=250)])
    assert held(memory) == ChannelMark("g1", "c1", "420")


def test_a_mark_moves_in_the_transaction_of_its_messages(memory):
    """When storing the messages fails, the mark does not move (a crash can never leave a mark past a message that
    was not stored), and when the mark cannot move, the messages are not stored: one transaction."""
    memory.remember_messages([message(1, "stored")], marks=[mark(1_000_001, "stored")])
    broken = replace(message(2, "never stored"), created_at=None)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        memory.remember_messages([message(3, "in the same batch"), broken], marks=[mark(1_000_003, "stored")])
    assert held(memory) == ChannelMark("g1", "c1", "1000001")
    with pytest.raises(ValueError, match="invalid literal"):
        memory.remember_messages([message(4, "with a bad mark")], marks=[replace(mark(0, "stored"), newest_id="x")])
    assert held(memory) == ChannelMark("g1", "c1", "1000001")
    assert memory.stores.records.message_ids_where("g1") == ["1000001"]


def test_opted_out_and_erased_messages_are_covered_by_the_mark_without_being_stored(memory):
    """Messages left out on purpose count as covered: the mark moves past them and they stay out."""
    memory.opt_outs.add("u2")
    memory.remember_messages([message(1, "kept")], marks=[mark(1_000_001, "stored")])
    refused = message(2, "opted out", author="u2")
    memory.remember_messages([refused], marks=[mark(1_000_002, "stored")])
    assert held(memory) == ChannelMark("g1", "c1", "1000002")
    assert memory.stores.records.message_ids_where("g1") == ["1000001"]


def test_forgetting_a_channel_or_the_guild_drops_its_marks(memory):
    """A forgotten channel holds nothing: its mark goes (and its threads'); forgetting the guild drops them all."""
    thread = replace(message(2, "in a thread", channel="t1"), parent_channel_id="c1")
    memory.remember_messages(
        [message(1, "in c1"), thread, message(3, "in c2", channel="c2")],
        marks=[mark(1_000_001, "stored"), replace(mark(1_000_002, "stored"), channel_id="t1"),
               replace(mark(1_000_003, "stored"), channel_id="c2")],
    )  # fmt: skip
    memory.forget("g1", channel_id="c1")
    assert sorted(memory.marks.of_guild("g1")) == ["c2"]
    memory.forget("g1")
    assert memory.marks.of_guild("g1") == {}


def test_a_store_from_before_marks_starts_from_the_newest_message_it_holds(tmp_path):
    """Migrating a schema-11 store gives each channel the newest message id it holds as its mark (closed to live
    marks until reconciled); the messages stay as they were."""
    path = tmp_path / "m.db"
    stores = open_sqlite_stores(path)
    rows = [(message(n, f"m{n}", channel=c), f"k{n}", f"h{n}") for n, c in ((1, "c1"), (9, "c1"), (4, "c2"))]
    stores.records.save_messages(rows, {})
    stores.database.close()
    downgrade_store(path, 11)
    stores = open_sqlite_stores(path)
    assert stores.database.get_meta("schema_version") == str(SCHEMA_VERSION) == "13"
    assert stores.marks.of_guild("g1") == {
        "c1": ChannelMark("g1", "c1", "1000009"), "c2": ChannelMark("g1", "c2", "1000004")
    }  # fmt: skip
    stores.records.save_messages([], {}, [replace(mark(1_000_020, "stored"), session="live")])
    assert stores.marks.of_guild("g1")["c1"].newest_id == "1000009"
    assert len(stores.records.message_ids_where("g1")) == 3
    stores.database.close()
