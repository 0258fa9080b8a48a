"""Guild and channel names from chat exports, run as `python -m bot`: sources read "#general", not only an id, in
text and in `--json`; `stats` and the guild hint name guilds and channels; forgetting a guild or a channel erases
its names from every file of the data directory."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bot.test_cli_inputs import memorybot, server  # noqa: F401  (the `python -m bot` fixture and its fake)
from tests.conftest import files_containing
from tests.fakes import dce_export, dce_message


def write_export(path: Path, guild: str, channel: str, name: str, text: str) -> Path:
    items = [dce_message(f"{channel}1", text, timestamp="2024-03-22T15:31:00+00:00")]
    path.write_text(json.dumps(dce_export(guild, channel, items, channel_name=name)), encoding="utf-8")
    return path


def test_search_and_stats_name_the_channels_and_guild_an_export_carries(memorybot, tmp_path):  # noqa: F811
    """After import-chat, search shows "chat in #general (901)" and JSON `channel_name`; a file uploaded to that
    channel reads "(#general, date)"; stats names the guild and channel; a channel no export named stays an id."""
    assert memorybot("import-chat", str(write_export(tmp_path / "a.json", "900", "901", "general", "the fog horn "
                                                     "sounds at dawn"))).returncode == 0  # fmt: skip
    notes = tmp_path / "runbook.txt"
    notes.write_text("Fog horn maintenance: oil the diaphragm monthly.", encoding="utf-8")
    assert memorybot("ingest", str(notes), "--guild", "900", "--channel", "901").returncode == 0
    assert memorybot("ingest", str(notes), "--guild", "900", "--channel", "905").returncode == 0

    text = memorybot("search", "fog horn", "--guild", "900")
    assert text.returncode == 0, text.stderr
    assert "chat in #general (901), 2024-03-22 15:31" in text.stdout
    assert "file runbook.txt (#general, " in text.stdout
    assert "file runbook.txt (channel 905, " in text.stdout

    found = json.loads(memorybot("search", "fog horn", "--guild", "900", "--json").stdout)["results"]
    assert {(r["channel_id"], r["channel_name"]) for r in found} == {("901", "general"), ("905", None)}

    held = json.loads(memorybot("stats", "--json").stdout)["guilds"]["900"]
    assert held["name"] == "Test Guild"
    assert (held["channels"]["901"]["name"], held["channels"]["905"]["name"]) == ("general", None)
    stats = memorybot("stats").stdout
    assert "guild 900 (Test Guild):" in stats and "channel 901 (#general):" in stats and "channel 905:" in stats

    elsewhere = memorybot("search", "fog horn", "--guild", "999")
    assert "guilds with memory: 900 (Test Guild, 1 message, 2 files)" in elsewhere.stderr


def test_forgetting_a_guild_or_a_channel_erases_its_names_from_every_file(memorybot, tmp_path):  # noqa: F811
    """forget --channel erases that channel's name and keeps the other's; forget of the whole guild erases the
    guild's name and every channel's: no file of the data directory holds their bytes afterwards."""
    data = tmp_path / "data"
    write_export(tmp_path / "a.json", "900", "901", "keeper-quarters-zq", "the lamp is trimmed nightly")
    write_export(tmp_path / "b.json", "900", "902", "lens-room-xv", "the lens turns on mercury")
    assert memorybot("import-chat", str(tmp_path / "a.json"), str(tmp_path / "b.json")).returncode == 0
    for name in (b"keeper-quarters-zq", b"lens-room-xv", b"Test Guild"):
        assert files_containing(data, name)

    assert memorybot("forget", "--guild", "900", "--channel", "901").returncode == 0
    assert files_containing(data, b"keeper-quarters-zq") == []
    assert files_containing(data, b"lens-room-xv")
    assert "channel 902 (#lens-room-xv)" in memorybot("stats").stdout

    assert memorybot("forget", "--guild", "900", "--yes").returncode == 0
    assert files_containing(data, b"lens-room-xv") == []
    assert files_containing(data, b"Test Guild") == []
