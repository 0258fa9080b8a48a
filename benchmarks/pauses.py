"""What stops the bot's event loop, measured from inside it: how late a short sleep wakes up, and Python's full
garbage collections (each one stops every thread); used by `bot_latency.py`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time


class LoopLag:
    """Samples the event loop's lag: how late a 10 ms sleep wakes up (the time every other task waited)."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lags.append(max(0.0, time.perf_counter() - asked - 0.01))

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> list[float]:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        return self.lags


class FullCollections(contextlib.AbstractContextManager["FullCollections"]):
    """Times Python's full (oldest-generation) garbage collections while in the block: each stops every thread."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, float]] = []  # (started, seconds)
        self._started = 0.0

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((self._started, time.perf_counter() - self._started))

    def __enter__(self) -> FullCollections:
        gc.callbacks.append(self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._note)

    def pauses_since(self, moment: float) -> list[float]:
        return [seconds for started, seconds in self.pauses if started >= moment]
