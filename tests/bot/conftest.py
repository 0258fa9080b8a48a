"""A running world for end-to-end tests: the fake Discord, the fake OpenAI server and the real bot between them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.client import MemoryBot
from bot.config import Settings
from bot.run import build_bot, point_at_discord
from memory import Memory
from tests.conftest import files_containing
from tests.fakediscord import MANAGE_GUILD, VIEW_CHANNEL, FakeDiscord
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings


@dataclass
class World:
    """Ids of the seeded guilds, channels and people, plus handles on the running parts."""

    discord: FakeDiscord
    llm: FakeOpenAI
    bot: MemoryBot
    memory: Memory
    settings: Settings
    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]

    async def settle(self) -> None:
        """Wait until the bot has handled everything the fake sent it, stored or not: it has received every gateway
        event (its sequence number reached the fake's), its handlers of them have finished, and what they queued is
        ingested. A check that a message was *not* stored is then about a message the bot did handle."""
        await wait_until(lambda: self.bot.ws is not None and self.bot.ws.sequence >= self.discord.last_sequence(), 30)
        await wait_until(lambda: not handlers_running(), 30)
        await asyncio.wait_for(self.bot.ingestion.idle(), 30)

    async def ask(self, user: str, question: str, *, channel: str = "general", guild: str = "guild", **options):
        """Run /ask and wait for the answer to be complete."""
        interaction = await self.discord.user_runs_slash_command(
            self[guild], self[channel], self[user], "ask", {"question": question, **options}
        )
        await interaction.wait_done(lambda i: final_text(i) is not None)
        await settled(interaction)
        return interaction

    async def search(self, user: str, query: str, *, channel: str = "general", guild: str = "guild"):
        """Run /search and return the shown text."""
        interaction = await self.discord.user_runs_slash_command(
            self[guild], self[channel], self[user], "search", {"query": query}
        )
        await interaction.wait_done(lambda i: final_text(i) is not None)
        await settled(interaction)
        return all_text(interaction)


def handlers_running() -> list[asyncio.Task]:
    """The bot's event handlers still running: discord.py runs each listener call as a task named after its event."""
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("discord.py: on_") and not t.done()]


def answer_requests(llm) -> list[dict]:
    """The requests that asked the model for an answer (not those that rewrote a question into search queries)."""
    return [r for r in llm.requests if "<sources>" in str(r["messages"][0]["content"])]


def remembered(world: World, guild: str = "guild") -> str:
    """All chunk text the memory holds for a guild."""
    ids = world.memory.stores.chunks.guild_chunk_ids(world[guild])
    return "\n".join(c.text for c in world.memory.stores.chunks.chunks(ids).values())


def on_disk(world: World, text: str) -> list[Path]:
    """Files under the data dir whose raw bytes hold the text (Chroma's HNSW files included)."""
    return files_containing(world.settings.storage.data_dir, text.encode())


async def settled(interaction, quiet: float = 0.4) -> None:
    """Wait until the bot has sent nothing more for an interaction for `quiet` seconds (its last parts)."""

    def progress() -> tuple[int, int, str]:
        contents = "".join(str(m.get("content")) for m in interaction.followup_messages)  # edited in place
        return len(interaction.edits), len(interaction.followups), contents

    seen = None
    while seen != progress():
        seen = progress()
        await asyncio.sleep(quiet)


def final_text(interaction) -> str | None:
    """The last content the interaction's response settled on (not a streaming preview), or None yet."""
    bodies = [*interaction.edits, *interaction.followups]
    contents = [b.get("content") for b in bodies if b.get("content")]
    if not contents or contents[-1].endswith("▌"):
        return None
    return contents[-1]


def all_text(interaction) -> str:
    """Everything the bot showed for an interaction: the original response and every followup."""
    bodies = [*interaction.callbacks, *interaction.edits, *interaction.followups]
    texts = []
    for body in bodies:
        data = body.get("data", body)
        if isinstance(data, dict) and data.get("content"):
            texts.append(data["content"])
    return "\n".join(texts)


async def wait_until(predicate: Callable[[], object], timeout: float = 15.0) -> None:
    """Poll until `predicate()` is truthy."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


def seed(fake: FakeDiscord) -> dict[str, str]:
    """Two guilds. Guild: #general and #random (remembered or not), #staff (staff role only), a private
    thread in #general with alice only, a remembered category holding #project. Other guild: #general."""
    ids: dict[str, str] = {}
    for name in ("owner", "alice", "bob", "carol"):
        ids[name] = fake.add_user(name)
    ids["otherbot"] = fake.add_user("otherbot", bot=True)
    ids["guild"] = fake.add_guild("Lighthouse", owner_id=ids["owner"])
    ids["staff_role"] = fake.add_role(ids["guild"], "staff", 0)
    ids["admin_role"] = fake.add_role(ids["guild"], "admin", MANAGE_GUILD)
    fake.add_member(ids["guild"], ids["owner"])
    fake.add_member(ids["guild"], ids["alice"], roles=[ids["staff_role"], ids["admin_role"]])
    fake.add_member(ids["guild"], ids["bob"])
    fake.add_member(ids["guild"], ids["otherbot"])
    ids["general"] = fake.add_channel(ids["guild"], "general")
    ids["random"] = fake.add_channel(ids["guild"], "random")
    ids["staff"] = fake.add_channel(
        ids["guild"],
        "staff",
        overwrites=[
            {"id": ids["guild"], "type": 0, "allow": 0, "deny": VIEW_CHANNEL},
            {"id": ids["staff_role"], "type": 0, "allow": VIEW_CHANNEL, "deny": 0},
            {"id": fake.bot_user_id, "type": 1, "allow": VIEW_CHANNEL, "deny": 0},  # admins let the bot in
        ],
    )
    ids["category"] = fake.add_channel(ids["guild"], "projects", kind=4)
    ids["project"] = fake.add_channel(ids["guild"], "project-x", parent_id=ids["category"])
    ids["secret_thread"] = fake.add_thread(
        ids["guild"], ids["general"], "plans", private=True, members=[ids["alice"], fake.bot_user_id]
    )
    ids["other_guild"] = fake.add_guild("Elsewhere", owner_id=ids["carol"])
    fake.add_member(ids["other_guild"], ids["carol"])
    ids["other_general"] = fake.add_channel(ids["other_guild"], "general")
    return ids


def world_settings(fake: FakeDiscord, llm: FakeOpenAI, ids: dict[str, str], data_dir, /, **sections) -> Settings:
    raw: dict[str, object] = {
        "discord": {
            "api_base_url": fake.api_base,
            "gateway_url": fake.gateway_url,
            "enabled_channels": [ids[n] for n in ("general", "staff", "category", "other_general") if n in ids],
        },
        "storage": {"data_dir": str(data_dir)},
        "retrieval": {"min_relevance": 0.0},
        "llm": {"base_url": llm.base_url, "model": "gpt-4o-mini", "timeout_seconds": 3, "max_retries": 0},
    }
    for name, values in sections.items():
        raw[name] = {**raw.get(name, {}), **values}  # type: ignore[dict-item]
    return Settings.model_validate(raw)


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, fake: FakeDiscord, memory: Memory) -> AsyncIterator[MemoryBot]:
    """The real bot logged in to the fake, ready; closed (queue drained) afterwards."""
    point_at_discord(settings)
    bot = build_bot(settings, memory=memory, guild_ready_timeout=0.05)
    await bot.login(fake.token)
    task = asyncio.create_task(bot.connect())
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()  # surfaces the client's exception
    assert ready in done, "bot did not become ready"
    await wait_until(lambda: len(bot.synced_guilds) == len(bot.guilds))
    try:
        yield bot
    finally:
        await asyncio.wait_for(bot.close(), 20)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 20)


@contextlib.asynccontextmanager
async def started_world(
    tmp_path,
    monkeypatch,
    seed_world: Callable[[FakeDiscord], dict[str, str]] = seed,
    *,
    remembered: tuple[str, ...] | None = None,
    members_per_chunk: int | None = None,
    sections: dict[str, dict[str, object]] | None = None,
    embeddings: str | None = None,
    prepare: Callable[[Memory, dict[str, str]], None] | None = None,
) -> AsyncIterator[World]:
    """The fakes started, seeded by `seed_world`, and the real bot running on them; `remembered` names the
    enabled channels (default: those of `seed`); `sections` overrides settings (e.g. {"llm": {"max_retries": 1}});
    `embeddings="openai"` embeds through the fake OpenAI server (the real client), not the hashing embedder;
    `prepare` readies the memory before the bot starts."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake")
    fake, llm = FakeDiscord(), FakeOpenAI()
    if members_per_chunk is not None:
        fake.members_per_chunk = members_per_chunk
    await fake.start()
    await llm.start()
    ids = seed_world(fake)
    enabled = {} if remembered is None else {"discord": {"enabled_channels": [ids[name] for name in remembered]}}
    overrides = {**(sections or {})}
    for name, values in enabled.items():
        overrides[name] = {**overrides.get(name, {}), **values}
    if embeddings == "openai":
        wanted = {"provider": "openai", "model": "text-embedding-3-small", "base_url": llm.base_url}
        overrides["embeddings"] = {**wanted, **overrides.get("embeddings", {})}
    settings = world_settings(fake, llm, ids, tmp_path / "data", **overrides)
    memory = Memory.open(settings, embeddings=None if embeddings == "openai" else HashEmbeddings())
    try:
        if prepare is not None:
            prepare(memory, ids)
        async with running_bot(settings, fake, memory) as bot:
            yield World(fake, llm, bot, memory, settings, ids)
    finally:
        memory.close()
        await llm.stop()
        await fake.stop()


@pytest.fixture
async def world(tmp_path, monkeypatch) -> AsyncIterator[World]:
    async with started_world(tmp_path, monkeypatch) as started:
        yield started
