"""A single ordered queue between Discord events and the memory: batched, off the event loop, drained on close."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from memory import ChatMessage, EmbeddingError, FileDocument, IngestReport, Memory

log = logging.getLogger(__name__)


def log_attachments(files: Sequence[FileDocument], report: IngestReport) -> None:
    """Log what ingesting attachments left out: skips at INFO, and at WARNING a file a cap cut short (history gets
    no reply, so the log is where an admin learns that only part of a file is remembered)."""
    names = {f.source: f"{f.filename} ({f.source}, message {f.message_id})" for f in files}
    for source, kept in report.truncated:
        log.warning("attachment %s: %s", names.get(source, source), kept)
    for source, reason in report.skipped:
        log.info("attachment %s skipped: %s", names.get(source, source), reason)


def remember_names(memory: Memory, names: Sequence[tuple[str, str, str]]) -> None:
    """Store the names of guilds and channels (guild id, channel id or '', name); those already held cost no write."""
    by_guild: dict[str, dict[str, str]] = {}
    for guild_id, channel_id, name in names:
        by_guild.setdefault(guild_id, {})[channel_id] = name
    for guild_id, named in by_guild.items():
        memory.names.remember(guild_id, named)


BATCH_SIZE = 64
BATCH_WAIT_SECONDS = 0.2  # gather a burst of messages into one embedding batch
CATCH_UP_CHUNKS = 512  # chunks embedded per catch-up slice (seconds of work with the local model)
# After the embedder failed (its own retries spent), the chunks wait in SQLite and a catch-up retries them: first
# after this long, then twice as long each time it fails again, up to the maximum.
RETRY_FIRST_SECONDS = 5.0
RETRY_MAX_SECONDS = 300.0
# Jobs queued, beyond which bulk producers wait in `room` (live events never wait nor are dropped: Discord paces
# them, and each holds at most one message's files).
MAX_QUEUED_JOBS = 1000

Cut = tuple[FileDocument, str]  # a file a cap cut short, and how much of it was kept (memory's wording)


@dataclass(frozen=True, slots=True)
class Remember:
    """Messages (new or edited) and files to remember."""

    messages: tuple[ChatMessage, ...] = ()
    files: tuple[FileDocument, ...] = ()
    # Edited messages' attachments: (guild id, message id, sources still attached); the others are forgotten.
    attachments_kept: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    # A live upload: its files that a cap cut short are handed to the queue's `on_cuts` (history only logs them).
    announce_cuts: bool = False
    # The names of the places they were said in: (guild id, channel id or '' for the guild, name).
    names: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Erase:
    """Messages deleted in Discord."""

    guild_id: str
    message_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ForgetChannel:
    """A channel (or thread) deleted in Discord: its memory goes, after whatever was queued for it before."""

    guild_id: str
    channel_id: str


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Finish what a crash or an index repair left (stale windows, chunks without vectors), a slice at a time:
    it queues itself again while work is left, so live messages are stored in between."""


class Stop:
    """Queued by `close`: everything queued before it is done first."""


Job = Remember | Erase | ForgetChannel | CatchUp


class IngestionQueue:
    """Applies jobs in arrival order (an edit never overtakes its create, a delete never precedes it),
    merging consecutive `Remember` jobs into one batch. Slow work runs in a worker thread. `on_cuts` is called on
    the event loop after a batch with the files of `announce_cuts` jobs that a cap cut short; it must not block."""

    def __init__(self, memory: Memory, *, on_cuts: Callable[[list[Cut]], None] | None = None) -> None:
        self._memory = memory
        self._on_cuts = on_cuts
        self._queue: asyncio.Queue[Job | Stop] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._held: Job | Stop | None = None  # taken while batching, it must wait for the next round
        self.failures = 0
        self.retry_seconds = RETRY_FIRST_SECONDS  # the next catch-up retry's delay after an embedding failure
        self._retry: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start the worker task."""
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="memorybot-ingestion")

    def put(self, job: Job) -> None:
        """Queue a job (never blocks the event loop)."""
        self._queue.put_nowait(job)

    async def room(self) -> None:
        """Wait until fewer than `MAX_QUEUED_JOBS` jobs are queued: the back-pressure of bulk producers (a
        reconciliation or import), so that what they read waits in Discord rather than in this process."""
        while self._queue.qsize() >= MAX_QUEUED_JOBS:
            await asyncio.sleep(BATCH_WAIT_SECONDS)

    async def idle(self) -> None:
        """Wait until every queued job is done."""
        await self._queue.join()

    async def close(self) -> None:
        """Finish every queued job, then stop the worker."""
        if self._retry is not None:
            self._retry.cancel()
        if self._worker is None:
            return
        self._queue.put_nowait(Stop())
        await self._worker
        self._worker = None

    async def _run(self) -> None:
        while True:
            job, self._held = (self._held, None) if self._held is not None else (await self._queue.get(), None)
            if isinstance(job, Stop):
                self._queue.task_done()
                return
            batch: list[Job] = [job]
            if isinstance(job, Remember):
                batch += await self._more_remember_jobs()
            try:
                more, cuts = await asyncio.to_thread(self._apply, batch)
                if more:
                    self.put(CatchUp())
            except EmbeddingError as e:  # what was stored waits in SQLite for its vectors: retried later
                self.failures += 1
                self._retry_later(e)
            except Exception:  # one bad batch is logged and dropped; the queue keeps going
                self.failures += 1
                log.exception("ingestion of %d job(s) failed", len(batch))
            else:
                if isinstance(job, CatchUp):
                    self.retry_seconds = RETRY_FIRST_SECONDS  # the embedder answers again
                self._hand_on(cuts)  # before task_done: once `idle` returns, the notices are under way
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _retry_later(self, error: EmbeddingError) -> None:
        """One line naming the endpoint's fault, and one catch-up scheduled (with a growing delay) for the chunks
        it left without vectors."""
        if self._retry is not None and not self._retry.cancelled() and self._retry.when() > self._loop_time():
            log.warning("ingestion: %s (a catch-up is already due)", error)
            return
        delay, self.retry_seconds = self.retry_seconds, min(RETRY_MAX_SECONDS, self.retry_seconds * 2)
        log.warning("ingestion: %s; their vectors are retried in %g s", error, delay)
        self._retry = asyncio.get_running_loop().call_later(delay, self.put, CatchUp())

    @staticmethod
    def _loop_time() -> float:
        return asyncio.get_running_loop().time()

    def _hand_on(self, cuts: list[Cut]) -> None:
        if not cuts or self._on_cuts is None:
            return
        try:
            self._on_cuts(cuts)
        except Exception:  # a notice is a courtesy: it never stops ingestion
            log.exception("could not hand on %d cut file(s)", len(cuts))

    async def _more_remember_jobs(self) -> list[Job]:
        """Consecutive `Remember` jobs that arrive within a short wait, up to a batch; the first other job
        is held back so that order is kept."""
        more: list[Job] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BATCH_WAIT_SECONDS
        while len(more) < BATCH_SIZE:
            try:
                following = await asyncio.wait_for(self._queue.get(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                break
            if isinstance(following, Remember):
                more.append(following)
                continue
            self._held = following  # processed next, before anything queued after it
            break
        return more

    def _apply(self, batch: list[Job]) -> tuple[bool, list[Cut]]:
        """Apply the jobs; return whether a catch-up left work for another slice, and the announced cut files."""
        for job in batch:
            if isinstance(job, CatchUp):
                embedded = self._memory.catch_up(at_most=CATCH_UP_CHUNKS)
                if embedded:
                    log.info("caught up: %d chunks embedded", embedded)
                return embedded >= CATCH_UP_CHUNKS, []  # a catch-up comes alone: never merged with other jobs
            if isinstance(job, Erase):
                self._memory.delete_messages(job.guild_id, list(job.message_ids))
            elif isinstance(job, ForgetChannel):
                forgotten = self._memory.forget(job.guild_id, channel_id=job.channel_id)
                log.info("channel %s deleted: forgot %d messages", job.channel_id, forgotten.messages)
        remember_names(self._memory, [n for job in batch if isinstance(job, Remember) for n in job.names])
        messages = [m for job in batch if isinstance(job, Remember) for m in job.messages]
        files = [f for job in batch if isinstance(job, Remember) for f in job.files]
        # An embedder failure leaves what it could not embed stored without vectors: the rest of the batch goes on.
        failed: EmbeddingError | None = None
        if messages:
            try:
                self._memory.remember_messages(messages)
            except EmbeddingError as e:
                failed = e
        cuts: list[Cut] = []
        if files:
            try:
                report = self._memory.ingest_files(files)
            except EmbeddingError as e:
                failed = failed or e
            else:
                log_attachments(files, report)
                announced = {
                    f.source: f for job in batch if isinstance(job, Remember) and job.announce_cuts for f in job.files
                }
                cuts = [(announced[source], kept) for source, kept in report.truncated if source in announced]
        for job in batch:
            if isinstance(job, Remember):
                for guild_id, message_id, kept in job.attachments_kept:
                    self._memory.forget_removed_attachments(guild_id, message_id, kept)
        if failed is not None:
            raise failed
        return False, cuts
