"""Small deterministic stand-ins for the slow parts: a hashing embedder, chat message builders, hand-made passages."""

from __future__ import annotations

import hashlib
import math
import re
from datetime import UTC, datetime, timedelta

from langchain_core.embeddings import Embeddings

from memory import ChatMessage, Chunk, utc_iso
from memory.tokens import count_tokens


class HashEmbeddings(Embeddings):
    """Bag of lower-cased words hashed into 256 dimensions, normalised: texts that share words are close."""

    identity = "test:hash-256"

    def __init__(self, dimensions: int = 256) -> None:
        self.dimensions = dimensions
        self.calls = 0
        self.texts_embedded = 0

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "big") % self.dimensions] += 1.0 if digest[4] % 2 else -1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        if norm == 1.0 and not any(vector):
            vector[0] = 1.0
        return [x / norm for x in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        self.texts_embedded += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def message(
    number: int,
    content: str,
    *,
    guild: str = "g1",
    channel: str = "c1",
    author: str = "u1",
    minutes: float | None = None,
    reply_to: int | None = None,
    attachments: tuple[str, ...] = (),
) -> ChatMessage:
    """A chat message whose id and time follow from `number` (one minute apart unless `minutes` is given)."""
    moment = START + timedelta(minutes=number if minutes is None else minutes)
    message_id = str(1_000_000 + number)
    return ChatMessage(
        guild_id=guild,
        channel_id=channel,
        message_id=message_id,
        author_id=author,
        author_name=f"user-{author}",
        content=content,
        created_at=utc_iso(moment),
        jump_url=f"https://discord.com/channels/{guild}/{channel}/{message_id}",
        reply_to=None if reply_to is None else str(1_000_000 + reply_to),
        attachment_names=attachments,
    )


def passage(
    chunk_id: str,
    text: str,
    *,
    kind: str = "chat",
    channel: str = "c",
    message_ids: tuple[str, ...] = (),
    section: str | None = None,
) -> Chunk:
    """A chunk made by hand, for ranking, packing and quoting tests: tokens counted, no time or link; a file
    piece is named `<chunk_id>.md`."""
    in_file = kind == "file"
    return Chunk(
        chunk_id=chunk_id, kind=kind, guild_id="g", channel_id=channel,  # type: ignore[arg-type]
        record_id=chunk_id if in_file else f"chat:{channel}", position=0, start_key=chunk_id, text=text,
        tokens=count_tokens(text), message_ids=message_ids, author_ids=(), created_at=None, jump_url=None,
        filename=f"{chunk_id}.md" if in_file else None, section=section,
    )  # fmt: skip


def dce_export(guild: str, channel: str, messages: list[dict[str, object]], *, channel_name: str = "general") -> dict:
    """A DiscordChatExporter JSON document around the given message objects."""
    return {
        "guild": {"id": guild, "name": "Test Guild", "iconUrl": ""},
        "channel": {
            "id": channel,
            "type": "GuildTextChat",
            "categoryId": "1",
            "category": "Text",
            "name": channel_name,
            "topic": None,
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2024-03-05T00:00:00+00:00",
        "messages": messages,
        "messageCount": len(messages),
    }


def dce_message(
    message_id: str,
    content: str,
    *,
    author_id: str = "501",
    author_name: str = "alice",
    timestamp: str = "2024-03-01T09:00:00+00:00",
    kind: str = "Default",
    is_bot: bool = False,
    reply_to: str | None = None,
    attachments: list[dict[str, object]] | None = None,
) -> dict[str, object]:
    """One message object in DiscordChatExporter's JSON shape."""
    item: dict[str, object] = {
        "id": message_id, "type": kind, "timestamp": timestamp, "timestampEdited": None,
        "callEndedTimestamp": None, "isPinned": False, "content": content,
        "author": {"id": author_id, "name": author_name, "discriminator": "0000", "nickname": author_name,
                   "color": None, "isBot": is_bot, "roles": [], "avatarUrl": ""},
        "attachments": attachments or [], "embeds": [], "stickers": [], "reactions": [], "mentions": [],
    }  # fmt: skip
    if reply_to:
        item["reference"] = {"messageId": reply_to, "channelId": "x", "guildId": "y"}
    return item
