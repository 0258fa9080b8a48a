"""The async side of the façade: every call that reads or writes SQLite or Chroma runs in a worker thread, so an
event loop (the bot's) never blocks on one by accident; and the answering pipeline with the configured model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from memory.answering import Answerer, Question
from memory.guild_settings import GuildSettings, PerGuildSettings
from memory.llm import make_chat_model
from memory.marks import ChannelMark
from memory.packing import PackedContext
from memory.prompts import Exchange
from memory.recap import Recapper
from memory.reports import AskedQuestion, ForgetReport, MemoryStats, UserData
from memory.service import Memory
from memory.settings import MemorySettings
from memory.stores.interfaces import BackfillCursors, ChannelMarks, ChannelPolicies, OptOuts
from memory.types import BackfillCursor

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel


class AsyncMemory:
    """A `Memory` for asyncio callers. `sync` is the memory itself, for code that already runs in a worker thread
    (the ingestion queue, backfills); `answers` is the answering pipeline and `recaps` writes recaps, both with
    the configured language model."""

    def __init__(self, memory: Memory, *, chat_model: BaseChatModel | None = None) -> None:
        """Wrap an open memory; `chat_model` replaces the one `llm` configures (None: as configured)."""
        self.sync = memory
        self.settings = memory.settings
        model = chat_model if chat_model is not None else make_chat_model(memory.settings.llm)
        self.answers = Answerer(memory, model)
        self.recaps = Recapper(memory, model, slots=self.answers.slots)  # one bound on the model's calls
        self.opt_outs = AsyncOptOuts(memory.opt_outs)
        self.channel_policies = AsyncChannelPolicies(memory.channel_policies)
        self.guild_settings = AsyncGuildSettings(memory.guild_settings)
        self.backfills = AsyncBackfills(memory.backfills)
        self.marks = AsyncMarks(memory.marks)
        self.questions = AsyncQuestions(memory)

    @classmethod
    async def open(
        cls, settings: MemorySettings, *, embeddings: Embeddings | None = None, check_index: bool = False
    ) -> AsyncMemory:
        """`Memory.open` in a worker thread (it may check the vector index in a child process first)."""
        memory = await asyncio.to_thread(Memory.open, settings, embeddings=embeddings, check_index=check_index)
        return cls(memory)

    async def load_embedder(self) -> None:
        """`Memory.load_embedder` in a worker thread."""
        await asyncio.to_thread(self.sync.load_embedder)

    async def open_index(self) -> None:
        """`Memory.open_index` in a worker thread."""
        await asyncio.to_thread(self.sync.open_index)

    async def close(self) -> None:
        """Release the language model's connections and close the memory (see `Memory.close`)."""
        await self.answers.aclose()
        await asyncio.to_thread(self.sync.close)

    @property
    def repaired(self) -> list[str]:
        """Guilds whose damaged vector index was dropped at open and is being re-embedded."""
        return self.sync.repaired

    async def question(
        self,
        text: str,
        guild_id: str,
        *,
        channels: Sequence[str] | None = None,
        guild_name: str = "",
        history: Sequence[Exchange] = (),
        max_sources: int | None = None,
        budget: int | None = None,
        min_relevance: float | None = None,
        now: datetime | None = None,
        after: date | None = None,
        before: date | None = None,
    ) -> Question:
        """See `Memory.question`."""
        return await asyncio.to_thread(
            self.sync.question, text, guild_id, channels=channels, guild_name=guild_name, history=history,
            max_sources=max_sources, budget=budget, min_relevance=min_relevance, now=now, after=after, before=before,
        )  # fmt: skip

    async def forget(
        self,
        guild_id: str,
        *,
        channel_id: str | None = None,
        message_id: str | None = None,
        user_id: str | None = None,
    ) -> ForgetReport:
        """See `Memory.forget`."""
        return await asyncio.to_thread(
            self.sync.forget, guild_id, channel_id=channel_id, message_id=message_id, user_id=user_id
        )

    async def forget_user_everywhere(self, user_id: str) -> ForgetReport:
        """See `Memory.forget_user_everywhere`."""
        return await asyncio.to_thread(self.sync.forget_user_everywhere, user_id)

    async def expire(self, now: datetime | None = None, *, guilds: Callable[[str], bool] | None = None) -> ForgetReport:
        """See `Memory.expire`."""
        return await asyncio.to_thread(self.sync.expire, now, guilds=guilds)

    async def channels(self, guild_id: str) -> list[str]:
        """See `Memory.channels`."""
        return await asyncio.to_thread(self.sync.channels, guild_id)

    async def message_channels(self, guild_id: str) -> dict[str, str | None]:
        """See `Memory.message_channels`."""
        return await asyncio.to_thread(self.sync.message_channels, guild_id)

    async def channel_message_ids(self, guild_id: str, channel_id: str, since: str = "") -> list[str]:
        """See `Memory.channel_message_ids`."""
        return await asyncio.to_thread(self.sync.channel_message_ids, guild_id, channel_id, since)

    async def stats(self, guild_id: str | None = None) -> MemoryStats:
        """See `Memory.stats`."""
        return await asyncio.to_thread(self.sync.stats, guild_id)

    async def user_data(self, user_id: str) -> UserData:
        """See `Memory.user_data`."""
        return await asyncio.to_thread(self.sync.user_data, user_id)

    async def export_chat(
        self, guild_id: str, *, guild_name: str = "", channel_names: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """See `Memory.export_chat`."""
        return await asyncio.to_thread(
            self.sync.export_chat, guild_id, guild_name=guild_name, channel_names=channel_names
        )


class AsyncOptOuts:
    """`Memory.opt_outs` off the event loop."""

    def __init__(self, store: OptOuts) -> None:
        self._store = store

    async def add(self, user_id: str) -> None:
        """Remember nothing more of this user, in any guild (what is held already stays)."""
        await asyncio.to_thread(self._store.add, user_id)

    async def remove(self, user_id: str) -> bool:
        """Remember this user again from now on; return whether they had opted out."""
        return await asyncio.to_thread(self._store.remove, user_id)

    async def since(self, user_id: str) -> str | None:
        """When this user opted out, or None."""
        return await asyncio.to_thread(self._store.since, user_id)

    async def among(self, user_ids: Iterable[str]) -> set[str]:
        """Which of these users opted out."""
        return await asyncio.to_thread(self._store.among, list(user_ids))


class AsyncChannelPolicies:
    """`Memory.channel_policies` off the event loop."""

    def __init__(self, store: ChannelPolicies) -> None:
        self._store = store

    async def set(self, guild_id: str, channel_id: str, remembered: bool) -> None:
        """Remember (or not) a channel or category from now on; what is held already stays."""
        await asyncio.to_thread(self._store.set, guild_id, channel_id, remembered)

    async def clear(self, guild_id: str, channel_id: str) -> bool:
        """Let the category or config.yaml decide for a channel again; return whether it had a policy."""
        return await asyncio.to_thread(self._store.clear, guild_id, channel_id)

    async def of_guild(self, guild_id: str) -> dict[str, bool]:
        """A guild's explicit policies: channel or category id -> remembered."""
        return await asyncio.to_thread(self._store.of_guild, guild_id)

    async def all(self) -> dict[str, dict[str, bool]]:
        """Every guild's explicit policies (one query, for a cache loaded at startup)."""
        return await asyncio.to_thread(self._store.all)


class AsyncGuildSettings:
    """`Memory.guild_settings` off the event loop (`check` touches no store, so it is plain)."""

    def __init__(self, book: PerGuildSettings) -> None:
        self._book = book
        self.check = book.check

    async def get(self, guild_id: str) -> GuildSettings:
        """The settings in force for a guild: its own where set, config.yaml's otherwise."""
        return await asyncio.to_thread(self._book.get, guild_id)

    async def change(self, guild_id: str, changes: Mapping[str, object]) -> GuildSettings:
        """Validate and store several settings, all or none (`GuildSettingError` names every bad one)."""
        return await asyncio.to_thread(self._book.change, guild_id, changes)

    async def reset(self, guild_id: str, key: str) -> bool:
        """Let config.yaml decide a setting again; return whether the guild had set it."""
        return await asyncio.to_thread(self._book.reset, guild_id, key)


class AsyncBackfills:
    """`Memory.backfills` off the event loop."""

    def __init__(self, store: BackfillCursors) -> None:
        self._store = store

    async def get(self, guild_id: str, channel_id: str) -> BackfillCursor | None:
        """Where a channel's backfill got to, or None if it never ran."""
        return await asyncio.to_thread(self._store.get, guild_id, channel_id)

    async def save(self, cursor: BackfillCursor) -> None:
        """Store a cursor: only once the batch it covers is stored, so a restart never skips."""
        await asyncio.to_thread(self._store.save, cursor)

    async def all(self, guild_id: str | None = None) -> list[BackfillCursor]:
        """A guild's backfill cursors (every guild's if None)."""
        return await asyncio.to_thread(self._store.all, guild_id)


class AsyncMarks:
    """`Memory.marks` off the event loop (they are moved with the messages, through `Memory.remember_messages`)."""

    def __init__(self, store: ChannelMarks) -> None:
        self._store = store

    async def of_guild(self, guild_id: str) -> dict[str, ChannelMark]:
        """How far each channel of a guild is held, by channel id."""
        return await asyncio.to_thread(self._store.of_guild, guild_id)


class AsyncQuestions:
    """The question log off the event loop: questions asked, the sources used, members' verdicts."""

    def __init__(self, memory: Memory) -> None:
        self._memory = memory

    async def log(
        self, guild_id: str, channel_id: str | None, user_id: str, question: str, context: PackedContext
    ) -> str | None:
        """See `Memory.log_question`."""
        return await asyncio.to_thread(self._memory.log_question, guild_id, channel_id, user_id, question, context)

    async def vote(self, question_id: str, user_id: str, verdict: str) -> AskedQuestion | None:
        """A member's verdict ("up" or "down") on an answer; None when the question is no longer held."""
        return await asyncio.to_thread(self._memory.questions.vote, question_id, user_id, verdict)

    async def asked(self, guild_id: str, since: str) -> list[AskedQuestion]:
        """A guild's questions since an ISO time, newest first, with their verdicts."""
        return await asyncio.to_thread(self._memory.questions.asked, guild_id, since)
