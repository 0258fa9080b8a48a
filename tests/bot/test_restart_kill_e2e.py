"""End to end, as two real bot processes: SIGKILLed in the middle of a burst, restarted with live traffic at once,
the bot remembers every message (those received but unstored at the kill, those sent while it was down, the live
ones), because the restart reads the history after the mark the killed process had committed."""

from __future__ import annotations

from tests.bot.burst import burst_kill_restart


async def test_a_bot_killed_mid_burst_and_restarted_into_live_traffic_loses_nothing(tmp_path):
    """Issue 12's sequence, scaled down: one remembered, 120 sent, the process killed after 60 were delivered (30
    of them stored: the kill comes right after the other 30), the rest sent while it is down, 20 live ones the moment
    it is ready again; the window (30) is smaller than the gap, so the restart must read after the mark (after=)."""
    result = await burst_kill_restart(tmp_path, burst=120, kill_after=60, stored_first=30, live=20, window=30)
    assert len(result.sent) == 141 and result.lost == [], f"{len(result.lost)} of {len(result.sent)} lost"
    # The kill lost work: delivered messages were not all stored, and the mark covers only what was.
    assert 31 <= result.stored_at_kill < 61 and result.mark_at_kill is not None
    assert result.mark_at_kill in result.sent[: result.stored_at_kill]
    assert result.history_queries[0] == {"limit": "30"}
    assert result.history_queries[1]["after"] == result.mark_at_kill
