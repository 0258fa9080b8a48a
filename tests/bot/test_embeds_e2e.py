"""End to end: link previews. A message's embed titles and descriptions are remembered as part of it; Discord's
embed-only update (the unfurl, a moment after sending) replaces the message's text, never duplicates it, loses
nothing the message had, and does not make it an edited message."""

from __future__ import annotations

from tests.bot.conftest import remembered, wait_until
from tests.fakediscord.members import link_embed

LINK = "https://example.org/tides"
PREVIEW = link_embed(url=LINK, title="Harbour tide tables", description="High water at 06:12 on Sunday")


def stored(world, message_id: str):
    (message,) = world.memory.stores.records.messages(world["guild"], [message_id])
    return message


async def test_a_link_preview_is_remembered_once_with_the_message(world):
    """After the unfurl the preview's title and description are found with the message's own words, once, and the
    message is not marked edited; suppressing the preview takes its text out again."""
    sent = await world.discord.user_sends_message(world["general"], world["bob"], f"tide times are at {LINK} ok")
    await world.settle()
    assert "tide times are at" in remembered(world) and "Harbour" not in remembered(world)
    await world.discord.discord_unfurls_links(world["general"], sent["id"], [PREVIEW])
    await wait_until(lambda: "Harbour tide tables" in remembered(world))
    await world.settle()
    text = remembered(world)
    assert text.count("Harbour tide tables") == 1 and text.count("High water at 06:12") == 1
    assert text.count("tide times are at") == 1
    message = stored(world, sent["id"])
    assert message.edited_at is None and message.content.startswith(f"tide times are at {LINK} ok")
    assert "Harbour tide tables" in await world.search("alice", "harbour tide tables high water")
    await world.discord.user_suppresses_embeds(world["general"], sent["id"])
    await wait_until(lambda: "Harbour" not in remembered(world))
    assert "tide times are at" in remembered(world) and stored(world, sent["id"]).edited_at is None


async def test_an_unfurl_while_the_files_download_loses_neither(world):
    """The preview arrives, and is stored, while the bot is still downloading the message's file: once the file is
    in, the preview's text is still remembered (the message's record is taken after the download, from the
    updated message, not from the message as it was before the preview)."""
    world.discord.hold_cdn()
    sent = await world.discord.user_sends_message(
        world["general"], world["bob"], f"minutes attached, agenda at {LINK}",
        files=[("minutes.txt", b"the quorum was reached at nine", "text/plain")],
    )  # fmt: skip
    await world.discord.wait_until(lambda: any(r.path.startswith("/cdn/") for r in world.discord.requests))
    await world.discord.discord_unfurls_links(world["general"], sent["id"], [PREVIEW])
    await wait_until(lambda: "Harbour tide tables" in remembered(world))  # the update is stored on its own
    world.discord.release_cdn()
    await wait_until(lambda: "quorum" in remembered(world))
    await world.settle()
    text = remembered(world)
    assert "Harbour tide tables" in text and text.count("minutes attached") == 1
    assert text.count("quorum was reached") == 1
    assert stored(world, sent["id"]).attachment_names == ("minutes.txt",)


async def test_an_edit_after_the_preview_keeps_the_preview(world):
    """A real edit after the unfurl: the new words replace the old, the preview (still on the message) stays."""
    sent = await world.discord.user_sends_message(world["general"], world["bob"], f"see {LINK} for saturday")
    await world.discord.discord_unfurls_links(world["general"], sent["id"], [PREVIEW])
    await wait_until(lambda: "Harbour tide tables" in remembered(world))
    await world.discord.user_edits_message(world["general"], sent["id"], f"see {LINK} for sunday")
    await wait_until(lambda: "for sunday" in remembered(world))
    await world.settle()
    text = remembered(world)
    assert "for saturday" not in text and text.count("Harbour tide tables") == 1
    assert stored(world, sent["id"]).edited_at is not None
