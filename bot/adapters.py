"""Where Discord meets memory: messages and attachments become memory records; permissions become channel sets."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import aiohttp
import discord

from memory import ChatMessage, FileDocument, utc_iso
from memory.extract import clean_text
from memory.settings import LimitSettings

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


def policy_ids(channel: object) -> list[str]:
    """The ids whose policy decides for this channel: itself, its parent (threads), and their categories."""
    ids: list[str] = [str(getattr(channel, "id", ""))]
    parent = channel.parent if isinstance(channel, discord.Thread) else None
    if parent is not None:
        ids.append(str(parent.id))
    for holder in (channel, parent):
        category_id = getattr(holder, "category_id", None)
        if category_id:
            ids.append(str(category_id))
    return ids


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


async def attachment_document(
    session: aiohttp.ClientSession, message: discord.Message, attachment: discord.Attachment, limits: LimitSettings
) -> FileDocument | None:
    """An attachment downloaded within the byte cap as a memory file, or None (too big, no text, failed)."""
    if attachment.size > limits.max_file_bytes:  # refused before a single byte is downloaded
        log.info("attachment %s skipped: %d bytes is over the limit", attachment.filename, attachment.size)
        return None
    if (attachment.content_type or "").startswith(UNREADABLE_PREFIXES):
        return None
    try:
        data = await download_capped(session, attachment.url, limits.max_file_bytes)
    except (aiohttp.ClientError, ValueError, TimeoutError) as e:
        log.info("attachment %s skipped: %s", attachment.filename, e)
        return None
    return file_document(message, attachment, data)


async def attachment_documents(
    session: aiohttp.ClientSession, message: discord.Message, limits: LimitSettings
) -> list[FileDocument]:
    """Every attachment of a message that can be remembered, downloaded one after another within the cap."""
    documents = []
    for attachment in message.attachments:
        document = await attachment_document(session, message, attachment, limits)
        if document is not None:
            documents.append(document)
    return documents


def can_read(member: discord.Member, channel: object) -> bool:
    """Whether a member can read a channel's history now; private threads need membership too."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        if parent is None or not _reads(member, parent):
            return False
        if channel.type == discord.ChannelType.private_thread:
            is_member = any(m.id == member.id for m in channel.members) or channel.owner_id == member.id
            return is_member or parent.permissions_for(member).manage_threads
        return True
    if isinstance(channel, discord.abc.GuildChannel):
        return _reads(member, channel)
    return False


def _reads(member: discord.Member, channel: discord.abc.GuildChannel) -> bool:
    permissions = channel.permissions_for(member)
    return permissions.view_channel and permissions.read_message_history


def readable_channels(guild: discord.Guild, member: discord.Member, channel_ids: Iterable[str]) -> list[str]:
    """Of the remembered channel ids, those the member can read now (deleted channels drop out)."""
    readable = []
    for channel_id in channel_ids:
        channel = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
        if channel is not None and can_read(member, channel):
            readable.append(channel_id)
    return readable


def audience(guild: discord.Guild, channel: object) -> list[discord.Member]:
    """One representative of every kind of reader of `channel` (the readers of a public reply posted there).

    Permissions depend on a member's roles, unless an overwrite or a private thread names the member, so
    members are grouped by role set and only the individually named ones are checked one by one.
    """
    named: set[int] = {m.id for t in guild.threads if t.type == discord.ChannelType.private_thread for m in t.members}
    for guild_channel in guild.channels:
        named.update(target.id for target in guild_channel.overwrites if isinstance(target, discord.Member))
    representatives: dict[tuple[object, ...], discord.Member] = {}
    for member in guild.members:
        key = (
            tuple(sorted(r.id for r in member.roles)),
            member.id if member.id in named or member.id == guild.owner_id else 0,
        )
        representatives.setdefault(key, member)
    return [m for m in representatives.values() if can_read(m, channel)]


def audience_safe(guild: discord.Guild, channel: object, channel_ids: Sequence[str]) -> list[str]:
    """The channels every reader of `channel` can also read: a public answer there may use only these."""
    readers = audience(guild, channel)
    safe = []
    for channel_id in channel_ids:
        target = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
        if target is not None and all(can_read(m, target) for m in readers):
            safe.append(channel_id)
    return safe
