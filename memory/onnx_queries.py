"""Search queries through an ONNX export of all-MiniLM-L6-v2: the same vectors as sentence-transformers, in a
few ms a query where torch takes 12-18 (onnxruntime's kernels suit one short text; batches gain nothing).

The export is made once from the shipped model (torch is loaded then anyway), fused by onnxruntime's transformer
optimizer, and kept in the cache folder; a cold process that finds it answers without importing torch."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from memory.minilm import load_tokenizer

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger(__name__)

# An export is kept only if its vectors of the probe texts are this close to the model's own.
EXPORT_MIN_COSINE = 0.9999
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def cache_dir(configured: Path | None) -> Path:
    """The folder exports are kept in: the configured one, else `$XDG_CACHE_HOME/memorybot` (~/.cache/memorybot)."""
    if configured is not None:
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "memorybot"


def export_path(model_dir: Path, folder: Path) -> Path:
    """Where the export of the model in `model_dir` is kept: named by the weights' size and onnxruntime's version,
    so that another model build or another runtime (whose fused operators may differ) makes a new one."""
    import onnxruntime

    size = (model_dir / "model.safetensors").stat().st_size
    return folder / f"all-MiniLM-L6-v2-{size}-ort{onnxruntime.__version__}.onnx"


def export_model(model_dir: Path, dest: Path) -> None:
    """Export the BERT encoder in `model_dir` to `dest` (written whole, then renamed into place)."""
    import torch
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel

    # The optimizer's modules log each fusion at INFO under their bare names (it puts its folder on sys.path).
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith(("fusion", "onnx_model")):
            logging.getLogger(name).setLevel(logging.WARNING)

    # The eager attention is the graph onnxruntime's optimizer knows how to fuse (sdpa's is left unfused, slower).
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> Any:  # noqa: ANN401
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    dest.parent.mkdir(parents=True, exist_ok=True)
    raw = dest.with_name(dest.name + ".raw.tmp")
    fused = dest.with_name(dest.name + ".tmp")
    sample = torch.ones((1, 8), dtype=torch.int64)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # the tracer's notes on python control flow: the shapes are dynamic
            torch.onnx.export(
                LastHiddenState(),
                (sample, sample, torch.zeros_like(sample)),
                str(raw),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        config = bert.config
        optimized = optimizer.optimize_model(
            str(raw), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
        )
        optimized.save_model_to_file(str(fused))
        os.replace(fused, dest)
    finally:
        raw.unlink(missing_ok=True)
        fused.unlink(missing_ok=True)


class OnnxQueryEncoder:
    """One text at a time through the export: no padding, so the mean is over every token, as
    sentence-transformers' is for a batch of one."""

    def __init__(self, path: Path, model_dir: Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: the fused graph's notes are not the user's concern
        # A query is one run of a few milliseconds; a worker spinning after it keeps a core from the bot's event
        # loop, which then holds the GIL longer (in the bot, search p95 24.5 -> 16.9 ms without spinning).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = load_tokenizer(model_dir)
        self.path = path

    def encode(self, text: str) -> np.ndarray:
        """The unit-length float32 vector of one text."""
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feed)[0][0]
        pooled: np.ndarray = hidden.mean(axis=0)
        pooled /= max(float(np.linalg.norm(pooled)), 1e-12)
        return pooled.astype(np.float32)


def open_export(model_dir: Path, folder: Path) -> OnnxQueryEncoder | None:
    """The encoder of an export made earlier, or None when there is none (or it cannot be read)."""
    path = export_path(model_dir, folder)
    if not path.is_file():
        return None
    try:
        return OnnxQueryEncoder(path, model_dir)
    except Exception as e:  # onnxruntime raises its own untyped errors for a damaged file
        log.warning("the ONNX export %s cannot be read (%s); queries use the model itself", path, e)
        return None


def checked_export(
    model_dir: Path, folder: Path, probes: Sequence[str], expected: np.ndarray
) -> OnnxQueryEncoder | None:
    """The export's encoder, exporting first if there is none, once its vectors of `probes` are found within
    cosine `EXPORT_MIN_COSINE` of `expected` (the model's own vectors of them). A damaged or differing export is
    made again once; None (queries then go through the model) when that cannot be done."""
    path = export_path(model_dir, folder)
    for attempt in range(2):
        encoder = open_export(model_dir, folder) if attempt == 0 else None
        if encoder is None:
            try:
                export_model(model_dir, path)
                encoder = OnnxQueryEncoder(path, model_dir)
            except Exception as e:  # the export is a speed-up: any failure leaves the model's own path
                log.warning("could not export the embedding model to ONNX in %s (%s); queries use torch", folder, e)
                return None
            log.info("exported the embedding model to %s for search queries", path)
        worst = min(float(np.dot(encoder.encode(text), row)) for text, row in zip(probes, expected, strict=True))
        if worst >= EXPORT_MIN_COSINE:
            keep_reference(path, probes, expected)
            return encoder
        then = "exporting it again" if attempt == 0 else "queries use torch"
        log.warning("the ONNX export %s differs from the model (cosine %.5f); %s", path, worst, then)
        path.unlink(missing_ok=True)
        reference_path(path).unlink(missing_ok=True)
    return None


def reference_path(export: Path) -> Path:
    """Where the model's own vectors of the probe texts are kept beside an export found to match them."""
    return export.with_name(export.stem + ".probes.npz")


def keep_reference(export: Path, probes: Sequence[str], expected: np.ndarray) -> None:
    """Keep the model's vectors of `probes` beside the export, so that a later process can check the export
    without loading the model (`memory.export_embeddings`)."""
    dest = reference_path(export)
    partial = dest.with_name(dest.name + ".partial")
    with partial.open("wb") as out:
        np.savez(out, texts=np.array(list(probes)), vectors=np.asarray(expected, dtype=np.float32))
    os.replace(partial, dest)


def kept_reference(export: Path, probes: Sequence[str]) -> np.ndarray | None:
    """The model's vectors of `probes` kept beside the export; None when there are none for these very texts."""
    try:
        with np.load(reference_path(export)) as kept:
            if [str(text) for text in kept["texts"]] != list(probes):
                return None
            return np.asarray(kept["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError):  # missing, damaged, or not this format
        return None
