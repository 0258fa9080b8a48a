"""Validated, frozen configuration of the memory library, loaded from YAML at start (never at import)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from memory.errors import ConfigError

log = logging.getLogger(__name__)


class SettingsSection(BaseModel):
    """A section of config.yaml: frozen, and a typo is an error that names the key (extra="forbid")."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _id_text(value: object) -> object:
    # YAML reads a pasted Discord id (digits) as an integer; ids are compared as strings everywhere.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# A Discord id in config.yaml: a string, or an integer (as YAML reads a pasted id), kept as a string.
DiscordId = Annotated[str, BeforeValidator(_id_text)]


def renamed_keys(data: object, renames: Mapping[str, str], section: str) -> object:
    """Accept a section's old key names (with a warning that names the new one); both at once are an error."""
    if not isinstance(data, dict) or not renames.keys() & data.keys():
        return data
    data = dict(data)
    for old, new in renames.items():
        if old not in data:
            continue
        if new in data:
            msg = f"{section}.{old} and {section}.{new} are the same setting: keep only {new}"
            raise ValueError(msg)
        log.warning("config: %s.%s is now called %s.%s; the old name still works for now", section, old, section, new)
        data[new] = data.pop(old)
    return data


class ChromaSettings(SettingsSection):
    mode: Literal["embedded", "http"] = "embedded"
    host: str = "localhost"
    port: int = Field(default=8000, ge=1, le=65535)
    # http: HTTPS to the server, its certificate checked against the system's CAs or, with ssl_ca, against that PEM
    # file (a private CA's certificate, or the server's own self-signed one).
    ssl: bool = False
    ssl_ca: Path | None = None
    # http: the variable holding headers sent with every request, as a JSON object (e.g. {"Authorization": "Bearer
    # ..."} for a server or proxy that wants a token): like every secret, they stay out of config.yaml.
    headers_env: str | None = None

    @model_validator(mode="after")
    def _ca_with_ssl(self) -> ChromaSettings:
        if self.ssl_ca is not None and not self.ssl:
            msg = "ssl_ca is a CA for HTTPS: set storage.chroma.ssl to true as well"
            raise ValueError(msg)
        return self


class RecordSettings(SettingsSection):
    # sqlite: one file in the data directory (one process). postgres: the database named by the connection URL in
    # the environment variable dsn_env (secrets stay out of config.yaml), which several processes may share.
    backend: Literal["sqlite", "postgres"] = "sqlite"
    dsn_env: str = "MEMORYBOT_DATABASE_URL"
    pool_size: int = Field(default=8, ge=1, le=100)  # postgres: connections per process at most
    # postgres, after a forget: vacuum (frees the erased rows, nothing waits) or rewrite (VACUUM FULL: no byte of
    # them is left in the table files, but each touched table is locked while it is copied).
    erase: Literal["vacuum", "rewrite"] = "vacuum"


class StorageSettings(SettingsSection):
    data_dir: Path = Path("data")
    records: RecordSettings = RecordSettings()
    chroma: ChromaSettings = ChromaSettings()
    # Default retention of chat messages and files in days (0: keep forever); a server may set its own.
    retention_days: int = Field(default=0, ge=0, le=36500)


class EmbeddingSettings(SettingsSection):
    provider: Literal["local", "openai"] = "local"
    model: str = "all-MiniLM-L6-v2"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    batch_size: int = Field(default=64, ge=1, le=2048)
    # The openai provider: seconds per request, and retries of a 429, 5xx, timeout or dropped connection (the
    # openai SDK's exponential backoff with jitter, honouring retry-after); after the last, the chunks stay pending.
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)
    # auto: bf16 autocast where the CPU supports it and it matches fp32 (checked at load), else fp32.
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    # The local model embeds search queries through an ONNX export of itself (made once into onnx_dir and checked
    # against the model: the same vectors, in about 4 ms against torch's 12-18); false: through torch.
    onnx_queries: bool = True
    onnx_dir: Path | None = None  # where the export is kept (none: $XDG_CACHE_HOME/memorybot, else ~/.cache/memorybot)
    # Documents (files, chat windows) go through that export compiled by OpenVINO, at the precision chosen above
    # (checked against the model at load: the same vectors, in about half torch's time); false: through torch.
    openvino_documents: bool = True


class ChunkingSettings(SettingsSection):
    # all-MiniLM-L6-v2 reads at most 256 word pieces, so chunks stay near 200 tiktoken tokens.
    file_chunk_tokens: int = Field(default=200, ge=16, le=8000)
    file_overlap_tokens: int = Field(default=30, ge=0, le=2000)
    chat_window_tokens: int = Field(default=200, ge=16, le=8000)
    chat_gap_minutes: float = Field(default=30.0, gt=0)
    # Each message of a window of several is also a passage of its own (found by its own words, packed small).
    message_passages: bool = True


# Names used before the one-name-per-concept cleanup; config files that still use them keep working.
RETRIEVAL_RENAMES = {"k": "max_sources", "max_context_tokens": "budget", "min_score": "min_relevance"}


class RetrievalSettings(SettingsSection):
    # Passages a search returns or an answer draws on, at most; the budget binds first (many are single messages).
    max_sources: int = Field(default=30, ge=1, le=200)
    budget: int = Field(default=1500, ge=1)  # tokens the passages of an answer may use, counted with tiktoken
    min_relevance: float = Field(default=0.2, ge=-1.0, le=1.0)  # least cosine similarity of a passage to the query
    dense_weight: float = Field(default=1.0, ge=0.0)
    lexical_weight: float = Field(default=1.0, ge=0.0)
    candidates: int = Field(default=40, ge=1, le=1000)
    neighbours: int = Field(default=0, ge=0, le=5)
    time_weight: float = Field(default=1.0, ge=0.0)  # the fusion weight of the time legs of time-aware questions
    # The fusion weight of a named member's own messages, for a question that names a member.
    member_weight: float = Field(default=2.0, ge=0.0)
    # A file passage that names another document's title (its top heading) brings that document along.
    linked_documents: bool = True
    # A sentence-transformers CrossEncoder saved at this local path reranks the best passages (none: no reranking).
    reranker: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: object) -> object:
        return renamed_keys(data, RETRIEVAL_RENAMES, "retrieval")


class LLMSettings(SettingsSection):
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    # Calls to the model at once (answers, recaps, query rewrites); more questions wait their turn.
    max_concurrent: int = Field(default=4, ge=1, le=256)
    context_window: int = Field(default=128000, ge=512)
    max_answer_tokens: int = Field(default=800, ge=16)
    # Models a server admin may pick with `/memory settings`; empty means only `model`.
    allowed_models: list[str] = Field(default_factory=list)
    # A question that found too little, or needs several facts, is rewritten by the model for a second search round.
    rewrite_queries: bool = True


class LimitSettings(SettingsSection):
    max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_pdf_pages: int = Field(default=500, ge=1)
    max_extracted_chars: int = Field(default=2_000_000, ge=1)
    max_archive_bytes: int = Field(default=100 * 1024 * 1024, ge=1)
    parse_timeout_seconds: float = Field(default=30.0, gt=0)
    parse_memory_mb: int = Field(default=1024, ge=128)  # the worker alone needs ~100 MB


class MemorySettings(SettingsSection):
    """Everything the memory library needs; the bot's settings extend it with a `discord` section."""

    storage: StorageSettings = StorageSettings()
    embeddings: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    llm: LLMSettings = LLMSettings()
    limits: LimitSettings = LimitSettings()


SettingsT = TypeVar("SettingsT", bound=BaseModel)


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, each naming the key path, e.g. `storage.chroma.prot: unknown key`."""
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        lines.append(f"{key}: {message}")
    return "\n".join(lines)


def load_settings(path: Path | None, model: type[SettingsT], *, data_dir: Path | None = None) -> SettingsT:
    """Read and validate a YAML config file.

    Args:
        path: the YAML file; None or a missing default file means built-in defaults.
        model: the settings class to validate against (`MemorySettings` or a subclass).
        data_dir: overrides `storage.data_dir` (the `--data-dir` option).

    Returns:
        The frozen settings. A relative `storage.data_dir` or `storage.chroma.ssl_ca` is resolved against the config
        file's folder.

    Raises:
        ConfigError: unreadable file, bad YAML, unknown key or wrong type; the message names the key.
    """
    raw: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            msg = f"cannot read config file {path}: {e.strerror}"
            raise ConfigError(msg) from e
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as e:
            msg = f"{path} is not valid YAML: {e}"
            raise ConfigError(msg) from e
        if loaded is not None and not isinstance(loaded, dict):
            msg = f"{path}: the top level must be a mapping of sections"
            raise ConfigError(msg)
        raw = loaded or {}
        base = path.resolve().parent
    try:
        settings = model.model_validate(raw)
    except ValidationError as e:
        msg = f"invalid configuration in {path or 'defaults'}:\n{describe_validation_error(e)}"
        raise ConfigError(msg) from e
    storage = getattr(settings, "storage", None)
    if isinstance(storage, StorageSettings):
        chosen = data_dir if data_dir is not None else storage.data_dir
        resolved = chosen if chosen.is_absolute() else (Path.cwd() if data_dir is not None else base) / chosen
        chroma = storage.chroma
        if chroma.ssl_ca is not None and not chroma.ssl_ca.is_absolute():  # like data_dir: next to the config
            chroma = chroma.model_copy(update={"ssl_ca": base / chroma.ssl_ca})
        storage = storage.model_copy(update={"data_dir": resolved, "chroma": chroma})
        settings = settings.model_copy(update={"storage": storage})
    return settings


def secret_from_env(name: str, *, purpose: str) -> str:
    """Read a secret from the environment only (secrets never live in config.yaml).

    Raises:
        ConfigError: the variable is unset or empty.
    """
    value = os.environ.get(name, "").strip()
    if not value:
        msg = f"{purpose} needs the environment variable {name}; it is not set"
        raise ConfigError(msg)
    return value


def headers_from_env(name: str, *, purpose: str) -> dict[str, str]:
    """Read HTTP headers from the environment: a JSON object of strings (the value is never repeated in errors).

    Raises:
        ConfigError: the variable is unset, empty or not such an object.
    """
    value = secret_from_env(name, purpose=purpose)
    try:
        headers = json.loads(value)
    except json.JSONDecodeError:
        headers = None
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        example = '{"Authorization": "Bearer ..."}'
        msg = f"{purpose}: the environment variable {name} must hold a JSON object of strings, e.g. {example}"
        raise ConfigError(msg)
    return headers
