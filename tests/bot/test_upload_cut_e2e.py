"""An uploaded file cut short by a cap: the bot logs which file and how much was kept, and a live upload gets one
quiet reply saying so (never where the bot may not speak, never for history)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from bot.config import Settings
from memory import Memory
from tests.bot.conftest import World, remembered, running_bot, seed, wait_until, world_settings
from tests.fakediscord import READ_MESSAGE_HISTORY, SEND_MESSAGES, VIEW_CHANNEL, FakeDiscord, RecordedRequest
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings
from tests.memory.test_extract import make_pdf

LONG_TEXT = "alpha words first. " * 40 + "omega words last."  # 777 characters
LONG_NOTICE = (
    "📎 long.txt: I remembered the first 600 of 777 characters (the server's limit, limits.max_extracted_chars)."
)


def quiet_settings(fake: FakeDiscord, llm: FakeOpenAI, tmp_path, **limits) -> tuple[dict[str, str], Settings]:
    """The seeded world plus #quiet (remembered; the bot may read it but not send there), and settings with
    `limits` that remember #general and #quiet."""
    ids = seed(fake)
    bot_can_read = VIEW_CHANNEL | READ_MESSAGE_HISTORY
    bot_mute = {"id": fake.bot_user_id, "type": 1, "allow": bot_can_read, "deny": SEND_MESSAGES}
    ids["quiet"] = fake.add_channel(ids["guild"], "quiet", overwrites=[bot_mute])
    enabled = {"enabled_channels": [ids["general"], ids["quiet"]]}
    return ids, world_settings(fake, llm, ids, tmp_path / "data", limits=limits, discord=enabled)


@contextlib.asynccontextmanager
async def cut_world(tmp_path, monkeypatch, **limits) -> AsyncIterator[World]:
    """The bot running in the quiet world with `limits`."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake, llm = FakeDiscord(), FakeOpenAI()
    await fake.start()
    await llm.start()
    try:
        ids, settings = quiet_settings(fake, llm, tmp_path, **limits)
        with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
            async with running_bot(settings, fake, memory) as bot:
                yield World(fake, llm, bot, memory, settings, ids)
    finally:
        await llm.stop()
        await fake.stop()


def bot_posts(world: World, channel: str) -> list[RecordedRequest]:
    """The messages the bot tried to send in a channel (answered or refused)."""
    path = f"/channels/{world[channel]}/messages"
    return [r for r in world.discord.requests if r.method == "POST" and r.path == path]


async def processed(world: World, marker: str) -> None:
    """Wait until the message carrying `marker` is stored and its batch's notices (if any) are sent."""
    await wait_until(lambda: marker in remembered(world))
    await world.bot.ingestion.idle()
    await world.bot.cut_notices.idle()


async def test_an_upload_cut_at_max_extracted_chars_is_logged_as_a_warning(tmp_path, monkeypatch, caplog):
    """A text attachment longer than limits.max_extracted_chars is remembered in part, and a WARNING names the
    attachment and says how much of it was kept."""
    async with cut_world(tmp_path, monkeypatch, max_extracted_chars=600) as world:
        caplog.set_level(logging.INFO, logger="bot")
        files = [("long.txt", LONG_TEXT.encode(), "text/plain")]
        await world.discord.user_sends_message(world["general"], world["alice"], "the long notes", files=files)
        await world.settle()
        held = remembered(world)
    assert "alpha words first" in held and "omega" not in held
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("bot")]
    assert len(warnings) == 1, caplog.text
    assert warnings[0].startswith("attachment long.txt (attachment:"), warnings
    assert warnings[0].endswith(": kept the first 600 of 777 characters (limits.max_extracted_chars)"), warnings


async def test_a_cut_upload_gets_one_reply_naming_each_cut_file_without_pinging(tmp_path, monkeypatch):
    """A message whose files a cap cut short gets exactly one reply, one line per cut file (characters kept, PDF
    pages kept; the uncut file unnamed), that pings no one and that the bot does not remember."""
    async with cut_world(tmp_path, monkeypatch, max_extracted_chars=600, max_pdf_pages=2) as world:
        files = [
            ("long.txt", LONG_TEXT.encode(), "text/plain"),
            ("short.txt", b"a short file that fits", "text/plain"),
            ("report.pdf", make_pdf([["first page"], ["second page"], ["third page"]]), "application/pdf"),
        ]
        upload = await world.discord.user_sends_message(world["general"], world["alice"], "the notes", files=files)
        await world.discord.wait_for_request(lambda r: r in bot_posts(world, "general"))
        # A later message is stored only after the bot saw its own reply (one gateway, in order).
        await world.discord.user_sends_message(world["general"], world["bob"], "LATERMARKER")
        await processed(world, "LATERMARKER")
        posts = bot_posts(world, "general")
        held = remembered(world)
        reply = world.discord.channel_messages(world["general"])[-2]
    assert len(posts) == 1 and posts[0].status == 200, posts
    expected = (
        LONG_NOTICE + "\n📎 report.pdf: I remembered the first 2 of 3 pages (the server's limit, limits.max_pdf_pages)."
    )
    assert posts[0].json["content"] == expected
    assert posts[0].json["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert reply["content"] == expected and reply["author"]["id"] == world.discord.bot_user_id
    assert reply["message_reference"]["message_id"] == upload["id"]
    assert reply["mentions"] == [] and reply["mention_roles"] == [] and not reply["mention_everyone"]
    assert "I remembered" not in held and "a short file that fits" in held


async def test_a_cut_upload_in_a_thread_is_answered_in_the_thread(tmp_path, monkeypatch):
    """In a thread of a remembered channel the reply goes to the thread (Send Messages in Threads)."""
    async with cut_world(tmp_path, monkeypatch, max_extracted_chars=600) as world:
        files = [("long.txt", LONG_TEXT.encode(), "text/plain")]
        upload = await world.discord.user_sends_message(world["secret_thread"], world["alice"], "notes", files=files)
        await world.discord.wait_for_request(lambda r: r in bot_posts(world, "secret_thread"))
        posts = bot_posts(world, "secret_thread") + bot_posts(world, "general")
    assert [(p.status, p.json["content"]) for p in posts] == [(200, LONG_NOTICE)]
    assert str(posts[0].json["message_reference"]["message_id"]) == upload["id"]


async def test_an_upload_that_fits_gets_no_reply(tmp_path, monkeypatch):
    """Files within every cap are remembered without a word."""
    async with cut_world(tmp_path, monkeypatch, max_extracted_chars=600) as world:
        files = [("short.txt", b"SHORTFILE fits well", "text/plain")]
        await world.discord.user_sends_message(world["general"], world["alice"], "short notes", files=files)
        await processed(world, "SHORTFILE")
        posts = bot_posts(world, "general")
    assert posts == []


async def test_no_reply_where_the_bot_may_not_send_and_the_next_upload_still_gets_one(tmp_path, monkeypatch, caplog):
    """In a remembered channel where the bot lacks Send Messages, a cut upload is remembered in part, the bot does
    not try to reply (it logs why), and nothing breaks: a cut upload elsewhere still gets its reply."""
    async with cut_world(tmp_path, monkeypatch, max_extracted_chars=600) as world:
        caplog.set_level(logging.INFO, logger="bot")
        files = [("long.txt", LONG_TEXT.encode(), "text/plain")]
        await world.discord.user_sends_message(world["quiet"], world["alice"], "QUIETNOTES", files=files)
        await processed(world, "QUIETNOTES")
        quiet_posts = bot_posts(world, "quiet")
        await world.discord.user_sends_message(world["general"], world["alice"], "again", files=files)
        await world.discord.wait_for_request(lambda r: r in bot_posts(world, "general"))
        general_posts = bot_posts(world, "general")
        failures = world.bot.ingestion.failures
    assert quiet_posts == []
    assert "no permission to reply in #quiet" in caplog.text
    assert [p.json["content"] for p in general_posts] == [LONG_NOTICE] and general_posts[0].status == 200
    assert failures == 0


async def test_a_cut_file_found_in_history_is_only_logged(tmp_path, monkeypatch, caplog):
    """A cut upload the bot catches up on from history (posted while it was offline) is logged, not replied to."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    caplog.set_level(logging.INFO, logger="bot")
    fake, llm = FakeDiscord(), FakeOpenAI()
    await fake.start()
    await llm.start()
    try:
        ids, settings = quiet_settings(fake, llm, tmp_path, max_extracted_chars=600)
        with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
            async with running_bot(settings, fake, memory) as bot:  # #general is held: reconciled at the next start
                await fake.user_sends_message(ids["general"], ids["alice"], "FIRSTNOTE")
                await processed(World(fake, llm, bot, memory, settings, ids), "FIRSTNOTE")
            files = [("long.txt", LONG_TEXT.encode(), "text/plain")]
            await fake.user_sends_message(ids["general"], ids["alice"], "HISTORYNOTES", files=files)  # offline
            async with running_bot(settings, fake, memory) as bot:
                world = World(fake, llm, bot, memory, settings, ids)
                await processed(world, "HISTORYNOTES")
                posts = bot_posts(world, "general")
    finally:
        await llm.stop()
        await fake.stop()
    assert posts == []
    assert "kept the first 600 of 777 characters (limits.max_extracted_chars)" in caplog.text


async def test_a_refused_reply_is_logged_and_ingestion_goes_on(tmp_path, monkeypatch, caplog):
    """When Discord refuses the reply (403: a permission changed before the bot heard of it), the bot logs it and
    goes on remembering."""
    async with cut_world(tmp_path, monkeypatch, max_extracted_chars=600) as world:
        caplog.set_level(logging.INFO, logger="bot")
        world.discord.fail_next("POST", rf"^/channels/{world['general']}/messages$", status=403)
        files = [("long.txt", LONG_TEXT.encode(), "text/plain")]
        await world.discord.user_sends_message(world["general"], world["alice"], "REFUSEDNOTES", files=files)
        await processed(world, "REFUSEDNOTES")
        await world.discord.user_sends_message(world["general"], world["bob"], "AFTERMARKER")
        await processed(world, "AFTERMARKER")
        posts = bot_posts(world, "general")
        failures = world.bot.ingestion.failures
    assert [p.status for p in posts] == [403]
    assert "could not tell message" in caplog.text and "403" in caplog.text
    assert failures == 0
