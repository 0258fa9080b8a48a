"""Splits text into embeddable chunks: files by structure within a token bound, chat into conversation windows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from langchain_text_splitters import Language, MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from memory.extract import ExtractedText
from memory.settings import ChunkingSettings
from memory.tokens import encoding_for
from memory.types import ChatMessage, Chunk

# The embedding model only reads ~256 word pieces, so chunks are bounded in tiktoken tokens here and
# packing re-counts with the answering model's encoding.
_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]
_REPLY_QUOTE_WORDS = 12
MESSAGE_PASSAGE_WORDS = 5  # a shorter message ("lol", "same here") says too little to be a passage alone


def _count(text: str) -> int:
    return len(encoding_for(None).encode(text, disallowed_special=()))


def chunk_id(*parts: str) -> str:
    """A deterministic id from the parts that define a chunk (so re-running ingestion changes nothing)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def content_hash(text: str) -> str:
    """Short stable hash of a text, to tell edits apart."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _splitter(settings: ChunkingSettings, fmt: str, language: str | None, size: int) -> RecursiveCharacterTextSplitter:
    separators: list[str] | None = None
    if fmt == "code" and language and language in {item.value for item in Language}:
        separators = RecursiveCharacterTextSplitter.get_separators_for_language(Language(language))
    elif fmt == "markdown":
        separators = RecursiveCharacterTextSplitter.get_separators_for_language(Language.MARKDOWN)
    elif fmt == "table":
        separators = ["\n", "; ", " ", ""]
    return RecursiveCharacterTextSplitter(
        separators=separators,
        chunk_size=size,
        chunk_overlap=min(settings.file_overlap_tokens, size // 2),
        length_function=_count,
        keep_separator=True,
        strip_whitespace=True,
    )


def _hard_bound(text: str, limit: int) -> list[str]:
    """Cut a text that no separator could split (one huge word) at token boundaries."""
    encoding = encoding_for(None)
    tokens = encoding.encode(text, disallowed_special=())
    if len(tokens) <= limit:
        return [text]
    return [encoding.decode(tokens[i : i + limit]) for i in range(0, len(tokens), limit)]


@dataclass(frozen=True, slots=True)
class FilePiece:
    """A piece of a file's text, with where in the file it is: its PDF page, or its section's heading trail."""

    text: str
    page: int | None = None  # 1-based
    section: str | None = None  # e.g. "Runbook > Deploys"


def split_file_text(extracted: ExtractedText, settings: ChunkingSettings) -> list[FilePiece]:
    """Split a file's text on its structure into pieces of at most `file_chunk_tokens` tokens, with overlap.

    A PDF page or a markdown section (docx and HTML become markdown) is a boundary that no piece crosses, so a
    piece can name its page or section. Markdown sections keep their heading trail at the top of each piece,
    so a piece read alone says what it is about.
    """
    limit = settings.file_chunk_tokens
    pieces: list[FilePiece] = []
    if extracted.pages:
        splitter = _splitter(settings, extracted.format, extracted.language, limit)
        for number, page in enumerate(extracted.pages, start=1):
            pieces += [FilePiece(piece, page=number) for piece in splitter.split_text(page)]
    elif extracted.format == "markdown":
        sections = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True).split_text(extracted.text)
        for section in sections:
            trail = " > ".join(str(section.metadata[key]) for _, key in _HEADERS if key in section.metadata)
            prefix = f"{trail}\n" if trail else ""
            size = max(limit - _count(prefix), limit // 2)
            for piece in _splitter(settings, "markdown", None, size).split_text(section.page_content):
                pieces.append(FilePiece(prefix + piece, section=trail or None))
    if not any(piece.text.strip() for piece in pieces):  # plain text, or markdown that is only headings
        fmt = "text" if extracted.format == "markdown" else extracted.format
        pieces = [FilePiece(p) for p in _splitter(settings, fmt, extracted.language, limit).split_text(extracted.text)]
    return [
        FilePiece(bounded, piece.page, piece.section)
        for piece in pieces
        if piece.text.strip()
        for bounded in _hard_bound(piece.text, limit)
    ]


def file_chunks(
    pieces: Sequence[FilePiece],
    *,
    guild_id: str,
    channel_id: str,
    record_id: str,
    filename: str,
    message_id: str | None,
    author_id: str | None,
    created_at: str | None,
    jump_url: str | None,
) -> list[Chunk]:
    """Turn a file's pieces into chunks that carry the file's provenance and each piece's page or section."""
    return [
        Chunk(
            # The place is part of the id: a file split again with pages replaces the pieces it had without.
            chunk_id=chunk_id(
                guild_id, channel_id, "file", record_id, str(position), piece.text, str(piece.page), str(piece.section)
            ),
            kind="file",
            guild_id=guild_id,
            channel_id=channel_id,
            record_id=record_id,
            position=position,
            start_key=f"{position:08d}",
            text=piece.text,
            tokens=_count(piece.text),
            message_ids=(message_id,) if message_id else (),
            author_ids=(author_id,) if author_id else (),
            created_at=created_at,
            jump_url=jump_url,
            filename=filename,
            page=piece.page,
            section=piece.section,
        )
        for position, piece in enumerate(pieces)
    ]


def sort_key(message: ChatMessage) -> str:
    """Chronological order of messages; the id breaks ties (Discord ids grow with time)."""
    return f"{message.created_at}|{message.message_id.zfill(24)}"


def _minutes_between(earlier: str, later: str) -> float:
    return (datetime.fromisoformat(later) - datetime.fromisoformat(earlier)).total_seconds() / 60


def message_line(message: ChatMessage, replied: ChatMessage | None) -> str:
    """How one message reads inside a window: time, author, text, what it replies to, its files."""
    stamp = message.created_at[:16].replace("T", " ")
    line = f"[{stamp}] {message.author_name}: {message.content}".rstrip()
    if replied is not None:
        words = replied.content.split()
        quote = " ".join(words[:_REPLY_QUOTE_WORDS]) + (" …" if len(words) > _REPLY_QUOTE_WORDS else "")
        line += f' (replying to {replied.author_name}: "{quote}")'
    if message.attachment_names:
        line += " [attached: " + ", ".join(message.attachment_names) + "]"
    return line


def chat_windows(
    messages: Sequence[ChatMessage],
    settings: ChunkingSettings,
    *,
    context: Mapping[str, ChatMessage] | None = None,
) -> list[Chunk]:
    """Group one channel's consecutive messages into conversation windows.

    A window ends at a time gap longer than `chat_gap_minutes` or when the next message would push it
    past `chat_window_tokens`; in the second case the next window starts with the last message again,
    so a reply is embedded with what it answers. The windows are a function of the first message
    alone, which lets an edit re-chunk from the window it touches onwards and leave earlier ones alone.

    Args:
        messages: one channel's messages in `sort_key` order.
        settings: window bounds.
        context: other messages (by id) that replies may quote when they are not in `messages`.
    """
    if not messages:
        return []
    known = {m.message_id: m for m in messages}
    lookup = {**(context or {}), **known}
    lines = [message_line(m, lookup.get(m.reply_to) if m.reply_to else None) for m in messages]
    sizes = [_count(line + "\n") for line in lines]
    limit = settings.chat_window_tokens
    windows: list[Chunk] = []
    start = 0
    while start < len(messages):
        end = start + 1  # exclusive
        total = sizes[start]
        carry = False
        while end < len(messages):
            if _minutes_between(messages[end - 1].created_at, messages[end].created_at) > settings.chat_gap_minutes:
                break
            if total + sizes[end] > limit:
                carry = end - start >= 2 and sizes[end - 1] + sizes[end] <= limit
                break
            total += sizes[end]
            end += 1
        windows.extend(_window_chunks(messages[start:end], lines[start:end], limit))
        start = end - 1 if carry else end
    if settings.message_passages:
        windows.extend(_message_chunks(messages, lines, windows, limit))
    return windows


def _message_chunks(
    messages: Sequence[ChatMessage], lines: Sequence[str], windows: Sequence[Chunk], limit: int
) -> list[Chunk]:
    """Each message of a window of several, as a passage of its own: a fact said in passing is found by its own
    words, where the window it is diluted in ranks low (and it packs in a few tokens)."""
    shared = {mid for w in windows if len(w.message_ids) > 1 for mid in w.message_ids}
    out: list[Chunk] = []
    for message, line in zip(messages, lines, strict=True):
        if message.message_id not in shared or len(message.content.split()) < MESSAGE_PASSAGE_WORDS:
            continue
        tokens = _count(line)
        if tokens > limit:
            continue
        out.append(
            Chunk(
                chunk_id=chunk_id(message.guild_id, message.channel_id, "message", message.message_id, line),
                kind="message", guild_id=message.guild_id, channel_id=message.channel_id,
                record_id=f"chat:{message.channel_id}", position=0, start_key=sort_key(message), text=line,
                tokens=tokens, message_ids=(message.message_id,), author_ids=(message.author_id,),
                created_at=message.created_at, jump_url=message.jump_url,
            )
        )  # fmt: skip
    return out


def _window_chunks(messages: Sequence[ChatMessage], lines: Sequence[str], limit: int) -> list[Chunk]:
    first = messages[0]
    text = "\n".join(lines)
    texts = [text]
    if len(messages) == 1 and _count(text) > limit:  # one long message: split it, each piece still cites it
        texts = [piece for piece in _hard_split_text(text, limit) if piece.strip()]
    ids = tuple(m.message_id for m in messages)
    authors = tuple(dict.fromkeys(m.author_id for m in messages))
    return [
        Chunk(
            chunk_id=chunk_id(first.guild_id, first.channel_id, "chat", json.dumps(ids), str(index), piece),
            kind="chat",
            guild_id=first.guild_id,
            channel_id=first.channel_id,
            record_id=f"chat:{first.channel_id}",
            position=index,
            start_key=sort_key(first),
            text=piece,
            tokens=_count(piece),
            message_ids=ids,
            author_ids=authors,
            created_at=first.created_at,
            jump_url=first.jump_url,
        )
        for index, piece in enumerate(texts)
    ]


def _hard_split_text(text: str, limit: int) -> list[str]:
    splitter = RecursiveCharacterTextSplitter(chunk_size=limit, chunk_overlap=0, length_function=_count)
    out: list[str] = []
    for piece in splitter.split_text(text):
        out.extend(_hard_bound(piece, limit))
    return out
