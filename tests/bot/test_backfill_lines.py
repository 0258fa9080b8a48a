"""The lines `/memory backfill` and `/memory backfill-status` show for a cursor."""

from __future__ import annotations

import time

from bot.cogs.admin._text import progress_text, status_line
from memory import BackfillCursor


def cursor(**fields) -> BackfillCursor:
    base = {"guild_id": "1", "channel_id": "2", "messages": 1234, "files": 5, "updated_at": "2026-11-28T10:00"}
    return BackfillCursor(**(base | fields))


def test_status_tells_done_running_and_unfinished_apart():
    assert "#general: done: 1,234 messages, 5 files" in status_line(cursor(done=True), "#general", running=True)
    assert "#general: running: 1,234 messages" in status_line(cursor(), "#general", running=True)
    assert "unfinished (resumes on restart)" in status_line(cursor(max_messages=5000), "#general")
    assert "limit 5,000" in status_line(cursor(max_messages=5000), "#general")


def test_progress_gives_counts_and_a_rate():
    text = progress_text("general", cursor(), time.monotonic() - 10)
    assert text.startswith("Backfill of #general in progress: 1,234 messages, 5 files (")
    assert "123 messages/s" in text or "124 messages/s" in text
