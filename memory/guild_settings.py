"""Per-guild settings set by server admins: validated here, stored as text in SQLite, config.yaml as fallback."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from memory.settings import MemorySettings

MIN_CONTEXT_TOKENS = 100
MAX_SOURCES = 20
MAX_INSTRUCTION_CHARS = 500
KEYS = ("visibility", "sources", "context_tokens", "min_relevance", "retention_days", "extra_instruction", "model")


class GuildSettingError(ValueError):
    """A setting value that is not allowed; the message says which values are."""


@dataclass(frozen=True, slots=True)
class GuildSettings:
    """The settings in force for one guild, and which of them the guild set itself (the rest come from config)."""

    visibility: Literal["public", "private"]
    sources: int
    context_tokens: int
    min_relevance: float
    retention_days: int
    extra_instruction: str | None
    model: str
    overridden: frozenset[str] = frozenset()

    @property
    def private(self) -> bool:
        """Whether answers are private unless the asker says otherwise."""
        return self.visibility == "private"

    def source(self, key: str) -> str:
        """Where a setting's value comes from: "server" or "config"."""
        return "server" if key in self.overridden else "config"


def allowed_models(settings: MemorySettings) -> list[str]:
    """The models an admin may choose: `llm.allowed_models`, or only `llm.model` when that list is empty."""
    return list(dict.fromkeys([settings.llm.model, *settings.llm.allowed_models]))


def max_context_tokens(settings: MemorySettings) -> int:
    """The largest context budget: what the model's window leaves once the answer is reserved."""
    return max(MIN_CONTEXT_TOKENS, settings.llm.context_window - settings.llm.max_answer_tokens)


def defaults(settings: MemorySettings) -> GuildSettings:
    """The settings of a guild that set nothing: config.yaml's."""
    retrieval = settings.retrieval
    return GuildSettings(
        visibility="public", sources=retrieval.k, context_tokens=retrieval.max_context_tokens,
        min_relevance=retrieval.min_score, retention_days=settings.storage.retention_days, extra_instruction=None,
        model=settings.llm.model,
    )  # fmt: skip


def validate(key: str, value: object, settings: MemorySettings) -> str:
    """Check one setting and return it as stored text.

    Raises:
        GuildSettingError: an unknown key or a value out of range; the message names the allowed values.
    """
    if key == "visibility":
        text = str(value).strip().lower()
        if text not in {"public", "private"}:
            msg = f"visibility must be public or private, not {value!r}"
            raise GuildSettingError(msg)
        return text
    if key == "sources":
        return str(_int(key, value, 1, MAX_SOURCES))
    if key == "context_tokens":
        return str(_int(key, value, MIN_CONTEXT_TOKENS, max_context_tokens(settings)))
    if key == "retention_days":
        return str(_int(key, value, 0, 36500))
    if key == "min_relevance":
        try:
            number = float(str(value))
        except ValueError:
            number = math.nan
        if not 0.0 <= number <= 1.0:  # NaN fails too
            msg = f"min_relevance must be a number from 0 to 1, not {value!r}"
            raise GuildSettingError(msg)
        return repr(number)
    if key == "extra_instruction":
        text = str(value).strip()
        if not text:
            msg = "extra_instruction must not be empty (clear it instead)"
            raise GuildSettingError(msg)
        if len(text) > MAX_INSTRUCTION_CHARS:
            msg = f"extra_instruction must be at most {MAX_INSTRUCTION_CHARS} characters, not {len(text)}"
            raise GuildSettingError(msg)
        return text
    if key == "model":
        allowed = allowed_models(settings)
        text = str(value).strip()
        if text not in allowed:
            msg = f"model must be one of {', '.join(allowed)} (llm.allowed_models in config.yaml), not {value!r}"
            raise GuildSettingError(msg)
        return text
    msg = f"unknown setting {key!r}; the settings are {', '.join(KEYS)}"
    raise GuildSettingError(msg)


def resolve(stored: dict[str, str], settings: MemorySettings) -> GuildSettings:
    """The settings in force: each stored value that is still valid, else config.yaml's.

    A stored value that the configuration no longer allows (a model removed from the allow-list, a budget above
    a smaller window) falls back to the default rather than failing every question.
    """
    base = defaults(settings)
    values: dict[str, object] = {}
    for key, raw in stored.items():
        try:
            text = validate(key, raw, settings)
        except GuildSettingError:
            continue
        values[key] = _typed(key, text)
    return GuildSettings(
        visibility="private" if values.get("visibility", base.visibility) == "private" else "public",
        sources=int(str(values.get("sources", base.sources))),
        context_tokens=int(str(values.get("context_tokens", base.context_tokens))),
        min_relevance=float(str(values.get("min_relevance", base.min_relevance))),
        retention_days=int(str(values.get("retention_days", base.retention_days))),
        extra_instruction=str(values["extra_instruction"]) if "extra_instruction" in values else None,
        model=str(values.get("model", base.model)),
        overridden=frozenset(values),
    )


def _typed(key: str, text: str) -> object:
    if key in {"sources", "context_tokens", "retention_days"}:
        return int(text)
    if key == "min_relevance":
        return float(text)
    return text


def _int(key: str, value: object, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if not low <= number <= high:
        msg = f"{key} must be a whole number from {low} to {high}, not {value!r}"
        raise GuildSettingError(msg)
    return number
