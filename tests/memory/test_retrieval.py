"""Hybrid retrieval and packing: fusion, filters, de-duplication, neighbours, and a budget never exceeded."""

from __future__ import annotations

import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory import Hit, Memory, pack
from memory.retrieval import Retriever, _without_overlaps
from memory.tokens import count_tokens
from tests.conftest import make_settings
from tests.fakes import HashEmbeddings, message, passage


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.text(min_size=1, max_size=600), min_size=0, max_size=25),
    budget=st.integers(min_value=0, max_value=800),
    model=st.sampled_from([None, "gpt-4o", "gpt-4"]),
)
def test_packing_never_exceeds_the_budget(texts, budget, model):
    """Whatever the hits, the packed passages' tokens (counted again independently) fit the budget."""
    hits = [Hit(passage(str(i), t), score=1.0 / (i + 1)) for i, t in enumerate(texts)]
    packed = pack(hits, budget, model=model)
    recount = [count_tokens(h.chunk.text, model) for h in packed.hits]
    assert recount == packed.tokens
    assert packed.total_tokens == sum(recount) <= budget


def test_a_hit_that_does_not_fit_is_skipped_whole_not_cut():
    """A big hit is left out entirely and a smaller, lower-ranked one still gets in."""
    big = Hit(passage("big", "word " * 500), score=0.9)
    small = Hit(passage("small", "short answer"), score=0.5)
    packed = pack([big, small], budget=50)
    assert [h.chunk.chunk_id for h in packed.hits] == ["small"]
    assert packed.hits[0].chunk.text == "short answer"


def test_max_sources_caps_the_count():
    """max_sources stops packing after that many passages."""
    hits = [Hit(passage(str(i), f"text {i}"), score=1.0) for i in range(10)]
    assert len(pack(hits, budget=10_000, max_sources=3).hits) == 3


def test_windows_fully_covered_by_better_hits_are_dropped():
    """A chat window whose messages all appear in better-ranked windows is a duplicate."""
    hits = [
        Hit(passage("a", "x", message_ids=("1", "2", "3")), 0.9),
        Hit(passage("b", "y", message_ids=("2", "3")), 0.8),
        Hit(passage("c", "z", message_ids=("3", "4")), 0.7),
        Hit(passage("d", "w", channel="other", message_ids=("2", "3")), 0.6),
    ]
    assert [h.chunk.chunk_id for h in _without_overlaps(hits)] == ["a", "c", "d"]


def test_keyword_only_match_is_found_by_the_lexical_half(tmp_path):
    """A rare token found only by BM25 (dense weight zero) still ranks first."""
    memory = Memory.open(make_settings(tmp_path / "d", retrieval={"dense_weight": 0.0}), embeddings=HashEmbeddings())
    try:
        memory.remember_messages([message(i * 60, f"general talk {i}", minutes=i * 60) for i in range(10)])
        memory.remember_messages([message(900, "ticket XJ-4471 is blocked on review", minutes=900)])
        hits = memory.search("XJ-4471", "g1").hits
        assert "XJ-4471" in hits[0].chunk.text
    finally:
        memory.close()


def test_both_searches_agreeing_rank_highest(memory):
    """A chunk found by both dense and lexical search outranks chunks found by one only."""
    memory.remember_messages([message(i * 60, text, minutes=i * 60) for i, text in enumerate([
        "the quarterly budget review happens in march",
        "budget",
        "quarterly planning of the review board",
    ])])  # fmt: skip
    hits = memory.search("quarterly budget review", "g1").hits
    assert hits[0].chunk.text.endswith("the quarterly budget review happens in march")
    assert hits[0].score > hits[1].score


def test_channel_filter_falls_back_to_chroma_when_the_allowed_channel_is_crowded_out(tmp_path):
    """When other channels fill the unfiltered candidates, the allowed channel's hits are still found."""
    settings = make_settings(tmp_path / "d", retrieval={"candidates": 5})
    memory = Memory.open(settings, embeddings=HashEmbeddings())
    try:
        loud = [message(i * 60, "deploy pipeline status update", channel="loud", minutes=i * 60) for i in range(30)]
        memory.remember_messages(loud)
        memory.remember_messages([message(5000, "deploy pipeline notes", channel="quiet", minutes=5000)])
        hits = memory.search("deploy pipeline status update", "g1", channels=["quiet"]).hits
        assert [h.chunk.channel_id for h in hits] == ["quiet"]
    finally:
        memory.close()


def test_neighbours_add_the_surrounding_windows(tmp_path):
    """With neighbours=1 a chat hit brings the windows just before and after it, placed after it."""
    memory = Memory.open(make_settings(tmp_path / "d", retrieval={"neighbours": 1}), embeddings=HashEmbeddings())
    try:
        texts = ["breakfast options", "the outage started at noon", "lunch options", "dinner plans"]
        memory.remember_messages([message(i * 60, t, minutes=i * 60) for i, t in enumerate(texts)])
        hits = memory.search("outage noon", "g1", max_sources=1).hits
        assert [h.chunk.text.split(": ", 1)[1] for h in hits] == [
            "the outage started at noon", "breakfast options", "lunch options",
        ]  # fmt: skip
    finally:
        memory.close()


def test_vectors_without_a_record_are_ignored(memory):
    """A vector left behind by an interrupted delete never surfaces as a hit."""
    memory.remember_messages([message(0, "orphan candidate text")])
    ids = memory.stores.chunks.guild_chunk_ids("g1")
    with memory.stores.database.transaction() as db:
        db.execute("DELETE FROM chunks")
    assert memory.vectors.count("g1") == len(ids)
    assert memory.search("orphan candidate text", "g1").hits == []


def test_an_exact_keyword_match_stays_above_the_relevance_floor(tmp_path):
    """A passage holding every word of the query is kept even when its similarity is under the floor; a passage
    holding only some of them is still dropped."""
    settings = make_settings(tmp_path / "d", retrieval={"min_relevance": 0.95}, chunking={"chat_gap_minutes": 1})
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        memory.remember_messages([
            message(0, "the tapir enclosure gets the zorblax heater installed by the team on tuesday afternoon"),
            message(10, "zorblax is also the name of a board game people like playing on fridays", minutes=10),
            message(20, "lunch options for the offsite are still open", minutes=20),
        ])  # fmt: skip
        found = memory.search("zorblax tapir", "g1").hits
        assert [h.chunk.message_ids for h in found] == [("1000000",)]
        assert found[0].similarity is not None and found[0].similarity < 0.95  # kept by the match, not the floor
        assert memory.search("zorblax tapir unicorn", "g1").hits == []  # no passage holds all three words
        # What an apostrophe leaves of "what's" is no word to hold: the passage still holds every word asked.
        assert [h.chunk.message_ids for h in memory.search("what's the zorblax tapir?", "g1").hits] == [("1000000",)]


class _KeywordsSeen:
    """A keyword index that says when a search of it has begun, and on which thread."""

    def __init__(self, inner):
        self._inner = inner
        self.begun = threading.Event()
        self.threads: list[str] = []

    def search(self, *args, **kwargs):
        self.threads.append(threading.current_thread().name)
        self.begun.set()
        return self._inner.search(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _EmbedsOnceKeywordsBegan(HashEmbeddings):
    """Embeds a query only after the keyword leg has begun (or gives up after 10 s): serial legs would make it wait."""

    def __init__(self, keywords: _KeywordsSeen) -> None:
        super().__init__()
        self._keywords = keywords
        self.waited_in_vain = False

    def embed_query(self, text: str) -> list[float]:
        self.waited_in_vain = not self._keywords.begun.wait(timeout=10)
        return super().embed_query(text)


def test_the_keyword_leg_runs_while_the_query_is_embedded(tmp_path):
    """The keyword leg is searched on a worker thread while the calling thread embeds the query."""
    with Memory.open(make_settings(tmp_path / "d"), embeddings=HashEmbeddings()) as memory:
        memory.remember_messages([
            message(0, "the zorblax heater arrives on tuesday", minutes=0),
            message(10, "lunch options for the offsite are still open", minutes=10),
        ])  # fmt: skip
        keywords = _KeywordsSeen(memory.stores.keywords)
        embeddings = _EmbedsOnceKeywordsBegan(keywords)
        retriever = Retriever(memory.stores.chunks, keywords, memory.vectors, embeddings,
                              memory.settings.retrieval, records=memory.stores.records)  # fmt: skip
        try:
            hits = retriever.search("when does the zorblax heater arrive?", "g1")
        finally:
            retriever.close()
        assert not embeddings.waited_in_vain
        assert keywords.threads and threading.current_thread().name not in keywords.threads
        assert "zorblax" in hits[0].chunk.text
