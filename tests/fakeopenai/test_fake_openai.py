"""The fake OpenAI server, driven by the real langchain-openai and openai clients."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from tests.fakeopenai import EMBEDDING_DIMENSIONS, WRONG_DIMENSIONS, FakeOpenAI, fake_embedding


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    """A started server, stopped after the test."""
    server = FakeOpenAI()
    await server.start()
    yield server
    await server.stop()


def chat(fake: FakeOpenAI, **overrides: Any) -> ChatOpenAI:
    """The real ChatOpenAI pointed at the fake, no retries unless overridden."""
    options: dict[str, Any] = {
        "base_url": fake.base_url,
        "api_key": "sk-fake",
        "model": "fake-model",
        "max_retries": 0,
        "timeout": 5,
    }
    return ChatOpenAI(**{**options, **overrides})


async def raw_sse(fake: FakeOpenAI, body: dict[str, Any]) -> list[str]:
    """The `data:` payloads of one streaming request, read straight off the wire."""
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/chat/completions", json=body, headers=headers) as response,
    ):
        assert response.headers["Content-Type"].startswith("text/event-stream")
        text = await response.text()
    events = [block for block in text.split("\n\n") if block]
    assert all(block.startswith("data: ") for block in events)
    return [block.removeprefix("data: ") for block in events]


async def test_invoke_returns_reply(fake: FakeOpenAI) -> None:
    """A plain ainvoke gets the configured reply, with finish_reason stop and usage."""
    fake.reply = "Paris is the capital of France."
    result = await chat(fake).ainvoke("What is the capital of France?")
    assert isinstance(result, AIMessage)
    assert result.content == "Paris is the capital of France."
    assert result.response_metadata["finish_reason"] == "stop"
    assert result.usage_metadata is not None
    assert result.usage_metadata["output_tokens"] == 6


async def test_callable_reply_sees_the_messages(fake: FakeOpenAI) -> None:
    """A callable reply is given the request's messages and its result is the answer."""
    fake.reply = lambda messages: f"You said {messages[-1]['content']!r} in {len(messages)} messages."
    result = await chat(fake).ainvoke([SystemMessage("Be brief."), HumanMessage("hello")])
    assert result.content == "You said 'hello' in 2 messages."


async def test_astream_yields_chunks_that_join_to_the_reply(fake: FakeOpenAI) -> None:
    """astream yields several content chunks whose concatenation is the reply; the first token time is recorded."""
    fake.reply = "One two three four five six seven eight nine ten."
    fake.chunk_chars = 8
    before = time.monotonic()
    chunks = [chunk async for chunk in chat(fake).astream("Count to ten.")]
    contents = [chunk.content for chunk in chunks if chunk.content]
    assert len(contents) == 7
    assert "".join(str(c) for c in contents) == fake.reply
    assert len(fake.first_token_sent_at) == 1
    assert before <= fake.first_token_sent_at[0] <= time.monotonic()
    assert fake.requests[-1]["stream"] is True


async def test_first_token_time_follows_the_delay(fake: FakeOpenAI) -> None:
    """delay_seconds holds back the first token and chunk_delay_seconds spaces the rest."""
    fake.delay_seconds = 0.2
    fake.chunk_delay_seconds = 0.05
    fake.chunk_chars = 6
    before = time.monotonic()
    chunks = [chunk async for chunk in chat(fake).astream("hi")]
    finished = time.monotonic()
    assert "".join(str(chunk.content) for chunk in chunks) == fake.reply
    # A little slack: the event loop may wake a timer up to its clock resolution early.
    assert fake.first_token_sent_at[0] - before >= 0.19
    assert finished - fake.first_token_sent_at[0] >= 0.05 * 3 - 0.01  # 4 pieces, 3 gaps


async def test_request_records_system_and_human_messages(fake: FakeOpenAI) -> None:
    """The request body is recorded: model, messages with roles, sampling options; last_prompt_text joins them."""
    model = chat(fake, temperature=0.2, max_tokens=50)
    await model.ainvoke([SystemMessage("You are memorybot."), HumanMessage("What did Ana say?")])
    assert len(fake.requests) == 1
    body = fake.requests[0]
    assert body["model"] == "fake-model"
    assert body["messages"] == [
        {"role": "system", "content": "You are memorybot."},
        {"role": "user", "content": "What did Ana say?"},
    ]
    assert body["temperature"] == 0.2
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 50
    assert fake.last_prompt_text() == "You are memorybot.\nWhat did Ana say?"


async def test_stream_usage_arrives_in_a_final_chunk(fake: FakeOpenAI) -> None:
    """With stream_usage the client asks for include_usage and gets token counts."""
    chunks = [chunk async for chunk in chat(fake, stream_usage=True).astream("hi there")]
    assert fake.requests[-1]["stream_options"] == {"include_usage": True}
    usage = [chunk.usage_metadata for chunk in chunks if chunk.usage_metadata]
    assert len(usage) == 1
    assert (usage[0]["input_tokens"], usage[0]["output_tokens"], usage[0]["total_tokens"]) == (2, 5, 7)


async def test_sse_wire_format_matches_openai(fake: FakeOpenAI) -> None:
    """Raw stream: chat.completion.chunk objects with one id, role first, finish_reason last, usage, then [DONE]."""
    fake.chunk_chars = 10
    payloads = await raw_sse(
        fake,
        {
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    )
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert all(c["model"] == "m" and isinstance(c["created"], int) for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == fake.reply
    assert chunks[-2]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 5
    assert all(c["usage"] is None for c in chunks[:-1])


@pytest.mark.parametrize(("fault", "error"), [("429", openai.RateLimitError), ("500", openai.InternalServerError)])
async def test_http_faults_raise_openai_errors(fake: FakeOpenAI, fault: str, error: type[Exception]) -> None:
    """429 and 500 surface as the matching openai exception when retries are off."""
    fake.fault = fault
    with pytest.raises(error) as caught:
        await chat(fake).ainvoke("hi")
    assert "(fake)" in str(caught.value)
    assert len(fake.requests) == 1


@pytest.mark.parametrize("fault", ["429", "500"])
async def test_http_fault_once_then_retry_succeeds(fake: FakeOpenAI, fault: str) -> None:
    """With fault_times=1 and max_retries=1 the client retries once and gets the reply."""
    fake.fault, fake.fault_times = fault, 1
    result = await chat(fake, max_retries=1).ainvoke("hi")
    assert result.content == fake.reply
    assert len(fake.requests) == 2
    assert fake.fault_times == 0


async def test_429_carries_retry_after_and_openai_error_shape(fake: FakeOpenAI) -> None:
    """The raw 429 has a retry-after: 0 header and an OpenAI error body."""
    fake.fault = "429"
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/chat/completions", json=body, headers={"Authorization": "Bearer sk-fake"}) as r,
    ):
        assert r.status == 429
        assert r.headers["retry-after"] == "0"
        error = (await r.json())["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert set(error) == {"message", "type", "param", "code"}


async def test_slow_times_out_quickly(fake: FakeOpenAI) -> None:
    """A "slow" server past a 0.5 s client timeout raises a timeout error before the server answers at all."""
    fake.fault, fake.delay_seconds = "slow", 10.0
    with pytest.raises(openai.APITimeoutError):
        await chat(fake, timeout=0.5).ainvoke("hi")
    assert len(fake.requests) == 1 and fake.first_token_sent_at == []  # asked once, never answered
    # The client hung up, so the handler was cancelled rather than left sleeping.
    for _ in range(50):
        if fake.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert fake.in_flight == 0


async def test_slow_once_then_retry_is_fast(fake: FakeOpenAI) -> None:
    """fault="slow" with fault_times=1 delays only the first request, so a retry after the timeout succeeds."""
    fake.fault, fake.fault_times, fake.delay_seconds = "slow", 1, 10.0
    result = await chat(fake, timeout=0.5, max_retries=1).ainvoke("hi")
    assert result.content == fake.reply
    assert len(fake.requests) == 2


@pytest.mark.parametrize("streaming", [False, True])
async def test_cutoff_reports_finish_reason_length(fake: FakeOpenAI, streaming: bool) -> None:
    """ "cutoff" sends only part of the reply and finish_reason "length"."""
    fake.fault = "cutoff"
    model = chat(fake)
    if streaming:
        chunks = [chunk async for chunk in model.astream("hi")]
        text = "".join(str(chunk.content) for chunk in chunks)
        finish = [c.response_metadata["finish_reason"] for c in chunks if "finish_reason" in c.response_metadata]
        assert finish == ["length"]
    else:
        result = await model.ainvoke("hi")
        text = str(result.content)
        assert result.response_metadata["finish_reason"] == "length"
    assert text
    assert fake.reply.startswith(text)
    assert text != fake.reply


@pytest.mark.parametrize("streaming", [False, True])
async def test_empty_yields_empty_content(fake: FakeOpenAI, streaming: bool) -> None:
    """ "empty" answers with no content at all, and no first token is recorded."""
    fake.fault = "empty"
    model = chat(fake)
    if streaming:
        chunks = [chunk async for chunk in model.astream("hi")]
        assert all(chunk.content == "" for chunk in chunks)
        assert any(c.response_metadata.get("finish_reason") == "stop" for c in chunks)
    else:
        result = await model.ainvoke("hi")
        assert result.content == ""
        assert result.response_metadata["finish_reason"] == "stop"
    assert fake.first_token_sent_at == []


async def test_disconnect_raises_from_astream(fake: FakeOpenAI) -> None:
    """ "disconnect" sends a few chunks then drops the connection; astream raises after yielding them."""
    fake.fault = "disconnect"
    fake.reply = "A long answer that will never be finished by the server."
    fake.chunk_chars = 5
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        async for chunk in chat(fake).astream("hi"):
            received.append(str(chunk.content))
    text = "".join(received)
    assert text
    assert fake.reply.startswith(text)
    assert text != fake.reply


async def test_disconnect_without_streaming_raises(fake: FakeOpenAI) -> None:
    """A non-streaming "disconnect" closes the connection before any response."""
    fake.fault = "disconnect"
    with pytest.raises(openai.APIConnectionError):
        await chat(fake).ainvoke("hi")


@pytest.mark.parametrize("streaming", [False, True])
async def test_invalid_json_raises(fake: FakeOpenAI, streaming: bool) -> None:
    """ "invalid_json" makes the client fail to decode the body or an SSE data line."""
    fake.fault = "invalid_json"
    model = chat(fake)
    with pytest.raises(ValueError, match="Expecting value"):
        if streaming:
            _ = [chunk async for chunk in model.astream("hi")]
        else:
            await model.ainvoke("hi")


async def test_embeddings_are_deterministic_and_recorded(fake: FakeOpenAI) -> None:
    """OpenAIEmbeddings gets 64-dim unit vectors that depend only on the text; each request is recorded."""
    # OpenAIEmbeddings never closes an HTTP client it made itself, so hand it one we close.
    async with openai.DefaultAsyncHttpxClient() as http_client:
        embedder = OpenAIEmbeddings(
            base_url=fake.base_url,
            api_key="sk-fake",
            model="fake-embedding",
            check_embedding_ctx_length=False,
            max_retries=0,
            http_async_client=http_client,
        )
        documents = await embedder.aembed_documents(["alpha", "beta", "alpha"])
        query = await embedder.aembed_query("alpha")
    assert [len(v) for v in documents] == [EMBEDDING_DIMENSIONS] * 3
    assert documents[0] == documents[2] == query == pytest.approx(fake_embedding("alpha"))
    assert documents[0] != documents[1]
    assert sum(x * x for x in documents[1]) == pytest.approx(1.0)
    assert [r["input"] for r in fake.embedding_requests] == [["alpha", "beta", "alpha"], ["alpha"]]
    assert fake.embedding_requests[0]["model"] == "fake-embedding"
    assert fake.requests == []


async def test_embeddings_accept_a_string_and_base64(fake: FakeOpenAI) -> None:
    """The raw SDK with a bare string input and base64 encoding decodes to the same vector, with usage."""
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="sk-fake", max_retries=0)
    async with client:
        plain = await client.embeddings.create(model="e", input="two words", encoding_format="float")
        packed = await client.embeddings.create(model="e", input="two words", encoding_format="base64")
    assert plain.data[0].embedding == pytest.approx(fake_embedding("two words"))
    # Asked for base64 explicitly, the SDK hands back the string: little-endian float32, as the real API sends.
    raw = base64.b64decode(str(packed.data[0].embedding))
    assert list(struct.unpack(f"<{EMBEDDING_DIMENSIONS}f", raw)) == pytest.approx(fake_embedding("two words"), abs=1e-6)
    assert plain.usage.prompt_tokens == 2


async def test_wrong_api_key_raises_authentication_error(fake: FakeOpenAI) -> None:
    """A request without the fake key gets a 401 that the SDK raises as AuthenticationError; nothing is recorded."""
    with pytest.raises(openai.AuthenticationError):
        await chat(fake, api_key="sk-wrong").ainvoke("hi")
    assert fake.requests == []


async def test_models_lists_the_fake_model(fake: FakeOpenAI) -> None:
    """GET /v1/models answers in the OpenAI list shape."""
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="sk-fake", max_retries=0)
    async with client:
        page = await client.models.list()
    assert "fake-model" in [model.id for model in page.data]


async def test_concurrent_requests_are_counted(fake: FakeOpenAI) -> None:
    """Three overlapping slow-ish requests push max_in_flight to 3; in_flight returns to 0."""
    fake.delay_seconds = 0.3
    model = chat(fake)
    results = await asyncio.gather(*(model.ainvoke(f"question {n}") for n in range(3)))
    assert [r.content for r in results] == [fake.reply] * 3
    assert fake.max_in_flight == 3
    assert fake.in_flight == 0
    assert sorted(m["messages"][0]["content"] for m in fake.requests) == [f"question {n}" for n in range(3)]


def test_unknown_fault_is_rejected() -> None:
    """Setting a misspelt fault raises at once instead of letting the server silently behave."""
    server = FakeOpenAI()
    with pytest.raises(ValueError, match="unknown fault"):
        server.fault = "timeout"
    assert server.fault is None


async def test_embedding_faults_keep_the_api_shapes(fake: FakeOpenAI) -> None:
    """A 429 on /embeddings carries the configured retry-after and the error body; "few" and "dimension" answer
    well-formed lists that are short, or of WRONG_DIMENSIONS."""
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    body = {"model": "text-embedding-3-small", "input": ["a", "b", "c", "d"]}
    fake.embedding_fault, fake.retry_after = "429", "1.5"
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake.base_url}/embeddings", json=body, headers=headers) as r:
            assert r.status == 429 and r.headers["retry-after"] == "1.5"
            assert (await r.json())["error"]["code"] == "rate_limit_exceeded"
        fake.embedding_fault = "few"
        async with session.post(f"{fake.base_url}/embeddings", json=body, headers=headers) as r:
            data = (await r.json())["data"]
            assert r.status == 200 and [d["index"] for d in data] == [0, 1]
        fake.embedding_fault = "dimension"
        async with session.post(f"{fake.base_url}/embeddings", json=body, headers=headers) as r:
            assert {len(d["embedding"]) for d in (await r.json())["data"]} == {WRONG_DIMENSIONS}
    assert len(fake.embedding_requests) == 3
    with pytest.raises(ValueError, match="unknown embedding fault"):
        fake.embedding_fault = "cutoff"
