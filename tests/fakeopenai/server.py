"""A fake OpenAI-compatible HTTP server on 127.0.0.1, so tests can drive the real OpenAI clients offline."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import struct
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

Reply = str | Callable[[list[dict[str, Any]]], str]

FAULTS = frozenset({"429", "500", "slow", "empty", "cutoff", "invalid_json", "disconnect"})
# Faults of /v1/embeddings: "few" answers fewer vectors than inputs, "dimension" vectors of the wrong length
# (WRONG_DIMENSIONS), "disconnect" hangs up before answering; the others as for chat completions.
EMBEDDING_FAULTS = frozenset({"429", "500", "slow", "invalid_json", "few", "dimension", "disconnect"})
WRONG_DIMENSIONS = 32
EMBEDDING_DIMENSIONS = 64


def fake_embedding(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """The unit vector the server returns for `text`: a pure function of the text, so tests can predict it."""
    # shake_256 gives as many bytes as we ask for, so any `dimensions` works from one hash.
    digest = hashlib.shake_256(text.encode()).digest(dimensions)
    vector = [(byte - 127.5) / 127.5 for byte in digest]
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def message_text(message: dict[str, Any]) -> str:
    """The text of one chat message, whether content is a string, a list of parts or absent (tool calls)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _error(
    status: int, message: str, kind: str, code: str | None, headers: dict[str, str] | None = None
) -> web.Response:
    # The SDK maps the status to an exception class and reads `error.message`, so keep the real shape.
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def _known(value: str | None, faults: frozenset[str], kind: str) -> str | None:
    # Checked when set, so a misspelt fault fails in the test that sets it, not as a puzzling pass.
    if value is not None and value not in faults:
        raise ValueError(f"unknown {kind} {value!r}; expected one of {sorted(faults)}")
    return value


def _count_tokens(text: str) -> int:
    # Whitespace words: deterministic and close enough for usage numbers nobody bills.
    return len(text.split())


class FakeOpenAI:
    """An aiohttp server speaking enough of the OpenAI REST API for ChatOpenAI and OpenAIEmbeddings.

    Set `reply`, `fault`, delays etc. between requests; read `requests`, `in_flight` and friends afterwards.
    """

    def __init__(self) -> None:
        self.api_key = "sk-fake"
        self.reply: Reply = "This is the fake answer."
        self.chunk_chars = 12
        self.delay_seconds = 0.0
        self.chunk_delay_seconds = 0.0
        self._fault: str | None = None
        self.fault_times: int | None = None
        # The retry-after header of a 429 (seconds, as the API sends it); "0" keeps a retrying client quick.
        self.retry_after = "0"
        self._embedding_fault: str | None = None
        self.embedding_fault_times: int | None = None
        self.embedding_delay_seconds = 0.0  # how long a "slow" embedding request takes
        self.requests: list[dict[str, Any]] = []
        self.embedding_requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.first_token_sent_at: list[float] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._completions = 0

    # --- lifecycle -----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on an ephemeral port of 127.0.0.1 and set `base_url`."""
        app = web.Application(middlewares=[self._track, self._authenticate])
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        # handler_cancellation: a client that timed out hangs up, and its "slow" handler should stop with it
        # rather than sleep on and keep `in_flight` high.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/v1"

    async def stop(self) -> None:
        """Cancel handlers still running (slow ones) and close the server."""
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def fault(self) -> str | None:
        """The fault to inject into chat completions (see FAULTS), or None to behave."""
        return self._fault

    @fault.setter
    def fault(self, value: str | None) -> None:
        self._fault = _known(value, FAULTS, "fault")

    @property
    def embedding_fault(self) -> str | None:
        """The fault to inject into embedding requests (see EMBEDDING_FAULTS), or None to behave."""
        return self._embedding_fault

    @embedding_fault.setter
    def embedding_fault(self, value: str | None) -> None:
        self._embedding_fault = _known(value, EMBEDDING_FAULTS, "embedding fault")

    def last_prompt_text(self) -> str:
        """All message contents of the last chat completion request, joined with newlines."""
        if not self.requests:
            return ""
        return "\n".join(message_text(m) for m in self.requests[-1].get("messages", []))

    # --- middleware ----------------------------------------------------------------------------------------------

    @web.middleware
    async def _track(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        # Remember the task so stop() can cancel a handler that is still sleeping.
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            return await handler(request)
        finally:
            if task is not None:
                self._handlers.discard(task)

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        return await handler(request)

    # --- helpers -------------------------------------------------------------------------------------------------

    def _take_fault(self) -> str | None:
        """The fault for this request, counting it against `fault_times`."""
        if self.fault is None:
            return None
        if self.fault_times is None:
            return self.fault
        if self.fault_times <= 0:
            return None
        self.fault_times -= 1
        return self.fault

    def _take_embedding_fault(self) -> str | None:
        """The fault for this embedding request, counting it against `embedding_fault_times`."""
        if self.embedding_fault is None or self.embedding_fault_times == 0:
            return None
        if self.embedding_fault_times is not None:
            self.embedding_fault_times -= 1
        return self.embedding_fault

    def _rate_limited(self) -> web.Response:
        # The real API's 429: an error body of type "requests" and a retry-after header the SDK honours.
        return _error(
            429, "Rate limit reached (fake).", "requests", "rate_limit_exceeded", {"retry-after": self.retry_after}
        )

    @staticmethod
    def _hang_up(request: web.Request, response: web.StreamResponse | None = None) -> web.StreamResponse:
        # abort() resets the socket without a clean close; aiohttp then sees a dead transport and writes nothing.
        if request.transport is not None:
            request.transport.abort()
        return response if response is not None else web.Response()

    def _answer_for(self, messages: list[dict[str, Any]]) -> str:
        return self.reply(messages) if callable(self.reply) else self.reply

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "We could not parse the JSON body of your request.", "invalid_request_error", None)
        if not isinstance(body, dict):
            return _error(400, "The request body must be a JSON object.", "invalid_request_error", None)
        return body

    # --- endpoints -----------------------------------------------------------------------------------------------

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "'messages' must be a non-empty array.", "invalid_request_error", None)
        self.requests.append(body)
        self._completions += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            fault = self._take_fault()
            # "slow" makes only the faulted requests slow, so "slow once, then fine" can test a retry;
            # without that fault, delay_seconds slows every answer (e.g. to overlap concurrent requests).
            if fault == "slow" or self.fault != "slow":
                await asyncio.sleep(self.delay_seconds)
            if fault == "429":
                return self._rate_limited()
            if fault == "500":
                return _error(500, "The server had an error (fake).", "server_error", None)
            if fault == "disconnect" and not body.get("stream"):
                return self._hang_up(request)
            answer = "" if fault == "empty" else self._answer_for(messages)
            finish_reason = "stop"
            if fault == "cutoff":
                answer, finish_reason = answer[: max(1, len(answer) // 2)], "length"
            if body.get("stream"):
                return await self._stream(request, body, answer, finish_reason, fault)
            if fault == "invalid_json":
                return web.Response(text='{"id": "chatcmpl-broken", "choices": [', content_type="application/json")
            if answer:
                self.first_token_sent_at.append(time.monotonic())
            return web.json_response(
                {
                    **self._envelope(body, "chat.completion"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": answer, "refusal": None},
                            "logprobs": None,
                            "finish_reason": finish_reason,
                        }
                    ],
                    "usage": self._usage(messages, answer),
                }
            )
        finally:
            self.in_flight -= 1

    def _envelope(self, body: dict[str, Any], kind: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake-{self._completions}",
            "object": kind,
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "system_fingerprint": "fp_fake",
        }

    @staticmethod
    def _usage(messages: list[dict[str, Any]], answer: str) -> dict[str, int]:
        prompt = sum(_count_tokens(message_text(m)) for m in messages)
        completion = _count_tokens(answer)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    async def _stream(
        self, request: web.Request, body: dict[str, Any], answer: str, finish_reason: str, fault: str | None
    ) -> web.StreamResponse:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        envelope = self._envelope(body, "chat.completion.chunk")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        # Chunked encoding is what lets "disconnect" look truncated to the client instead of merely short.
        response.enable_chunked_encoding()
        await response.prepare(request)

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk: dict[str, Any] = {
                **envelope,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            if include_usage:
                chunk["usage"] = None  # the real API sends null usage on every chunk but the last
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        step = max(1, self.chunk_chars)
        pieces = [answer[i : i + step] for i in range(0, len(answer), step)]
        if fault == "disconnect":
            pieces = pieces[: len(pieces) // 2]
        for number, piece in enumerate(pieces):
            if number and self.chunk_delay_seconds:
                await asyncio.sleep(self.chunk_delay_seconds)
            if number == 0:
                self.first_token_sent_at.append(time.monotonic())
            await send({"content": piece})
        if fault == "disconnect":
            # Drop the TCP connection mid-body: no final chunk, no [DONE], no chunked terminator.
            return self._hang_up(request, response)
        if fault == "invalid_json":
            await response.write(b'data: {"id": "chatcmpl-broken", "choices": [\n\n')
        await send({}, finish_reason)
        if include_usage:
            usage_chunk = {**envelope, "choices": [], "usage": self._usage(body["messages"], answer)}
            await response.write(f"data: {json.dumps(usage_chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        body = await self._json_body(request)
        if isinstance(body, web.Response):
            return body
        self.embedding_requests.append(body)
        fault = self._take_embedding_fault()
        if fault == "slow":
            await asyncio.sleep(self.embedding_delay_seconds)
        if fault == "429":
            return self._rate_limited()
        if fault == "500":
            return _error(500, "The server had an error (fake).", "server_error", None)
        if fault == "disconnect":
            return self._hang_up(request)
        if fault == "invalid_json":
            return web.Response(text='{"object": "list", "data": [', content_type="application/json")
        raw = body.get("input")
        # The API accepts a string, a list of strings, or token ids (a list of ints or a list of such lists).
        if isinstance(raw, str) or (isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw)):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            return _error(400, "'input' must be a string or a non-empty array.", "invalid_request_error", None)
        texts = [item if isinstance(item, str) else json.dumps(item) for item in raw]
        dimensions = body.get("dimensions") or EMBEDDING_DIMENSIONS
        if fault == "dimension":
            dimensions = WRONG_DIMENSIONS
        if fault == "few":
            texts = texts[: len(texts) // 2]  # a server that drops inputs: the rest of the answer is well formed
        base64_format = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = fake_embedding(text, dimensions)
            embedding: list[float] | str = vector
            if base64_format:
                # The SDK decodes base64 as little-endian float32, so pack exactly that.
                embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(_count_tokens(t) for t in texts)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", "fake-embedding"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _models(self, request: web.Request) -> web.StreamResponse:
        created = int(time.time())
        models = ["fake-model", "fake-embedding"]
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": m, "object": "model", "created": created, "owned_by": "fakeopenai"} for m in models],
            }
        )
