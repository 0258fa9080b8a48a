"""The DiscordChatExporter JSON format, both ways: exports read into chat messages (bots and system messages
skipped), and a guild's remembered chat written back out in the same shape."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeGuard

from memory.chunking import sort_key
from memory.errors import ChatExportError
from memory.extract import clean_text
from memory.types import ChatMessage, utc_iso

# DiscordChatExporter writes the message type's name; these two carry what people said.
USER_MESSAGE_TYPES = {"Default", "Reply"}
THREAD_CHANNEL_TYPES = {"GuildPublicThread", "GuildPrivateThread", "GuildNewsThread"}


@dataclass(slots=True)
class ChatExport:
    """One exported channel: its messages, and what was skipped and why."""

    guild_id: str
    guild_name: str
    channel_id: str
    channel_name: str
    messages: list[ChatMessage] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    parent_id: str | None = None  # a thread's channel
    parent_name: str = ""

    @property
    def names(self) -> dict[str, str]:
        """The names the export gives, as `Memory.names.remember` takes them: '' for the guild, then the channel's
        and a thread's parent's (empty ones left out)."""
        named = {"": self.guild_name, self.channel_id: self.channel_name}
        if self.parent_id:
            named[self.parent_id] = self.parent_name
        return {place: name for place, name in named.items() if name}


def jump_url(guild_id: str, channel_id: str, message_id: str) -> str:
    """The link that opens a message in Discord."""
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def read_chat_export(path: Path, *, guild_id: str | None = None) -> ChatExport:
    """Parse a DiscordChatExporter JSON file.

    Args:
        path: the export.
        guild_id: remember it under this guild instead of the export's own.

    Raises:
        ChatExportError: missing or unreadable file, or not a DiscordChatExporter export (its `reason` without
            the file's name); one bad message is skipped instead.
    """
    try:
        return _read(path, guild_id)
    except ChatExportError as e:
        raise ChatExportError(f"{path}: {e}", reason=str(e)) from e


def _read(path: Path, guild_id: str | None) -> ChatExport:
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        msg = "no such file"
        raise ChatExportError(msg) from e
    except OSError as e:
        msg = f"cannot read: {e.strerror}"
        raise ChatExportError(msg) from e
    raw = _parsed(data)
    if not _is_export(raw):
        msg = "not a DiscordChatExporter JSON export (needs 'channel' and 'messages')"
        raise ChatExportError(msg)
    guild: dict[str, Any] = raw["guild"] if isinstance(raw.get("guild"), dict) else {}
    channel = raw["channel"]
    export = ChatExport(
        guild_id=str(guild_id or guild.get("id") or "local"),
        guild_name=str(guild.get("name") or ""),
        channel_id=str(channel.get("id") or ""),
        channel_name=str(channel.get("name") or ""),
    )
    if not export.channel_id:
        msg = "the channel has no id"
        raise ChatExportError(msg)
    parent = (
        str(channel["categoryId"])
        if channel.get("type") in THREAD_CHANNEL_TYPES and channel.get("categoryId")
        else None
    )
    # A thread's parent channel is its "category" to DiscordChatExporter, named as such.
    export.parent_id, export.parent_name = parent, str(channel.get("category") or "") if parent else ""
    for index, item in enumerate(raw["messages"]):
        try:
            message = _message(item, export, parent)
        except (KeyError, TypeError, ValueError) as e:
            export.skipped.append((f"{path.name} message #{index}", f"malformed ({type(e).__name__}: {e})"))
            continue
        if isinstance(message, str):
            export.skipped.append((f"{path.name} message {item.get('id')}", message))
        else:
            export.messages.append(message)
    return export


def looks_like_chat_export(data: bytes) -> bool:
    """Whether these bytes are a DiscordChatExporter JSON export (to be imported as chat, not stored as a file)."""
    try:
        return _is_export(_parsed(data))
    except ChatExportError:
        return False


def _parsed(data: bytes) -> object:
    try:
        return json.loads(data)
    except ValueError as e:
        msg = f"cannot read as JSON ({e})"
        raise ChatExportError(msg) from e
    except RecursionError as e:  # json's C parser recurses once per level of nesting
        msg = "cannot read as JSON (nested too deeply)"
        raise ChatExportError(msg) from e


def _is_export(raw: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(raw, dict) and isinstance(raw.get("channel"), dict) and isinstance(raw.get("messages"), list)


def _message(item: dict[str, Any], export: ChatExport, parent: str | None) -> ChatMessage | str:
    """A message, or the reason it is skipped."""
    kind = item.get("type", "Default")
    author = item["author"]
    if kind not in USER_MESSAGE_TYPES:
        return f"system message ({kind})"
    if author.get("isBot"):
        return "written by a bot"
    content = clean_text(str(item.get("content") or "")).strip()
    attachments = tuple(
        str(a.get("fileName") or a.get("url", "").rsplit("/", 1)[-1]) for a in item.get("attachments") or []
    )
    embeds = [e for e in item.get("embeds") or [] if isinstance(e, dict)]
    embed_text = " ".join(
        clean_text(str(part)) for e in embeds for part in (e.get("title"), e.get("description")) if part
    )
    if embed_text and embed_text not in content:
        content = f"{content} {embed_text}".strip()
    if not content and not attachments:
        return "empty (no text or files)"
    message_id = str(item["id"])
    reference = item.get("reference") if isinstance(item.get("reference"), dict) else None
    return ChatMessage(
        guild_id=export.guild_id,
        channel_id=export.channel_id,
        message_id=message_id,
        author_id=str(author["id"]),
        author_name=str(author.get("nickname") or author.get("name") or author["id"]),
        content=content,
        created_at=utc_iso(str(item["timestamp"])),
        edited_at=utc_iso(str(item["timestampEdited"])) if item.get("timestampEdited") else None,
        jump_url=jump_url(export.guild_id, export.channel_id, message_id),
        reply_to=str(reference["messageId"]) if reference and reference.get("messageId") else None,
        attachment_names=attachments,
        parent_channel_id=parent,
    )


# --- writing ----------------------------------------------------------------------------------------------


def export_document(
    messages: Sequence[ChatMessage],
    guild_id: str,
    *,
    guild_name: str = "",
    channel_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A guild's messages as one JSON document: the guild, then one entry per channel (oldest message first).

    Each entry of `channels` is a complete DiscordChatExporter export of its own (`guild`, `channel`,
    `messages`), so a channel can be cut out of the file and fed back to `memorybot import-chat`.
    """
    names = channel_names or {}
    by_channel: dict[str, list[ChatMessage]] = defaultdict(list)
    for message in messages:
        by_channel[message.channel_id].append(message)
    guild = {"id": guild_id, "name": guild_name}
    channels = []
    for channel_id in sorted(by_channel, key=lambda c: (len(c), c)):  # snowflakes: shorter is older
        items = sorted(by_channel[channel_id], key=sort_key)
        parent = next((m.parent_channel_id for m in items if m.parent_channel_id), None)
        channel = {
            "id": channel_id,
            # The reader takes a thread's parent from `categoryId`, as DiscordChatExporter writes it.
            "type": "GuildPublicThread" if parent else "GuildTextChat",
            "categoryId": parent,
            "name": names.get(channel_id, ""),
        }
        channels.append(
            {
                "guild": guild,
                "channel": channel,
                "messages": [_exported(m) for m in items],
                "messageCount": len(items),
            }
        )
    return {
        "exportedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "guild": guild,
        "channels": channels,
        "messageCount": len(messages),
    }


def _exported(message: ChatMessage) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message.message_id,
        "type": "Reply" if message.reply_to else "Default",
        "timestamp": message.created_at,
        "timestampEdited": message.edited_at,
        "content": message.content,
        "author": {"id": message.author_id, "name": message.author_name, "isBot": False},
        "attachments": [{"fileName": name} for name in message.attachment_names],
        "url": message.jump_url or jump_url(message.guild_id, message.channel_id, message.message_id),
    }
    if message.reply_to:
        item["reference"] = {
            "messageId": message.reply_to,
            "channelId": message.channel_id,
            "guildId": message.guild_id,
        }
    return item
