"""The memory library's exceptions: one root, a few precise leaves.

MemoryStoreError
├── ConfigError            the configuration is invalid (unknown key, wrong type, missing secret)
├── StoreLockedError       another process owns the data directory
├── EmbeddingModelMismatchError the index was built with another embedding model: run `memorybot reindex`
├── EmbeddingError         the embedder failed (model missing, endpoint down, bad vectors)
├── ExtractionError        one file could not be read (too big, broken, hostile, unsupported)
└── ChatExportError        a DiscordChatExporter file is not in the expected shape
"""

from __future__ import annotations


class MemoryStoreError(Exception):
    """Root of every error raised on purpose by the memory library."""


class ConfigError(MemoryStoreError):
    """The configuration file or environment is invalid."""


class StoreLockedError(MemoryStoreError):
    """Another process already owns the data directory."""


class EmbeddingModelMismatchError(MemoryStoreError):
    """The stored vectors were made by a different embedding model."""


class EmbeddingError(MemoryStoreError):
    """Embedding failed."""


class ExtractionError(MemoryStoreError):
    """Text could not be extracted from one file; the message says why."""


class ChatExportError(MemoryStoreError):
    """A chat export file could not be read."""
