"""Plain, frozen values that flow through the memory library: messages, files, chunks, hits, cursors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

ChunkKind = Literal["chat", "message", "file"]  # a conversation window, one of its messages, a file piece


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
    page: int | None = None  # a file piece's PDF page (1-based)
    section: str | None = None  # a file piece's section: its heading trail

    @property
    def place(self) -> str | None:
        """Where in its file this piece is, as a source names it ("costs.pdf p. 3", "guide.md, Deploys"); None: chat."""
        if self.kind != "file" or not self.filename:
            return None
        if self.page is not None:
            return f"{self.filename} p. {self.page}"
        return f"{self.filename}, {self.section}" if self.section else self.filename


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved chunk with its fused relevance (higher is better) and dense similarity."""

    chunk: Chunk
    score: float
    similarity: float | None = None
    neighbour_of: str | None = None  # set when added as context around another hit (a chunk id)


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A remembered file's row (its text lives in its chunks)."""

    record_id: str
    guild_id: str
    channel_id: str
    source: str
    filename: str
    content_type: str | None
    size: int
    message_id: str | None
    author_id: str | None
    created_at: str | None
    jump_url: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class BackfillCursor:
    """How far a channel's history backfill got: everything up to `newest_id` is stored."""

    guild_id: str
    channel_id: str
    oldest_id: str | None = None
    newest_id: str | None = None  # resume after this id (before the first batch: the `since` point, if any)
    messages: int = 0
    files: int = 0
    done: bool = False
    started_at: str | None = None
    updated_at: str | None = None
    max_messages: int | None = None


def utc_iso(timestamp: str | datetime) -> str:
    """Normalise a timestamp to one sortable form: UTC, microseconds, `+00:00` (naive means UTC)."""
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00")) if isinstance(timestamp, str) else timestamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
