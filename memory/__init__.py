"""memorybot's memory: remember chat and files, search them in a token budget. No Discord in here."""

from memory.answer import extractive_answer
from memory.chat_export import ChatExport, read_chat_export
from memory.errors import (
    ChatExportError,
    ConfigError,
    EmbeddingError,
    EmbeddingModelMismatchError,
    ExtractionError,
    MemoryStoreError,
    StoreLockedError,
)
from memory.retrieval import PackedContext, pack
from memory.service import Answer, ForgetReport, Memory
from memory.settings import MemorySettings, load_settings
from memory.types import ChatMessage, Chunk, FileDocument, Hit, IngestReport, utc_iso

__all__ = [
    "Answer",
    "ChatExport",
    "ChatExportError",
    "ChatMessage",
    "Chunk",
    "ConfigError",
    "EmbeddingError",
    "EmbeddingModelMismatchError",
    "ExtractionError",
    "FileDocument",
    "ForgetReport",
    "Hit",
    "IngestReport",
    "Memory",
    "MemorySettings",
    "MemoryStoreError",
    "PackedContext",
    "StoreLockedError",
    "extractive_answer",
    "load_settings",
    "pack",
    "read_chat_export",
    "utc_iso",
]
