"""An uploaded file cut short by a cap: uploads get no reply, so the bot logs which file and how much was kept."""

from __future__ import annotations

import logging

from memory import Memory
from tests.bot.conftest import World, remembered, running_bot, seed, world_settings
from tests.fakediscord import FakeDiscord
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings


async def test_an_upload_cut_at_max_extracted_chars_is_logged_as_a_warning(tmp_path, monkeypatch, caplog):
    """A text attachment longer than limits.max_extracted_chars is remembered in part, and a WARNING names the
    attachment and says how much of it was kept."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake, llm = FakeDiscord(), FakeOpenAI()
    await fake.start()
    await llm.start()
    try:
        ids = seed(fake)
        settings = world_settings(fake, llm, ids, tmp_path / "data", limits={"max_extracted_chars": 600})
        with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
            async with running_bot(settings, fake, memory) as bot:
                world = World(fake, llm, bot, memory, settings, ids)
                caplog.set_level(logging.INFO, logger="bot")
                text = "alpha words first. " * 40 + "omega words last."
                files = [("long.txt", text.encode(), "text/plain")]
                await fake.user_sends_message(ids["general"], ids["alice"], "the long notes", files=files)
                await world.settle()
                held = remembered(world)
    finally:
        await llm.stop()
        await fake.stop()
    assert "alpha words first" in held and "omega" not in held
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("bot")]
    assert len(warnings) == 1, caplog.text
    assert warnings[0].startswith("attachment long.txt (attachment:"), warnings
    assert warnings[0].endswith(": kept the first 600 of 777 characters (limits.max_extracted_chars)"), warnings
