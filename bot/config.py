"""The whole configuration file: the memory library's sections plus the Discord bot's own."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from memory import DiscordId, LimitSettings, MemorySettings, SettingsSection, load_settings


class DiscordSettings(SettingsSection):
    token_env: str = "DISCORD_TOKEN"  # noqa: S105  (a variable name, not a secret)
    # Discord's own endpoints; point them at a Discord-compatible server or a test double.
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    enabled_channels: list[DiscordId] = Field(default_factory=list)
    # After a restart (a new gateway session), how many of each remembered channel's latest messages are read again
    # to catch the edits and deletes missed while offline (0: no reconciliation at all).
    reconcile_messages: int = Field(default=200, ge=0, le=10_000)
    # And at most how many messages sent while the bot was away are read after each channel's mark (beyond that,
    # the log and /memory backfill-status name the /memory backfill that reads the rest; 0: none).
    reconcile_max_missed: int = Field(default=5000, ge=0, le=1_000_000)
    # Discord shards (`bot.shards`): none runs one unsharded connection; a number (or `auto`: the count Discord's
    # GET /gateway/bot recommends) runs an AutoShardedBot. `shard_ids` are the shards this process runs (all of
    # them when unset); several processes with disjoint `shard_ids` share one PostgreSQL and one Chroma server.
    shard_count: Literal["auto"] | int | None = None
    shard_ids: list[int] | None = None

    @field_validator("shard_count", mode="before")
    @classmethod
    def _shard_count(cls, value: object) -> object:
        """A number of shards or `auto`, in one line (a union's error would list each alternative)."""
        if value is None or value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return value
        raise PydanticCustomError("shards", f"must be a number of shards (1 or more) or auto, not {value!r}")

    @field_validator("shard_ids")
    @classmethod
    def _shards_fit(cls, ids: list[int] | None, info: ValidationInfo) -> list[int] | None:
        """Each listed shard exists, once (the message follows the key, `discord.shard_ids: ...`)."""
        if ids is None or "shard_count" not in info.data:  # (a bad shard_count is reported on its own)
            return ids
        count = info.data["shard_count"]
        if not isinstance(count, int):
            msg = "needs a number in discord.shard_count (the shards of all processes together, e.g. 2)"
            msg += "" if count is None else f", not {count}"
            raise PydanticCustomError("shards", msg)
        if not ids:
            raise PydanticCustomError("shards", "is empty: list the shards this process runs, or leave it out for all")
        for shard in ids:
            if not 0 <= shard < count:
                msg = f"shard {shard} does not exist with discord.shard_count {count} (shards are 0 to {count - 1})"
                raise PydanticCustomError("shards", msg)
        if len(set(ids)) != len(ids):
            msg = f"lists shard {next(shard for shard in ids if ids.count(shard) > 1)} twice"
            raise PydanticCustomError("shards", msg)
        return ids


class BotLimitSettings(LimitSettings):
    """The memory's limits on files, plus the bot's on requests that cost a model call (`bot.limits`; 0: none)."""

    asks_per_member_per_minute: int = Field(default=5, ge=0)  # /ask and mentions, per member of a guild
    asks_per_guild_per_minute: int = Field(default=30, ge=0)
    recaps_per_member_per_minute: int = Field(default=2, ge=0)
    recaps_per_guild_per_minute: int = Field(default=10, ge=0)


class OpsSettings(SettingsSection):
    # The operations endpoint (`/healthz`, `/metrics`, see `bot.ops`): off at port 0. Loopback by default: the
    # metrics name guilds' activity, so listening on every interface (0.0.0.0, as in Docker) is a choice made here.
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=0, le=65535)
    # text: "LEVEL message" lines; json: one JSON object per line (for a log shipper).
    log_format: Literal["text", "json"] = "text"


class Settings(MemorySettings):
    """config.yaml: every section validated, unknown keys rejected by name."""

    discord: DiscordSettings = DiscordSettings()
    limits: BotLimitSettings = BotLimitSettings()
    ops: OpsSettings = OpsSettings()


def config_file(option: Path | None) -> Path | None:
    """The config file in effect: `--config`'s, else ./config.yaml if there is one, else none (the defaults)."""
    if option is None and Path("config.yaml").exists():
        return Path("config.yaml")
    return option


def load_config(path: Path | None, *, data_dir: Path | None = None) -> Settings:
    """Load and validate config.yaml (see `memory.load_settings`)."""
    return load_settings(path, Settings, data_dir=data_dir)
