"""Documents embedded through the model's ONNX export on OpenVINO: the same vectors as sentence-transformers (checked
at load), in about half torch's time for the same precision (bf16 where the CPU has it natively, else fp32).

The export is the one `memory.onnx_queries` makes and keeps for search queries; OpenVINO compiles it for this CPU.
A machine without OpenVINO, or where it cannot compile the export or its vectors differ, embeds through torch."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from memory.minilm import load_tokenizer

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)

# The compiled model is kept only if its vectors of the probe texts are this close to the model's own fp32 ones.
DOCUMENTS_MIN_COSINE = 0.9999


class OpenVinoDocumentEncoder:
    """Batches of texts through the compiled export: sorted by length so that a batch pads little, mean pooling over
    each text's own tokens and unit length, as sentence-transformers encodes them."""

    def __init__(self, path: Path, model_dir: Path, *, bf16: bool, batch_size: int) -> None:
        import openvino

        hint = "bf16" if bf16 else "f32"
        self._compiled = openvino.Core().compile_model(
            str(path), "CPU", {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY"}
        )
        self._tokenizer = load_tokenizer(model_dir)
        self._batch_size = batch_size
        self._local = threading.local()  # an infer request serves one call at a time: one per thread
        self.precision = hint

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """The unit-length float32 vectors of `texts`, in their order."""
        encoded = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i].ids))
        vectors: list[np.ndarray] = [np.empty(0, dtype=np.float32)] * len(texts)
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            ids = np.zeros((len(batch), max(len(encoded[i].ids) for i in batch)), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(batch):
                ids[row, : len(encoded[i].ids)] = encoded[i].ids
                mask[row, : len(encoded[i].ids)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._request().infer(feed)[0]
            pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for row, i in enumerate(batch):
                vectors[i] = pooled[row]
        return np.stack(vectors).astype(np.float32)

    def _request(self) -> Any:  # noqa: ANN401  (an openvino InferRequest)
        if not hasattr(self._local, "request"):
            self._local.request = self._compiled.create_infer_request()
        return self._local.request


def checked_documents(
    export: Path, model_dir: Path, *, bf16: bool, batch_size: int, probes: Sequence[str], expected: np.ndarray
) -> OpenVinoDocumentEncoder | None:
    """The export compiled by OpenVINO, once its vectors of `probes` are found within cosine `DOCUMENTS_MIN_COSINE` of
    `expected` (the model's own fp32 vectors of them); None (documents then go through torch) when OpenVINO is not
    installed, cannot compile the export, or its vectors differ."""
    try:
        encoder = OpenVinoDocumentEncoder(export, model_dir, bf16=bf16, batch_size=batch_size)
        vectors = encoder.encode(probes)
    except ImportError:
        log.info("OpenVINO is not installed; documents are embedded through torch")
        return None
    except Exception as e:  # OpenVINO raises its own untyped errors for a graph it cannot compile
        log.warning("OpenVINO cannot run the export %s (%s); documents are embedded through torch", export, e)
        return None
    worst = float((vectors * expected).sum(axis=1).min())
    if worst < DOCUMENTS_MIN_COSINE:
        log.warning("OpenVINO's vectors differ from the model's (cosine %.5f); documents go through torch", worst)
        return None
    return encoder
