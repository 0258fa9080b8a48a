"""`/memory export`'s JSON: every remembered message of a guild, re-importable into the same messages."""

from __future__ import annotations

import json

from memory import read_chat_export
from memory.chat_export import jump_url
from memory.types import ChatMessage


def chat(message_id: str, content: str, *, channel: str = "200", guild: str = "100", **fields) -> ChatMessage:
    created = f"2024-03-01T10:00:{message_id[-2:]}.000000+00:00"
    defaults = {"author_id": "501", "author_name": "alice", "created_at": created}
    return ChatMessage(
        guild_id=guild, channel_id=channel, message_id=message_id, content=content,
        jump_url=jump_url(guild, channel, message_id), **(defaults | fields),
    )  # fmt: skip


def test_export_reimports_into_the_same_messages(memory, tmp_path):
    """Replies, edits, attachments and thread parents survive export then `read_chat_export`; other guilds stay out."""
    held = [
        chat("1001", "the lighthouse keeper arrives at dawn"),
        chat("1002", "bring the lamp oil", author_id="502", author_name="bob", reply_to="1001",
             edited_at="2024-03-01T11:00:00.000000+00:00", attachment_names=("oil.pdf",)),
        chat("1003", "thread remark about the fog", channel="300", parent_channel_id="200"),
        chat("1004", "another server entirely", guild="999", channel="900"),
    ]  # fmt: skip
    memory.remember_messages(held)
    document = memory.export_chat("100", guild_name="Lighthouse", channel_names={"200": "general"})
    assert document["guild"] == {"id": "100", "name": "Lighthouse"} and document["messageCount"] == 3
    assert [c["channel"]["name"] for c in document["channels"]] == ["general", ""]
    reread: list[ChatMessage] = []
    for index, entry in enumerate(json.loads(json.dumps(document))["channels"]):
        path = tmp_path / f"channel-{index}.json"
        path.write_text(json.dumps(entry), encoding="utf-8")
        export = read_chat_export(path)
        assert not export.skipped
        reread.extend(export.messages)
    assert reread == held[:3]
    assert document["channels"][0]["messages"][1]["type"] == "Reply"


def test_an_empty_guild_exports_no_channels(memory):
    """A guild with nothing remembered gives an empty but well-formed export."""
    document = memory.export_chat("nothing-here")
    assert document["channels"] == [] and document["messageCount"] == 0
