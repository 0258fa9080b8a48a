"""What the SQL record stores share besides their SQL: rows read into domain values, values written as columns."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from memory.marks import ChannelMark, HistoryMark
from memory.reports import AskedQuestion, AuthorPlace, PlaceNames
from memory.types import BackfillCursor, ChatMessage, Chunk, FileRecord

CHUNK_COLUMNS = (
    "chunk_id, kind, guild_id, channel_id, record_id, position, start_key, text, tokens, message_ids, author_ids, "
    "created_at, jump_url, filename, page, section, embedded"
)
FILE_COLUMNS = (
    "record_id, guild_id, channel_id, source, filename, content_type, size, message_id, author_id, created_at, "
    "jump_url, content_hash"
)
MESSAGE_COLUMNS = (
    "guild_id, message_id, channel_id, parent_channel_id, author_id, author_name, content, created_at, edited_at, "
    "jump_url, reply_to, attachments, sort_key, content_hash"
)
CURSOR_COLUMNS = (
    "guild_id, channel_id, oldest_id, newest_id, messages, files, done, started_at, updated_at, max_messages"
)


class Row(Protocol):
    """A result row read by position or by column name (`sqlite3.Row`, or the PostgreSQL store's own)."""

    def __getitem__(self, key: Any, /) -> Any: ...  # noqa: ANN401  (a column's value, of its column's type)
    def keys(self) -> list[str]: ...


def older_edit(incoming: str | None, stored: str | None) -> bool:
    """Whether an incoming version of a message predates the stored one (ISO times; None: never edited)."""
    return stored is not None and (incoming is None or incoming < stored)


def message_values(message: ChatMessage, key: str, digest: str) -> tuple[object, ...]:
    """A message's columns, in `MESSAGE_COLUMNS` order."""
    return (
        message.guild_id, message.message_id, message.channel_id, message.parent_channel_id, message.author_id,
        message.author_name, message.content, message.created_at, message.edited_at, message.jump_url,
        message.reply_to, json.dumps(list(message.attachment_names)), key, digest,
    )  # fmt: skip


def message_from(row: Row) -> ChatMessage:
    """A message from its row."""
    return ChatMessage(
        guild_id=row["guild_id"], channel_id=row["channel_id"], message_id=row["message_id"],
        author_id=row["author_id"], author_name=row["author_name"], content=row["content"],
        created_at=row["created_at"], edited_at=row["edited_at"], jump_url=row["jump_url"],
        reply_to=row["reply_to"], attachment_names=tuple(json.loads(row["attachments"])),
        parent_channel_id=row["parent_channel_id"],
    )  # fmt: skip


def file_values(record: FileRecord) -> tuple[object, ...]:
    """A file record's columns, in `FILE_COLUMNS` order."""
    return (
        record.record_id, record.guild_id, record.channel_id, record.source, record.filename, record.content_type,
        record.size, record.message_id, record.author_id, record.created_at, record.jump_url, record.content_hash,
    )  # fmt: skip


def file_from(row: Row) -> FileRecord:
    """A file record from its row."""
    return FileRecord(**{name: row[name] for name in FILE_COLUMNS.split(", ")})


def chunk_values(chunk: Chunk) -> tuple[object, ...]:
    """A new chunk's columns (not yet embedded), in `CHUNK_COLUMNS` order."""
    return (
        chunk.chunk_id, chunk.kind, chunk.guild_id, chunk.channel_id, chunk.record_id, chunk.position,
        chunk.start_key, chunk.text, chunk.tokens, json.dumps(list(chunk.message_ids)),
        json.dumps(list(chunk.author_ids)), chunk.created_at, chunk.jump_url, chunk.filename, chunk.page,
        chunk.section, 0,
    )  # fmt: skip


def chunk_from(row: Row) -> Chunk:
    """A chunk from its row."""
    return Chunk(
        chunk_id=row["chunk_id"], kind=row["kind"], guild_id=row["guild_id"], channel_id=row["channel_id"],
        record_id=row["record_id"], position=row["position"], start_key=row["start_key"], text=row["text"],
        tokens=row["tokens"], message_ids=tuple(json.loads(row["message_ids"])),
        author_ids=tuple(json.loads(row["author_ids"])), created_at=row["created_at"], jump_url=row["jump_url"],
        filename=row["filename"], page=row["page"], section=row["section"],
    )  # fmt: skip


def cursor_values(cursor: BackfillCursor) -> tuple[object, ...]:
    """A backfill cursor's columns, in `CURSOR_COLUMNS` order."""
    return (
        cursor.guild_id, cursor.channel_id, cursor.oldest_id, cursor.newest_id, cursor.messages, cursor.files,
        int(cursor.done), cursor.started_at, cursor.updated_at, cursor.max_messages,
    )  # fmt: skip


def cursor_from(row: Row) -> BackfillCursor:
    """A backfill cursor from its row."""
    return BackfillCursor(
        guild_id=str(row["guild_id"]), channel_id=str(row["channel_id"]), oldest_id=row["oldest_id"],
        newest_id=row["newest_id"], messages=int(row["messages"]), files=int(row["files"]), done=bool(row["done"]),
        started_at=row["started_at"], updated_at=row["updated_at"], max_messages=row["max_messages"],
    )  # fmt: skip


def asked_from(row: Row) -> AskedQuestion:
    """A logged question from its row (with its `up` and `down` verdict counts)."""
    return AskedQuestion(
        question_id=row["question_id"], guild_id=row["guild_id"], channel_id=row["channel_id"],
        user_id=row["user_id"], question=row["question"], asked_at=row["asked_at"],
        sources=tuple(json.loads(row["sources"])), up=int(row["up"]), down=int(row["down"]),
    )  # fmt: skip


def mark_params(mark: HistoryMark) -> dict[str, object]:
    """A channel mark's move as named parameters (`memory.marks.HistoryMark` says what each kind means)."""
    missed = None if mark.missed_before is None else int(mark.missed_before)
    # A reconciliation that left a hole closes the channel to live marks: they would bury the hole.
    session = "" if mark.kind == "reconciled" and missed is not None else mark.session
    return {
        "g": mark.guild_id, "c": mark.channel_id, "id": int(mark.newest_id), "session": session,
        "after": int(mark.read_after), "missed": missed,
    }  # fmt: skip


def mark_from(guild_id: str, row: Row) -> ChannelMark:
    """A channel mark from its (channel_id, newest_id, missed_before) row."""
    missed = None if row[2] is None else str(row[2])
    return ChannelMark(guild_id=guild_id, channel_id=str(row[0]), newest_id=str(row[1]), missed_before=missed)


def place_names(guild_id: str, names: dict[str, str]) -> PlaceNames:
    """A guild's names from its channel id -> name rows (channel id '': the guild's own name)."""
    guild = names.pop("", None)
    return PlaceNames(guild_id=guild_id, guild=guild, channels=names)


def author_places(counts: Iterable[Row], files: Iterable[Row]) -> list[AuthorPlace]:
    """Per guild and channel, a user's places from the rows (guild, channel, count, first, last) of their messages
    and (guild, channel, filename, created_at) of their files (oldest first)."""
    held: dict[tuple[str, str], Row] = {(str(row[0]), str(row[1])): row for row in counts}
    named: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for row in files:
        named.setdefault((str(row[0]), str(row[1])), []).append((str(row[2]), row[3]))
    places = []
    for place in sorted(held.keys() | named.keys()):
        said = held.get(place)
        uploads = named.get(place, [])
        dates = [d for d in (said[3] if said else None, said[4] if said else None, *(w for _, w in uploads)) if d]
        places.append(
            AuthorPlace(
                guild_id=place[0], channel_id=place[1], messages=int(said[2]) if said else 0,
                files=tuple(name for name, _ in uploads), first=min(dates, default=None),
                last=max(dates, default=None),
            )
        )  # fmt: skip
    return places


def record_counts(tables: Sequence[Iterable[Row]]) -> dict[tuple[str, str], tuple[int, int]]:
    """(guild, channel) -> (messages, files) from the (guild, channel, count) rows of the messages and files."""
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for column, rows in enumerate(tables):
        for row in rows:
            held = list(counts.get((str(row[0]), str(row[1])), (0, 0)))
            held[column] = int(row[2])
            counts[(str(row[0]), str(row[1]))] = (held[0], held[1])
    return counts


def distinct(values: Iterable[str]) -> list[str]:
    """The values once each, in order (ids bound to a query)."""
    return list(dict.fromkeys(values))
