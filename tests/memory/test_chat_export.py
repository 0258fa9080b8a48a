"""DiscordChatExporter JSON: messages read with ids, times and replies; bots, system and broken items skipped."""

from __future__ import annotations

import json

import pytest

from memory import ChatExportError, read_chat_export
from tests.conftest import REPO
from tests.fakes import dce_export, dce_message


def write(tmp_path, document) -> object:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_reads_messages_with_provenance(tmp_path):
    """Ids, author, UTC time, jump url, reply reference and attachment names are kept."""
    items = [
        dce_message("11", "hello", timestamp="2024-03-01T10:00:00.123+02:00"),
        dce_message("12", "hi back", author_id="502", author_name="bob", kind="Reply", reply_to="11",
                    attachments=[{"id": "9", "url": "https://cdn/x/plan.pdf", "fileName": "plan.pdf",
                                  "fileSizeBytes": 3}]),
    ]  # fmt: skip
    export = read_chat_export(write(tmp_path, dce_export("100", "200", items)))
    first, second = export.messages
    assert (export.guild_id, export.channel_id) == ("100", "200")
    assert first.created_at == "2024-03-01T08:00:00.123000+00:00"
    assert first.jump_url == "https://discord.com/channels/100/200/11"
    assert second.reply_to == "11" and second.author_id == "502" and second.attachment_names == ("plan.pdf",)


def test_bots_system_and_empty_messages_are_skipped_with_reasons(tmp_path):
    """Bot authors, join/pin system messages and empty messages are skipped, each with a reason."""
    items = [
        dce_message("1", "real"),
        dce_message("2", "beep", is_bot=True),
        dce_message("3", "", kind="GuildMemberJoin"),
        dce_message("4", "", kind="ChannelPinnedMessage"),
        dce_message("5", "   "),
    ]
    export = read_chat_export(write(tmp_path, dce_export("1", "2", items)))
    assert [m.message_id for m in export.messages] == ["1"]
    reasons = " | ".join(reason for _, reason in export.skipped)
    assert (
        "bot" in reasons and "GuildMemberJoin" in reasons and "ChannelPinnedMessage" in reasons and "empty" in reasons
    )


def test_one_malformed_message_does_not_block_the_rest(tmp_path):
    """A message without an author is skipped; the others are read."""
    broken = dce_message("2", "x")
    del broken["author"]
    export = read_chat_export(
        write(tmp_path, dce_export("1", "2", [dce_message("1", "ok"), broken, dce_message("3", "ok")]))
    )
    assert [m.message_id for m in export.messages] == ["1", "3"]
    assert "malformed" in export.skipped[0][1]


def test_guild_override(tmp_path):
    """--guild remembers the export under another guild id, jump urls included."""
    export = read_chat_export(write(tmp_path, dce_export("1", "2", [dce_message("5", "x")])), guild_id="77")
    assert export.messages[0].guild_id == "77"
    assert export.messages[0].jump_url == "https://discord.com/channels/77/2/5"


@pytest.mark.parametrize("document", [[1, 2], {"messages": []}, {"channel": {"id": "1"}}])
def test_not_an_export_is_a_clear_error(tmp_path, document):
    """JSON that is not a DiscordChatExporter export is refused with a message saying so."""
    with pytest.raises(ChatExportError, match="not a DiscordChatExporter"):
        read_chat_export(write(tmp_path, document))


def test_invalid_json_is_a_clear_error(tmp_path):
    """A truncated file names itself in the error."""
    path = tmp_path / "cut.json"
    path.write_text('{"channel": {', encoding="utf-8")
    with pytest.raises(ChatExportError, match=r"cut\.json"):
        read_chat_export(path)


def test_shipped_sample_exports_read_cleanly():
    """The sample exports in the repo parse, and their bot message is skipped."""
    paths = sorted((REPO / "samples" / "chat").glob("*.json"))
    assert paths
    for path in paths:
        export = read_chat_export(path)
        assert len(export.messages) > 20
        assert all(not reason.startswith("malformed") for _, reason in export.skipped)
