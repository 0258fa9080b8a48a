"""Answers a question from memory: retrieve, pack within the model's window, stream the LLM's reply. No Discord."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import httpx
import openai
from langchain_core.language_models import BaseChatModel

from bot.prompts import Exchange, SourceLabel, build_messages, overhead_tokens, system_prompt, trim_history
from memory import Memory, PackedContext, extractive_answer
from memory.answer import NOTHING_FOUND
from memory.settings import MemorySettings
from memory.tokens import count_tokens

log = logging.getLogger(__name__)
MAX_CONCURRENT_LLM_CALLS = 4  # bounded, so a burst of questions cannot exhaust the endpoint or memory
_CITATION = re.compile(r"\[(\d{1,3})\]")


class AnswerError(Exception):
    """The language model failed; the message is fit to show to the member."""


@dataclass(frozen=True, slots=True)
class Question:
    """A member's question and where it may look."""

    text: str
    guild_id: str
    guild_name: str
    channels: Sequence[str]  # the channels whose memory may be used
    history: Sequence[Exchange] = ()
    extra_instruction: str | None = None
    # The guild's own settings (`/memory settings`); None means config.yaml's.
    k: int | None = None
    max_context_tokens: int | None = None
    min_score: float | None = None
    model: str | None = None


@dataclass(slots=True)
class Draft:
    """An answer being produced: the passages it draws on, and its text so far."""

    context: PackedContext
    generated: bool
    text: str = ""
    cut_off: bool = False
    used_sources: list[int] = field(default_factory=list)


class Answerer:
    """Retrieves and packs context, then streams an answer from the chat model (or answers extractively)."""

    def __init__(self, memory: Memory, chat_model: BaseChatModel | None, settings: MemorySettings) -> None:
        self._memory = memory
        self._chat = chat_model
        self._settings = settings
        self._llm_slots = asyncio.Semaphore(MAX_CONCURRENT_LLM_CALLS)

    @property
    def has_llm(self) -> bool:
        """Whether a language model is configured."""
        return self._chat is not None

    def context_budget(self, question: Question) -> int:
        """The tokens passages may use: the configured budget, shrunk so that rules, history, question and
        the answer all fit the model's context window."""
        llm = self._settings.llm
        system = system_prompt(question.guild_name, question.extra_instruction)
        room = llm.context_window - llm.max_answer_tokens
        k = question.k or self._settings.retrieval.k
        room -= overhead_tokens(system, question.text, question.history, llm.model, k)
        configured = question.max_context_tokens or self._settings.retrieval.max_context_tokens
        return max(0, min(configured, room))

    async def retrieve(self, question: Question, *, budget: int | None = None) -> PackedContext:
        """Search the allowed channels and pack the hits (off the event loop).

        A follow-up ("and after that?") says little on its own, so the previous question joins the query.
        """
        query = f"{question.history[-1].question} {question.text}" if question.history else question.text
        return await asyncio.to_thread(
            self._memory.search,
            query,
            question.guild_id,
            channels=list(question.channels),
            k=question.k or self._settings.retrieval.k,
            budget=self.context_budget(question) if budget is None else budget,
            min_score=question.min_score,
        )

    def prompt_tokens(self, question: Question, context: PackedContext, labels: Sequence[SourceLabel]) -> int:
        """What the whole prompt costs in tokens (for checks and tests)."""
        messages = build_messages(
            system_prompt(question.guild_name, question.extra_instruction), context, labels, question.history,
            question.text,
        )  # fmt: skip
        return sum(count_tokens(str(m.content), self._settings.llm.model) for m in messages)

    async def stream(
        self, question: Question, context: PackedContext, labels: Sequence[SourceLabel]
    ) -> AsyncIterator[Draft]:
        """Yield the draft as it grows; the last one is final.

        Without passages: "nothing found". Without a model: the extractive answer.

        Raises:
            AnswerError: the model failed, timed out, or said nothing; nothing partial should be shown as whole.
        """
        if not context.hits:
            yield Draft(context=context, generated=False, text=NOTHING_FOUND)
            return
        if self._chat is None:
            yield Draft(context=context, generated=False, text=extractive_answer(question.text, context))
            return
        draft = Draft(context=context, generated=True)
        llm = self._settings.llm
        system = system_prompt(question.guild_name, question.extra_instruction)
        history = trim_history(question.history, max(0, llm.context_window // 4), llm.model)
        messages = build_messages(system, context, labels, history, question.text)
        async with self._llm_slots:
            try:
                # A guild's own model is a per-call override of the request's `model` field.
                chat = self._chat.bind(model=question.model) if question.model else self._chat
                async for chunk in chat.astream(messages):
                    piece = chunk.content if isinstance(chunk.content, str) else ""
                    if chunk.response_metadata.get("finish_reason") == "length":
                        draft.cut_off = True
                    if piece:
                        draft.text += piece
                        yield draft
            except (openai.APIError, httpx.HTTPError, TimeoutError, ValueError) as e:
                log.warning("language model failed: %s: %s", type(e).__name__, e)
                raise AnswerError(_explain(e)) from e
        if not draft.text.strip():
            msg = "The language model returned an empty answer. Please try again."
            raise AnswerError(msg)
        draft.used_sources = sorted({int(n) for n in _CITATION.findall(draft.text) if 0 < int(n) <= len(context.hits)})
        yield draft


def _explain(error: Exception) -> str:
    """One clear sentence for the member about what went wrong with the model."""
    if isinstance(error, openai.RateLimitError):
        return "The language model is rate-limited right now. Please try again in a minute."
    if isinstance(error, openai.APITimeoutError | TimeoutError | httpx.TimeoutException):
        return "The language model took too long to answer. Please try again."
    if isinstance(error, openai.AuthenticationError):
        return "The language model refused the bot's credentials. An admin needs to check the API key."
    if isinstance(error, openai.APIStatusError):
        return f"The language model failed (HTTP {error.status_code}). Please try again later."
    return "The language model could not be reached or sent a broken answer. Please try again later."
