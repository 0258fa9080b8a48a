"""Where Discord meets memory: messages become chat records, attachments are downloaded (within the byte cap)
into file documents."""

from __future__ import annotations

import logging

import aiohttp
import discord

from memory import ChatMessage, FileDocument, LimitSettings, clean_text, utc_iso

log = logging.getLogger(__name__)
DOWNLOAD_CHUNK_BYTES = 64 * 1024
# Images, audio and video hold no text we can read; they are named in the message's line instead.
UNREADABLE_PREFIXES = ("image/", "audio/", "video/")

# Message types that carry what members said; everything else (joins, pins, boosts...) is a system message.
USER_MESSAGE_TYPES = {discord.MessageType.default, discord.MessageType.reply}


def is_remembered_kind(message: discord.Message) -> bool:
    """Whether a message is a member's own words: not a bot's (this bot's own included), not the system's, not a
    webhook's."""
    return message.type in USER_MESSAGE_TYPES and not message.author.bot and message.webhook_id is None


def member_record(message: discord.Message) -> ChatMessage | None:
    """A member's own message as a memory record; None for other kinds and for messages with nothing to keep."""
    return to_chat_message(message) if is_remembered_kind(message) else None


def channel_ids_of(channel: object) -> tuple[str, str | None]:
    """A channel's id and, for a thread or forum post, its parent's id."""
    if isinstance(channel, discord.Thread):
        return str(channel.id), str(channel.parent_id)
    return str(getattr(channel, "id", "")), None


def place_names(message: discord.Message) -> tuple[tuple[str, str, str], ...]:
    """The names Discord gives a message's guild, channel and (for a thread) parent channel, as (guild id, channel
    id or '' for the guild, name): stored so that sources read "#dev" rather than an id."""
    if message.guild is None:
        return ()
    guild_id, channel = str(message.guild.id), message.channel
    named = [(guild_id, "", message.guild.name), (guild_id, str(channel.id), getattr(channel, "name", None) or "")]
    if isinstance(channel, discord.Thread) and channel.parent is not None:
        named.append((guild_id, str(channel.parent.id), channel.parent.name))
    return tuple(entry for entry in named if entry[2])


def to_chat_message(message: discord.Message) -> ChatMessage | None:
    """A Discord message as a memory record; None when it holds no text and no files."""
    if message.guild is None:
        return None
    content = clean_text(message.content or "").strip()
    embed_text = " ".join(clean_text(part) for e in message.embeds for part in (e.title, e.description) if part)
    if embed_text and embed_text not in content:
        content = f"{content} {embed_text}".strip()
    attachments = tuple(a.filename for a in message.attachments)
    if not content and not attachments:
        return None
    channel_id, parent_id = channel_ids_of(message.channel)
    author = message.author
    return ChatMessage(
        guild_id=str(message.guild.id),
        channel_id=channel_id,
        message_id=str(message.id),
        author_id=str(author.id),
        author_name=getattr(author, "display_name", None) or author.name,
        content=content,
        created_at=utc_iso(message.created_at),
        edited_at=utc_iso(message.edited_at) if message.edited_at else None,
        jump_url=message.jump_url,
        reply_to=str(message.reference.message_id) if message.reference and message.reference.message_id else None,
        attachment_names=attachments,
        parent_channel_id=parent_id,
    )


async def download_capped(session: aiohttp.ClientSession, url: str, max_bytes: int) -> bytes:
    """Download at most `max_bytes`; a file that turns out bigger than it claimed is refused mid-stream.

    discord.py's `Attachment.read()` reads everything into memory with no cap, so this streams instead.

    Raises:
        ValueError: the file is larger than the cap.
    """
    data = bytearray()
    async with session.get(url) as response:
        response.raise_for_status()
        async for block in response.content.iter_chunked(DOWNLOAD_CHUNK_BYTES):
            data.extend(block)
            if len(data) > max_bytes:
                msg = f"larger than the {max_bytes:,}-byte limit (stopped downloading)"
                raise ValueError(msg)
    return bytes(data)


def attachment_sources(message: discord.Message) -> tuple[str, ...]:
    """The memory sources of a message's attachments (what its files are remembered under)."""
    return tuple(f"attachment:{a.id}" for a in message.attachments)


def file_document(message: discord.Message, attachment: discord.Attachment, data: bytes) -> FileDocument:
    """An attachment as a memory file, linked to the message it came with."""
    channel_id, _ = channel_ids_of(message.channel)
    return FileDocument(
        guild_id=str(message.guild.id if message.guild else ""),
        channel_id=channel_id,
        source=f"attachment:{attachment.id}",  # as in `attachment_sources`
        filename=attachment.filename,
        data=data,
        content_type=attachment.content_type,
        message_id=str(message.id),
        author_id=str(message.author.id),
        created_at=utc_iso(message.created_at),
        jump_url=message.jump_url,
    )


class Attachments:
    """Downloads attachments for live memory, backfills and reconciliation, through one HTTP session."""

    def __init__(self, limits: LimitSettings) -> None:
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None

    def open(self) -> None:
        """Open the download session (in the running event loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))

    async def close(self) -> None:
        """Close the download session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def documents(self, message: discord.Message) -> list[FileDocument]:
        """Every attachment of a message that can be remembered, downloaded one after another within the cap."""
        documents = []
        for attachment in message.attachments:
            document = await self._document(message, attachment)
            if document is not None:
                documents.append(document)
        return documents

    async def _document(self, message: discord.Message, attachment: discord.Attachment) -> FileDocument | None:
        """An attachment downloaded within the byte cap as a memory file, or None (too big, no text, failed)."""
        if attachment.size > self._limits.max_file_bytes:  # refused before a single byte is downloaded
            log.info("attachment %s skipped: %d bytes is over the limit", attachment.filename, attachment.size)
            return None
        if (attachment.content_type or "").startswith(UNREADABLE_PREFIXES):
            return None
        if self._session is None:
            msg = "Attachments.open() was not called"
            raise RuntimeError(msg)
        try:
            data = await download_capped(self._session, attachment.url, self._limits.max_file_bytes)
        except (aiohttp.ClientError, ValueError, TimeoutError) as e:
            log.info("attachment %s skipped: %s", attachment.filename, e)
            return None
        return file_document(message, attachment, data)
