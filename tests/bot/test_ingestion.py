"""The ingestion queue keeps event order, batches bursts, survives a bad batch and drains on close; live channel
marks move only while every earlier message of their channel is stored."""

from __future__ import annotations

import asyncio

from bot.ingestion import Erase, IngestionQueue, Remember
from memory import HistoryMark, IngestReport
from tests.fakes import message


class RecordingMemory:
    """Stands in for Memory and records the calls the queue makes, in order (and the marks handed on)."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.marks: list[HistoryMark] = []
        self.fail_on = fail_on

    def remember_messages(self, messages, *, marks=()):
        ids = [m.message_id for m in messages]
        if self.fail_on in ids:
            raise RuntimeError("poisoned batch")
        if ids:
            self.calls.append(("remember", ids))
        self.marks.extend(marks)
        return IngestReport(records=len(ids))  # as Memory's does: the queue counts what it stored

    def delete_messages(self, guild_id, message_ids):
        self.calls.append(("delete", list(message_ids)))

    def ingest_files(self, files):
        raise AssertionError("no files in these tests")


async def test_a_burst_is_one_batch_and_order_is_kept():
    """Creates before a delete are batched together and applied before it; later creates come after."""
    memory = RecordingMemory()
    queue = IngestionQueue(memory)  # type: ignore[arg-type]
    queue.start()
    for i in range(5):
        queue.put(Remember(messages=(message(i, f"m{i}"),)))
    queue.put(Erase("g1", ("1000002",)))
    queue.put(Remember(messages=(message(9, "after"),)))
    await asyncio.wait_for(queue.idle(), 5)
    await queue.close()
    assert memory.calls == [
        ("remember", [f"100000{i}" for i in range(5)]),
        ("delete", ["1000002"]),
        ("remember", ["1000009"]),
    ]


async def test_a_failing_batch_is_counted_and_the_queue_goes_on():
    """An exception in one batch does not stop later jobs."""
    memory = RecordingMemory(fail_on="1000001")
    queue = IngestionQueue(memory)  # type: ignore[arg-type]
    queue.start()
    queue.put(Remember(messages=(message(1, "bad"),)))
    await asyncio.wait_for(queue.idle(), 5)
    queue.put(Remember(messages=(message(2, "good"),)))
    await asyncio.wait_for(queue.idle(), 5)
    await queue.close()
    assert queue.failures == 1
    assert memory.calls == [("remember", ["1000002"])]


async def test_close_finishes_queued_work():
    """Jobs queued before close are applied before the worker stops."""
    memory = RecordingMemory()
    queue = IngestionQueue(memory)  # type: ignore[arg-type]
    queue.start()
    for i in range(3):
        queue.put(Erase("g1", (str(i),)))
    await asyncio.wait_for(queue.close(), 5)
    assert [ids for _, ids in memory.calls] == [["0"], ["1"], ["2"]]


async def test_close_right_after_a_message_does_not_hang():
    """A close queued while a burst is being gathered still ends the worker, after the burst."""
    memory = RecordingMemory()
    queue = IngestionQueue(memory)  # type: ignore[arg-type]
    queue.start()
    queue.put(Remember(messages=(message(1, "last words"),)))
    await asyncio.wait_for(queue.close(), 5)
    assert memory.calls == [("remember", ["1000001"])]


def live(queue: IngestionQueue, number: int, *, channel: str = "c1") -> Remember:
    """A live message's job as the cog makes it: the message with its `stored` mark."""
    record = message(number, f"m{number}", channel=channel)
    return Remember(messages=(record,), marks=(queue.live_mark("g1", channel, record.message_id, stored=True),))


async def test_a_message_whose_files_still_download_holds_back_the_marks_of_later_ones():
    """Message 1 is being received (its files download) when 2 and 3 are queued: they are stored, but their marks
    would claim 1 is stored, so they are dropped; 1's own mark, and those after it, go through. Another channel
    is not held back."""
    memory = RecordingMemory()
    queue = IngestionQueue(memory)  # type: ignore[arg-type]
    queue.start()
    first = live(queue, 1)
    with queue.receiving(first.marks[0]):
        queue.put(live(queue, 2))
        queue.put(live(queue, 3))
        queue.put(live(queue, 4, channel="c2"))
        queue.put(first)
    queue.put(live(queue, 5))
    await asyncio.wait_for(queue.close(), 5)
    assert memory.calls == [("remember", ["1000002", "1000003", "1000004", "1000001", "1000005"])]
    assert [(m.channel_id, m.newest_id) for m in memory.marks] == [
        ("c2", "1000004"),
        ("c1", "1000001"),
        ("c1", "1000005"),
    ]


async def test_after_a_failed_batch_live_marks_wait_for_a_reconciliation_that_read_the_channel_after_it():
    """A dropped batch's messages are not stored: later live marks of that channel would pass them, so they are
    dropped, until a reconciliation that read the channel after the failure is stored; one that read it before
    the failure does not count."""
    memory = RecordingMemory(fail_on="1000001")
    queue = IngestionQueue(memory)  # type: ignore[arg-type]
    queue.start()
    read_before = queue.failures
    queue.put(live(queue, 1))
    await asyncio.wait_for(queue.idle(), 5)
    assert queue.failures == 1

    def reconciled(newest: int, failures_read: int) -> Remember:
        mark = HistoryMark(
            "g1", "c1", str(1_000_000 + newest), "reconciled", session=queue.session_of("g1"), read_after="0"
        )
        return Remember(marks=(mark,), failures_read=failures_read)

    queue.put(live(queue, 2))
    queue.put(reconciled(2, read_before))  # read before the failure: 1 may not be in what it read
    queue.put(live(queue, 3))
    await asyncio.wait_for(queue.idle(), 5)
    queue.put(reconciled(3, queue.failures))  # read after it: 1 is stored with it, if Discord still has it
    queue.put(live(queue, 4))
    await asyncio.wait_for(queue.close(), 5)
    assert [(m.kind, m.newest_id) for m in memory.marks] == [
        ("reconciled", "1000002"),
        ("reconciled", "1000003"),
        ("stored", "1000004"),
    ]


async def test_live_marks_carry_the_session_they_were_received_in():
    """A new gateway session gives the marks of its live messages a new session (memory moves a mark only for the
    session its channel was caught up in)."""
    queue = IngestionQueue(RecordingMemory())  # type: ignore[arg-type]
    before = queue.live_mark("g1", "c1", "1", stored=True)
    queue.new_session()
    after = queue.live_mark("g1", "c1", "2", stored=False)
    assert before.session and after.session and before.session != after.session
    assert (before.kind, after.kind) == ("stored", "seen")


async def test_each_shard_has_its_own_session():
    """A new session on one shard's connection changes the session of that shard's guilds' marks only: the other
    shard's channels were not disconnected, so their marks keep moving."""
    queue = IngestionQueue(RecordingMemory(), shard_of=lambda guild_id: int(guild_id) % 2)  # type: ignore[arg-type]
    before = {g: queue.live_mark(g, "c1", "1", stored=True).session for g in ("10", "11")}
    queue.new_session(1)
    after = {g: queue.live_mark(g, "c1", "2", stored=True).session for g in ("10", "11")}
    assert before["10"] != before["11"]
    assert after["10"] == before["10"] and after["11"] != before["11"]
