"""all-MiniLM-L6-v2 in numpy for search queries: sentence-transformers' vectors without importing torch or
transformers, whose imports are most of a cold `memorybot search` (seconds; the forward pass of one query is ms)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# Abramowitz & Stegun 7.1.26: erf within 1.5e-7, below float32's own error after six layers (numpy has no erf,
# and scipy's import would cost more than the whole forward pass).
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf(x: np.ndarray) -> np.ndarray:
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _ERF_P * a)
    poly = t * (_ERF_A[0] + t * (_ERF_A[1] + t * (_ERF_A[2] + t * (_ERF_A[3] + t * _ERF_A[4]))))
    out: np.ndarray = sign * (1.0 - poly * np.exp(-a * a))
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's "gelu" is the exact (erf) form, not the tanh approximation.
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def load_tokenizer(model_dir: Path) -> Tokenizer:
    """The model's tokenizer for one text at a time, cut where sentence-transformers cuts."""
    from tokenizers import Tokenizer

    sentence = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    # tokenizer.json pads and cuts at 128; sentence-transformers cuts at its max_seq_length and pads a batch only.
    tokenizer.enable_truncation(int(sentence["max_seq_length"]))
    tokenizer.no_padding()
    return tokenizer


class QueryEncoder:
    """The BERT encoder, mean pooling and normalisation of sentence-transformers' all-MiniLM-L6-v2, one text at a
    time (no padding, so the mean is over every token, as sentence-transformers' is for a batch of one)."""

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file  # a small import, only when a query is first embedded

        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            msg = f"{model_dir} is not a BERT model with gelu activations"
            raise ValueError(msg)
        self._heads = int(config["num_attention_heads"])
        self._layers = int(config["num_hidden_layers"])
        self._eps = float(config["layer_norm_eps"])
        self._weights = load_file(model_dir / "model.safetensors")
        self._tokenizer = load_tokenizer(model_dir)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        out: np.ndarray = x @ self._weights[f"{name}.weight"].T + self._weights[f"{name}.bias"]
        return out

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        out: np.ndarray = (x - mean) / np.sqrt(var + self._eps) * self._weights[f"{name}.weight"]
        out += self._weights[f"{name}.bias"]
        return out

    def encode(self, text: str) -> np.ndarray:
        """The unit-length float32 vector of one text."""
        w = self._weights
        ids = np.array(self._tokenizer.encode(text).ids)
        length = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        size = x.shape[1] // self._heads
        for layer in range(self._layers):
            p = f"encoder.layer.{layer}."

            def heads(h: np.ndarray) -> np.ndarray:
                return h.reshape(length, self._heads, size).transpose(1, 0, 2)

            q, k, v = (heads(self._linear(x, p + f"attention.self.{n}")) for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            context = ((scores / scores.sum(axis=-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(length, -1)
            x = self._norm(x + self._linear(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            inner = _gelu(self._linear(x, p + "intermediate.dense"))
            x = self._norm(x + self._linear(inner, p + "output.dense"), p + "output.LayerNorm")
        pooled: np.ndarray = x.mean(axis=0)
        pooled /= max(float(np.linalg.norm(pooled)), 1e-12)
        return pooled.astype(np.float32)
