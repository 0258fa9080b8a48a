"""Search queries go through an ONNX export of the model: the same vectors as sentence-transformers, exported once
and reused, made again when the kept file is damaged or differs, and never used when it cannot be trusted."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from memory.embeddings import _PROBE_TEXTS, LazyEmbeddings, local_model_dir
from memory.onnx_queries import OnnxQueryEncoder, checked_export, export_path, reference_path
from memory.settings import EmbeddingSettings
from tests.memory.test_minilm import TEXTS

pytestmark = pytest.mark.real_model

MODEL_DIR = local_model_dir(EmbeddingSettings())


def model_vectors(real_embeddings, texts):
    return np.array(real_embeddings.model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True))


def test_queries_through_the_export_match_sentence_transformers(real_embeddings):
    """The loaded model embeds queries through its export, within float32 noise of the model's own vectors."""
    assert isinstance(real_embeddings.queries, OnnxQueryEncoder)
    for text, reference in zip(TEXTS, model_vectors(real_embeddings, TEXTS), strict=True):
        vector = np.array(real_embeddings.embed_query(text), dtype=np.float32)
        assert float(np.abs(vector - reference).max()) < 1e-5, text[:30]


def test_an_export_is_reused_and_a_damaged_one_is_made_again(real_embeddings, tmp_path):
    """A kept export that matches is opened as it is (the same file); garbage in its place is exported again."""
    kept = export_path(MODEL_DIR, tmp_path)
    shutil.copyfile(real_embeddings.queries.path, kept)
    inode = kept.stat().st_ino
    reference = lambda texts: model_vectors(real_embeddings, texts)  # noqa: E731
    assert checked_export(MODEL_DIR, tmp_path, _PROBE_TEXTS, reference(_PROBE_TEXTS)) is not None
    assert kept.stat().st_ino == inode  # opened, not made again

    kept.write_bytes(b"not an onnx model")
    encoder = checked_export(MODEL_DIR, tmp_path, _PROBE_TEXTS, reference(_PROBE_TEXTS))
    assert encoder is not None and kept.stat().st_size > 1_000_000
    assert float(np.dot(encoder.encode(TEXTS[0]), reference(TEXTS[:1])[0])) > 0.9999
    # The model's vectors of the probes are kept beside it (a later process checks it without the model); no
    # temporary file is left.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([kept.name, reference_path(kept).name])


def test_an_export_that_differs_from_the_model_is_not_used(real_embeddings, tmp_path):
    """When the export's vectors are not the model's (here: the model's are turned around), it is made again once,
    then dropped: queries go through the model, and no file is left to be trusted later."""
    shutil.copyfile(real_embeddings.queries.path, export_path(MODEL_DIR, tmp_path))
    turned = lambda texts: -model_vectors(real_embeddings, texts)  # noqa: E731
    assert checked_export(MODEL_DIR, tmp_path, _PROBE_TEXTS, turned(_PROBE_TEXTS)) is None
    assert list(tmp_path.iterdir()) == []


def test_a_cold_query_uses_an_export_made_earlier(real_embeddings, tmp_path):
    """Before the model is built, a query goes through the export when there is one (else the numpy encoder), and
    `onnx_queries: false` never uses it."""
    shutil.copyfile(real_embeddings.queries.path, export_path(MODEL_DIR, tmp_path))
    text = "who rotates the deploy key?"
    expected = model_vectors(real_embeddings, [text])[0]
    for onnx_queries, kind in ((True, "OnnxQueryEncoder"), (False, "QueryEncoder")):
        lazy = LazyEmbeddings(EmbeddingSettings(onnx_dir=tmp_path, onnx_queries=onnx_queries))
        vector = np.array(lazy.embed_query(text), dtype=np.float32)
        assert lazy.built is None
        assert type(lazy._queries).__name__ == kind
        assert float(np.abs(vector - expected).max()) < 1e-5
