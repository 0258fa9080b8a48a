"""One answering pipeline for every front end (`/ask`, mentions, replies, `memorybot ask`): a question with its
defaults resolved once, then retrieve → pack → prompt → stream, or the extractive answer without a language model."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from memory.errors import AnswerError
from memory.extractive import EXTRACTIVE_LABEL, NOTHING_FOUND, extractive_answer
from memory.guild_settings import GuildSettings
from memory.llm import close_chat_model
from memory.packing import PackedContext
from memory.prompts import (
    SOURCE_TAG_TOKENS,
    Exchange,
    SourceLabel,
    build_messages,
    overhead_tokens,
    system_prompt,
    trim_history,
)
from memory.rewrite import fuse_rounds, needs_second_round, rewritten_queries
from memory.settings import LLMSettings
from memory.tokens import count_tokens
from memory.when import TimeScope

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from memory.service import Memory

log = logging.getLogger(__name__)
FALLBACK_LABEL = "The most relevant passages from memory instead:"
TYPICAL_PASSAGE_TOKENS = 60  # between a message passage (~30) and a window (~190)
_CITATION = re.compile(r"\[(\d{1,3})\]")


@dataclass(frozen=True, slots=True)
class Question:
    """A question and everything that decides its answer, resolved once (see `Memory.question`)."""

    text: str
    guild_id: str
    settings: GuildSettings  # the guild's settings in force: sources, budget, relevance floor, model, instruction
    channels: tuple[str, ...] | None = None  # the channels whose memory may be used; None: all (the command line)
    guild_name: str = ""
    history: tuple[Exchange, ...] = ()  # earlier exchanges of a reply chain, oldest first
    asked_at: datetime | None = None  # when it is asked: what "now" and "last week" mean
    scope: TimeScope = field(default_factory=TimeScope)  # its time words, resolved (`memory.when`)

    @property
    def query(self) -> str:
        """What is searched for: a follow-up ("and after that?") says little alone, so the previous question
        joins it."""
        return f"{self.history[-1].question} {self.text}" if self.history else self.text


Outcome = Literal["llm", "extractive", "nothing_found"]  # how a question was answered


class AnswerObserver(Protocol):
    """What the pipeline reports as it works, for whoever measures it (the bot's metrics, `bot.ops`): `memory`
    stays free of any metrics library. Called from worker threads too; each call must be quick."""

    def searched(self, seconds: float, *, guild_id: str) -> None:
        """One search round took this long (the question's, or a rewritten query's), in this guild's memory."""

    def generated(self, seconds: float, *, guild_id: str, prompt_tokens: int, completion_tokens: int) -> None:
        """The model streamed an answer: how long, and the tokens it used (the endpoint's count, else tiktoken's)."""

    def answered(self, outcome: Outcome, *, guild_id: str) -> None:
        """A final answer was given, to a question asked in this guild."""

    def failed(self, kind: str) -> None:
        """Something went wrong: `llm` (the model failed; the member was told) or `rewrite` (the second round)."""


class _Unobserved:
    """The default observer: nothing is measured."""

    def searched(self, seconds: float, *, guild_id: str) -> None:
        pass

    def generated(self, seconds: float, *, guild_id: str, prompt_tokens: int, completion_tokens: int) -> None:
        pass

    def answered(self, outcome: Outcome, *, guild_id: str) -> None:
        pass

    def failed(self, kind: str) -> None:
        pass


@dataclass(slots=True)
class Draft:
    """An answer being produced: the passages it draws on, and its text so far."""

    context: PackedContext
    generated: bool  # False: "nothing found" or the extractive answer, no language model involved
    text: str = ""
    cut_off: bool = False
    used_sources: list[int] = field(default_factory=list)  # the [n] the text cites, in order


class Answerer:
    """Retrieves and packs the context of a question, then streams an answer from the chat model (or answers
    extractively). Retrieval runs in a worker thread; at most `llm.max_concurrent` model calls at once (`slots`,
    shared with the recapper), so a burst of questions cannot exhaust the endpoint or memory."""

    def __init__(self, memory: Memory, chat_model: BaseChatModel | None, *, llm: LLMSettings | None = None) -> None:
        """Answer from `memory` with `chat_model` (None: extractively); `llm` describes the model's window and
        name (default: `memory.settings.llm`)."""
        self._memory = memory
        self._chat = chat_model
        self._llm = llm or memory.settings.llm
        self.slots = asyncio.Semaphore(self._llm.max_concurrent)
        self.observer: AnswerObserver = _Unobserved()  # set by whoever measures the pipeline (`bot.ops`)

    @property
    def has_llm(self) -> bool:
        """Whether a language model is configured."""
        return self._chat is not None

    async def aclose(self) -> None:
        """Release the model's connections (the pipeline answers extractively afterwards)."""
        chat, self._chat = self._chat, None
        await close_chat_model(chat)

    def budget(self, question: Question) -> int:
        """The tokens passages may use: the guild's budget, shrunk so that rules, history, question and the
        answer all fit the model's context window."""
        system = system_prompt(question.guild_name, question.settings.extra_instruction, time_note(question))
        room = self._llm.context_window - self._llm.max_answer_tokens
        room -= overhead_tokens(system, question.text, question.history, self._llm.model, 0)
        # Room is kept for the tags of as many sources as fit, at the size of a typical passage, up to the cap.
        sources = min(question.settings.max_sources, max(1, room // (TYPICAL_PASSAGE_TOKENS + SOURCE_TAG_TOKENS)))
        return max(0, min(question.settings.budget, room - SOURCE_TAG_TOKENS * sources))

    async def retrieve(self, question: Question) -> PackedContext:
        """Search the question's channels and pack the hits into its budget (off the event loop). With a model,
        a question that found too little, or needs several facts, gets a second round (`memory.rewrite`)."""
        budget = self.budget(question)
        first = await asyncio.to_thread(self._search, question.query, question, budget)
        if self._chat is None or not self._llm.rewrite_queries or not needs_second_round(question.text, first):
            return first
        try:
            async with self.slots:
                queries = await rewritten_queries(self._chat, question.text)
        except Exception as e:  # a rewrite that fails costs the second round, never the answer
            self.observer.failed("rewrite")
            log.warning("query rewriting failed (%s: %s); answering from the first round", type(e).__name__, e)
            return first
        rounds = [(await asyncio.to_thread(self._search, query, question, None)).hits for query in queries]
        model, cap = self._memory.settings.llm.model, question.settings.max_sources
        return fuse_rounds(first, rounds, budget=budget, model=model, max_sources=cap) if rounds else first

    def _search(self, query: str, question: Question, budget: int | None) -> PackedContext:
        started = time.perf_counter()
        found = self._memory.search(
            query, question.guild_id, channels=question.channels, max_sources=question.settings.max_sources,
            budget=budget, min_relevance=question.settings.min_relevance, scope=question.scope,
        )  # fmt: skip
        self.observer.searched(time.perf_counter() - started, guild_id=question.guild_id)
        return found

    def prompt_tokens(self, question: Question, context: PackedContext, labels: Sequence[SourceLabel]) -> int:
        """What the whole prompt costs in tokens (for checks, tests and `memorybot ask --json`)."""
        system = system_prompt(question.guild_name, question.settings.extra_instruction, time_note(question))
        messages = build_messages(system, context, labels, question.history, question.text)
        return sum(count_tokens(str(m.content), self._llm.model) for m in messages)

    async def stream(
        self, question: Question, context: PackedContext, labels: Sequence[SourceLabel] | None = None
    ) -> AsyncIterator[Draft]:
        """Yield the draft as it grows; the last one is final.

        Without passages: "nothing found". Without a model: the extractive answer.

        Args:
            question: what was asked.
            context: the packed passages (`retrieve`).
            labels: how each passage is introduced to the model (default: `SourceLabel.of` each hit).

        Raises:
            AnswerError: the model failed, timed out, or said nothing; nothing partial should be shown as whole.
        """
        if not context.hits:
            self.observer.answered("nothing_found", guild_id=question.guild_id)
            yield Draft(context=context, generated=False, text=NOTHING_FOUND)
            return
        if self._chat is None:
            text = extractive_answer(question.text, context)
            self.observer.answered("extractive", guild_id=question.guild_id)
            yield Draft(context=context, generated=False, text=text, used_sources=_cited(text, context))
            return
        draft = Draft(context=context, generated=True)
        system = system_prompt(question.guild_name, question.settings.extra_instruction, time_note(question))
        history = trim_history(question.history, max(0, self._llm.context_window // 4), self._llm.model)
        shown = labels if labels is not None else [SourceLabel.of(hit) for hit in context.hits]
        messages = build_messages(system, context, shown, history, question.text)
        import httpx  # loaded with the model already; here so that answering without one imports neither
        import openai

        chat = self._chat
        if question.settings.model != self._llm.model:  # a guild's own model overrides the request's `model`
            chat = self._chat.bind(model=question.settings.model)  # type: ignore[assignment]
        usage: dict[str, int] = {}  # the endpoint's token counts, when it sends them
        async with self.slots:
            started = time.perf_counter()
            try:
                async for chunk in chat.astream(messages):
                    if chunk.usage_metadata:
                        usage = {"prompt": chunk.usage_metadata["input_tokens"]}
                        usage["completion"] = chunk.usage_metadata["output_tokens"]
                    piece = chunk.content if isinstance(chunk.content, str) else ""
                    if chunk.response_metadata.get("finish_reason") == "length":
                        draft.cut_off = True
                    if piece:
                        draft.text += piece
                        yield draft
            except (openai.APIError, httpx.HTTPError, TimeoutError, ValueError) as e:
                # The URL for whoever runs the bot (a wrong Ollama address); members get `explain_failure`'s words.
                log.warning("language model at %s failed: %s: %s", self._llm.base_url, type(e).__name__, e)
                self.observer.failed("llm")
                raise AnswerError(explain_failure(e)) from e
            elapsed = time.perf_counter() - started
        if not isinstance(self.observer, _Unobserved):  # counting a long prompt costs milliseconds: only if asked
            model = question.settings.model
            self.observer.generated(
                elapsed,
                guild_id=question.guild_id,
                prompt_tokens=usage.get("prompt", sum(count_tokens(str(m.content), model) for m in messages)),
                completion_tokens=usage.get("completion", count_tokens(draft.text, model)),
            )
        if not draft.text.strip():
            self.observer.failed("llm")
            msg = "The language model returned an empty answer. Please try again."
            raise AnswerError(msg)
        self.observer.answered("llm", guild_id=question.guild_id)
        draft.used_sources = _cited(draft.text, context)
        yield draft

    def fallback(self, question: Question, context: PackedContext) -> Draft:
        """What to show when the model failed: the extractive answer from the same passages, labelled as quotes
        (the model's partial text is never shown as an answer)."""
        text = extractive_answer(question.text, context).replace(EXTRACTIVE_LABEL, FALLBACK_LABEL, 1)
        return Draft(context=context, generated=False, text=text, used_sources=_cited(text, context))


def _cited(text: str, context: PackedContext) -> list[int]:
    """The source numbers a text cites, in order, within the passages there are."""
    return sorted({int(n) for n in _CITATION.findall(text) if 0 < int(n) <= len(context.hits)})


def time_note(question: Question) -> str | None:
    """What the model is told about time: when the question is asked, and which of disagreeing sources wins."""
    if question.asked_at is None:
        return None
    note = f"The question is asked on {question.asked_at:%A %Y-%m-%d %H:%M} UTC; each source has its date."
    if question.scope.order == "latest":
        note += " It asks how things are now: where sources disagree, the most recent one is right."
    elif question.scope.order == "earliest":
        note += " It asks about the first time: the earliest source is the one that counts."
    return note


def explain_failure(error: Exception) -> str:
    """One clear sentence for the member about what went wrong with the model."""
    import httpx  # loaded already: the model failed through them
    import openai

    if isinstance(error, openai.RateLimitError):
        return "The language model is rate-limited right now. Please try again in a minute."
    if isinstance(error, openai.APITimeoutError | TimeoutError | httpx.TimeoutException):
        return "The language model took too long to answer. Please try again."
    if isinstance(error, openai.AuthenticationError):
        return "The language model refused the bot's credentials. An admin needs to check the API key."
    if isinstance(error, openai.APIStatusError):
        return f"The language model failed (HTTP {error.status_code}). Please try again later."
    return "The language model could not be reached or sent a broken answer. Please try again later."
