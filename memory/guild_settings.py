"""Per-guild settings set by server admins: validated by a pydantic model, stored as text, config.yaml as fallback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from memory.errors import GuildSettingError
from memory.settings import MemorySettings
from memory.stores.interfaces import GuildSettingValues

MIN_BUDGET = 100
MAX_SOURCES = 50
MAX_INSTRUCTION_CHARS = 500
Visibility = Literal["public", "private"]


class SettingChanges(BaseModel):
    """What an admin may set for a guild (every field optional); the descriptions are the slash command's help.

    Validated with `context={"config": MemorySettings}`: the budget's ceiling and the allowed models come from it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    visibility: Visibility | None = Field(
        None, description="Answers to /ask are public or private unless the asker says otherwise"
    )
    max_sources: int | None = Field(
        None, ge=1, le=MAX_SOURCES, description="How many sources an answer may draw on at most (1-50)"
    )
    budget: int | None = Field(
        None, ge=MIN_BUDGET, description="Tokens the sources of an answer may use (at least 100)"
    )
    min_relevance: float | None = Field(
        None, ge=0.0, le=1.0, allow_inf_nan=False, description="Least relevance a source needs (0-1)"
    )
    retention_days: int | None = Field(
        None, ge=0, le=36500, description="Erase chat messages and files older than this many days (0: keep forever)"
    )
    extra_instruction: str | None = Field(
        None,
        min_length=1,
        max_length=MAX_INSTRUCTION_CHARS,
        description="Appended to the system prompt (at most 500 characters)",
    )
    model: str | None = Field(None, description="The language model, from the allow-list in config.yaml")

    @field_validator("visibility", "extra_instruction", "model", mode="before")
    @classmethod
    def _trimmed(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        return value.strip().lower() if info.field_name == "visibility" else value.strip()

    @field_validator("budget")
    @classmethod
    def _fits_the_window(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and value > max_budget(_config(info)):
            msg = "too large for the model's window"
            raise ValueError(msg)
        return value

    @field_validator("model")
    @classmethod
    def _allowed(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value not in allowed_models(_config(info)):
            msg = "not allowed"
            raise ValueError(msg)
        return value


SETTING_KEYS: tuple[str, ...] = tuple(SettingChanges.model_fields)


class GuildSettings(BaseModel):
    """The settings in force for one guild, and which of them the guild set itself (the rest come from config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    visibility: Visibility
    max_sources: int
    budget: int
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

    @classmethod
    def defaults(cls, config: MemorySettings) -> GuildSettings:
        """The settings of a guild that set nothing: config.yaml's (trusted as they are, so not re-validated)."""
        retrieval = config.retrieval
        return cls.model_construct(
            visibility="public", max_sources=retrieval.max_sources, budget=retrieval.budget,
            min_relevance=retrieval.min_relevance, retention_days=config.storage.retention_days,
            extra_instruction=None, model=config.llm.model, overridden=frozenset(),
        )  # fmt: skip


def allowed_models(config: MemorySettings) -> list[str]:
    """The models an admin may choose: `llm.allowed_models`, or only `llm.model` when that list is empty."""
    return list(dict.fromkeys([config.llm.model, *config.llm.allowed_models]))


def max_budget(config: MemorySettings) -> int:
    """The largest budget: what the model's window leaves once the answer is reserved."""
    return max(MIN_BUDGET, config.llm.context_window - config.llm.max_answer_tokens)


class PerGuildSettings:
    """Every guild's settings: stored as text by key, validated on the way in, config.yaml's where unset."""

    def __init__(self, values: GuildSettingValues, config: MemorySettings) -> None:
        self._values = values
        self._config = config

    def get(self, guild_id: str) -> GuildSettings:
        """The settings in force: each stored value that is still valid, else config.yaml's.

        A stored value that the configuration no longer allows (a model removed from the allow-list, a budget above
        a smaller window) falls back to the default rather than failing every question.
        """
        valid: dict[str, object] = {}
        for key, text in self._values.values(guild_id).items():
            try:
                valid.update(self._validated({key: text}))
            except GuildSettingError:
                continue
        base = GuildSettings.defaults(self._config)
        return base.model_copy(update={**valid, "overridden": frozenset(valid)})

    def check(self, changes: Mapping[str, object]) -> dict[str, object]:
        """The changes, validated all together.

        Raises:
            GuildSettingError: one line per bad key or value, naming what is allowed.
        """
        return self._validated(changes)

    def change(self, guild_id: str, changes: Mapping[str, object]) -> GuildSettings:
        """Validate and store several settings of a guild, all or none; return the settings now in force.

        Raises:
            GuildSettingError: a key is unknown or a value not allowed; nothing was stored.
        """
        try:
            valid = self._validated(changes)
        except GuildSettingError as e:
            problems = str(e).splitlines()
            lines = problems[0] if len(problems) == 1 else "\n" + "\n".join(f"• {p}" for p in problems)
            raise GuildSettingError(f"Nothing was changed: {lines}") from e
        self._values.put(guild_id, {key: str(value) for key, value in valid.items()})
        return self.get(guild_id)

    def reset(self, guild_id: str, key: str) -> bool:
        """Let config.yaml decide a setting of a guild again; return whether the guild had set it."""
        return self._values.clear(guild_id, key)

    def _validated(self, changes: Mapping[str, object]) -> dict[str, object]:
        try:
            model = SettingChanges.model_validate(dict(changes), context={"config": self._config})
        except ValidationError as e:
            raise GuildSettingError("\n".join(self._problem(p) for p in e.errors())) from e
        return model.model_dump(exclude_unset=True, exclude_none=True)

    def _problem(self, problem: ErrorDetails) -> str:
        key = str(problem["loc"][0]) if problem["loc"] else "settings"
        if problem["type"] == "extra_forbidden":
            return f"unknown setting {key!r}; the settings are {', '.join(SETTING_KEYS)}"
        shown = repr(problem["input"])
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        return f"{key} must be {self._allowed(key)}, not {shown}"

    def _allowed(self, key: str) -> str:
        """The values a setting allows, in words, from its field's constraints."""
        field = SettingChanges.model_fields[key]
        if key == "model":
            return f"one of {', '.join(allowed_models(self._config))} (llm.allowed_models in config.yaml)"
        if key == "extra_instruction":
            return f"text of at most {MAX_INSTRUCTION_CHARS} characters (reset it rather than leave it empty)"
        if key == "visibility":
            return " or ".join(get_args(Visibility))
        low = next((m.ge for m in field.metadata if isinstance(m, annotated_types.Ge)), 0)
        high = next((m.le for m in field.metadata if isinstance(m, annotated_types.Le)), 0)
        if key == "budget":
            high = max_budget(self._config)
        kind = "a number" if float in get_args(field.annotation) else "a whole number"
        return f"{kind} from {low:g} to {high:g}"


def _config(info: ValidationInfo) -> MemorySettings:
    context: Any = info.context
    config = context.get("config") if isinstance(context, dict) else None
    if not isinstance(config, MemorySettings):
        msg = "validate with context={'config': MemorySettings}"
        raise TypeError(msg)
    return config
