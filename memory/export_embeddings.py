"""The local model without torch: queries through its ONNX export on onnxruntime, documents through the same export
on OpenVINO, both checked against the model's own vectors kept when the export was made.

A process that finds a checked export in the cache (the first load of the model made it) embeds without importing
torch or sentence-transformers, which cost ~5.5 s of every `memorybot ingest` and `memorybot run` start here."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from memory.onnx_queries import EXPORT_MIN_COSINE, OnnxQueryEncoder, kept_reference, open_export
from memory.openvino_documents import OpenVinoDocumentEncoder, checked_documents

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)


class ExportEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 as its export runs it: the same vectors as `LocalEmbeddings` (checked at open)."""

    def __init__(self, identity: str, queries: OnnxQueryEncoder, documents: OpenVinoDocumentEncoder) -> None:
        self.identity = identity
        self.queries = queries
        self.documents = documents
        self.bf16 = documents.precision == "bf16"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts (batched, through OpenVINO)."""
        return self.documents.encode(texts).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        """Embed one query (through onnxruntime)."""
        return [float(x) for x in self.queries.encode(text)]


def open_export_embeddings(
    model_dir: Path, folder: Path, *, identity: str, bf16: bool, batch_size: int, probes: Sequence[str]
) -> ExportEmbeddings | None:
    """The model's export in `folder` as an embedder, when the model's vectors of `probes` were kept beside it and
    both runtimes give them back (bf16 documents if asked and they match, else fp32); None otherwise (the caller
    loads the model itself, which makes or checks the export again)."""
    queries = open_export(model_dir, folder)
    reference = kept_reference(queries.path, probes) if queries is not None else None
    if queries is None or reference is None:
        return None
    worst = min(float(np.dot(queries.encode(text), row)) for text, row in zip(probes, reference, strict=True))
    if worst < EXPORT_MIN_COSINE:
        log.warning("the ONNX export %s differs from the model's kept vectors (cosine %.5f)", queries.path, worst)
        return None
    for precision in (True, False) if bf16 else (False,):
        documents = checked_documents(
            queries.path, model_dir, bf16=precision, batch_size=batch_size, probes=probes, expected=reference
        )
        if documents is not None:
            log.info(
                "local embeddings: all-MiniLM-L6-v2 from its export %s, documents through OpenVINO (%s), queries "
                "through onnxruntime; torch is not loaded", queries.path, documents.precision,
            )  # fmt: skip
            return ExportEmbeddings(identity, queries, documents)
    return None
