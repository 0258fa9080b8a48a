"""A Chroma server behind TLS and a token (`storage.chroma.ssl`, `ssl_ca`, `headers_env`): memorybot reaches it
over HTTPS, trusting the given CA, with the headers the environment holds on every request; without them the
server's refusal stops it, and a header variable that is missing or not JSON is refused in one line."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import chromadb
import pytest

from memory import ConfigError, Memory, MemorySettings, MemoryStoreError
from memory.stores.chroma import collection_name
from tests.chroma_server import ChromaServer, TlsProxy, chroma_server_fixture  # noqa: F401 (a fixture)
from tests.conftest import make_settings
from tests.fakes import message

HEADERS_ENV = "MEMORYBOT_CHROMA_HEADERS"
TOKEN = "s3cret-token"  # the test proxy's


@pytest.fixture
def proxy(chroma_server: ChromaServer, tmp_path: Path) -> Iterator[TlsProxy]:
    with TlsProxy(chroma_server, TOKEN, tmp_path / "proxy.pem").running() as running:
        yield running


def tls_settings(tmp_path: Path, proxy: TlsProxy, **chroma: object) -> MemorySettings:
    """Settings on the proxy over HTTPS, trusting its certificate, with the headers of HEADERS_ENV."""
    wanted = {"mode": "http", "host": "127.0.0.1", "port": proxy.port, "ssl": True, "ssl_ca": str(proxy.ca)}
    return make_settings(tmp_path / "data", storage={"chroma": {**wanted, "headers_env": HEADERS_ENV, **chroma}})


def test_memory_reaches_the_server_over_https_with_the_token_on_every_request(tmp_path, proxy, embeddings, monkeypatch):
    """With the CA and the headers set, messages are remembered on the server behind the proxy and found again;
        every request the proxy was sent carried the headers, the vector was written and queried through it, and the
    server behind it holds the guild's collection."""
    monkeypatch.setenv(HEADERS_ENV, json.dumps({"Authorization": f"Bearer {TOKEN}", "X-Team": "ops"}))
    guild = "g-tls"
    with Memory.open(tls_settings(tmp_path, proxy), embeddings=embeddings) as memory:
        memory.remember_messages([message(1, "the KESTREL rollout is on Friday", guild=guild)])
        hits = memory.search("KESTREL rollout", guild, max_sources=5).hits
        assert hits and "KESTREL" in hits[0].chunk.text and hits[0].similarity is not None
    assert proxy.requests, "nothing went through the proxy"
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" and h.get("X-Team") == "ops" for _, _, h in proxy.requests)
    paths = [path for _, path, _ in proxy.requests]
    assert any(path.endswith(("/upsert", "/add")) for path in paths)  # the vector was written through it
    assert any(path.endswith("/query") for path in paths)  # and the dense search answered through it
    direct = chromadb.HttpClient(host=proxy.server.host, port=proxy.server.port)  # the server itself, no proxy
    try:
        assert direct.get_collection(collection_name(guild)).count() >= 1
    finally:
        direct.close()


def test_without_the_token_the_server_refuses_and_opening_the_index_fails_in_one_line(tmp_path, proxy, embeddings):
    """With no headers_env the proxy answers 401 and opening the index (the bot does at start) fails in one line
    that names the server and the setting to add."""
    settings = tls_settings(tmp_path, proxy, headers_env=None)
    with Memory.open(settings, embeddings=embeddings) as memory, pytest.raises(MemoryStoreError) as refused:
        memory.open_index()
    said = str(refused.value)
    assert f"https://127.0.0.1:{proxy.port}" in said and "set storage.chroma.headers_env" in said, said
    assert "\n" not in said
    assert proxy.requests and all("Authorization" not in h for _, _, h in proxy.requests)


def test_a_wrong_token_is_refused_in_one_line_naming_its_variable_never_its_value(
    tmp_path, proxy, embeddings, monkeypatch
):
    """The headers are sent but the proxy does not take them: the line points at the variable, and keeps the
    token out of it (the line goes to logs)."""
    monkeypatch.setenv(HEADERS_ENV, json.dumps({"Authorization": "Bearer wrong-s3cret"}))
    refusal = f"check the headers in the variable {HEADERS_ENV}"
    with (
        Memory.open(tls_settings(tmp_path, proxy), embeddings=embeddings) as memory,
        pytest.raises(MemoryStoreError, match=refusal) as refused,
    ):
        memory.open_index()
    assert "s3cret" not in str(refused.value) and "\n" not in str(refused.value)
    assert proxy.requests and all(h.get("Authorization") == "Bearer wrong-s3cret" for _, _, h in proxy.requests)


def test_a_certificate_nobody_vouches_for_is_refused_in_one_line_naming_ssl_ca(
    tmp_path, proxy, embeddings, monkeypatch
):
    """Without ssl_ca the proxy's self-signed certificate is checked against the system's CAs and refused: no
    request reaches it, and the line says to set ssl_ca; the certificate error stays as its cause."""
    monkeypatch.setenv(HEADERS_ENV, json.dumps({"Authorization": f"Bearer {TOKEN}"}))
    settings = tls_settings(tmp_path, proxy, ssl_ca=None)
    with Memory.open(settings, embeddings=embeddings) as memory, pytest.raises(MemoryStoreError) as refused:
        memory.open_index()
    said = str(refused.value)
    assert "set storage.chroma.ssl_ca" in said and "system's CAs" in said and "\n" not in said, said
    chain = list(iter_causes(refused.value))
    assert any(isinstance(e, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(e) for e in chain)
    assert proxy.requests == []


def test_a_server_that_is_not_there_is_one_line_asking_whether_it_runs(tmp_path, embeddings):
    """Nothing listens on the port: the line names the address and the settings to check."""
    with socket.socket() as probe:  # a port that was free a moment ago and that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(tmp_path / "data", storage={"chroma": {"mode": "http", "host": "127.0.0.1", "port": port}})
    with Memory.open(settings, embeddings=embeddings) as memory, pytest.raises(MemoryStoreError) as refused:
        memory.open_index()
    said = str(refused.value)
    assert f"cannot reach the Chroma server at http://127.0.0.1:{port}" in said and "is it running?" in said, said
    assert "\n" not in said


def iter_causes(error: BaseException) -> Iterator[BaseException]:
    while (error := error.__cause__ or error.__context__) is not None:  # type: ignore[assignment]
        yield error


@pytest.mark.parametrize("value", [None, "Bearer s3cret-token", '["Authorization"]', '{"Authorization": 5}'])
def test_a_headers_variable_unset_or_not_a_json_object_of_strings_is_refused_in_one_line(
    tmp_path, proxy, embeddings, monkeypatch, value
):
    """The variable headers_env names must be set to a JSON object of strings; the message names the variable and
    never repeats its value."""
    if value is None:
        monkeypatch.delenv(HEADERS_ENV, raising=False)
    else:
        monkeypatch.setenv(HEADERS_ENV, value)
    memory = Memory.open(tls_settings(tmp_path, proxy), embeddings=embeddings)
    try:
        with pytest.raises(ConfigError, match=HEADERS_ENV) as refused:
            memory.open_index()
    finally:
        memory.close()
    assert "s3cret" not in str(refused.value) and "\n" not in str(refused.value)
    assert proxy.requests == []


def test_ssl_ca_without_ssl_is_refused_at_load():
    """A CA file for HTTPS given with `ssl: false` is a mistake, refused when the settings are read."""
    with pytest.raises(ValueError, match=r"storage\.chroma\.ssl to true"):
        MemorySettings.model_validate({"storage": {"chroma": {"mode": "http", "ssl_ca": "/ca.pem"}}})
