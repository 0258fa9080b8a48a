"""Reconciliation after a restart: a bounded pass over each remembered channel's latest history catches the
edits, deletes, removed attachments and new messages missed while the bot was offline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import discord

from bot.adapters import Attachments, attachment_sources, member_record, place_names
from bot.backfill import Backfiller, HistoryChannel
from bot.ingestion import Erase, IngestionQueue, Remember
from bot.policies import ChannelPolicies
from memory import AsyncMemory, ChatMessage, FileDocument, utc_iso

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    """What one pass found, over every channel it read."""

    channels: int = 0
    checked: int = 0  # remembered messages compared with Discord's version
    added: int = 0  # messages sent while offline
    deleted: int = 0  # remembered messages no longer in Discord
    channels_deleted: int = 0  # remembered channels gone from their guild
    gaps: int = 0  # channels where more was missed than the pass reads (an admin can backfill them)


class Reconciler:
    """Compares the latest `discord.reconcile_messages` messages of every channel that holds memory with what
    is remembered. Writes go through the ingestion queue, in order with live events; deleted messages are
    marked erased by memory, so a page read just before a live delete cannot bring the message back."""

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
    ) -> None:
        self._memory = memory
        self._queue = queue
        self._attachments = attachments
        self._policies = policies
        self._backfiller = backfiller
        self._forget_channel = forget_channel
        self._limit = limit
        self._lock = asyncio.Lock()  # one pass at a time (on_ready may come again after a reconnect)

    async def run(self, guilds: Iterable[discord.Guild]) -> ReconcileReport:
        """Reconcile these guilds; a channel that fails is logged and the others go on."""
        report = ReconcileReport()
        limit = self._limit
        if limit == 0 or self._lock.locked():
            return report
        async with self._lock:
            for guild in list(guilds):
                if not guild.unavailable:
                    await self._guild(guild, limit, report)
        if report.channels:
            log.info("reconciled %s", report)
        return report

    async def _guild(self, guild: discord.Guild, limit: int, report: ReconcileReport) -> None:
        held = await self._memory.message_channels(str(guild.id))
        for channel_id, parent_id in held.items():
            channel = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
            if channel is None and parent_id is None and channel_id.isdigit():
                # Guild channels all arrive with the guild, so a missing one was deleted while the bot was away.
                # (A missing thread may only be archived: threads are left alone.)
                await self._forget_channel(guild.id, int(channel_id))
                report.channels_deleted += 1
                continue
            if not isinstance(channel, HistoryChannel) or self._backfiller.running(guild.id, channel_id):
                continue
            try:
                await self._channel(channel, limit, report)
            except discord.HTTPException as e:  # e.g. the bot may no longer read it: memory stays as it is
                log.warning("could not reconcile channel %s: %s", channel_id, e)

    async def _channel(self, channel: HistoryChannel, limit: int, report: ReconcileReport) -> None:
        page = [m async for m in channel.history(limit=limit)]  # newest first
        guild_id = str(channel.guild.id)
        complete = len(page) < limit  # the whole channel was read
        oldest = min((m.id for m in page), default=0)
        newest = max((m.id for m in page), default=0)
        since = "" if complete or not page else utc_iso(page[-1].created_at)
        held = await self._memory.channel_message_ids(guild_id, str(channel.id), since)
        # Only ids inside the window read: older ones were not checked, newer ones arrived live meanwhile.
        window = [i for i in held if (complete or int(i) >= oldest) and int(i) <= newest]
        present = {m.id for m in page}
        deleted = tuple(i for i in window if int(i) not in present)
        # Messages after the newest one held were sent while offline (those before it were left out on purpose).
        newest_held = max((int(i) for i in window), default=0)
        if not complete and not window:
            report.gaps += 1  # nothing held inside the window: more was missed than the pass reads
            log.info("channel %s missed over %d messages while offline (/memory backfill fills it)", channel.id, limit)

        remembered = self._policies.is_enabled(channel)
        held_ids = set(window)
        records: list[ChatMessage] = []
        files: list[FileDocument] = []
        kept: list[tuple[str, str, tuple[str, ...]]] = []
        for message in reversed(page):  # oldest first
            record = member_record(message)
            if record is None:
                continue
            if str(message.id) in held_ids:
                records.append(record)  # unchanged ones are skipped by memory
                kept.append((guild_id, str(message.id), attachment_sources(message)))
            elif remembered and message.id > newest_held:
                records.append(record)
                report.added += 1
                files.extend(await self._attachments.documents(message))
        report.channels += 1
        report.checked += len(window)
        report.deleted += len(deleted)
        if deleted:
            self._queue.put(Erase(guild_id, deleted))
        if records:
            self._queue.put(
                Remember(
                    messages=tuple(records), files=tuple(files), attachments_kept=tuple(kept),
                    names=place_names(page[0]),
                )
            )  # fmt: skip
