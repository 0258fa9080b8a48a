"""A single ordered queue between Discord events and the memory: batched, off the event loop, drained on close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from memory import ChatMessage, EmbeddingError, FileDocument, HistoryMark, IngestReport, Memory

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
Place = tuple[str, str]  # (guild id, channel id)
LIVE_MARKS = ("stored", "seen")  # the marks of live messages, which hold only while the session's order does


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
    # Channel marks that move with these messages (`memory.HistoryMark`), in the transaction that stores them.
    marks: tuple[HistoryMark, ...] = ()
    # A reconciliation's job: the queue's `failures` when it read the history (a failure before is made good).
    failures_read: int = 0


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
    the event loop after a batch with the files of `announce_cuts` jobs that a cap cut short; it must not block.

    Live messages move their channel's mark (`memory.HistoryMark`) only while every message before them is stored:
    marks carry the gateway `session` that delivered them (a new one begins at each IDENTIFY, see `new_session`),
    a message whose files are still downloading holds back the marks of later ones (`receiving`), and a channel
    whose batch failed moves no live mark until a reconciliation has read its history again."""

    def __init__(
        self,
        memory: Memory,
        *,
        on_cuts: Callable[[list[Cut]], None] | None = None,
        owns: Callable[[str], bool] | None = None,
        shard_of: Callable[[str], int | None] = lambda _guild_id: None,
    ) -> None:
        self._memory = memory
        self._on_cuts = on_cuts
        self._owns = owns  # the guilds whose catch-up is this process's (`bot.shards.Ownership`; None: all)
        self._shard_of = shard_of  # a guild's gateway connection (None: the one connection of an unsharded bot)
        self._queue: asyncio.Queue[Job | Stop] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._held: Job | Stop | None = None  # taken while batching, it must wait for the next round
        self.failures = 0
        self.remembered = 0  # new or changed messages stored (read by the metrics, `bot.ops`)
        self._queued_at: deque[float] = deque()  # when each job not yet done was queued, oldest first (jobs are FIFO)
        # The gateway session whose live messages are being queued, per connection (shard; None when unsharded).
        self._sessions: dict[int | None, str] = {}
        self._receiving: dict[Place, list[int]] = {}  # messages whose job is being made, by channel
        # Channels with a failed batch (the `failures` count then): a live mark would pass the messages it lost, until
        # a reconciliation reads the channel again. Bounded by the channels there are.
        self._failed: dict[Place, int] = {}
        self.retry_seconds = RETRY_FIRST_SECONDS  # the next catch-up retry's delay after an embedding failure
        self._retry: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start the worker task."""
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="memorybot-ingestion")

    def put(self, job: Job) -> None:
        """Queue a job (never blocks the event loop)."""
        if isinstance(job, Remember) and job.marks:
            job = replace(job, marks=tuple(m for m in job.marks if not self._overtakes(m)))
        self._queued_at.append(time.monotonic())
        self._queue.put_nowait(job)

    @property
    def depth(self) -> int:
        """Jobs queued or being applied."""
        return len(self._queued_at)

    @property
    def lag_seconds(self) -> float:
        """How long the oldest job queued or being applied has waited (0 when idle)."""
        return time.monotonic() - self._queued_at[0] if self._queued_at else 0.0

    def new_session(self, shard_id: int | None = None) -> None:
        """A new gateway session began on a connection (READY, not RESUMED): it replays nothing, so until a channel's
        history is reconciled, its live messages must not move its mark past what was missed in between. Call it
        before any of the session's events is queued (discord.py dispatches `connect` before them). Each shard has
        its own session: one shard's reconnection leaves the marks of the others' guilds moving."""
        self._sessions[shard_id] = secrets.token_hex(8)

    def session_of(self, guild_id: str) -> str:
        """The current gateway session of the connection that delivers this guild's events."""
        return self._sessions.setdefault(self._shard_of(guild_id), secrets.token_hex(8))

    def live_mark(self, guild_id: str, channel_id: str, message_id: str, *, stored: bool) -> HistoryMark:
        """The mark of a live message of the current session: `stored` (remembered) or `seen` (left out)."""
        session = self.session_of(guild_id)
        return HistoryMark(guild_id, channel_id, message_id, "stored" if stored else "seen", session=session)

    @contextlib.contextmanager
    def receiving(self, mark: HistoryMark) -> Iterator[None]:
        """While a live message's job is being made (its files downloaded), later messages of its channel may be
        queued first: their marks must not pass it. Put the job inside the block."""
        place, number = (mark.guild_id, mark.channel_id), int(mark.newest_id)
        self._receiving.setdefault(place, []).append(number)
        try:
            yield
        finally:
            waiting = self._receiving[place]
            waiting.remove(number)
            if not waiting:
                del self._receiving[place]

    def _overtakes(self, mark: HistoryMark) -> bool:
        waiting = self._receiving.get((mark.guild_id, mark.channel_id), ())
        return mark.kind in LIVE_MARKS and any(number < int(mark.newest_id) for number in waiting)

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
            batch, failed = self._sound_marks(batch)
            try:
                more, cuts = await asyncio.to_thread(self._apply, batch)
                if more:
                    self.put(CatchUp())
            except EmbeddingError as e:  # what was stored waits in SQLite for its vectors: retried later
                self.failures += 1
                self._failed = failed  # stored, with their marks: only the vectors are missing
                self._retry_later(e)
            except Exception:  # one bad batch is logged and dropped; the queue keeps going
                self.failures += 1
                self._failed |= dict.fromkeys(_places(batch), self.failures)
                log.exception("ingestion of %d job(s) failed", len(batch))
            else:
                self._failed = failed
                if isinstance(job, CatchUp):
                    self.retry_seconds = RETRY_FIRST_SECONDS  # the embedder answers again
                self._hand_on(cuts)  # before task_done: once `idle` returns, the notices are under way
            finally:
                for _ in batch:
                    self._queued_at.popleft()
                    self._queue.task_done()

    def _sound_marks(self, batch: list[Job]) -> tuple[list[Job], dict[Place, int]]:
        """The batch without the live marks of channels whose earlier batch failed, in order: a reconciliation (with
        no hole) that read a channel after its failure has stored what was lost, so live marks after it may move the
        mark again. Also the failed channels as they are once the batch is stored."""
        failed = dict(self._failed)
        sound: list[Job] = []
        for job in batch:
            if not isinstance(job, Remember) or not job.marks:
                sound.append(job)
                continue
            kept = []
            for mark in job.marks:
                place = (mark.guild_id, mark.channel_id)
                if mark.kind in LIVE_MARKS and place in failed:
                    continue
                kept.append(mark)
                caught_up = mark.kind == "reconciled" and mark.missed_before is None
                if caught_up and place in failed and failed[place] <= job.failures_read:
                    del failed[place]
            sound.append(replace(job, marks=tuple(kept)))
        return sound, failed

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
                embedded = self._memory.catch_up(at_most=CATCH_UP_CHUNKS, guilds=self._owns)
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
        marks = [m for job in batch if isinstance(job, Remember) for m in job.marks]
        # An embedder failure leaves what it could not embed stored without vectors: the rest of the batch goes on.
        failed: EmbeddingError | None = None
        cuts: list[Cut] = []
        # Files first: the marks move with the messages, so a crash in between leaves the messages to be read again.
        if files:
            try:
                report = self._memory.ingest_files(files)
            except EmbeddingError as e:
                failed = e
            else:
                log_attachments(files, report)
                announced = {
                    f.source: f for job in batch if isinstance(job, Remember) and job.announce_cuts for f in job.files
                }
                cuts = [(announced[source], kept) for source, kept in report.truncated if source in announced]
        if messages or marks:
            try:
                self.remembered += self._memory.remember_messages(messages, marks=marks).records
            except EmbeddingError as e:  # stored, marks moved with them: only their vectors wait
                failed = failed or e
        for job in batch:
            if isinstance(job, Remember):
                for guild_id, message_id, kept in job.attachments_kept:
                    self._memory.forget_removed_attachments(guild_id, message_id, kept)
        if failed is not None:
            raise failed
        return False, cuts


def _places(batch: list[Job]) -> set[Place]:
    """The channels a batch wrote to (their live marks must wait after it failed)."""
    places: set[Place] = set()
    for job in batch:
        if isinstance(job, Remember):
            places |= {(m.guild_id, m.channel_id) for m in job.messages}
            places |= {(m.guild_id, m.channel_id) for m in job.marks}
    return places
