"""Ingestion: files and chat messages become records and chunks (committed first), then vectors; stale windows
are rebuilt and chunks still without a vector embedded, so an interrupted run is finished by the next one."""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Concatenate, NamedTuple, ParamSpec, TypeVar

from langchain_core.embeddings import Embeddings

from memory.chunking import chat_windows, chunk_id, content_hash, file_chunks, sort_key, split_file_text
from memory.errors import EmbeddingError, ExtractionError
from memory.extract import SANDBOXED_SUFFIXES, extract_text, suffix_of
from memory.marks import HistoryMark
from memory.reports import IngestReport
from memory.sandbox import SandboxedExtractor
from memory.settings import MemorySettings
from memory.stores.interfaces import RecordStores, VectorIndex
from memory.types import ChatMessage, Chunk, FileDocument, FileRecord

P = ParamSpec("P")
R = TypeVar("R")
Progress = Callable[[int], object]  # told how many items were just done
OPTED_OUT = "its author opted out of being remembered"
ERASED = "it was deleted or forgotten before"
# The vector length of the model the index was built with: "<model identity> <length>" (a reindex with another
# model starts over, since the identity no longer matches).
DIMENSIONS_KEY = "embedding_dimensions"
EMBED_EVERY = 256  # chunks gathered before an embedding round while ingesting
# Part of a file's content hash: a file ingested again after the splitting changed is split anew (2: PDF pages
# and sections are boundaries, and chunks name them).
FILE_SPLITTING_VERSION = b"2"


class Writer:
    """A part of memory that writes. The writers of one memory (live ingestion, backfills, forgets, expiry) take
    turns under one lock: re-windowing a channel from two threads at once could interleave its windows."""

    def __init__(self, write_lock: threading.RLock) -> None:
        self.write_lock = write_lock


W = TypeVar("W", bound=Writer)


def serialised(method: Callable[Concatenate[W, P], R]) -> Callable[Concatenate[W, P], R]:
    """Run a writing method under its writer's lock."""

    def locked(self: W, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.write_lock:
            return method(self, *args, **kwargs)

    return functools.update_wrapper(locked, method)


class StoredFile(NamedTuple):
    """What storing one file did: chunks added and removed, how many stayed, and what a cap cut off."""

    added: list[Chunk]
    removed: list[str]
    unchanged: int
    changed: bool  # False: the file is as it was stored, nothing was done
    truncated: str | None = None


class Ingestor(Writer):
    """Stores what is remembered, then embeds it: every chunk is committed before its vector is written."""

    def __init__(
        self,
        stores: RecordStores,
        vectors: VectorIndex,
        embeddings: Embeddings,
        settings: MemorySettings,
        *,
        identity: str,
        write_lock: threading.RLock,
    ) -> None:
        super().__init__(write_lock)
        self._stores = stores
        self._records = stores.records
        self._chunks = stores.chunks
        self._vectors = vectors
        self._embeddings = embeddings
        self._settings = settings
        self._identity = identity
        self._sandbox = SandboxedExtractor(settings.limits)

    def close(self) -> None:
        """Stop the parser worker."""
        self._sandbox.close()

    @serialised
    def ingest_files(self, documents: Iterable[FileDocument], *, progress: Progress | None = None) -> IngestReport:
        """Remember files: extract, split, store, embed. A file that fails is reported and the rest go on.

        Re-ingesting an unchanged file does nothing; a changed one replaces its chunks.
        """
        started = time.monotonic()
        report = IngestReport()
        pending: list[Chunk] = []
        documents = list(documents)
        refused = self._stores.opt_outs.among(d.author_id for d in documents if d.author_id is not None)
        erased = self.erased((d.guild_id, d.message_id) for d in documents if d.message_id is not None)
        for document in documents:
            try:
                if document.author_id in refused or document.message_id in erased:
                    report.skipped.append((document.source, OPTED_OUT if document.author_id in refused else ERASED))
                    continue
                stored = self._store_file(document)
            except ExtractionError as e:
                report.skipped.append((document.source, str(e)))
                continue
            finally:
                if progress:
                    progress(1)
            if stored.changed:
                report.records += 1
            else:
                report.records_unchanged += 1
            if stored.truncated:
                report.truncated.append((document.source, stored.truncated))
            report.chunks_unchanged += stored.unchanged
            report.chunks_removed += len(stored.removed)
            self._vectors.delete(document.guild_id, stored.removed)
            pending.extend(stored.added)
            if len(pending) >= EMBED_EVERY:
                report.merge(self._index(pending))
                pending = []
        report.merge(self._index(pending))
        if report.chunks_removed:
            self._stores.purge_erased()
        self._stamp()
        report.seconds = time.monotonic() - started
        return report

    def _store_file(self, document: FileDocument) -> StoredFile:
        record_id = "file:" + chunk_id(document.guild_id, document.channel_id, document.source)
        digest = hashlib.sha256(FILE_SPLITTING_VERSION + b"\x1f" + document.data).hexdigest()[:16]
        existing = self._records.file(record_id)
        stale = self._chunks.chunk_ids_from(document.guild_id, record_id)
        if existing is not None and existing.content_hash == digest and stale:
            return StoredFile([], [], len(stale), changed=False)
        if suffix_of(document.filename) in SANDBOXED_SUFFIXES:
            extracted = self._sandbox.extract(document.filename, document.data)
        else:
            extracted = extract_text(document.filename, document.data, self._settings.limits)
        pieces = split_file_text(extracted, self._settings.chunking)
        if not pieces:
            msg = "no text in it"
            raise ExtractionError(msg)
        chunks = file_chunks(
            pieces, guild_id=document.guild_id, channel_id=document.channel_id, record_id=record_id,
            filename=document.filename, message_id=document.message_id, author_id=document.author_id,
            created_at=document.created_at, jump_url=document.jump_url,
        )  # fmt: skip
        added, removed = self._chunks.replace_chunks(document.guild_id, stale, chunks)
        # The record (with its hash) is written last: a crash before it means the file is read again.
        self._records.save_file(
            FileRecord(
                record_id=record_id, guild_id=document.guild_id, channel_id=document.channel_id,
                source=document.source, filename=document.filename, content_type=document.content_type,
                size=len(document.data), message_id=document.message_id, author_id=document.author_id,
                created_at=document.created_at, jump_url=document.jump_url, content_hash=digest,
            )
        )  # fmt: skip
        return StoredFile(added, removed, len(chunks) - len(added), changed=True, truncated=extracted.truncated)

    @serialised
    def remember_messages(
        self,
        messages: Sequence[ChatMessage],
        *,
        marks: Sequence[HistoryMark] = (),
        progress: Progress | None = None,
    ) -> IngestReport:
        """Remember new or edited chat messages: unchanged ones are skipped, changed channels re-windowed; the
        channel marks move in the transaction that stores the messages (those left out count as covered)."""
        started = time.monotonic()
        if not messages:  # marks alone (messages left out on purpose): no ingest to stamp
            self._records.save_messages([], {}, marks)
            return IngestReport()
        refused = self._stores.opt_outs.among(m.author_id for m in messages)
        erased = self.erased((m.guild_id, m.message_id) for m in messages)
        skipped = [(f"message {m.message_id}", OPTED_OUT) for m in messages if m.author_id in refused]
        skipped += [(f"message {m.message_id}", ERASED) for m in messages if m.message_id in erased]
        by_channel: dict[tuple[str, str], list[tuple[ChatMessage, str, str]]] = defaultdict(list)
        for m in messages:
            if m.author_id not in refused and m.message_id not in erased:
                by_channel[(m.guild_id, m.channel_id)].append((m, sort_key(m), _message_hash(m)))
        anchors = {
            place: self._chunks.chat_anchor(
                *place, min(key for _, key, _ in items), [m.message_id for m, _, _ in items]
            )
            for place, items in by_channel.items()
        }
        kept = [item for items in by_channel.values() for item in items]
        changed = self._records.save_messages(kept, anchors, marks)
        report = self.rebuild_stale_windows(progress=progress)
        self._stamp()  # an ingest even when nothing changed (the rebuild stamps only what it rebuilt)
        report.records = len(changed)
        report.records_unchanged = len(kept) - len(changed)
        report.skipped.extend(skipped)
        report.seconds = time.monotonic() - started
        return report

    def erased(self, messages: Iterable[tuple[str, str]]) -> set[str]:
        """Of these (guild id, message id) pairs, the message ids never to be stored again (one query a guild)."""
        by_guild: dict[str, list[str]] = defaultdict(list)
        for guild_id, message_id in messages:
            by_guild[guild_id].append(message_id)
        return {i for guild_id, ids in by_guild.items() for i in self._records.erased(guild_id, ids)}

    @serialised
    def rebuild_stale_windows(
        self, *, progress: Progress | None = None, guilds: Callable[[str], bool] | None = None
    ) -> IngestReport:
        """Re-window every channel marked stale (also finishes work a crash interrupted), then embed; with `guilds`,
        only those of the guilds it accepts (the others are another process's)."""
        report = IngestReport()
        pending: list[Chunk] = []
        stale_windows = [w for w in self._chunks.stale_windows() if guilds is None or guilds(w[0])]
        for guild_id, channel_id, anchor in stale_windows:
            messages = self._records.channel_messages_from(guild_id, channel_id, anchor)
            inside = {m.message_id for m in messages}
            quoted = [m.reply_to for m in messages if m.reply_to and m.reply_to not in inside]
            context = {m.message_id: m for m in self._records.messages(guild_id, quoted)} if quoted else {}
            windows = chat_windows(messages, self._settings.chunking, context=context)
            stale = self._chunks.chunk_ids_from(guild_id, f"chat:{channel_id}", anchor)
            added, removed = self._chunks.replace_chunks(guild_id, stale, windows, rebuilt_channel=channel_id)
            self._vectors.delete(guild_id, removed)
            report.chunks_removed += len(removed)
            report.chunks_unchanged += len(windows) - len(added)
            pending.extend(added)
            if len(pending) >= EMBED_EVERY:
                report.merge(self._index(pending, progress=progress))
                pending = []
        report.merge(self._index(pending, progress=progress))
        if report.chunks_removed:
            self._stores.purge_erased()
        if stale_windows:  # nothing rebuilt is no ingest: `stats` and `search` run this first and must not stamp
            self._stamp()
        return report

    @serialised
    def embed_pending(
        self,
        *,
        progress: Progress | None = None,
        at_most: int | None = None,
        guilds: Callable[[str], bool] | None = None,
    ) -> int:
        """Embed chunks stored but not yet indexed (after a crash, a repair, or for `reindex`), all of them or
        about `at_most` (whole batches of 512), of every guild or those `guilds` accepts; return how many."""
        done = 0
        scopes: list[str | None] = [None] if guilds is None else [g for g in self._records.guilds() if guilds(g)]
        for guild_id in scopes:
            while (at_most is None or done < at_most) and (batch := self._chunks.pending_chunks(guild_id, limit=512)):
                self._index(batch, progress=progress)
                done += len(batch)
        return done

    @serialised
    def reindex(self, guild_ids: Sequence[str], *, progress: Progress | None = None) -> int:
        """Drop these guilds' vectors and embed all their chunks again with the configured model; return how many."""
        for guild_id in guild_ids:
            self._vectors.drop_guild(guild_id)
            self._chunks.mark_guild_unembedded(guild_id)
        self._stores.database.set_meta("embedding_model", self._identity)
        if set(guild_ids) >= set(self._stores.records.guilds()):  # every vector goes: their length may change too
            self._stores.database.set_meta(DIMENSIONS_KEY, "")
        return self.embed_pending(progress=progress)

    def _index(self, chunks: Sequence[Chunk], *, progress: Progress | None = None) -> IngestReport:
        """Embed chunks and write their vectors, guild by guild, then mark them embedded in the chunk store."""
        report = IngestReport()
        if not chunks:
            return report
        by_guild: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in chunks:
            by_guild[chunk.guild_id].append(chunk)
        size = self._settings.embeddings.batch_size * 4
        for guild_id, items in by_guild.items():
            for start in range(0, len(items), size):
                batch = items[start : start + size]
                try:
                    vectors = self._embeddings.embed_documents([_embedding_text(c) for c in batch])
                except EmbeddingError as e:  # its message names the endpoint and the fault already
                    msg = f"embedding failed: {e}; the chunks are kept and retried later"
                    raise EmbeddingError(msg) from e
                except Exception as e:  # any embedder failure: the chunks stay pending in SQLite for a retry
                    msg = f"embedding failed ({type(e).__name__}: {e}); the chunks are kept and retried next run"
                    raise EmbeddingError(msg) from e
                if len(vectors) != len(batch):
                    msg = f"the embedder returned {len(vectors)} vectors for {len(batch)} texts"
                    raise EmbeddingError(msg)
                self._check_dimensions(vectors)
                # Bound only once a vector is written: a first run whose embedder failed binds nothing.
                if self._stores.database.get_meta("embedding_model") is None:
                    self._stores.database.set_meta("embedding_model", self._identity)
                self._vectors.upsert(guild_id, batch, vectors)
                self._chunks.mark_embedded([c.chunk_id for c in batch])
                report.chunks_added += len(batch)
                report.tokens += sum(c.tokens for c in batch)
                if progress:
                    progress(len(batch))
        return report

    def _check_dimensions(self, vectors: Sequence[Sequence[float]]) -> None:
        """Refuse vectors whose length is not the index's (a model swapped behind the same URL, a broken server)
        before any reaches the vector index; the first batch of a model sets the length. The embedder is told, so
        that its queries are checked too."""
        lengths = {len(v) for v in vectors}
        bound = (self._stores.database.get_meta(DIMENSIONS_KEY) or "").rpartition(" ")
        expected = int(bound[2]) if bound[0] == self._identity and bound[2].isdigit() else None
        expect = getattr(self._embeddings, "expect_dimensions", None)
        if expected is not None and callable(expect):
            expect(expected)
        if len(lengths) > 1 or (expected is not None and lengths != {expected}):
            where = getattr(self._embeddings, "endpoint", self._identity)
            msg = (
                f"the embedder {where} returned vectors of {'/'.join(map(str, sorted(lengths)))} dimensions where "
                f"the index holds {expected or 'one length'}; nothing was written (the chunks are kept and retried)"
            )
            raise EmbeddingError(msg)
        (length,) = lengths
        if expected is None:
            self._stores.database.set_meta(DIMENSIONS_KEY, f"{self._identity} {length}")
            if callable(expect):
                expect(length)

    def _stamp(self) -> None:
        self._stores.database.set_meta("last_ingest_at", datetime.now(UTC).isoformat(timespec="seconds"))


def _message_hash(message: ChatMessage) -> str:
    return content_hash(
        "\x1f".join([message.content, message.author_name, message.reply_to or "", *message.attachment_names])
    )


def _embedding_text(chunk: Chunk) -> str:
    # A file name often says what a piece is about ("runbook-deploys.txt"); give it to the embedder too.
    return f"{chunk.filename}\n{chunk.text}" if chunk.kind == "file" and chunk.filename else chunk.text
