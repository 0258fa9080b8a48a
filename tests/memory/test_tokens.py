"""Token counting works offline: the model's encoding when it ships on disk, cl100k otherwise."""

from __future__ import annotations

import socket

import pytest

from memory.tokens import FALLBACK_ENCODING, count_tokens, encoding_for


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_fallback_is_the_offline_cl100k(no_network):
    """Without a model, or for an unknown one, the offline cl100k encoding is used."""
    assert encoding_for(None).name == FALLBACK_ENCODING
    assert encoding_for("my-local-llama").name == FALLBACK_ENCODING
    assert count_tokens("hello world") == 2


def test_gpt4o_gets_o200k_from_the_shipped_file(no_network, tmp_path, monkeypatch):
    """gpt-4o models count with o200k_base, loaded from a file on disk, never the network."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    encoding_for.cache_clear()
    try:
        assert encoding_for("gpt-4o-mini").name == "o200k_base"
        assert list((tmp_path / "cache").iterdir())
    finally:
        encoding_for.cache_clear()


def test_gpt4_maps_to_offline_cl100k(no_network):
    """gpt-4 uses cl100k, served by the offline package."""
    assert encoding_for("gpt-4").name == FALLBACK_ENCODING
