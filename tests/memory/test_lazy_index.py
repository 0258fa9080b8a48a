"""A read-only command does not stamp the last ingest."""

from __future__ import annotations

import pytest

from memory import FileDocument, Memory
from tests.fakes import message


def doc(text: str) -> FileDocument:
    return FileDocument(guild_id="g1", channel_id="docs", source="/src/a.txt", filename="a.txt", data=text.encode())


@pytest.fixture
def filled(settings, embeddings):
    """A data dir holding chat and a file, closed again (so the next opening starts with nothing connected)."""
    with Memory.open(settings, embeddings=embeddings) as memory:
        memory.remember_messages([message(i, f"the deploy key rotates on day {i}") for i in range(3)])
        memory.ingest_files([doc("Rotate the deploy key on Fridays.")])
    return settings


def test_catching_up_with_nothing_to_do_is_no_ingest(filled, embeddings):
    """`stats` and `search` catch up first; when there is nothing to rebuild, the last ingest keeps its time."""
    with Memory.open(filled, embeddings=embeddings) as memory:
        memory.stores.database.set_meta("last_ingest_at", "2000-01-01T00:00:00+00:00")
        memory.catch_up()
        assert memory.stats().last_ingest_at == "2000-01-01T00:00:00+00:00"
        memory.remember_messages([message(9, "a new message")])
        assert memory.stats().last_ingest_at != "2000-01-01T00:00:00+00:00"
