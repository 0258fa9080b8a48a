"""Builds the chat model: `langchain_openai.ChatOpenAI` for any OpenAI-compatible endpoint, or none."""

from __future__ import annotations

import os

from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI

from memory.settings import LLMSettings


def make_chat_model(settings: LLMSettings) -> BaseChatModel | None:
    """The configured chat model, or None when `llm.base_url` is unset (answers are then extractive).

    The key comes from the environment only; a local server (Ollama, llama.cpp, vLLM) that needs no key
    gets a placeholder, since the client insists on one.
    """
    if not settings.base_url:
        return None

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
    )
