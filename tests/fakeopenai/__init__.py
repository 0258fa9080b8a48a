"""A fake OpenAI-compatible server for tests that drive the real OpenAI and LangChain clients offline."""

from tests.fakeopenai.server import EMBEDDING_DIMENSIONS, FAULTS, FakeOpenAI, fake_embedding

__all__ = ["EMBEDDING_DIMENSIONS", "FAULTS", "FakeOpenAI", "fake_embedding"]
