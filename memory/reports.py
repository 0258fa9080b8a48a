"""What the memory's operations return: ingestion and erasure reports, stats, and what is held about a member."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class IngestReport:
    """What one ingestion run did; printed as the summary at its end."""

    records: int = 0  # new or changed files and messages
    records_unchanged: int = 0  # seen again as they were: nothing to do
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    tokens: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why): not for memory, by design
    failed: list[tuple[str, str]] = field(default_factory=list)  # (what, why): could not be read; an error
    truncated: list[tuple[str, str]] = field(default_factory=list)  # (what, how much of it was kept)
    seconds: float = 0.0

    def merge(self, other: IngestReport) -> None:
        """Add another report's counts to this one."""
        self.records += other.records
        self.records_unchanged += other.records_unchanged
        self.failed.extend(other.failed)
        self.truncated.extend(other.truncated)
        self.chunks_added += other.chunks_added
        self.chunks_removed += other.chunks_removed
        self.chunks_unchanged += other.chunks_unchanged
        self.tokens += other.tokens
        self.skipped.extend(other.skipped)


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What a forget erased."""

    messages: int = 0
    files: int = 0
    chunks: int = 0

    def __add__(self, other: ForgetReport) -> ForgetReport:
        return ForgetReport(self.messages + other.messages, self.files + other.files, self.chunks + other.chunks)


@dataclass(frozen=True, slots=True)
class ChannelStats:
    """What memory holds for one channel (a thread is a channel of its own): its messages and files, and its
    chunks (their tokens, chat windows and file pieces, and how many still await a vector)."""

    messages: int = 0
    files: int = 0
    chunks: int = 0
    tokens: int = 0
    chat_chunks: int = 0
    file_chunks: int = 0
    pending: int = 0


@dataclass(frozen=True, slots=True)
class GuildStats:
    """What memory holds for one guild: per channel, and the vectors written to its collection (as SQLite records)."""

    channels: dict[str, ChannelStats]
    vectors: int = 0

    @property
    def messages(self) -> int:
        """Messages held, over every channel."""
        return sum(c.messages for c in self.channels.values())

    @property
    def files(self) -> int:
        """Files held, over every channel."""
        return sum(c.files for c in self.channels.values())

    @property
    def chunks(self) -> int:
        """Chunks held, over every channel."""
        return sum(c.chunks for c in self.channels.values())

    @property
    def tokens(self) -> int:
        """Tokens of the chunks, over every channel."""
        return sum(c.tokens for c in self.channels.values())


@dataclass(frozen=True, slots=True)
class MemoryStats:
    """Counts per guild and channel, the data directory's disk use, the embedding model, the last ingest."""

    guilds: dict[str, GuildStats]
    disk_bytes: int
    embedding_model: str | None
    last_ingest_at: str | None

    def as_json(self) -> dict[str, Any]:
        """The shape `memorybot stats --json` prints: guild sums next to their channels."""
        guilds = {
            guild_id: {
                "messages": guild.messages, "files": guild.files, "chunks": guild.chunks, "tokens": guild.tokens,
                "vectors": guild.vectors, "channels": {cid: asdict(c) for cid, c in guild.channels.items()},
            }
            for guild_id, guild in self.guilds.items()
        }  # fmt: skip
        return {
            "guilds": guilds, "disk_bytes": self.disk_bytes, "embedding_model": self.embedding_model,
            "last_ingest_at": self.last_ingest_at,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlaceNames:
    """The names memory knows of one guild and its channels (from chat exports and Discord); None when unknown."""

    guild_id: str
    guild: str | None = None
    channels: Mapping[str, str] = field(default_factory=dict)  # channel or thread id -> name

    def channel(self, channel_id: str) -> str | None:
        """A channel's name without the '#', or None when memory does not know it."""
        return self.channels.get(channel_id)


@dataclass(frozen=True, slots=True)
class AuthorPlace:
    """What one member wrote or uploaded in one channel: a message count, file names and first/last dates."""

    guild_id: str
    channel_id: str
    messages: int = 0
    files: tuple[str, ...] = ()
    first: str | None = None
    last: str | None = None


@dataclass(frozen=True, slots=True)
class UserData:
    """What memory holds about a member, everywhere (`/privacy my-data`), and whether they opted out."""

    user_id: str
    opted_out_since: str | None
    places: tuple[AuthorPlace, ...]

    @property
    def opted_out(self) -> bool:
        """Whether the member asked not to be remembered."""
        return self.opted_out_since is not None

    @property
    def messages(self) -> int:
        """Messages held, everywhere."""
        return sum(p.messages for p in self.places)

    @property
    def files(self) -> int:
        """Files held, everywhere."""
        return sum(len(p.files) for p in self.places)

    def as_json(self) -> dict[str, Any]:
        """Per guild and channel: messages, file names and first/last dates (the my-data.json shape)."""
        guilds: dict[str, dict[str, Any]] = {}
        for place in self.places:
            guild = guilds.setdefault(place.guild_id, {"messages": 0, "files": 0, "channels": {}})
            guild["messages"] += place.messages
            guild["files"] += len(place.files)
            guild["channels"][place.channel_id] = {
                "messages": place.messages, "files": list(place.files), "first": place.first, "last": place.last,
            }  # fmt: skip
        return {
            "user_id": self.user_id, "opted_out": self.opted_out, "opted_out_since": self.opted_out_since,
            "messages": self.messages, "files": self.files, "guilds": guilds,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question asked of memory: who asked it where and when, the sources its answer used, and the verdicts."""

    question_id: str
    guild_id: str
    channel_id: str | None
    user_id: str
    question: str
    asked_at: str
    sources: tuple[str, ...]  # chunk ids; empty: nothing in memory cleared the relevance floor
    up: int = 0
    down: int = 0

    @property
    def unanswered(self) -> bool:
        """Whether memory found nothing for it."""
        return not self.sources
