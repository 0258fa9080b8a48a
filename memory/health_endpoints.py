"""`memorybot doctor`'s checks of the models: the embedding model embeds one text, the LLM endpoint answers."""

from __future__ import annotations

import os
from typing import Any

import httpx
import numpy as np

from memory.errors import EmbeddingError
from memory.health import HealthCheck
from memory.settings import EmbeddingSettings, LLMSettings

TIMEOUT_SECONDS = 10.0
OPENAI_BASE_URL = "https://api.openai.com/v1"  # what the OpenAI clients use when no base_url is set
# What the numpy query encoder reads from the model package (memory.minilm); the rest is torch's.
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json", "sentence_bert_config.json")
PROBE_TEXT = "memorybot doctor checks that the embedding model embeds this sentence."


def embedding_check(settings: EmbeddingSettings) -> HealthCheck:
    """The local model's files are there and embed one text (without torch), or the OpenAI endpoint embeds it."""
    if settings.provider == "local":
        return _local_model(settings)
    return _openai_embeddings(settings)


def _local_model(settings: EmbeddingSettings) -> HealthCheck:
    from memory.embeddings import local_model_dir
    from memory.minilm import QueryEncoder
    from memory.onnx_queries import cache_dir, open_export

    name = "embedding model"
    try:
        model_dir = local_model_dir(settings)
    except EmbeddingError as e:
        fix = "set embeddings.model to all-MiniLM-L6-v2" if "ships" in str(e) else "run scripts/setup.sh"
        return HealthCheck.fail(name, str(e).split(";")[0], fix)
    missing = [f for f in MODEL_FILES if not (model_dir / f).is_file()]
    if missing:
        detail = f"{model_dir} lacks {', '.join(missing)}"
        return HealthCheck.fail(name, detail, "reinstall the model package: run scripts/setup.sh")
    # The ONNX export when one was made (what searches use), else the numpy encoder: never torch, which is slow.
    exported = open_export(model_dir, cache_dir(settings.onnx_dir)) if settings.onnx_queries else None
    how = "its ONNX export" if exported is not None else "the numpy encoder"
    try:
        vector = (exported or QueryEncoder(model_dir)).encode(PROBE_TEXT)
    except (OSError, ValueError, KeyError) as e:
        return HealthCheck.fail(name, f"{model_dir} cannot embed: {e}", "reinstall the model package: scripts/setup.sh")
    if vector.ndim != 1 or not np.isfinite(vector).all() or abs(float(np.linalg.norm(vector)) - 1.0) > 1e-3:
        return HealthCheck.fail(name, f"{model_dir} embeds to a malformed vector", "run scripts/setup.sh again")
    return HealthCheck.ok(name, f"all-MiniLM-L6-v2 embeds a text through {how} ({vector.shape[0]} dimensions)")


def _openai_embeddings(settings: EmbeddingSettings) -> HealthCheck:
    name = "embedding model"
    base = (settings.base_url or OPENAI_BASE_URL).rstrip("/")
    key = os.environ.get(settings.api_key_env, "").strip()
    if not key:
        fix = f"set {settings.api_key_env} to the endpoint's API key (any text for a local server that needs none)"
        return HealthCheck.fail(name, f"{settings.api_key_env} is not set", fix)
    url = f"{base}/embeddings"
    reply = _call("POST", url, key, {"model": settings.model, "input": [PROBE_TEXT]})
    where = "check embeddings.base_url and that the server runs"
    if isinstance(reply, str):
        return HealthCheck.fail(name, f"POST {url} failed: {reply}", where)
    if reply.status_code in {401, 403}:
        detail = f"POST {url} refused the key in {settings.api_key_env} (HTTP {reply.status_code})"
        return HealthCheck.fail(name, detail, f"set {settings.api_key_env} to a key this endpoint accepts")
    if reply.status_code != 200:
        detail = f"POST {url} answered HTTP {reply.status_code}: {_message(reply)}"
        return HealthCheck.fail(name, detail, f"check embeddings.model ({settings.model!r}) and embeddings.base_url")
    try:
        size = len(reply.json()["data"][0]["embedding"])
    except (ValueError, KeyError, IndexError, TypeError):
        return HealthCheck.fail(name, f"POST {url} answered without an embedding", where)
    return HealthCheck.ok(name, f"{settings.model} at {base} embeds a text ({size} dimensions)")


def llm_check(settings: LLMSettings) -> HealthCheck:
    """GET {base_url}/models with the key, as the chat client would send it; the configured model should be listed."""
    name = "llm"
    if not settings.base_url:
        return HealthCheck.ok(name, "none configured (llm.base_url unset): answers are extractive")
    key = os.environ.get(settings.api_key_env, "").strip()
    url = f"{settings.base_url.rstrip('/')}/models"
    # A local server that needs no key gets the chat client's placeholder (memory.llm.make_chat_model).
    reply = _call("GET", url, key or "not-needed")
    if isinstance(reply, str):
        return HealthCheck.fail(name, f"GET {url} failed: {reply}", "check llm.base_url and that the server runs")
    if reply.status_code in {401, 403}:
        state = "set" if key else "not set"
        detail = f"GET {url} refused the key in {settings.api_key_env} ({state}; HTTP {reply.status_code})"
        return HealthCheck.fail(name, detail, f"set {settings.api_key_env} to a key this endpoint accepts")
    if reply.status_code != 200:
        detail = f"GET {url} answered HTTP {reply.status_code}; answers may still work"
        return HealthCheck.warn(name, detail, "check llm.base_url: OpenAI-compatible servers list their models")
    try:
        models = [str(m["id"]) for m in reply.json()["data"]]
    except (ValueError, KeyError, TypeError):
        return HealthCheck.warn(name, f"GET {url} answered without a model list; answers may still work")
    if models and settings.model not in models:
        detail = f"{url} answers, but does not list llm.model {settings.model!r}"
        return HealthCheck.warn(name, detail, f"set llm.model to one of: {', '.join(models[:10])}")
    return HealthCheck.ok(name, f"{settings.model} at {settings.base_url} answers")


def _call(method: str, url: str, key: str, body: dict[str, Any] | None = None) -> httpx.Response | str:
    """The response, or why there is none (one line)."""
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
            return client.request(method, url, json=body, headers={"Authorization": f"Bearer {key}"})
    except httpx.HTTPError as e:
        return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _message(reply: httpx.Response) -> str:
    try:
        return str(reply.json()["error"]["message"])[:200]
    except (ValueError, KeyError, TypeError):
        return reply.text[:200]
