"""Scenario 22's exotic Unicode: zalgo, a right-to-left override and emoji sequences are stored exactly and found."""

from __future__ import annotations

import pytest

from tests.fakes import message

# Each is one member's message; `word` is a plain word of it that a member would search for.
ZALGO = "t̸̢̛h̴͈̓ȇ̷͜ ̵̱̈b̶̧̿a̴̦͗c̶̰̈k̴͖̓u̵̥͝p̶̣̈ ̷̟̓r̴͎̆u̵̠̐n̸̞̈s̵̱̓ at midnight, says the cursed bot"
RTL = "invoice \u202efdp.exe\u202c is not a pdf, quarantine it"
EMOJI = "🏳️‍🌈 parade float is 👨‍👩‍👧‍👦 friendly, meet at the fountain 🫶🏽"
TEXTS = {ZALGO: "midnight", RTL: "quarantine", EMOJI: "fountain"}


@pytest.mark.parametrize("text", list(TEXTS), ids=["zalgo", "rtl-override", "emoji-zwj"])
def test_exotic_unicode_is_stored_exactly_and_found(memory, text):
    """The message comes back byte for byte, and a search by its plain word or by the whole text finds it."""
    others = [message(n, f"ordinary message number {n} about lunch") for n in range(1, 6)]
    memory.remember_messages([*others, message(10, text)])
    (stored,) = memory.stores.records.messages("g1", [message(10, text).message_id])
    assert stored.content == text
    for query in (TEXTS[text], text):
        hits = memory.search(query, "g1", max_sources=3).hits
        assert hits and text in hits[0].chunk.text, query
