"""The `Memory` façade, the one door of the library: open a data directory, remember, search, forget, report."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from memory.answering import Question
from memory.chat_export import export_document
from memory.embeddings import LazyEmbeddings, close_embeddings
from memory.erase import Eraser
from memory.guild_settings import PerGuildSettings
from memory.in_force import EVENT_LOOK, first_telling
from memory.ingest import Ingestor, Progress
from memory.lock import DataDirLock
from memory.marks import HistoryMark
from memory.opening import open_parts
from memory.packing import PackedContext, pack
from memory.prompts import Exchange
from memory.reports import AskedQuestion, ChannelStats, ForgetReport, GuildStats, IngestReport, MemoryStats, UserData
from memory.rerank import PairScorer
from memory.retrieval import Retriever
from memory.settings import MemorySettings
from memory.stores.chroma_health import Damage
from memory.stores.interfaces import RecordStores, VectorIndex
from memory.types import ChatMessage, Chunk, FileDocument, utc_iso
from memory.when import TimeScope
from memory.when import resolve as resolve_time

log = logging.getLogger(__name__)
UNLIMITED = 10**12  # a search without a budget packs every hit it keeps


class Memory:
    """Long-term memory of one data directory (many guilds). Thread-safe enough for `asyncio.to_thread` callers:
    the stores serialise their own access and the writers take turns (see `memory.ingest.Writer`).

    Besides memory proper it holds the state that lives beside it in the same database, as sub-objects:
    `opt_outs`, `channel_policies`, `guild_settings`, `backfills`, `names` and `marks`. They stay here, not in the
    bot, because ingestion itself needs the opt-outs and the answers the guild settings, and because every process
    that shares one memory (several bot processes, the command line) must see the same state at once."""

    def __init__(
        self,
        settings: MemorySettings,
        *,
        stores: RecordStores,
        vectors: VectorIndex,
        embeddings: Embeddings,
        identity: str,
        lock: DataDirLock | None = None,
        owns_index: bool = False,
        owns_embeddings: bool = False,
        reranker: PairScorer | None = None,
    ) -> None:
        self.settings = settings
        self.identity = identity  # the embedding model's name, stored with the index
        self.stores = stores  # the parts, for tests and benchmarks; callers use the methods below
        self.vectors = vectors
        self.embeddings = embeddings
        self.opt_outs = stores.opt_outs
        self.channel_policies = stores.channel_policies
        self.backfills = stores.backfills
        self.questions = stores.questions
        self.names = stores.names  # guild and channel names, for sources that read "#dev" rather than an id
        self.marks = stores.marks  # how far each channel's history is held (`memory.marks`)
        self.guild_settings = PerGuildSettings(stores.guild_settings, settings)
        self._lock = lock
        self._owns_index = owns_index  # close the Chroma client too (it was made here, not passed in)
        self._owns_embeddings = owns_embeddings
        write_lock = threading.RLock()
        self._ingestor = Ingestor(stores, vectors, embeddings, settings, identity=identity, write_lock=write_lock)
        self._eraser = Eraser(stores, vectors, self._ingestor, self.guild_settings, write_lock=write_lock)
        self._retriever = Retriever(stores.chunks, stores.keywords, vectors, embeddings, settings.retrieval,
                                    records=stores.records, reranker=reranker)  # fmt: skip
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
        reranker: PairScorer | None = None,
    ) -> Memory:
        """Lock the data directory, open SQLite and Chroma, and check the embedding model.

        Args:
            settings: validated settings.
            embeddings: an embedder to use instead of the configured one (tests, benchmarks).
            chroma_client: a Chroma client to use instead of the configured one.
            allow_model_change: let `reindex` open a store built with another embedding model.
            reranker: a cross-encoder to use instead of the one `retrieval.reranker` names (tests).
            check_index: first check the embedded vector index in a child process (`memory.stores.chroma_health`);
                a damaged guild collection is dropped and its chunks marked for embedding again (`repaired`),
                so that `embed_pending` rebuilds it from SQLite while the other guilds carry on.

        Raises:
            StoreLockedError: another process owns the data directory.
            EmbeddingModelMismatchError: the index was built with another model (run `memorybot reindex`).
        """
        parts = open_parts(
            settings, embeddings=embeddings, chroma_client=chroma_client, allow_model_change=allow_model_change,
            check_index=check_index, reranker=reranker,
        )  # fmt: skip
        try:
            memory = cls(
                settings, stores=parts.stores, vectors=parts.vectors, embeddings=parts.embeddings,
                identity=parts.identity, lock=parts.lock, owns_index=parts.owns_index,
                owns_embeddings=parts.owns_embeddings, reranker=parts.reranker,
            )  # fmt: skip
            memory._repair(parts.damaged)
        except BaseException:
            parts.release()
            raise
        return memory

    def _repair(self, damaged: Sequence[Damage]) -> None:
        """Drop damaged collections and mark their guilds' chunks for embedding again."""
        for damage in damaged:
            log.warning(
                "the vector index of guild %s is damaged (%s): rebuilding it from SQLite",
                damage.guild_id or "?", damage.problem,
            )  # fmt: skip
            self.vectors.drop_collection(damage.collection)  # at open: the index holds no handle on it yet
            if damage.guild_id is not None:
                self.stores.chunks.mark_guild_unembedded(damage.guild_id)
                self.repaired.append(damage.guild_id)

    def load_embedder(self) -> None:
        """Load the embedding model now rather than at the first embedding (the bot does at start: a missing model
        or API key stops it there, and the first answer does not wait for the load).

        Raises:
            EmbeddingError: the model cannot be loaded.
            ConfigError: the OpenAI provider's API key variable is unset.
        """
        if isinstance(self.embeddings, LazyEmbeddings):
            self.embeddings.load()

    def open_index(self) -> None:
        """Open the vector index now rather than at its first use (the bot does at start: an unreachable Chroma
        server stops it there, and the first answer does not wait for the opening)."""
        self.vectors.connect()

    def close(self) -> None:
        """Stop the parser worker, close the stores, release the data directory."""
        self._ingestor.close()
        self._retriever.close()
        if self._owns_index:
            self.vectors.close()  # an embedded client holds chroma.sqlite3 and the index files open
        if self._owns_embeddings:
            close_embeddings(self.embeddings)
        self.stores.database.close()
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- remembering (memory.ingest) ------------------------------------------------------------------

    def ingest_files(self, documents: Iterable[FileDocument], *, progress: Progress | None = None) -> IngestReport:
        """Remember files: extract, split, store, embed. A file that fails is reported and the rest go on."""
        return self._ingestor.ingest_files(documents, progress=progress)

    def remember_messages(
        self, messages: Sequence[ChatMessage], *, marks: Sequence[HistoryMark] = (), progress: Progress | None = None
    ) -> IngestReport:
        """Remember new or edited chat messages: unchanged ones are skipped, changed channels re-windowed; `marks`
        move in the same transaction as the messages (see `memory.marks`)."""
        return self._ingestor.remember_messages(messages, marks=marks, progress=progress)

    def catch_up(self, *, at_most: int | None = None, guilds: Callable[[str], bool] | None = None) -> int:
        """Finish what an interrupted run left: rebuild stale windows, then embed chunks still without a vector
        (all, or about `at_most`), of every guild or only those `guilds` accepts (a sharded bot's own); return how
        many were embedded."""
        self._ingestor.rebuild_stale_windows(guilds=guilds)
        return self._ingestor.embed_pending(at_most=at_most, guilds=guilds)

    def reindex(self, guild_id: str | None = None, *, progress: Progress | None = None) -> int:
        """Rebuild the vector index from SQLite with the configured model; return how many chunks."""
        guilds = [guild_id] if guild_id is not None else self.stores.records.guilds()
        return self._ingestor.reindex(guilds, progress=progress)

    # --- forgetting (memory.erase) --------------------------------------------------------------------

    def delete_messages(self, guild_id: str, message_ids: Sequence[str], *, keep_out: bool = True) -> ForgetReport:
        """Erase messages deleted in Discord (and their files); with `keep_out`, they are never stored again."""
        return self._eraser.delete_messages(guild_id, message_ids, keep_out=keep_out)

    def forget(
        self,
        guild_id: str,
        *,
        channel_id: str | None = None,
        message_id: str | None = None,
        user_id: str | None = None,
    ) -> ForgetReport:
        """Erase a message, a channel, a user's messages and files, or (no filter) the whole guild."""
        return self._eraser.forget(guild_id, channel_id=channel_id, message_id=message_id, user_id=user_id)

    def forget_removed_attachments(self, guild_id: str, message_id: str, kept_sources: Iterable[str]) -> int:
        """Erase the files of a message that an edit removed (those whose source is not kept); return how many."""
        return self._eraser.forget_removed_attachments(guild_id, message_id, kept_sources)

    def forget_user_everywhere(self, user_id: str) -> ForgetReport:
        """Erase every message and uploaded file of a user, in every guild."""
        return self._eraser.forget_user_everywhere(user_id)

    def expire(self, now: datetime | None = None, *, guilds: Callable[[str], bool] | None = None) -> ForgetReport:
        """Erase chat messages and files older than each guild's retention (0 days: kept forever), in every guild or
        only in those `guilds` accepts (a sharded bot's own)."""
        return self._eraser.expire(now, guilds=guilds)

    # --- reading --------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        guild_id: str,
        *,
        channels: Sequence[str] | None = None,
        max_sources: int | None = None,
        budget: int | None = None,
        min_relevance: float | None = None,
        now: datetime | None = None,
        after: date | None = None,
        before: date | None = None,
        scope: TimeScope | None = None,
    ) -> PackedContext:
        """Hybrid search in one guild's memory, packed as an answer would pack it when a budget is given.

        Args:
            query: what to look for; its time words ("now", "last week", "in March") count (see `time_scope`).
            guild_id: whose memory.
            channels: restrict to these channels (None: all of the guild's).
            max_sources: at most this many hits (default: the guild's setting, else `retrieval.max_sources`).
            budget: pack the hits into this many tokens; None means no budget.
            min_relevance: least similarity (default: the guild's setting, else `retrieval.min_relevance`).
            now: when the query is asked (default: the real time), which its time words are resolved against.
            after: only what was said from the start of this day on.
            before: only what was said up to the end of this day.
            scope: the time scope already resolved (instead of `now`, `after` and `before`).
        """
        if scope is None:
            scope = self.time_scope(query, guild_id, channels=channels, now=now, after=after, before=before)
        if max_sources is None or min_relevance is None:
            own = self.guild_settings.get(guild_id)
            max_sources = own.max_sources if max_sources is None else max_sources
            min_relevance = own.min_relevance if min_relevance is None else min_relevance
        hits = self._retriever.search(
            query, guild_id, channels=channels, max_sources=None if budget is not None else max_sources,
            min_relevance=min_relevance, scope=scope,
        )  # fmt: skip
        limit = UNLIMITED if budget is None else budget
        return pack(hits, budget=limit, model=self.settings.llm.model, max_sources=max_sources)

    def question(
        self,
        text: str,
        guild_id: str,
        *,
        channels: Sequence[str] | None = None,
        guild_name: str = "",
        history: Sequence[Exchange] = (),
        max_sources: int | None = None,
        budget: int | None = None,
        min_relevance: float | None = None,
        now: datetime | None = None,
        after: date | None = None,
        before: date | None = None,
    ) -> Question:
        """A question with its defaults resolved once: the guild's settings (else config.yaml's), then what the
        caller gives for this question alone (the command line's `--max-sources`, `--budget`, `--min-relevance`);
        and its time words, resolved against `now` (default: the real time) within `after`/`before`."""
        settings = self.guild_settings.get(guild_id)
        given = {"max_sources": max_sources, "budget": budget, "min_relevance": min_relevance}
        if any(value is not None for value in given.values()):
            settings = settings.model_copy(update={k: v for k, v in given.items() if v is not None})
        asked_at = (now or datetime.now(UTC)).astimezone(UTC)
        scope = self.time_scope(text, guild_id, channels=channels, now=asked_at, after=after, before=before)
        return Question(
            text=text, guild_id=guild_id, settings=settings, channels=None if channels is None else tuple(channels),
            guild_name=guild_name, history=tuple(history), asked_at=asked_at, scope=scope,
        )  # fmt: skip

    def time_scope(
        self,
        text: str,
        guild_id: str,
        *,
        channels: Sequence[str] | None = None,
        now: datetime | None = None,
        after: date | None = None,
        before: date | None = None,
    ) -> TimeScope:
        """The time a question asks about (`memory.when`), resolved against `now`; an event it names ("before
        the launch") is looked up in the guild's memory, and dropped when memory holds nothing about it."""
        scope = resolve_time(text, (now or datetime.now(UTC)), after=after, before=before)
        if scope.event is None:
            return scope
        said = TimeScope(asked_at=scope.asked_at)  # an event mentioned only after the question was asked is unknown
        found = self._retriever.search(
            scope.event, guild_id, channels=channels, max_sources=EVENT_LOOK, min_relevance=0.0, scope=said
        )
        told = first_telling(found, announced=scope.clause)
        if told is None or told.chunk.created_at is None:
            return replace(scope, event=None)
        return scope.relative_to(datetime.fromisoformat(told.chunk.created_at), told.chunk.chunk_id)

    def messages_between(
        self, guild_id: str, after: datetime, before: datetime, *, channels: Sequence[str] | None = None
    ) -> list[ChatMessage]:
        """A guild's chat messages said in [after, before), in some channels or all, oldest first (for recaps)."""
        start, end = utc_iso(after), utc_iso(before)
        return self.stores.records.messages_between(guild_id, start, end, channels=channels)

    def log_question(
        self, guild_id: str, channel_id: str | None, user_id: str, question: str, context: PackedContext
    ) -> str | None:
        """Log a question asked and the sources its answer used (none: memory found nothing); return its id, or
        None when the asker opted out of being remembered (their questions are not kept either)."""
        if self.opt_outs.since(user_id) is not None:
            return None
        asked_at = datetime.now(UTC).isoformat(timespec="seconds")
        sources = [hit.chunk.chunk_id for hit in context.hits]
        return self.questions.record(guild_id, channel_id, user_id, question, asked_at, sources)

    def sources_of(self, asked: AskedQuestion) -> list[Chunk]:
        """The passages a logged question's answer drew on, as far as memory still holds them."""
        held = self.stores.chunks.chunks(list(asked.sources))
        return [held[i] for i in asked.sources if i in held]

    def channels(self, guild_id: str) -> list[str]:
        """The channels of a guild that hold memory (chunks)."""
        return self.stores.chunks.channels(guild_id)

    def message_channels(self, guild_id: str) -> dict[str, str | None]:
        """The channels holding a guild's chat messages: channel id -> parent channel id (threads) or None."""
        return self.stores.records.message_channels(guild_id)

    def channel_message_ids(self, guild_id: str, channel_id: str, since: str = "") -> list[str]:
        """Ids of the messages held for exactly this channel created at or after `since` (ISO), oldest first."""
        return self.stores.records.channel_message_ids(guild_id, channel_id, since)

    def stats(self, guild_id: str | None = None) -> MemoryStats:
        """Counts per guild and channel, vectors written, disk use, the embedding model, the last ingest (all read
        from SQLite: the vector index is not opened)."""
        channels: dict[str, dict[str, ChannelStats]] = defaultdict(dict)
        records = self.stores.records.record_counts(guild_id)
        chunks = self.stores.chunks.chunk_counts(guild_id)
        for guild, channel in sorted(records.keys() | chunks.keys()):
            messages, files = records.get((guild, channel), (0, 0))
            counted = chunks.get((guild, channel), ChannelStats())
            channels[guild][channel] = replace(counted, messages=messages, files=files)
        # Vectors as SQLite records them written, not as Chroma counts them: stats never waits for the vector index
        # to open (at bot start `check_index` compares the two and rebuilds a guild's index that lost vectors).
        written = self.stores.chunks.embedded_counts()
        guilds = {guild: GuildStats(held, vectors=written.get(guild, 0)) for guild, held in channels.items()}
        data_dir = Path(self.settings.storage.data_dir)
        return MemoryStats(
            guilds=guilds,
            disk_bytes=sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()),
            embedding_model=self.stores.database.get_meta("embedding_model"),
            last_ingest_at=self.stores.database.get_meta("last_ingest_at"),
        )

    def user_data(self, user_id: str) -> UserData:
        """What is held about a user, per guild and channel, and whether (since when) they opted out."""
        places = tuple(self.stores.records.author_places(user_id))
        return UserData(user_id=user_id, opted_out_since=self.opt_outs.since(user_id), places=places)

    def export_chat(
        self, guild_id: str, *, guild_name: str = "", channel_names: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """A guild's remembered chat as DiscordChatExporter-style JSON (see `memory.chat_export`)."""
        records = self.stores.records
        messages = records.messages(guild_id, records.message_ids_where(guild_id))
        return export_document(messages, guild_id, guild_name=guild_name, channel_names=channel_names)
