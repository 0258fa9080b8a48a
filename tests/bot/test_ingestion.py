"""The ingestion queue keeps event order, batches bursts, survives a bad batch and drains on close."""

from __future__ import annotations

import asyncio

from bot.ingestion import Erase, IngestionQueue, Remember
from tests.fakes import message


class RecordingMemory:
    """Stands in for Memory and records the calls the queue makes, in order."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.fail_on = fail_on

    def remember_messages(self, messages):
        ids = [m.message_id for m in messages]
        if self.fail_on in ids:
            raise RuntimeError("poisoned batch")
        self.calls.append(("remember", ids))

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
