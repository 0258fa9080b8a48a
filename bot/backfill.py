"""History backfill: a channel's past messages read through the API into memory, resumable from a saved cursor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from bot.adapters import Attachments, member_record, place_names
from bot.ingestion import log_attachments, remember_names
from memory import AsyncMemory, BackfillCursor, ChatMessage, FileDocument, HistoryMark, utc_iso

log = logging.getLogger(__name__)
BATCH_SIZE = 100  # one history page: a batch is stored and its cursor saved before the next is read
HistoryChannel = discord.TextChannel | discord.Thread | discord.VoiceChannel
Key = tuple[str, str]


class Backfiller:
    """Runs backfills as background tasks, one per channel. Each batch is stored, then its cursor saved (commit
    before acknowledge), so a restart resumes after the last stored message and never skips one; re-reading a
    batch is harmless, as `remember_messages` skips unchanged messages. A batch that joins the channel's mark
    moves it on (`memory.HistoryMark` "backfilled"): that is how a hole a restart left is filled."""

    def __init__(
        self,
        memory: AsyncMemory,
        attachments: Attachments,
        *,
        session: Callable[[str], str] = lambda _guild_id: "",
        owns: Callable[[str], bool] = lambda _guild_id: True,
    ) -> None:
        self._memory = memory
        self._attachments = attachments
        # the gateway session a guild's live messages are queued in (`IngestionQueue.session_of`)
        self._session = session
        self._owns = owns  # the guilds of this process's shards (`bot.shards.Ownership`)
        self.tasks: dict[Key, asyncio.Task[BackfillCursor]] = {}
        self.cursors: dict[Key, BackfillCursor] = {}  # live progress of running backfills
        self._watchers: set[asyncio.Task[None]] = set()  # progress reporters, held so they are not collected
        # Backfills store one batch at a time: Memory's writes are not meant to run in parallel threads.
        self._store_lock = asyncio.Lock()

    def running(self, guild_id: int | str, channel_id: int | str) -> bool:
        """Whether a backfill of this channel is under way."""
        task = self.tasks.get((str(guild_id), str(channel_id)))
        return task is not None and not task.done()

    async def start(
        self, channel: HistoryChannel, *, since_days: int | None = None, limit: int | None = None
    ) -> asyncio.Task[BackfillCursor]:
        """Start (or restart from scratch) a channel's backfill; the caller checked it is not running."""
        now = datetime.now(UTC)
        after = str(discord.utils.time_snowflake(now - timedelta(days=since_days))) if since_days else None
        cursor = BackfillCursor(
            guild_id=str(channel.guild.id), channel_id=str(channel.id), newest_id=after,
            started_at=utc_iso(now), updated_at=utc_iso(now), max_messages=limit,
        )  # fmt: skip
        await self._memory.backfills.save(cursor)
        return self._launch(channel, cursor)

    async def resume_unfinished(self, get_channel: Callable[[int], object]) -> int:
        """Resume every backfill a restart interrupted (done=0) of a guild this process owns whose channel the bot can
        still see (the other shards' processes resume theirs)."""
        resumed = 0
        for cursor in await self._memory.backfills.all():
            if not self._owns(cursor.guild_id):
                continue
            channel = get_channel(int(cursor.channel_id)) if cursor.channel_id.isdigit() else None
            running = self.running(cursor.guild_id, cursor.channel_id)
            if cursor.done or running or not isinstance(channel, HistoryChannel):
                continue
            log.info("resuming the backfill of channel %s after message %s", cursor.channel_id, cursor.newest_id)
            self._launch(channel, cursor)
            resumed += 1
        return resumed

    def watch(self, reporter: Coroutine[Any, Any, None]) -> None:
        """Run a progress reporter alongside the backfills; it is stopped with them."""
        task = asyncio.create_task(reporter, name="memorybot-backfill-progress")
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def close(self) -> None:
        """Stop every backfill; a batch already being stored finishes and its cursor is saved."""
        for task in [*self.tasks.values(), *self._watchers]:
            task.cancel()
        await asyncio.gather(*self.tasks.values(), *self._watchers, return_exceptions=True)

    def _launch(self, channel: HistoryChannel, cursor: BackfillCursor) -> asyncio.Task[BackfillCursor]:
        key = (cursor.guild_id, cursor.channel_id)
        self.cursors[key] = cursor
        task = asyncio.create_task(self._run(channel, cursor), name=f"memorybot-backfill-{cursor.channel_id}")
        self.tasks[key] = task
        return task

    async def _run(self, channel: HistoryChannel, cursor: BackfillCursor) -> BackfillCursor:
        key = (cursor.guild_id, cursor.channel_id)
        remaining = None if cursor.max_messages is None else max(0, cursor.max_messages - cursor.messages)
        after = discord.Object(int(cursor.newest_id)) if cursor.newest_id else None
        batch: list[discord.Message] = []
        session, read = self._session(cursor.guild_id), 0  # the session before the first read (see `_caught_up`)
        try:
            if remaining != 0:
                # discord.py pages the history and waits out 429s itself.
                async for message in channel.history(limit=remaining, after=after, oldest_first=True):
                    batch.append(message)
                    read += 1
                    if len(batch) >= BATCH_SIZE:
                        cursor = await self._store(cursor, batch)
                        batch = []
            if batch:
                cursor = await self._store(cursor, batch)
            if remaining is None or read < remaining:
                await self._caught_up(cursor, session)
            cursor = replace(cursor, done=True, updated_at=utc_iso(datetime.now(UTC)))
            await self._memory.backfills.save(cursor)
            self.cursors[key] = cursor
            log.info("backfill of channel %s done: %d messages, %d files", key[1], cursor.messages, cursor.files)
        except discord.HTTPException:
            # The cursor stays unfinished, so the next start resumes from the last stored batch.
            log.exception("backfill of channel %s stopped", key[1])
        return self.cursors[key]

    async def _caught_up(self, cursor: BackfillCursor, session: str) -> None:
        """The history was read to its end within one gateway session, so everything after it reaches the bot live:
        if the batches joined the channel's mark, the session's live messages may move it from now on."""
        if cursor.newest_id is None or not session or self._session(cursor.guild_id) != session:
            return
        newest = cursor.newest_id
        mark = HistoryMark(cursor.guild_id, cursor.channel_id, newest, "reconciled", session=session, read_after=newest)
        async with self._store_lock:
            await asyncio.to_thread(self._memory.sync.remember_messages, [], marks=[mark])

    async def _store(self, cursor: BackfillCursor, batch: list[discord.Message]) -> BackfillCursor:
        """Store one batch and then save the cursor past it, in one worker-thread call."""
        records: list[ChatMessage] = []
        files: list[FileDocument] = []
        for message in batch:
            record = member_record(message)
            if record is None:
                continue
            records.append(record)
            files += await self._attachments.documents(message)
        after = replace(
            cursor,
            oldest_id=cursor.oldest_id or str(batch[0].id),
            newest_id=str(batch[-1].id),
            messages=cursor.messages + len(records),
            files=cursor.files + len(files),
            updated_at=utc_iso(datetime.now(UTC)),
        )
        # The batch was read after the cursor's newest id (or from the channel's start): all of it, bots' included.
        mark = HistoryMark(
            after.guild_id, after.channel_id, str(batch[-1].id), "backfilled", read_after=cursor.newest_id or "0"
        )
        async with self._store_lock:
            job = asyncio.ensure_future(
                asyncio.to_thread(self._commit, records, files, after, place_names(batch[0]), mark)
            )
            try:
                await asyncio.shield(job)
            except asyncio.CancelledError:
                await job  # a batch handed to the thread is finished and acknowledged, then the task stops
                self.cursors[(after.guild_id, after.channel_id)] = after
                raise
        self.cursors[(after.guild_id, after.channel_id)] = after
        return after

    def _commit(
        self,
        records: list[ChatMessage],
        files: list[FileDocument],
        cursor: BackfillCursor,
        names: tuple[tuple[str, str, str], ...],
        mark: HistoryMark,
    ) -> None:
        memory = self._memory.sync  # already in a worker thread
        if files:  # first: the mark moves with the messages, after everything of theirs is stored
            log_attachments(files, memory.ingest_files(files))
        if records:
            remember_names(memory, names)
        memory.remember_messages(records, marks=[mark])
        memory.backfills.save(cursor)  # only after the batch is stored
