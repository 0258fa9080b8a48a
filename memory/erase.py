"""Erasure: deleted and forgotten messages, files, channels, members, guilds and expired memory leave every window,
the vector index and, once purged, every file of the data directory."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from memory.chunking import sort_key
from memory.guild_settings import PerGuildSettings
from memory.ingest import Ingestor, Writer, serialised
from memory.reports import ForgetReport
from memory.stores.interfaces import Anchors, RecordStores, VectorIndex

QUESTION_DAYS = 30  # how long questions asked and verdicts given are kept (what /memory gaps shows)


class Eraser(Writer):
    """Erases through one path whatever the reason, so that every erasure rewindows, unindexes and purges alike."""

    def __init__(
        self,
        stores: RecordStores,
        vectors: VectorIndex,
        ingestor: Ingestor,
        guild_settings: PerGuildSettings,
        *,
        write_lock: threading.RLock,
    ) -> None:
        super().__init__(write_lock)
        self._stores = stores
        self._records = stores.records
        self._vectors = vectors
        self._ingestor = ingestor
        self._guild_settings = guild_settings

    @serialised
    def delete_messages(self, guild_id: str, message_ids: Sequence[str], *, keep_out: bool = True) -> ForgetReport:
        """Erase messages (and the files that came with them) from every window and the index.

        With `keep_out` (deletes in Discord, forgets on request) the ids are marked so that no later backfill,
        reconciliation or edit stores them again; expiry passes False.
        """
        anchors: Anchors = {}
        for message in self._records.messages(guild_id, message_ids):
            place = (guild_id, message.channel_id)
            anchor = self._stores.chunks.chat_anchor(*place, sort_key(message), [message.message_id])
            anchors[place] = min(anchor, anchors.get(place, anchor))
        deleted = self._records.delete_messages(guild_id, message_ids, anchors, keep_out=keep_out)
        files = [f for m in message_ids for f in self._records.file_ids_where(guild_id, message_id=m)]
        chunks = self._drop_files(guild_id, files, purge=False)
        chunks += self._ingestor.rebuild_stale_windows().chunks_removed
        self._stores.purge_erased()
        return ForgetReport(messages=deleted, files=len(files), chunks=chunks)

    @serialised
    def forget(
        self,
        guild_id: str,
        *,
        channel_id: str | None = None,
        message_id: str | None = None,
        user_id: str | None = None,
    ) -> ForgetReport:
        """Erase memory: a message, a channel, a user's messages and files, or (no filter) the whole guild.

        Filters combine (a user's messages in one channel). The erased text is gone from every file of the
        data directory afterwards: SQLite overwrites it (`secure_delete`) and Chroma never held it.
        """
        if channel_id is None and message_id is None and user_id is None:
            return self._forget_guild(guild_id)
        if message_id is not None:
            found = self._records.messages(guild_id, [message_id])
            message_ids = [
                m.message_id for m in found
                if (channel_id is None or channel_id in {m.channel_id, m.parent_channel_id})
                and (user_id is None or m.author_id == user_id)
            ] if channel_id is not None or user_id is not None else [message_id]  # fmt: skip
        else:
            message_ids = self._records.message_ids_where(guild_id, channel_id=channel_id, author_id=user_id)
        files = self._records.file_ids_where(guild_id, channel_id=channel_id, message_id=message_id, author_id=user_id)
        chunks = self._drop_files(guild_id, files, purge=False)
        # A member's or a message's erasure sticks (a later backfill leaves them out); a channel's does not, so
        # that an admin can forget a channel and read it afresh (its backfill starts over too).
        keep_out = message_id is not None or user_id is not None
        if not keep_out and channel_id is not None:
            self._stores.backfills.delete(guild_id, channel_id)
            # Its name goes with it, and its threads' (purged below with the messages).
            threads = [c for c, parent in self._records.message_channels(guild_id).items() if parent == channel_id]
            self._stores.names.forget(guild_id, [channel_id, *threads])
            self._stores.marks.forget(guild_id, [channel_id, *threads])  # nothing held: no history to catch up
        if user_id is not None and channel_id is None and message_id is None:  # a member erased: what they asked too
            self._stores.questions.forget_user(user_id)
        return ForgetReport(files=len(files), chunks=chunks) + self.delete_messages(
            guild_id, message_ids, keep_out=keep_out
        )

    def _forget_guild(self, guild_id: str) -> ForgetReport:
        messages = len(self._records.message_ids_where(guild_id))
        files = len(self._records.file_ids_where(guild_id))
        chunks = self._records.delete_guild(guild_id)
        self._stores.backfills.delete(guild_id)
        self._stores.questions.forget_guild(guild_id)
        self._stores.names.forget(guild_id)
        self._stores.marks.forget(guild_id)
        self._vectors.drop_guild(guild_id)
        self._stores.purge_erased()
        return ForgetReport(messages=messages, files=files, chunks=chunks)

    @serialised
    def forget_removed_attachments(self, guild_id: str, message_id: str, kept_sources: Iterable[str]) -> int:
        """Erase the files of a message that an edit removed (those whose source is not kept); return how many."""
        kept = set(kept_sources)
        gone = [
            record_id
            for record_id in self._records.file_ids_where(guild_id, message_id=message_id)
            if (record := self._records.file(record_id)) is not None and record.source not in kept
        ]
        self._drop_files(guild_id, gone)
        return len(gone)

    def forget_user_everywhere(self, user_id: str) -> ForgetReport:
        """Erase every message, uploaded file, question asked and verdict given of a user, in every guild."""
        total = ForgetReport()
        for guild_id in self._records.author_guilds(user_id):
            total += self.forget(guild_id, user_id=user_id)
        if self._stores.questions.forget_user(user_id):
            self._stores.purge_erased()
        return total

    @serialised
    def expire(self, now: datetime | None = None, *, guilds: Callable[[str], bool] | None = None) -> ForgetReport:
        """Erase chat messages and files older than each guild's retention (0 days: kept forever), through the
        same paths as `forget`, so the erased text is gone from the data directory's files; with `guilds`, only in
        the guilds it accepts. Questions past their days go in every case (they are members' data, not a guild's)."""
        now = now or datetime.now(UTC)
        total = ForgetReport()
        if self._stores.questions.expire((now - timedelta(days=QUESTION_DAYS)).isoformat(timespec="seconds")):
            self._stores.purge_erased()
        for guild_id in self._records.guilds():
            if guilds is not None and not guilds(guild_id):
                continue
            days = self._guild_settings.get(guild_id).retention_days
            if days <= 0:
                continue
            cutoff = (now.astimezone(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
            message_ids, file_ids = self._records.records_before(guild_id, cutoff)
            if not message_ids and not file_ids:
                continue
            chunks = self._drop_files(guild_id, file_ids, purge=False)
            # Re-windows the channels and purges; no erased marks: a message past retention may be read again.
            total += ForgetReport(files=len(file_ids), chunks=chunks)
            total += self.delete_messages(guild_id, message_ids, keep_out=False)
        return total

    def _drop_files(self, guild_id: str, record_ids: Sequence[str], *, purge: bool = True) -> int:
        """Delete file records with their chunks and vectors; with `purge`, make it reach the disk at once (a caller
        that goes on erasing purges once at its end instead). Return how many chunks went."""
        if not record_ids:
            return 0
        removed = self._records.delete_files(guild_id, record_ids)
        self._vectors.delete(guild_id, removed)
        if purge:
            self._stores.purge_erased()
        return len(removed)
