"""Reads DiscordChatExporter JSON exports into chat messages, skipping bots and system messages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def jump_url(guild_id: str, channel_id: str, message_id: str) -> str:
    """The link that opens a message in Discord."""
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def read_chat_export(path: Path, *, guild_id: str | None = None) -> ChatExport:
    """Parse a DiscordChatExporter JSON file.

    Args:
        path: the export.
        guild_id: remember it under this guild instead of the export's own.

    Raises:
        ChatExportError: unreadable file or not a DiscordChatExporter export; one bad message is skipped instead.
    """
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError) as e:
        msg = f"{path}: cannot read as JSON ({e})"
        raise ChatExportError(msg) from e
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("channel"), dict)
        or not isinstance(raw.get("messages"), list)
    ):
        msg = f"{path}: not a DiscordChatExporter JSON export (needs 'channel' and 'messages')"
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
        msg = f"{path}: the channel has no id"
        raise ChatExportError(msg)
    parent = (
        str(channel["categoryId"])
        if channel.get("type") in THREAD_CHANNEL_TYPES and channel.get("categoryId")
        else None
    )
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
