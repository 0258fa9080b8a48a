"""The `Memory` façade: remember files and chat, keep the vector index in step, search, answer, forget."""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from langchain_core.embeddings import Embeddings

from memory.answer import extractive_answer
from memory.chunking import chat_windows, chunk_id, content_hash, file_chunks, sort_key, split_file_text
from memory.embeddings import close_embeddings, make_embeddings, model_identity
from memory.errors import EmbeddingError, EmbeddingModelMismatchError, ExtractionError
from memory.extract import SANDBOXED_SUFFIXES, extract_text, suffix_of
from memory.guild_settings import GuildSettings, resolve, validate
from memory.lock import DataDirLock
from memory.records import BackfillCursor, FileRecord, RecordStore
from memory.retrieval import PackedContext, Retriever, pack
from memory.sandbox import SandboxedExtractor
from memory.settings import MemorySettings
from memory.types import ChatMessage, Chunk, FileDocument, IngestReport
from memory.vector_health import Damage, find_damaged
from memory.vectors import VectorIndex, collection_name, make_chroma_client

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger(__name__)
Progress = Callable[[int], None]
DB_NAME = "memory.sqlite3"
OPTED_OUT = "its author opted out of being remembered"
ERASED = "it was deleted or forgotten before"


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What a forget erased."""

    messages: int
    files: int
    chunks: int


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer with the packed passages it is drawn from (`[n]` in the text is `context.hits[n-1]`)."""

    text: str
    context: PackedContext
    generated: bool  # False: the extractive answer, no language model involved


def _serialised(method: Callable[Concatenate[Memory, P], R]) -> Callable[Concatenate[Memory, P], R]:
    """Run a writing method under the instance's write lock."""

    def locked(self: Memory, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._write_lock:
            return method(self, *args, **kwargs)

    return functools.update_wrapper(locked, method)


class Memory:
    """Long-term memory of one data directory (many guilds). Thread-safe enough for `asyncio.to_thread`
    callers: the record store serialises its own access."""

    def __init__(
        self,
        settings: MemorySettings,
        *,
        records: RecordStore,
        vectors: VectorIndex,
        embeddings: Embeddings,
        identity: str,
        lock: DataDirLock | None = None,
        owns_index: bool = False,
        owns_embeddings: bool = False,
    ) -> None:
        self.settings = settings
        self.identity = identity  # the embedding model's name, stored with the index
        self._owns_index = owns_index  # close the Chroma client too (it was made here, not passed in)
        self._owns_embeddings = owns_embeddings
        self.records = records
        self.vectors = vectors
        self.embeddings = embeddings
        self._lock = lock
        self._sandbox = SandboxedExtractor(settings.limits)
        # Writers (live ingestion, backfills, forgets, expiry) take turns: re-windowing a channel from two
        # threads at once could interleave its stale and fresh windows.
        self._write_lock = threading.RLock()
        self.retriever = Retriever(records, vectors, embeddings, settings.retrieval)
        self.repaired: list[str] = []  # guilds whose damaged vector index was dropped at open, to re-embed

    @classmethod
    def open(
        cls,
        settings: MemorySettings,
        *,
        embeddings: Embeddings | None = None,
        chroma_client: Any = None,  # noqa: ANN401
        allow_model_change: bool = False,
        check_index: bool = False,
    ) -> Memory:
        """Lock the data directory, open SQLite and Chroma, and check the embedding model.

        Args:
            settings: validated settings.
            embeddings: an embedder to use instead of the configured one (tests, benchmarks).
            chroma_client: a Chroma client to use instead of the configured one.
            allow_model_change: let `reindex` open a store built with another embedding model.
            check_index: first check the embedded vector index in a child process (see `memory.vector_health`);
                a damaged guild collection is dropped and its chunks marked for embedding again (`repaired`),
                so that `embed_pending` rebuilds it from SQLite while the other guilds carry on.

        Raises:
            StoreLockedError: another process owns the data directory.
            EmbeddingModelMismatchError: the index was built with another model (run `memorybot reindex`).
        """
        data_dir = Path(settings.storage.data_dir)
        lock = DataDirLock(data_dir)
        lock.acquire()
        records = None
        try:
            records = RecordStore(data_dir / DB_NAME)
            identity = model_identity(settings.embeddings) if embeddings is None else _identity_of(embeddings)
            stored = records.get_meta("embedding_model")
            if stored is not None and stored != identity and not allow_model_change:
                msg = (
                    f"this memory was indexed with the embedding model {stored!r}, but the configuration asks for "
                    f"{identity!r}; run `memorybot reindex` to rebuild the index with the new model"
                )
                raise EmbeddingModelMismatchError(msg)
            embedded = chroma_client is None and settings.storage.chroma.mode == "embedded"
            # Before this process opens Chroma: reading a damaged segment here could kill it.
            damaged = _damaged_collections(data_dir / "chroma", records) if check_index and embedded else []
            embedder = embeddings or make_embeddings(settings.embeddings)
            client = chroma_client if chroma_client is not None else make_chroma_client(settings.storage)
            memory = cls(
                settings, records=records, vectors=VectorIndex(client, embedder, identity), embeddings=embedder,
                identity=identity, lock=lock, owns_index=embedded, owns_embeddings=embeddings is None,
            )  # fmt: skip
            memory._repair(damaged)
            return memory
        except BaseException:
            if records is not None:
                records.close()
            lock.release()
            raise

    def _repair(self, damaged: Sequence[Damage]) -> None:
        """Drop damaged collections and mark their guilds' chunks for embedding again."""
        for damage in damaged:
            log.warning(
                "the vector index of guild %s is damaged (%s): rebuilding it from SQLite",
                damage.guild_id or "?", damage.problem,
            )  # fmt: skip
            self.vectors.drop_collection(damage.collection)  # at open: the index holds no handle on it yet
            if damage.guild_id is not None:
                self.records.mark_guild_unembedded(damage.guild_id)
                self.repaired.append(damage.guild_id)

    def close(self) -> None:
        """Stop the parser worker, close SQLite, release the data directory."""
        self._sandbox.close()
        if self._owns_index:
            self.vectors.close()  # an embedded client holds chroma.sqlite3 and the index files open
        if self._owns_embeddings:
            close_embeddings(self.embeddings)
        self.records.close()
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- ingestion ------------------------------------------------------------------------------------

    @_serialised
    def ingest_files(self, documents: Iterable[FileDocument], *, progress: Progress | None = None) -> IngestReport:
        """Remember files: extract, split, store, embed. A file that fails is reported and the rest go on.

        Re-ingesting an unchanged file does nothing; a changed one replaces its chunks.
        """
        started = time.monotonic()
        report = IngestReport()
        pending: list[Chunk] = []
        documents = list(documents)
        refused = self.records.opted_out(d.author_id for d in documents if d.author_id is not None)
        erased = self._erased((d.guild_id, d.message_id) for d in documents if d.message_id is not None)
        for document in documents:
            if document.author_id in refused or document.message_id in erased:
                report.skipped.append((document.source, OPTED_OUT if document.author_id in refused else ERASED))
                if progress:
                    progress(1)
                continue
            try:
                added, removed, unchanged = self._store_file(document)
            except ExtractionError as e:
                report.skipped.append((document.source, str(e)))
                if progress:
                    progress(1)
                continue
            report.records += 1
            report.chunks_unchanged += unchanged
            report.chunks_removed += len(removed)
            self.vectors.delete(document.guild_id, removed)
            pending.extend(added)
            if len(pending) >= 256:
                report.merge(self._index(pending))
                pending = []
            if progress:
                progress(1)
        report.merge(self._index(pending))
        if report.chunks_removed:
            self.records.purge_erased()
        self._stamp()
        report.seconds = time.monotonic() - started
        return report

    def _store_file(self, document: FileDocument) -> tuple[list[Chunk], list[str], int]:
        record_id = "file:" + chunk_id(document.guild_id, document.channel_id, document.source)
        digest = hashlib.sha256(document.data).hexdigest()[:16]
        existing = self.records.file(record_id)
        stale = self.records.chunk_ids_from(document.guild_id, record_id)
        if existing is not None and existing.content_hash == digest and stale:
            return [], [], len(stale)
        if suffix_of(document.filename) in SANDBOXED_SUFFIXES:
            extracted = self._sandbox.extract(document.filename, document.data)
        else:
            extracted = extract_text(document.filename, document.data, self.settings.limits)
        pieces = split_file_text(extracted, self.settings.chunking)
        if not pieces:
            msg = "no text in it"
            raise ExtractionError(msg)
        chunks = file_chunks(
            pieces, guild_id=document.guild_id, channel_id=document.channel_id, record_id=record_id,
            filename=document.filename, message_id=document.message_id, author_id=document.author_id,
            created_at=document.created_at, jump_url=document.jump_url,
        )  # fmt: skip
        added, removed = self.records.replace_chunks(document.guild_id, stale, chunks)
        # The record (with its hash) is written last: a crash before it means the file is read again.
        self.records.save_file(
            FileRecord(
                record_id=record_id, guild_id=document.guild_id, channel_id=document.channel_id,
                source=document.source, filename=document.filename, content_type=document.content_type,
                size=len(document.data), message_id=document.message_id, author_id=document.author_id,
                created_at=document.created_at, jump_url=document.jump_url, content_hash=digest,
            )
        )  # fmt: skip
        return added, removed, len(chunks) - len(added)

    @_serialised
    def remember_messages(self, messages: Sequence[ChatMessage], *, progress: Progress | None = None) -> IngestReport:
        """Remember new or edited chat messages: unchanged ones are skipped, changed channels re-windowed."""
        started = time.monotonic()
        refused = self.records.opted_out(m.author_id for m in messages)
        erased = self._erased((m.guild_id, m.message_id) for m in messages)
        skipped = [(f"message {m.message_id}", OPTED_OUT) for m in messages if m.author_id in refused]
        skipped += [(f"message {m.message_id}", ERASED) for m in messages if m.message_id in erased]
        keyed = [
            (m, sort_key(m), _message_hash(m))
            for m in messages
            if m.author_id not in refused and m.message_id not in erased
        ]
        anchors: dict[tuple[str, str], str] = {}
        by_channel: dict[tuple[str, str], list[tuple[ChatMessage, str, str]]] = defaultdict(list)
        for item in keyed:
            by_channel[(item[0].guild_id, item[0].channel_id)].append(item)
        for (guild_id, channel_id), items in by_channel.items():
            first = min(key for _, key, _ in items)
            anchors[(guild_id, channel_id)] = self.records.chat_anchor(
                guild_id, channel_id, first, [m.message_id for m, _, _ in items]
            )
        changed = self.records.save_messages(keyed, anchors)
        report = self.rebuild_stale_windows(progress=progress)
        report.records = len(changed)
        report.skipped.extend(skipped)
        report.seconds = time.monotonic() - started
        return report

    def _erased(self, messages: Iterable[tuple[str, str]]) -> set[str]:
        """Of these (guild id, message id) pairs, the message ids never to be stored again (one query a guild)."""
        by_guild: dict[str, list[str]] = defaultdict(list)
        for guild_id, message_id in messages:
            by_guild[guild_id].append(message_id)
        return {i for guild_id, ids in by_guild.items() for i in self.records.erased(guild_id, ids)}

    @_serialised
    def delete_messages(self, guild_id: str, message_ids: Sequence[str], *, keep_out: bool = True) -> ForgetReport:
        """Erase messages (and the files that came with them) from every window and the index.

        With `keep_out` (deletes in Discord, forgets on request) the ids are marked so that no later backfill,
        reconciliation or edit stores them again; expiry passes False.
        """
        known = self.records.messages(guild_id, message_ids)
        anchors: dict[tuple[str, str], str] = {}
        for message in known:
            key = (guild_id, message.channel_id)
            anchor = self.records.chat_anchor(guild_id, message.channel_id, sort_key(message), [message.message_id])
            anchors[key] = min(anchor, anchors.get(key, anchor))
        deleted = self.records.delete_messages(guild_id, message_ids, anchors, keep_out=keep_out)
        files: list[str] = []
        for message_id in message_ids:
            files.extend(self.records.file_ids_where(guild_id, message_id=message_id))
        removed = self.records.delete_files(guild_id, files)
        self.vectors.delete(guild_id, removed)
        report = self.rebuild_stale_windows()
        self.records.purge_erased()
        return ForgetReport(messages=deleted, files=len(files), chunks=len(removed) + report.chunks_removed)

    @_serialised
    def forget_removed_attachments(self, guild_id: str, message_id: str, kept_sources: Iterable[str]) -> int:
        """Erase the files of a message that an edit removed (those whose source is not kept); return how many."""
        kept = set(kept_sources)
        gone = [
            record_id
            for record_id in self.records.file_ids_where(guild_id, message_id=message_id)
            if (record := self.records.file(record_id)) is not None and record.source not in kept
        ]
        if gone:
            self.vectors.delete(guild_id, self.records.delete_files(guild_id, gone))
            self.records.purge_erased()
        return len(gone)

    def channel_message_ids(self, guild_id: str, channel_id: str, since: str = "") -> list[str]:
        """Ids of the messages held for exactly this channel created at or after `since` (ISO), oldest first."""
        return self.records.channel_message_ids(guild_id, channel_id, since)

    def message_channels(self, guild_id: str) -> dict[str, str | None]:
        """The channels holding a guild's chat messages: channel id -> parent channel id (threads) or None."""
        return self.records.message_channels(guild_id)

    @_serialised
    def rebuild_stale_windows(self, *, progress: Progress | None = None) -> IngestReport:
        """Re-window every channel marked stale (also finishes work a crash interrupted), then embed."""
        report = IngestReport()
        pending: list[Chunk] = []
        for guild_id, channel_id, anchor in self.records.stale_windows():
            messages = self.records.channel_messages_from(guild_id, channel_id, anchor)
            inside = {m.message_id for m in messages}
            quoted = [m.reply_to for m in messages if m.reply_to and m.reply_to not in inside]
            context = {m.message_id: m for m in self.records.messages(guild_id, quoted)} if quoted else {}
            windows = chat_windows(messages, self.settings.chunking, context=context)
            stale = self.records.chunk_ids_from(guild_id, f"chat:{channel_id}", anchor)
            added, removed = self.records.replace_chunks(guild_id, stale, windows, rebuilt_channel=channel_id)
            self.vectors.delete(guild_id, removed)
            report.chunks_removed += len(removed)
            report.chunks_unchanged += len(windows) - len(added)
            pending.extend(added)
            if len(pending) >= 256:
                report.merge(self._index(pending, progress=progress))
                pending = []
        report.merge(self._index(pending, progress=progress))
        if report.chunks_removed:
            self.records.purge_erased()
        self._stamp()
        return report

    @_serialised
    def embed_pending(self, *, progress: Progress | None = None, at_most: int | None = None) -> int:
        """Embed chunks stored but not yet indexed (after a crash, a repair, or for `reindex`), all of them or
        about `at_most` (whole batches of 512); return how many."""
        done = 0
        while (at_most is None or done < at_most) and (batch := self.records.pending_chunks(limit=512)):
            self._index(batch, progress=progress)
            done += len(batch)
        return done

    def _index(self, chunks: Sequence[Chunk], *, progress: Progress | None = None) -> IngestReport:
        """Embed chunks and write their vectors, guild by guild, then mark them embedded in SQLite."""
        report = IngestReport()
        if not chunks:
            return report
        if self.records.get_meta("embedding_model") is None:
            self.records.set_meta("embedding_model", self.identity)
        by_guild: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in chunks:
            by_guild[chunk.guild_id].append(chunk)
        size = self.settings.embeddings.batch_size * 4
        for guild_id, items in by_guild.items():
            for start in range(0, len(items), size):
                batch = items[start : start + size]
                try:
                    vectors = self.embeddings.embed_documents([_embedding_text(c) for c in batch])
                except Exception as e:  # any embedder failure: the chunks stay pending in SQLite for a retry
                    msg = f"embedding failed ({type(e).__name__}: {e}); the chunks are kept and retried next run"
                    raise EmbeddingError(msg) from e
                if len(vectors) != len(batch):
                    msg = f"the embedder returned {len(vectors)} vectors for {len(batch)} texts"
                    raise EmbeddingError(msg)
                self.vectors.upsert(guild_id, batch, vectors)
                self.records.mark_embedded([c.chunk_id for c in batch])
                report.chunks_added += len(batch)
                report.tokens += sum(c.tokens for c in batch)
                if progress:
                    progress(len(batch))
        return report

    def _stamp(self) -> None:
        self.records.set_meta("last_ingest_at", datetime.now(UTC).isoformat(timespec="seconds"))

    # --- reading --------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        guild_id: str,
        *,
        channels: Sequence[str] | None = None,
        k: int | None = None,
        budget: int | None = None,
        min_score: float | None = None,
    ) -> PackedContext:
        """Hybrid search in one guild's memory.

        Args:
            query: what to look for.
            guild_id: whose memory.
            channels: restrict to these channels (None: all of the guild's).
            k: at most this many hits (default `retrieval.k`).
            budget: pack the hits into this many tokens, as `ask` does; None means no budget.
            min_score: least similarity (default `retrieval.min_score`).
        """
        limit = k if k is not None else self.settings.retrieval.k
        hits = self.retriever.search(
            query, guild_id, channels=channels, limit=None if budget is not None else limit, min_score=min_score
        )
        if budget is None:
            return pack(hits, budget=10**12, model=self.settings.llm.model, max_hits=limit)
        return pack(hits, budget=budget, model=self.settings.llm.model, max_hits=limit)

    def ask(
        self, question: str, guild_id: str, *, channels: Sequence[str] | None = None, budget: int | None = None
    ) -> Answer:
        """Retrieve and pack the context for a question and answer it extractively (no language model)."""
        context = self.search(
            question, guild_id, channels=channels, budget=budget or self.settings.retrieval.max_context_tokens,
            k=self.settings.retrieval.k,
        )  # fmt: skip
        return Answer(extractive_answer(question, context), context, generated=False)

    # --- forgetting, maintenance ----------------------------------------------------------------------

    @_serialised
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
            messages = len(self.records.message_ids_where(guild_id))
            files = len(self.records.file_ids_where(guild_id))
            chunks = self.records.delete_guild(guild_id)
            self.vectors.drop_guild(guild_id)
            self.records.purge_erased()
            return ForgetReport(messages=messages, files=files, chunks=chunks)
        if message_id is not None:
            message_ids = [message_id]
            if channel_id is not None or user_id is not None:
                found = self.records.messages(guild_id, [message_id])
                message_ids = [
                    m.message_id for m in found
                    if (channel_id is None or channel_id in {m.channel_id, m.parent_channel_id})
                    and (user_id is None or m.author_id == user_id)
                ]  # fmt: skip
            file_ids = self.records.file_ids_where(
                guild_id, channel_id=channel_id, message_id=message_id, author_id=user_id
            )
        else:
            message_ids = self.records.message_ids_where(guild_id, channel_id=channel_id, author_id=user_id)
            file_ids = self.records.file_ids_where(guild_id, channel_id=channel_id, author_id=user_id)
        removed = self.records.delete_files(guild_id, file_ids)
        self.vectors.delete(guild_id, removed)
        # A member's or a message's erasure sticks (a later backfill leaves them out); a channel's does not, so
        # that an admin can forget a channel and read it afresh (its backfill starts over too).
        keep_out = message_id is not None or user_id is not None
        if not keep_out and channel_id is not None:
            self.records.delete_backfill_cursor(guild_id, channel_id)
        result = self.delete_messages(guild_id, message_ids, keep_out=keep_out)
        return ForgetReport(
            messages=result.messages, files=len(file_ids) + result.files, chunks=result.chunks + len(removed)
        )

    # --- members' privacy -----------------------------------------------------------------------------

    def opt_out(self, user_id: str) -> None:
        """Remember nothing more of this user, in any guild (what is held already stays: see
        `forget_user_everywhere`)."""
        self.records.add_opt_out(user_id, datetime.now(UTC).isoformat(timespec="seconds"))

    def opt_in(self, user_id: str) -> bool:
        """Remember this user again from now on; return whether they had opted out."""
        return self.records.remove_opt_out(user_id)

    def is_opted_out(self, user_id: str) -> bool:
        """Whether this user opted out."""
        return self.records.opt_out_since(user_id) is not None

    # --- per-guild channel policies -------------------------------------------------------------------

    def set_channel_policy(self, guild_id: str, channel_id: str, remembered: bool) -> None:
        """Remember (or not) a channel or category of a guild from now on; what is held already stays."""
        self.records.set_channel_policy(guild_id, channel_id, remembered)

    def clear_channel_policy(self, guild_id: str, channel_id: str) -> bool:
        """Let the configured default decide for a channel again; return whether it had a policy."""
        return self.records.clear_channel_policy(guild_id, channel_id)

    def channel_policies(self, guild_id: str) -> dict[str, bool]:
        """A guild's explicit channel policies: channel or category id -> remembered."""
        return self.records.channel_policies(guild_id)

    def all_channel_policies(self) -> dict[str, dict[str, bool]]:
        """Every guild's explicit channel policies (one query, for a cache loaded at startup)."""
        return self.records.all_channel_policies()

    # --- history backfill cursors ----------------------------------------------------------------------

    def backfill_cursor(self, guild_id: str, channel_id: str) -> BackfillCursor | None:
        """Where a channel's backfill got to, or None if it never ran."""
        return self.records.backfill_cursor(guild_id, channel_id)

    def save_backfill_cursor(self, cursor: BackfillCursor) -> None:
        """Store a backfill cursor: call it only once the batch it covers is stored, so a restart never skips."""
        self.records.save_backfill_cursor(cursor)

    def backfill_cursors(self, guild_id: str | None = None) -> list[BackfillCursor]:
        """A guild's backfill cursors (every guild's if None)."""
        return self.records.backfill_cursors(guild_id)

    # --- per-guild settings and retention --------------------------------------------------------------

    def guild_settings(self, guild_id: str) -> GuildSettings:
        """The settings in force for a guild: its own where set, config.yaml's otherwise."""
        return resolve(self.records.guild_settings(guild_id), self.settings)

    def set_guild_setting(self, guild_id: str, key: str, value: object) -> GuildSettings:
        """Validate and store one setting of a guild; return the settings now in force.

        Raises:
            GuildSettingError: unknown key or value not allowed (nothing is stored).
        """
        self.records.set_guild_setting(guild_id, key, validate(key, value, self.settings))
        return self.guild_settings(guild_id)

    def clear_guild_setting(self, guild_id: str, key: str) -> bool:
        """Let config.yaml decide a setting of a guild again; return whether the guild had set it."""
        return self.records.clear_guild_setting(guild_id, key)

    @_serialised
    def expire(self, now: datetime | None = None) -> ForgetReport:
        """Erase chat messages and files older than each guild's retention (0 days: kept forever), through the
        same paths as `forget`, so the erased text is gone from the data directory's files."""
        now = now or datetime.now(UTC)
        messages = files = chunks = 0
        for guild_id in self.records.guilds():
            days = self.guild_settings(guild_id).retention_days
            if days <= 0:
                continue
            cutoff = (now.astimezone(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
            message_ids, file_ids = self.records.records_before(guild_id, cutoff)
            if not message_ids and not file_ids:
                continue
            removed = self.records.delete_files(guild_id, file_ids)
            self.vectors.delete(guild_id, removed)
            # Re-windows the channels and purges; no erased marks: a message past retention may be read again.
            result = self.delete_messages(guild_id, message_ids, keep_out=False)
            messages += result.messages
            files += len(file_ids) + result.files
            chunks += result.chunks + len(removed)
        return ForgetReport(messages=messages, files=files, chunks=chunks)

    def forget_user_everywhere(self, user_id: str) -> ForgetReport:
        """Erase every message and uploaded file of a user, in every guild."""
        messages = files = chunks = 0
        for guild_id in self.records.author_guilds(user_id):
            report = self.forget(guild_id, user_id=user_id)
            messages, files, chunks = messages + report.messages, files + report.files, chunks + report.chunks
        return ForgetReport(messages=messages, files=files, chunks=chunks)

    def user_data(self, user_id: str) -> dict[str, Any]:
        """What is held about a user: per guild and channel, the message count, file names and first/last
        dates; and whether (since when) they opted out."""
        guilds: dict[str, dict[str, Any]] = {}
        for entry in self.records.author_summary(user_id):
            guild = guilds.setdefault(str(entry["guild_id"]), {"messages": 0, "files": 0, "channels": {}})
            files = entry["files"]
            assert isinstance(files, list)  # noqa: S101
            guild["messages"] += entry["messages"]
            guild["files"] += len(files)
            guild["channels"][str(entry["channel_id"])] = {
                "messages": entry["messages"], "files": files, "first": entry["first"], "last": entry["last"],
            }  # fmt: skip
        since = self.records.opt_out_since(user_id)
        return {
            "user_id": user_id, "opted_out": since is not None, "opted_out_since": since,
            "messages": sum(g["messages"] for g in guilds.values()), "files": sum(g["files"] for g in guilds.values()),
            "guilds": guilds,
        }  # fmt: skip

    @_serialised
    def reindex(self, guild_id: str | None = None, *, progress: Progress | None = None) -> int:
        """Rebuild the vector index from SQLite with the configured model; return how many chunks."""
        guilds = [guild_id] if guild_id is not None else self.records.guilds()
        total = 0
        for guild in guilds:
            self.vectors.drop_guild(guild)
            self.records.mark_guild_unembedded(guild)
        self.records.set_meta("embedding_model", self.identity)
        while batch := self.records.pending_chunks(limit=512):
            self._index(batch, progress=progress)
            total += len(batch)
        return total

    def stats(self, guild_id: str | None = None) -> dict[str, Any]:
        """Counts per guild and channel, vectors held, disk use, the embedding model, the last ingest."""
        stats = self.records.stats(guild_id)
        guilds = stats["guilds"]
        assert isinstance(guilds, dict)  # noqa: S101
        for guild, values in guilds.items():
            values["vectors"] = self.vectors.count(guild)
        data_dir = Path(self.settings.storage.data_dir)
        stats["disk_bytes"] = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())
        stats["embedding_model"] = self.records.get_meta("embedding_model")
        stats["last_ingest_at"] = self.records.get_meta("last_ingest_at")
        return stats


def _identity_of(embeddings: Embeddings) -> str:
    return str(getattr(embeddings, "identity", None) or f"custom:{type(embeddings).__name__}")


def _message_hash(message: ChatMessage) -> str:
    return content_hash(
        "\x1f".join([message.content, message.author_name, message.reply_to or "", *message.attachment_names])
    )


def _embedding_text(chunk: Chunk) -> str:
    # A file name often says what a piece is about ("runbook-deploys.txt"); give it to the embedder too.
    return f"{chunk.filename}\n{chunk.text}" if chunk.kind == "file" and chunk.filename else chunk.text


def _damaged_collections(chroma_dir: Path, records: RecordStore) -> list[Damage]:
    """Collections that fail the health check, and guilds holding fewer vectors than SQLite says were
    embedded (vectors lost, e.g. a segment rebuilt from an incomplete log), or none at all."""
    if not chroma_dir.exists():
        return []
    damaged, counts = find_damaged(chroma_dir)
    flagged = {d.guild_id for d in damaged}
    for guild_id, embedded in records.embedded_counts().items():
        if guild_id not in flagged and counts.get(guild_id, 0) < embedded:
            problem = f"{counts.get(guild_id, 0)} vectors where {embedded} were written"
            damaged.append(Damage(collection_name(guild_id), guild_id, problem))
    return damaged
