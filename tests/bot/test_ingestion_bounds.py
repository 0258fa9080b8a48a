"""The ingestion queue's bound: bulk producers wait in `room` (back-pressure) while live jobs are never dropped."""

from __future__ import annotations

import asyncio

import bot.ingestion
from bot.ingestion import IngestionQueue, Remember
from tests.fakes import message


class RecordingMemory:
    """Records what the queue remembers, in order (only the queue's behaviour is under test)."""

    def __init__(self) -> None:
        self.remembered: list[str] = []

    def remember_messages(self, messages, marks=()):
        self.remembered += [m.message_id for m in messages]


async def test_room_waits_until_the_queue_drains_below_its_bound(monkeypatch):
    """Past MAX_QUEUED_JOBS, `put` still queues (nothing is dropped) but `room` waits until the worker has
    drained the queue below the bound; then every job has been or will be applied, in order."""
    monkeypatch.setattr(bot.ingestion, "MAX_QUEUED_JOBS", 3)
    memory = RecordingMemory()
    queue = IngestionQueue(memory)  # type: ignore[arg-type]
    for i in range(6):
        queue.put(Remember(messages=(message(i, f"m{i}"),)))
    waiting = asyncio.create_task(queue.room())
    await asyncio.sleep(0)  # one turn: `room` has looked at the full queue (no worker yet, so nothing drains)
    assert not waiting.done()
    queue.start()
    await asyncio.wait_for(waiting, 10)
    await asyncio.wait_for(queue.idle(), 10)
    await queue.close()
    assert memory.remembered == [f"100000{i}" for i in range(6)]
