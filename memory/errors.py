"""The memory library's exceptions: one root, a few precise leaves; each message is fit to show to a person.

MemoryStoreError
├── ConfigError                 the configuration is invalid (unknown key, wrong type, missing secret)
├── StoreLockedError            another process owns the data directory
├── DataDirNotWritableError     the data directory is read-only to this process (a copy must be writable)
├── EmbeddingModelMismatchError the index was built with another embedding model: run `memorybot reindex`
├── EmbeddingError              the embedder failed (model missing, endpoint down, bad vectors)
├── ExtractionError             one file could not be read (too big, broken, hostile, unsupported)
├── ChatExportError             a DiscordChatExporter file is not in the expected shape
├── GuildSettingError           a server's setting is not allowed (nothing was stored)
└── AnswerError                 the language model failed, timed out or said nothing

Front ends turn these into user messages in one place each (the bot's app-command error handler and
`bot.errors.user_message`, the command line's `main`); anything else is a bug and is logged as such.
"""

from __future__ import annotations


class MemoryStoreError(Exception):
    """Root of every error raised on purpose by the memory library."""


class ConfigError(MemoryStoreError):
    """The configuration file or environment is invalid."""


class StoreLockedError(MemoryStoreError):
    """Another process already owns the data directory."""


class DataDirNotWritableError(MemoryStoreError):
    """The data directory, or a file in it, cannot be written by this process (even a search writes)."""


class EmbeddingModelMismatchError(MemoryStoreError):
    """The stored vectors were made by a different embedding model."""


class EmbeddingError(MemoryStoreError):
    """Embedding failed."""


class ExtractionError(MemoryStoreError):
    """Text could not be extracted from one file; the message says why."""


class ChatExportError(MemoryStoreError):
    """A chat export file could not be read; the message names the file, `reason` says only why."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class GuildSettingError(MemoryStoreError):
    """One or more server settings are not allowed; the message names each and the allowed values."""


class AnswerError(MemoryStoreError):
    """The language model failed; the message is fit to show to the member who asked."""
