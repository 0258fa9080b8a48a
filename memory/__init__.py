"""memorybot's memory: remember chat and files, search them in a token budget, answer from them. No Discord in here.

`Memory` (and `AsyncMemory` for asyncio callers) is the one door; everything a front end needs is exported here.
"""

from memory.aio import AsyncMemory
from memory.answering import Answerer, Draft, Question
from memory.chat_export import ChatExport, looks_like_chat_export, read_chat_export
from memory.erase import QUESTION_DAYS
from memory.errors import (
    AnswerError,
    ChatExportError,
    ConfigError,
    EmbeddingError,
    EmbeddingModelMismatchError,
    ExtractionError,
    GuildSettingError,
    MemoryStoreError,
    StoreLockedError,
)
from memory.extract import clean_text
from memory.extractive import extractive_answer
from memory.guild_settings import SETTING_KEYS, GuildSettings, SettingChanges, Visibility
from memory.health import HealthCheck, health_checks
from memory.marks import ChannelMark, HistoryMark
from memory.packing import PackedContext, pack
from memory.probes import chunks_held, stores_reachable
from memory.prompts import Exchange, SourceLabel
from memory.recap import Recap, Recapper
from memory.reports import (
    AskedQuestion,
    ChannelStats,
    ForgetReport,
    GuildStats,
    IngestReport,
    MemoryStats,
    PlaceNames,
    UserData,
)
from memory.service import Memory
from memory.settings import DiscordId, LimitSettings, MemorySettings, SettingsSection, load_settings, secret_from_env
from memory.tokens import count_tokens
from memory.types import BackfillCursor, ChatMessage, Chunk, FileDocument, Hit, utc_iso
from memory.when import TimeScope, since

__all__ = [
    "QUESTION_DAYS",
    "SETTING_KEYS",
    "AnswerError",
    "Answerer",
    "AskedQuestion",
    "AsyncMemory",
    "BackfillCursor",
    "ChannelMark",
    "ChannelStats",
    "ChatExport",
    "ChatExportError",
    "ChatMessage",
    "Chunk",
    "ConfigError",
    "DiscordId",
    "Draft",
    "EmbeddingError",
    "EmbeddingModelMismatchError",
    "Exchange",
    "ExtractionError",
    "FileDocument",
    "ForgetReport",
    "GuildSettingError",
    "GuildSettings",
    "GuildStats",
    "HealthCheck",
    "HistoryMark",
    "Hit",
    "IngestReport",
    "LimitSettings",
    "Memory",
    "MemorySettings",
    "MemoryStats",
    "MemoryStoreError",
    "PackedContext",
    "PlaceNames",
    "Question",
    "Recap",
    "Recapper",
    "SettingChanges",
    "SettingsSection",
    "SourceLabel",
    "StoreLockedError",
    "TimeScope",
    "UserData",
    "Visibility",
    "chunks_held",
    "clean_text",
    "count_tokens",
    "extractive_answer",
    "health_checks",
    "load_settings",
    "looks_like_chat_export",
    "pack",
    "read_chat_export",
    "secret_from_env",
    "since",
    "stores_reachable",
    "utc_iso",
]
