"""Rendering answers for Discord: parts within 2,000 characters, code fences balanced, only source links kept."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import safe_links, sources_lines, split_message

LINES = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300),
        st.sampled_from(["```python", "```", "👨‍👩‍👧‍👦" * 50, "a" * 2500, ""]),
    ),
    max_size=40,
)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"```\w*", "", text))


def fences_balanced(part: str) -> bool:
    return len(re.findall(r"^\s*```", part, re.MULTILINE)) % 2 == 0


@settings(max_examples=150, deadline=None)
@given(LINES)
def test_parts_fit_discord_and_keep_fences_balanced(lines):
    """Every part is at most 2,000 characters; a fenced text yields parts that are each balanced."""
    text = "\n".join(lines)
    parts = split_message(text)
    assert all(0 < len(p) <= 2000 for p in parts)
    if fences_balanced(text):
        assert all(fences_balanced(p) for p in parts)
    assert squeeze("\n".join(parts)) == squeeze(text)  # only fences and whitespace are added or dropped


def test_a_3000_character_answer_arrives_in_two_valid_parts():
    """3,000 characters of prose become two parts, split at a word boundary."""
    text = ("word " * 600).strip()
    parts = split_message(text)
    assert len(parts) == 2 and all(len(p) <= 2000 for p in parts)
    assert " ".join(parts) == text


def test_code_block_is_reopened_with_its_language():
    """A long Python block is closed and reopened as ```python in the next part."""
    text = "```python\n" + "\n".join(f"value_{i} = {i}" for i in range(400)) + "\n```"
    parts = split_message(text)
    assert len(parts) > 1
    assert all(p.rstrip().endswith("```") for p in parts)
    assert all(p.startswith("```python") for p in parts)


def test_emoji_sequences_are_not_cut():
    """Family emoji (ZWJ sequences) are never split in the middle."""
    family = "👨‍👩‍👧‍👦"
    parts = split_message(family * 800)
    assert all(len(p) <= 2000 and len(p) % len(family) == 0 for p in parts)


def test_only_links_to_sources_survive_and_without_previews():
    """A source link is wrapped in <> (no preview); any other link is removed."""
    text = "See https://discord.com/channels/1/2/3 and https://evil.example/x?d=secret."
    cleaned = safe_links(text, ["https://discord.com/channels/1/2/3"])
    assert cleaned == "See <https://discord.com/channels/1/2/3> and [link removed]."


def test_sources_list_numbers_and_links():
    """The sources list keeps each source's own number and wraps links."""
    listing = sources_lines([(1, "https://discord.com/channels/1/2/3", "#dev, 2024-03-01"), (3, None, "notes.md")])
    assert listing.splitlines() == ["**Sources**", "[1] #dev, 2024-03-01 <https://discord.com/channels/1/2/3>",
                                    "[3] notes.md"]  # fmt: skip
