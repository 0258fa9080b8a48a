"""A guild's remembered chat as DiscordChatExporter-style JSON, re-importable with `read_chat_export`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from memory.chat_export import jump_url
from memory.chunking import sort_key
from memory.records import RecordStore
from memory.types import ChatMessage


def export_guild(
    records: RecordStore,
    guild_id: str,
    *,
    guild_name: str = "",
    channel_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The guild, then one entry per channel (oldest message first).

    Each entry of `channels` is a complete DiscordChatExporter export of its own (`guild`, `channel`,
    `messages`), so a channel can be cut out of the file and fed back to `memorybot import-chat`.
    """
    names = channel_names or {}
    messages = records.messages(guild_id, records.message_ids_where(guild_id))
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
                "messages": [_message(m) for m in items],
                "messageCount": len(items),
            }
        )
    return {
        "exportedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "guild": guild,
        "channels": channels,
        "messageCount": len(messages),
    }


def _message(message: ChatMessage) -> dict[str, Any]:
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
