"""Reconciliation after a new gateway session: each remembered channel's history after its mark (what was sent while
the bot was away, bounded) and its latest messages (edits, deletes, removed attachments) compared with memory."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import discord

from bot.adapters import Attachments, attachment_sources, member_record, place_names
from bot.backfill import Backfiller, HistoryChannel
from bot.ingestion import Erase, IngestionQueue, Remember
from bot.policies import ChannelPolicies
from memory import AsyncMemory, ChannelMark, ChatMessage, FileDocument, HistoryMark, utc_iso

log = logging.getLogger(__name__)
Span = tuple[int, int]  # message ids, both ends included, whose history was read completely


@dataclass
class ReconcileReport:
    """What one pass found, over every channel it read."""

    channels: int = 0
    checked: int = 0  # remembered messages compared with Discord's version
    added: int = 0  # messages sent while offline
    deleted: int = 0  # remembered messages no longer in Discord
    channels_deleted: int = 0  # remembered channels gone from their guild
    gaps: int = 0  # channels where more was missed than the pass reads (an admin can backfill them)


def backfill_command(channel_id: int | str, mark_id: int | str, now: datetime | None = None) -> str:
    """The `/memory backfill` that reads a channel's history from its mark on: `since` counts whole days back to
    the mark's time, plus one so that it still covers the mark when run a little later."""
    age = (now or datetime.now(UTC)) - discord.utils.snowflake_time(int(mark_id))
    days = min(36_500, max(1, math.ceil(age.total_seconds() / 86_400) + 1))
    return f"/memory backfill channel:<#{channel_id}> since:{days}"


def first_marks(channel: discord.abc.GuildChannel, queue: IngestionQueue) -> tuple[HistoryMark, ...]:
    """The marks of a channel (or a category's channels) just enabled, as a live message of now would make them:
    everything said before was left out on purpose, so a restart before its first message is stored reads what
    came after (an existing mark stays)."""
    now = str(discord.utils.time_snowflake(datetime.now(UTC)))
    inside = channel.channels if isinstance(channel, discord.CategoryChannel) else [channel]
    return tuple(queue.live_mark(str(channel.guild.id), str(c.id), now, stored=True) for c in inside)


class Reconciler:
    """Reads, for every channel that holds memory or a mark, up to `discord.reconcile_max_missed` messages after its
    mark (sent while the bot was away: they are remembered) and the latest `discord.reconcile_messages` (compared
    with what is remembered). Writes go through the ingestion queue, in order with live events, and the channel's
    mark moves with them (`memory.HistoryMark` "reconciled"): from then on the session's live messages move it.
    Deleted messages are marked erased by memory, so a page read just before a live delete cannot bring one back."""

    def __init__(
        self,
        *,
        memory: AsyncMemory,
        queue: IngestionQueue,
        attachments: Attachments,
        policies: ChannelPolicies,
        backfiller: Backfiller,
        forget_channel: Callable[[int, int], Awaitable[None]],
        limit: int,
        max_missed: int,
    ) -> None:
        self._memory = memory
        self._queue = queue
        self._attachments = attachments
        self._policies = policies
        self._backfiller = backfiller
        self._forget_channel = forget_channel
        self._limit = limit
        self._max_missed = max_missed
        self._lock = asyncio.Lock()  # one pass at a time (a new session's pass waits for the cancelled one)

    async def run(self, guilds: Iterable[discord.Guild]) -> ReconcileReport:
        """Reconcile these guilds for the current gateway session; a channel that fails is logged, the others go on."""
        report = ReconcileReport()
        if self._limit == 0:
            return report
        # taken before any read: the session (of each guild's shard) whose gap this pass reads
        sessions = [(guild, self._queue.session_of(str(guild.id))) for guild in guilds]
        async with self._lock:
            for guild, session in sessions:
                if not guild.unavailable:
                    await self._guild(guild, session, report)
        if report.channels:
            log.info("reconciled %s", report)
        return report

    async def _guild(self, guild: discord.Guild, session: str, report: ReconcileReport) -> None:
        held = await self._memory.message_channels(str(guild.id))
        marks = await self._memory.marks.of_guild(str(guild.id))
        # A remembered thread that memory knows nothing of was created while the bot was away, or just before it
        # stopped (its first messages not stored yet): everything since it began was missed. (A channel gets its
        # mark when it is enabled, `first_marks`.)
        for thread in guild.threads:
            if str(thread.id) not in held and str(thread.id) not in marks and self._policies.is_enabled(thread):
                marks[str(thread.id)] = ChannelMark(str(guild.id), str(thread.id), str(thread.id - 1))
        for channel_id in sorted(held.keys() | marks.keys()):
            channel = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
            if channel is None and channel_id in held and held[channel_id] is None and channel_id.isdigit():
                # Guild channels all arrive with the guild, so a missing one was deleted while the bot was away.
                # (A missing thread may only be archived: threads are left alone.)
                await self._forget_channel(guild.id, int(channel_id))
                report.channels_deleted += 1
                continue
            if not isinstance(channel, HistoryChannel) or self._backfiller.running(guild.id, channel_id):
                continue
            try:
                await self._queue.room()  # what is still to read waits in Discord, not in this process
                await self._channel(channel, marks.get(channel_id), session, report)
            except discord.HTTPException as e:  # e.g. the bot may no longer read it: memory stays as it is
                log.warning("could not reconcile channel %s: %s", channel_id, e)

    async def _channel(
        self, channel: HistoryChannel, mark: ChannelMark | None, session: str, report: ReconcileReport
    ) -> None:
        failures = self._queue.failures  # a batch that failed before this read is made good by it
        start = None if mark is None else int(mark.newest_id)
        latest = [m async for m in channel.history(limit=self._limit)]  # newest first
        whole = len(latest) < self._limit  # the window reaches the channel's first message
        window_oldest = 0 if whole else min(m.id for m in latest)
        missed: list[discord.Message] = []
        if start is not None and window_oldest > start and self._max_missed:
            # What lies between the mark and the window: read after the window, so all of it existed already.
            bounds = {"after": discord.Object(start), "before": discord.Object(window_oldest)}
            missed = [m async for m in channel.history(limit=self._max_missed, oldest_first=True, **bounds)]
        read = {m.id: m for m in [*missed, *latest]}
        spans, hole = self._spans(start, window_oldest, missed, max(read, default=start or 0))
        guild_id = str(channel.guild.id)
        first = spans[0][0]
        since = "" if first == 0 else utc_iso(discord.utils.snowflake_time(first))
        held = await self._memory.channel_message_ids(guild_id, str(channel.id), since)
        # Only ids inside what was read completely: others were not checked, newer ones arrived live meanwhile.
        checked = [i for i in held if any(low <= int(i) <= high for low, high in spans)]
        deleted = tuple(i for i in checked if int(i) not in read)

        remembered = self._policies.is_enabled(channel)
        held_ids = set(checked)
        records: list[ChatMessage] = []
        files: list[FileDocument] = []
        kept: list[tuple[str, str, tuple[str, ...]]] = []
        for message_id in sorted(read):  # oldest first
            message = read[message_id]
            record = member_record(message)
            if record is None:
                continue
            if str(message_id) in held_ids:
                records.append(record)  # unchanged ones are skipped by memory
                kept.append((guild_id, str(message_id), attachment_sources(message)))
            elif remembered and start is not None and message_id > start:
                # Sent after the mark: missed. (Before it, a message not held was left out on purpose.)
                records.append(record)
                report.added += 1
                files.extend(await self._attachments.documents(message))
        report.channels += 1
        report.checked += len(checked)
        report.deleted += len(deleted)
        if deleted:
            self._queue.put(Erase(guild_id, deleted))
        # The mark moves to the end of what was read without a gap (a channel with no mark gets its first here).
        newest = spans[0][1] if hole is not None else max(read, default=0)
        if start is not None:
            newest = max(newest, start)
        if hole is not None:
            report.gaps += 1
            log.warning(
                "channel %s: more than %d messages were sent while the bot was away; %d after message %s and the "
                "latest %d were read; run %s to read the rest",
                channel.id, self._max_missed, len(missed), start, len(latest), backfill_command(channel.id, newest),
            )  # fmt: skip
        if not newest:
            return  # nothing held, nothing read: no mark to make
        moved = HistoryMark(
            guild_id, str(channel.id), str(newest), "reconciled", session=session, read_after=str(start or 0),
            missed_before=None if hole is None else str(hole),
        )  # fmt: skip
        self._queue.put(
            Remember(
                messages=tuple(records), files=tuple(files), attachments_kept=tuple(kept),
                names=place_names(read[max(read)]) if read else (), marks=(moved,), failures_read=failures,
            )
        )  # fmt: skip

    def _spans(
        self, start: int | None, window_oldest: int, missed: list[discord.Message], newest: int
    ) -> tuple[list[Span], int | None]:
        """The id ranges read completely, oldest first, and the end of the hole after the first (None: no hole).

        The window covers [its oldest, the newest read] (from 0 when it reached the channel's first message); the
        read after the mark covers (mark, window) unless the bound cut it short, which leaves a hole."""
        if start is None or window_oldest <= start:
            return [(window_oldest, newest)], None
        if len(missed) < self._max_missed:
            return [(start + 1, newest)], None
        reached = max((m.id for m in missed), default=start)
        return [(start + 1, reached), (window_oldest, newest)], window_oldest
