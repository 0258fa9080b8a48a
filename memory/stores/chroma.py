"""The vector index on Chroma (embedded or a server) through langchain-chroma: one cosine collection per guild,
no text stored in it."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from memory.errors import MemoryStoreError
from memory.settings import StorageSettings, headers_from_env
from memory.types import Chunk

# Chroma's HNSW (its fork of hnswlib, hnswalg.h) mallocs the buffers of a new index, 100 slots, and writes them
# whole to data_level0.bin and length.bin before setting a byte (initPersistentIndex); later it rewrites only
# the slots that receive a vector, and only every `sync_threshold` writes. So the files kept whatever the
# process heap held, message text included, forgotten or not. No setting avoids that, so before the first
# vector of a collection we fill those slots with placeholders, written out at once (sync_threshold 100, also
# for every later write). The placeholders stay: deleted, their slots were reused by the next vectors, and the
# graph built over reused slots lost vectors to every search (two-documents set: 2 of 200 questions never saw
# their best passage in the top 40, recall@10 0.993; kept: 1.000). Searches and counts leave them out.
# Collections padded before they were kept have deleted placeholders (`memorybot reindex` rebuilds one).
_FIRST_SLOTS = 100  # hnswlib's first capacity in Chroma; tests/memory/test_vector_heap_bytes.py would notice more
PADDING = "padding-"  # the placeholders' ids start so; a chunk id is 32 hex digits
_PADDING_IDS = [f"{PADDING}{i:03d}" for i in range(_FIRST_SLOTS)]
# chromadb's Rust bindings hold the GIL for a whole write (its PR #3873 freed it for reads only), so one upsert
# of 256 vectors from a worker thread froze the bot's event loop for up to a second (benchmarks/bot_latency.py
# --burst). Writes go in slices of this many vectors: the loop gets the GIL back between them.
WRITE_SLICE = 32


def make_chroma_client(storage: StorageSettings) -> Any:  # noqa: ANN401  (chromadb's client type is untyped)
    """An embedded `PersistentClient` under the data dir, or an `HttpClient` for a Chroma server (over HTTPS with
    `ssl`, its certificate checked against `ssl_ca` when given; with the headers `headers_env` holds)."""
    import chromadb  # slow import, only when the index is opened
    from chromadb.config import Settings

    chroma = storage.chroma
    verify = None if chroma.ssl_ca is None else str(chroma.ssl_ca)  # None: httpx's default, the system's CAs
    settings = Settings(anonymized_telemetry=False, allow_reset=False, chroma_server_ssl_verify=verify)  # no telemetry
    if chroma.mode == "http":
        purpose = "storage.chroma.headers_env"
        headers = None if chroma.headers_env is None else headers_from_env(chroma.headers_env, purpose=purpose)
        try:  # the client checks the server (and the tenant) at once: a refusal surfaces here
            return chromadb.HttpClient(
                host=chroma.host, port=chroma.port, ssl=chroma.ssl, headers=headers, settings=settings
            )
        except Exception as e:  # chromadb's ValueError or httpx's errors, whatever the server answered
            raise MemoryStoreError(server_refusal(storage, e)) from e
    folder = Path(storage.data_dir) / "chroma"
    try:
        return chromadb.PersistentClient(path=str(folder), settings=settings)
    except Exception as e:  # chromadb raises its own untyped errors (InternalError: File exists, a broken file)
        msg = (
            f"the vector index in {folder} cannot be opened ({type(e).__name__}: {e}); move it away and run "
            "`memorybot reindex` (it is rebuilt from SQLite)"
        )
        raise MemoryStoreError(msg) from e


def server_refusal(storage: StorageSettings, error: BaseException) -> str:
    """One line saying why a Chroma server refused memorybot and which setting fixes it (chromadb reports a
    401 as a bare "Unauthorized" and an unverifiable certificate as an SSL error some causes down)."""
    chroma = storage.chroma
    where = f"the Chroma server at {'https' if chroma.ssl else 'http'}://{chroma.host}:{chroma.port}"
    chain = [error]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) is not None and cause not in chain:
        chain.append(cause)
    said = " ".join(f"{type(e).__name__} {e}" for e in chain)
    if "CERTIFICATE_VERIFY_FAILED" in said or "SSLCertVerificationError" in said:
        trusted = "the system's CAs" if chroma.ssl_ca is None else str(chroma.ssl_ca)
        return (
            f"{where} sent a certificate that {trusted} cannot vouch for: set storage.chroma.ssl_ca to the PEM "
            "file of the CA that signed it"
        )
    if re.search(r"Unauthorized|Forbidden|\b40[13]\b", said):
        fix = (
            "set storage.chroma.headers_env to a variable holding the headers it wants as JSON, such as "
            '{"Authorization": "Bearer <token>"}'
            if chroma.headers_env is None
            else f"check the headers in the variable {chroma.headers_env} (storage.chroma.headers_env)"
        )
        return f"{where} refused memorybot's credentials ({error}): {fix}"
    if chroma.ssl and re.search(r"WRONG_VERSION_NUMBER|record layer", said):
        return f"{where} does not speak HTTPS: set storage.chroma.ssl to false, or point host and port at its TLS end"
    return (
        f"cannot reach {where} ({type(error).__name__}: {error}): is it running? check storage.chroma.host, "
        "port and ssl"
    )


def placeholders_held(collection: Any) -> int:  # noqa: ANN401  (a chromadb collection)
    """How many of the padding placeholders a collection holds (see `_FIRST_SLOTS`)."""
    return len(collection.get(ids=_PADDING_IDS, include=[])["ids"])


def collection_name(guild_id: str) -> str:
    """A valid Chroma collection name for a guild (3-512 chars of [a-zA-Z0-9._-], alphanumeric ends)."""
    clean = re.sub(r"[^a-zA-Z0-9_-]", "-", guild_id)[:40]
    digest = hashlib.sha256(guild_id.encode()).hexdigest()[:8]
    return f"guild-{clean}-{digest}"


class ChromaVectorIndex:
    """Chunk vectors per guild. Chroma keeps only ids, vectors and channel ids: the text stays in SQLite,
    so that erasing it there erases it everywhere (a Chroma delete leaves documents in its write log)."""

    def __init__(
        self,
        client: Any,  # noqa: ANN401
        embeddings: Embeddings,
        model: str,
        *,
        connect: Callable[[], Any] | None = None,
    ) -> None:
        """Give a client, or `connect` to make one on first use.

        Args:
            client: a Chroma client, or None with `connect`.
            embeddings: the embedder langchain-chroma is given (vectors are always passed in).
            model: the embedding model's identity, stored in each collection's metadata.
            connect: makes the client when a vector is first read or written (`make_chroma_client`), so that a
                command that touches none (`stats`, `eval-export`) never imports chromadb nor opens its files.
        """
        if (client is None) == (connect is None):
            msg = "give a Chroma client or a way to connect, not both"
            raise ValueError(msg)
        self._given = client
        self._connect = connect
        self._connecting = threading.Lock()  # the bot reaches the index from several worker threads
        self._embeddings = embeddings
        self._model = model
        self._stores: dict[str, Any] = {}
        self._collections: dict[str, Any] = {}  # looked up once: in http mode each lookup is a round trip
        self._padded: set[str] = set()  # guilds whose collection is known to hold a vector or its padding
        self._placeholder_counts: dict[str, int] = {}

    @property
    def connected(self) -> bool:
        """Whether the client exists (it always does when one was given)."""
        return self._given is not None

    def connect(self) -> None:
        """Make the client now if it was deferred (the bot does at start: an unreachable server stops it there,
        and the first answer does not wait for chromadb's import)."""
        self._client  # noqa: B018  (the property connects)

    def heartbeat(self) -> None:
        """Ask Chroma whether it answers (a server's `/api/v2/heartbeat`); raises when it does not."""
        self._client.heartbeat()

    @property
    def _client(self) -> Any:  # noqa: ANN401
        if self._given is None:
            with self._connecting:
                if self._given is None and self._connect is not None:
                    self._given = self._connect()
        return self._given

    def _store(self, guild_id: str) -> Any:  # noqa: ANN401
        """The langchain-chroma store of a guild, created with cosine space and always our embedder
        (Chroma's built-in embedding function would try to download a model)."""
        if guild_id not in self._stores:
            from langchain_chroma import Chroma

            self._stores[guild_id] = Chroma(
                client=self._client,
                collection_name=collection_name(guild_id),
                embedding_function=self._embeddings,
                collection_metadata={"guild_id": guild_id, "embedding_model": self._model},
                collection_configuration={"hnsw": {"space": "cosine", "sync_threshold": _FIRST_SLOTS}},
            )
        return self._stores[guild_id]

    def _collection(self, guild_id: str) -> Any:  # noqa: ANN401
        if guild_id not in self._collections:
            from chromadb.errors import NotFoundError

            try:  # an existing collection needs no langchain-chroma store (its import is 0.6 s of a cold search)
                found = self._client.get_collection(collection_name(guild_id))
            except NotFoundError:
                self._store(guild_id)  # creates it, with cosine space and our embedder
                found = self._client.get_collection(collection_name(guild_id))
            self._collections[guild_id] = found
        return self._collections[guild_id]

    def _pad(self, guild_id: str, dimensions: int) -> None:
        """Before the first vector of a guild's collection, fill and free the first HNSW slots (see above)."""
        if guild_id in self._padded:
            return
        fresh = self._client.get_collection(collection_name(guild_id))  # a cached model misses later vectors
        if fresh._model.dimension is None:  # no vector yet, hence no HNSW files yet
            if (fresh.configuration_json.get("hnsw") or {}).get("sync_threshold", 0) > _FIRST_SLOTS:
                fresh.modify(configuration={"hnsw": {"sync_threshold": _FIRST_SLOTS}})  # made before padding
            placeholders = [[float(i % dimensions == d) for d in range(dimensions)] for i in range(_FIRST_SLOTS)]
            fresh.upsert(ids=_PADDING_IDS, embeddings=placeholders)
            self._placeholder_counts[guild_id] = _FIRST_SLOTS
        self._padded.add(guild_id)

    def close(self) -> None:
        """Release the client's files and connections."""
        self._stores.clear()
        self._collections.clear()
        self._padded.clear()
        self._placeholder_counts.clear()
        if self._given is None:  # never connected: nothing to release
            return
        close = getattr(self._given, "close", None)
        if callable(close):
            close()

    def upsert(self, guild_id: str, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        """Write vectors for chunks (idempotent: ids are deterministic)."""
        if not chunks:
            return
        collection = self._collection(guild_id)
        self._pad(guild_id, len(vectors[0]))
        for start in range(0, len(chunks), WRITE_SLICE):
            part = chunks[start : start + WRITE_SLICE]
            # A chunk id is a hash of its guild, channel, kind and text, so a stored id already has this vector.
            # Writing it again is not harmless: Chroma's HNSW then updates the point in place, and after a reopen
            # that left another vector unreachable in about 1 of 75 runs (a re-embed after a crash between the
            # vector write and its mark; tests/memory/test_vector_heap_bytes.py caught it in CI).
            held = set(collection.get(ids=[c.chunk_id for c in part], include=[])["ids"])
            new = [(c, list(v)) for c, v in zip(part, vectors[start : start + WRITE_SLICE], strict=True)]
            new = [(c, v) for c, v in new if c.chunk_id not in held]
            if not new:
                continue
            collection.add(
                ids=[c.chunk_id for c, _ in new],
                embeddings=[v for _, v in new],
                metadatas=[{"channel_id": c.channel_id, "kind": c.kind} for c, _ in new],
                documents=["" for _ in new],  # langchain-chroma skips results without a document; text stays out
            )

    def delete(self, guild_id: str, chunk_ids: Sequence[str]) -> None:
        """Remove vectors by chunk id (in slices, as writes are)."""
        if not chunk_ids:
            return
        collection = self._collection(guild_id)
        for start in range(0, len(chunk_ids), WRITE_SLICE):
            collection.delete(ids=list(chunk_ids[start : start + WRITE_SLICE]))

    def drop_guild(self, guild_id: str) -> None:
        """Delete a guild's whole collection."""
        self._stores.pop(guild_id, None)
        self._collections.pop(guild_id, None)
        self._padded.discard(guild_id)
        self._placeholder_counts.pop(guild_id, None)
        self.drop_collection(collection_name(guild_id))

    def drop_collection(self, name: str) -> None:
        """Delete a collection by name if it exists (a damaged one too: its segment is not read)."""
        existing = {getattr(c, "name", c) for c in self._client.list_collections()}
        if name in existing:
            self._client.delete_collection(name)

    def count(self, guild_id: str) -> int:
        """Vectors held for a guild (its placeholders left out)."""
        return int(self._collection(guild_id).count()) - self._placeholders(guild_id)

    def _placeholders(self, guild_id: str) -> int:
        """How many placeholders a guild's collection holds, looked up once (they never change once written)."""
        if guild_id not in self._placeholder_counts:
            self._placeholder_counts[guild_id] = placeholders_held(self._collection(guild_id))
        return self._placeholder_counts[guild_id]

    def query(
        self, guild_id: str, vector: Sequence[float], limit: int, channels: Sequence[str] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunks: (chunk id, cosine similarity), best first, optionally only in some channels."""
        where: dict[str, Any] | None = None
        if channels is not None:
            if not channels:
                return []
            where = {"channel_id": {"$in": list(channels)}} if len(channels) > 1 else {"channel_id": channels[0]}
        # Straight to the collection, asking for distances only: through langchain-chroma the query also fetches
        # each hit's (empty) document and metadata, which took 4.8 ms instead of 1.7 at 100k vectors (measured).
        # The placeholders have no metadata, so a filtered search never meets them. An unfiltered one seldom does
        # (one-hot vectors are far from text), but when one comes among the results (a small collection, or a query
        # far from everything) the search is asked again for as many more as there are placeholders: asking for
        # them every time made each query of a 100k collection look at 180 candidates instead of 80.
        collection = self._collection(guild_id)
        results = collection.query(query_embeddings=[list(vector)], n_results=limit, where=where, include=["distances"])
        if where is None and any(str(i).startswith(PADDING) for i in results["ids"][0]):
            more = limit + self._placeholders(guild_id)
            results = collection.query(query_embeddings=[list(vector)], n_results=more, include=["distances"])
        # Chroma's cosine space returns a distance: similarity = 1 - distance.
        found = zip(results["ids"][0], results["distances"][0], strict=True)
        return [(str(i), 1.0 - float(d)) for i, d in found if not str(i).startswith(PADDING)][:limit]

    def vectors(self, guild_id: str, chunk_ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors by chunk id."""
        got = self._stored(guild_id, chunk_ids)
        return {str(i): [float(x) for x in v] for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    def _stored(self, guild_id: str, chunk_ids: Sequence[str]) -> dict[str, Any]:
        """Chroma's answer for these ids' vectors ("ids", "embeddings"); nothing asked, nothing read."""
        if not chunk_ids:
            return {"ids": [], "embeddings": []}
        got: dict[str, Any] = self._collection(guild_id).get(ids=list(chunk_ids), include=["embeddings"])
        return got

    def similarities(self, guild_id: str, chunk_ids: Sequence[str], vector: Sequence[float]) -> dict[str, float]:
        """Cosine similarity to `vector` of stored chunks by id (the vectors are normalised), computed in one
        matrix product rather than converted to lists first."""
        got = self._stored(guild_id, chunk_ids)
        if not got["ids"]:
            return {}
        scores = np.asarray(got["embeddings"], dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
        return dict(zip(map(str, got["ids"]), scores.tolist(), strict=True))
