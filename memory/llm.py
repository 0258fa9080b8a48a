"""Builds the chat model: `langchain_openai.ChatOpenAI` for any OpenAI-compatible endpoint, or none."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from memory.settings import LLMSettings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


def make_chat_model(settings: LLMSettings) -> BaseChatModel | None:
    """The configured chat model, or None when `llm.base_url` is unset (answers are then extractive).

    The key comes from the environment only; a local server (Ollama, llama.cpp, vLLM) that needs no key
    gets a placeholder, since the client insists on one. The model gets an HTTP client of its own (not
    langchain-openai's process-wide one), so that `close_chat_model` can release its connections.
    """
    if not settings.base_url:
        return None
    import httpx  # slow imports, only when a model is configured
    from langchain_openai import ChatOpenAI

    key = os.environ.get(settings.api_key_env, "").strip() or "not-needed"
    return ChatOpenAI(
        base_url=settings.base_url,
        model=settings.model,
        api_key=key,  # type: ignore[arg-type]
        temperature=settings.temperature,
        timeout=settings.timeout_seconds,
        max_retries=settings.max_retries,
        max_tokens=settings.max_answer_tokens,  # type: ignore[call-arg]
        streaming=True,
        http_async_client=httpx.AsyncClient(timeout=settings.timeout_seconds),
    )


async def close_chat_model(model: BaseChatModel | None) -> None:
    """Release the connections of a model made by `make_chat_model` (a no-op for any other)."""
    client = getattr(model, "http_async_client", None)
    close = getattr(client, "aclose", None)
    if callable(close):
        await close()
