"""The numpy query encoder gives sentence-transformers' vectors for all-MiniLM-L6-v2, and is what a query embedded
before any document goes through."""

from __future__ import annotations

import numpy as np
import pytest

from memory import EmbeddingError
from memory.embeddings import LazyEmbeddings, local_model_dir
from memory.minilm import QueryEncoder
from memory.settings import EmbeddingSettings

pytestmark = pytest.mark.real_model

TEXTS = [
    "when does the deploy key rotate?",
    "x",
    "",
    "Quarterly budget review: travel spending is 12% over plan, hardware under.",
    "naïve café, 日本語 and an emoji 🎉 " * 20,
    "import numpy as np\nprint(np.arange(10).sum())",
    "a very long question " * 200,  # past the 256 word pieces both cut at
]


def test_the_numpy_encoder_matches_sentence_transformers(real_embeddings):
    """Each text's vector is within float32 noise of the model's own, long texts cut at the same place."""
    encoder = QueryEncoder(local_model_dir(EmbeddingSettings()))
    expected = np.array(real_embeddings.model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True))
    for text, reference in zip(TEXTS, expected, strict=True):
        vector = encoder.encode(text)
        assert vector.shape == (384,) and vector.dtype == np.float32
        assert float(np.abs(vector - reference).max()) < 1e-5, text[:30]


def test_a_lazy_query_uses_the_numpy_encoder_until_the_model_is_built(real_embeddings):
    """Before anything is built, `embed_query` answers without building the model; after, with the model."""
    lazy = LazyEmbeddings(EmbeddingSettings())
    early = lazy.embed_query("who rotates the deploy key?")
    assert lazy.built is None
    lazy.load()
    late = lazy.embed_query("who rotates the deploy key?")
    assert lazy.built is not None
    assert float(np.abs(np.array(early) - np.array(late)).max()) < 1e-5


def test_another_local_model_name_is_refused():
    """The local provider ships one model: another name fails before anything is read."""
    lazy = LazyEmbeddings(EmbeddingSettings(model="bge-small-en"))
    with pytest.raises(EmbeddingError, match="all-MiniLM-L6-v2 only"):
        lazy.embed_query("anything")
