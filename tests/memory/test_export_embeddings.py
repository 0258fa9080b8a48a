"""With an export checked and kept earlier, the local model embeds without torch: documents through OpenVINO,
queries through onnxruntime, the model's own vectors either way; an export without its kept vectors is not used."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from memory.embeddings import _PROBE_TEXTS, build_embeddings, local_model_dir
from memory.export_embeddings import ExportEmbeddings, open_export_embeddings
from memory.onnx_queries import export_path, keep_reference
from memory.settings import EmbeddingSettings
from tests.conftest import REPO
from tests.memory.test_openvino_documents import DOCUMENTS, fp32_vectors

pytestmark = pytest.mark.real_model

MODEL_DIR = local_model_dir(EmbeddingSettings())


def kept_export(real_embeddings, folder, *, with_reference: bool = True):
    """The session model's export copied into `folder`, with the model's vectors of the probes beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = export_path(MODEL_DIR, folder)
    shutil.copyfile(real_embeddings.queries.path, path)
    if with_reference:
        keep_reference(path, _PROBE_TEXTS, fp32_vectors(real_embeddings, _PROBE_TEXTS))
    return path


def test_a_kept_export_embeds_like_the_model(real_embeddings, tmp_path):
    """`build_embeddings` finds the kept export and builds the export-only embedder: documents and queries within
    cosine 0.9999 of the model's fp32 vectors."""
    kept_export(real_embeddings, tmp_path)
    embedder = build_embeddings(EmbeddingSettings(onnx_dir=tmp_path))
    assert isinstance(embedder, ExportEmbeddings) and embedder.identity == "local:all-MiniLM-L6-v2"
    expected = fp32_vectors(real_embeddings, DOCUMENTS)
    documents = np.array(embedder.embed_documents(DOCUMENTS), dtype=np.float32)
    assert float((documents * expected).sum(axis=1).min()) > 0.9999
    query = np.array(embedder.embed_query(DOCUMENTS[0]), dtype=np.float32)
    assert float(np.dot(query, expected[0])) > 0.9999


def test_an_export_without_the_models_vectors_or_for_other_probes_is_not_used(real_embeddings, tmp_path):
    """No kept vectors, or vectors kept for other probe texts: nothing to check the export against, so the model
    itself is loaded (None here)."""
    opened = lambda probes: open_export_embeddings(  # noqa: E731
        MODEL_DIR, tmp_path, identity="local:all-MiniLM-L6-v2", bf16=False, batch_size=8, probes=probes
    )
    kept_export(real_embeddings, tmp_path, with_reference=False)
    assert opened(_PROBE_TEXTS) is None
    kept_export(real_embeddings, tmp_path)
    assert opened([*_PROBE_TEXTS[:-1], "another probe"]) is None
    assert isinstance(opened(_PROBE_TEXTS), ExportEmbeddings)


def test_ingest_with_a_kept_export_imports_neither_torch_nor_sentence_transformers(real_embeddings, tmp_path):
    """A fresh `memorybot ingest` process whose cache holds the checked export embeds the files without importing
    torch, sentence-transformers or transformers; a search then finds them."""
    kept_export(real_embeddings, tmp_path / "cache" / "memorybot")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "runbook.md").write_text("# Deploys\n\nThe deploy key rotates every Friday at noon.\n")
    probe = (
        "import json, sys\nfrom bot.cli import main\ncode = main(sys.argv[1:])\n"
        "print(json.dumps({'code': code, 'imported': [m for m in ('torch', 'sentence_transformers', 'transformers') "
        "if m in sys.modules]}))"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    base = [sys.executable, "-c", probe, "--config", str(REPO / "config.yaml"), "--data-dir", str(tmp_path / "data")]
    done = subprocess.run(
        [*base, "ingest", str(tmp_path / "docs")], capture_output=True, text=True, cwd=REPO, env=env, timeout=180,
        check=False,
    )  # fmt: skip
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 0, "imported": []}, done.stderr[-2000:]
    found = subprocess.run(
        [*base, "search", "when does the deploy key rotate?"], capture_output=True, text=True, cwd=REPO, env=env,
        timeout=180, check=False,
    )  # fmt: skip
    assert "rotates every Friday at noon" in found.stdout
