"""Opening a memory: the data directory's lock (unless PostgreSQL and a Chroma server hold it all), the record
stores, the embedding model's identity check, the check of the embedded vector index (in a child process, before
this one reads it), the vector index (connected on first use) and the reranker."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from memory.embeddings import make_embeddings, model_identity
from memory.errors import EmbeddingModelMismatchError
from memory.lock import DataDirLock, check_writable
from memory.rerank import PairScorer, load_reranker
from memory.settings import MemorySettings, secret_from_env
from memory.stores.chroma import ChromaVectorIndex, make_chroma_client
from memory.stores.chroma_health import Damage, damaged_collections
from memory.stores.interfaces import RecordStores, VectorIndex
from memory.stores.sqlite import DB_NAME, open_sqlite_stores


@dataclass
class OpenedParts:
    """What `Memory` is built from, and what opening found damaged."""

    stores: RecordStores
    vectors: VectorIndex
    embeddings: Embeddings
    identity: str
    lock: DataDirLock | None
    owns_index: bool
    owns_embeddings: bool
    reranker: PairScorer | None
    damaged: list[Damage]

    def release(self) -> None:
        """Undo the opening (for a failure after it)."""
        self.stores.database.close()
        if self.lock is not None:
            self.lock.release()


def open_parts(
    settings: MemorySettings,
    *,
    embeddings: Embeddings | None,
    chroma_client: Any,  # noqa: ANN401  (chromadb's client type is untyped)
    allow_model_change: bool,
    check_index: bool,
    reranker: PairScorer | None,
) -> OpenedParts:
    """Lock the data directory and open its parts (see `Memory.open` for the arguments).

    Raises:
        StoreLockedError: another process owns the data directory.
        DataDirNotWritableError: the data directory (or a file in it) is read-only to this process.
        EmbeddingModelMismatchError: the index was built with another model (run `memorybot reindex`).
        ConfigError: `retrieval.reranker` names no loadable model.
    """
    data_dir = Path(settings.storage.data_dir)
    lock = None if shares_memory(settings) else DataDirLock(data_dir)
    if lock is not None:
        lock.acquire()
    stores = None
    try:
        if lock is not None:
            check_writable(data_dir)
        stores = open_record_stores(settings)
        identity = model_identity(settings.embeddings) if embeddings is None else _identity_of(embeddings)
        stored = stores.database.get_meta("embedding_model")
        if stored is not None and stored != identity and not any(stores.chunks.embedded_counts().values()):
            # No vector was ever written with that model (its first run failed, or a version that bound the
            # model before embedding): nothing to rebuild, so the configured model takes the memory over.
            stores.database.set_meta("embedding_model", identity)
            stored = identity
        if stored is not None and stored != identity and not allow_model_change:
            msg = (
                f"this memory was indexed with the embedding model {stored!r}, but the configuration asks for "
                f"{identity!r}; run `memorybot reindex` to rebuild the index with the new model"
            )
            raise EmbeddingModelMismatchError(msg)
        embedded = chroma_client is None and settings.storage.chroma.mode == "embedded"
        # Before this process opens Chroma: reading a damaged segment here could kill it.
        damaged = (
            damaged_collections(data_dir / "chroma", stores.chunks.embedded_counts())
            if check_index and embedded
            else []
        )
        embedder = embeddings or make_embeddings(settings.embeddings)
        # The configured client is made when a vector is first needed: chromadb's import and the opening of its
        # files are most of what `stats` would otherwise wait for.
        vectors = ChromaVectorIndex(
            chroma_client, embedder, identity,
            connect=None if chroma_client is not None else functools.partial(make_chroma_client, settings.storage),
        )  # fmt: skip
        scorer = reranker or (load_reranker(settings.retrieval.reranker) if settings.retrieval.reranker else None)
        return OpenedParts(
            stores=stores, vectors=vectors, embeddings=embedder,
            identity=identity, lock=lock, owns_index=embedded, owns_embeddings=embeddings is None, reranker=scorer,
            damaged=damaged,
        )  # fmt: skip
    except BaseException:
        if stores is not None:
            stores.database.close()
        if lock is not None:
            lock.release()
        raise


def shares_memory(settings: MemorySettings) -> bool:
    """Whether several processes may open this memory at once: records on PostgreSQL and vectors on a Chroma
    server hold nothing in the data directory, so it takes no lock (an embedded index is one process's)."""
    storage = settings.storage
    return storage.records.backend == "postgres" and storage.chroma.mode == "http"


def open_record_stores(settings: MemorySettings) -> RecordStores:
    """The record stores the settings name: the SQLite file in the data directory, or the PostgreSQL database.

    Raises:
        ConfigError: PostgreSQL's environment variable is unset, or its server cannot be reached.
    """
    records = settings.storage.records
    if records.backend == "sqlite":
        return open_sqlite_stores(Path(settings.storage.data_dir) / DB_NAME)
    from memory.stores.postgres import open_postgres_stores  # psycopg: only for those who use it

    dsn = secret_from_env(records.dsn_env, purpose="storage.records.backend postgres")
    return open_postgres_stores(
        dsn, source=f"${records.dsn_env}", pool_size=records.pool_size, rewrite=records.erase == "rewrite"
    )


def _identity_of(embeddings: Embeddings) -> str:
    return str(getattr(embeddings, "identity", None) or f"custom:{type(embeddings).__name__}")
