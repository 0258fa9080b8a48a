"""A fake OpenAI-compatible server for tests that drive the real OpenAI and LangChain clients offline."""

from tests.fakeopenai.server import (
    EMBEDDING_DIMENSIONS,
    EMBEDDING_FAULTS,
    FAULTS,
    WRONG_DIMENSIONS,
    FakeOpenAI,
    fake_embedding,
)

__all__ = ["EMBEDDING_DIMENSIONS", "EMBEDDING_FAULTS", "FAULTS", "WRONG_DIMENSIONS", "FakeOpenAI", "fake_embedding"]
