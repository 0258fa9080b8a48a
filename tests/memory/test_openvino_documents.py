"""Documents go through the ONNX export compiled by OpenVINO: the same vectors as sentence-transformers, in the
texts' order whatever their lengths; and torch takes over when OpenVINO is missing or cannot be trusted."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest

from memory.embeddings import _PROBE_TEXTS, local_model_dir
from memory.openvino_documents import OpenVinoDocumentEncoder, checked_documents
from memory.settings import EmbeddingSettings
from tests.memory.test_minilm import TEXTS

pytestmark = pytest.mark.real_model

MODEL_DIR = local_model_dir(EmbeddingSettings())
# Lengths from one word to past the model's 256 word pieces, in no order, so that batches sort and pad them.
DOCUMENTS = [*TEXTS, "ok", "the deploy key rotates " * 80, *(f"note {i}: " + "word " * (i * 7) for i in range(12))]


def fp32_vectors(real_embeddings, texts):
    return np.array(real_embeddings.model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True))


def test_documents_through_openvino_match_the_model_in_order(real_embeddings):
    """The loaded model embeds documents through OpenVINO, each vector within cosine 0.9999 of the model's fp32 one
    for the same text, in small batches of mixed lengths."""
    assert isinstance(real_embeddings.documents, OpenVinoDocumentEncoder)
    vectors = np.array(real_embeddings.embed_documents(DOCUMENTS), dtype=np.float32)
    similarities = (vectors * fp32_vectors(real_embeddings, DOCUMENTS)).sum(axis=1)
    assert similarities.min() > 0.9999
    small = OpenVinoDocumentEncoder(real_embeddings.queries.path, MODEL_DIR, bf16=False, batch_size=3)
    assert float((small.encode(DOCUMENTS) * vectors).sum(axis=1).min()) > 0.9999  # batches of 3, same vectors
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_without_openvino_or_with_differing_vectors_documents_go_through_torch(real_embeddings, monkeypatch, caplog):
    """No OpenVINO installed: no encoder, and a note says so. Vectors that are not the model's (here: the model's
    turned around) are refused with a warning naming the cosine."""
    caplog.set_level(logging.INFO, logger="memory.openvino_documents")
    export = real_embeddings.queries.path
    expected = fp32_vectors(real_embeddings, _PROBE_TEXTS)
    refused = checked_documents(
        export, MODEL_DIR, bf16=False, batch_size=8, probes=_PROBE_TEXTS, expected=-expected
    )  # fmt: skip
    assert refused is None
    assert "OpenVINO's vectors differ from the model's (cosine -1.0" in caplog.text
    monkeypatch.setitem(sys.modules, "openvino", None)  # import openvino now raises ImportError
    missing = checked_documents(export, MODEL_DIR, bf16=False, batch_size=8, probes=_PROBE_TEXTS, expected=expected)
    assert missing is None
    assert "OpenVINO is not installed" in caplog.text
