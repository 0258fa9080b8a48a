"""Plain, frozen values that flow through the memory library: messages, files, chunks and hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

ChunkKind = Literal["chat", "file"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One remembered chat message (from Discord, or from a DiscordChatExporter file)."""

    guild_id: str
    channel_id: str
    message_id: str
    author_id: str
    author_name: str
    content: str
    created_at: str  # ISO 8601, UTC
    edited_at: str | None = None
    jump_url: str | None = None
    reply_to: str | None = None
    attachment_names: tuple[str, ...] = ()
    parent_channel_id: str | None = None  # the parent channel of a thread or forum post


@dataclass(frozen=True, slots=True)
class FileDocument:
    """A file to remember, with the message (if any) it was uploaded with."""

    guild_id: str
    channel_id: str
    source: str  # a stable key: the attachment id, or the path the file was ingested from
    filename: str
    data: bytes
    content_type: str | None = None
    message_id: str | None = None
    author_id: str | None = None
    created_at: str | None = None
    jump_url: str | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """A unit that is embedded and searched: a conversation window or a piece of a file."""

    chunk_id: str
    kind: ChunkKind
    guild_id: str
    channel_id: str
    record_id: str  # the file record for file chunks; the channel's chat stream for chat windows
    position: int
    start_key: str  # sort key of the first message (chat) or the chunk's order in its file
    text: str
    tokens: int
    message_ids: tuple[str, ...]
    author_ids: tuple[str, ...]
    created_at: str | None
    jump_url: str | None
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved chunk with its fused relevance (higher is better) and dense similarity."""

    chunk: Chunk
    score: float
    similarity: float | None = None
    neighbour_of: str | None = None  # set when added as context around another hit (a chunk id)


@dataclass(slots=True)
class IngestReport:
    """What one ingestion run did; printed as the summary at its end."""

    records: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    tokens: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    seconds: float = 0.0

    def merge(self, other: IngestReport) -> None:
        """Add another report's counts to this one."""
        self.records += other.records
        self.chunks_added += other.chunks_added
        self.chunks_removed += other.chunks_removed
        self.chunks_unchanged += other.chunks_unchanged
        self.tokens += other.tokens
        self.skipped.extend(other.skipped)


def utc_iso(timestamp: str | datetime) -> str:
    """Normalise a timestamp to one sortable form: UTC, microseconds, `+00:00` (naive means UTC)."""
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00")) if isinstance(timestamp, str) else timestamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
