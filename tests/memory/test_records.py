"""The keyword index, SQLite FTS5 and PostgreSQL alike: guild-confined, not drowned by common words, bounded."""

from __future__ import annotations

from dataclasses import replace

from memory import Chunk
from memory.stores import term_counts


def chunk(number: int, text: str, guild: str = "g1") -> Chunk:
    return Chunk(chunk_id=f"{guild}-{number}", kind="file", guild_id=guild, channel_id="c", record_id=f"r{number}",
                 position=0, start_key=str(number), text=text, tokens=1, message_ids=(), author_ids=(),
                 created_at=None, jump_url=None)  # fmt: skip


def test_common_words_are_dropped_so_the_rare_one_decides(record_stores):
    """With 'deploy' in hundreds of chunks, 'deploy zebra' ranks the zebra chunk first."""
    record_stores.chunks.replace_chunks("g1", set(), [chunk(i, f"deploy deploy log line {i}") for i in range(400)])
    record_stores.chunks.replace_chunks("g1", set(), [chunk(999, "zebra protocol, then deploy")])
    hits = record_stores.keywords.search("g1", "deploy zebra", channels=None, limit=5)
    assert hits[0][0] == "g1-999"
    assert len(hits) == 1  # the frequent term no longer matches on its own


def test_a_query_of_only_common_words_still_matches(record_stores):
    """If every term is frequent, they are all kept and results come back."""
    record_stores.chunks.replace_chunks("g1", set(), [chunk(i, f"deploy release {i}") for i in range(400)])
    assert len(record_stores.keywords.search("g1", "deploy release", channels=None, limit=10)) == 10


def test_keyword_search_is_confined_to_the_guild(record_stores):
    """A term present only in another guild finds nothing, even with odd characters in guild ids."""
    record_stores.chunks.replace_chunks('we"ird', set(), [chunk(1, "walrus plan", guild='we"ird')])
    record_stores.chunks.replace_chunks("g2", set(), [chunk(2, "other text", guild="g2")])
    assert record_stores.keywords.search("g2", "walrus", channels=None, limit=5) == []
    assert [h[0] for h in record_stores.keywords.search('we"ird', "walrus", channels=None, limit=5)] == ['we"ird-1']


def test_the_rarest_terms_are_kept_while_their_chunks_fit_the_budget(record_stores, monkeypatch):
    """BM25 scores every chunk a kept term is in, so terms are kept rarest first while their chunks fit the
    budget: with room for ten, 'walrus' (1 chunk) and 'harbour' (8) are searched for, 'ticket' (30) is not."""
    monkeypatch.setattr(term_counts, "POSTINGS_BUDGET", 10)
    texts = ["walrus"] + [f"harbour {i}" for i in range(8)] + [f"ticket {i}" for i in range(30)]
    record_stores.chunks.replace_chunks("g1", set(), [chunk(i, text) for i, text in enumerate(texts)])
    hits = [
        chunk_id
        for chunk_id, _ in record_stores.keywords.search("g1", "ticket harbour walrus", channels=None, limit=50)
    ]
    assert hits[0] == "g1-0" and sorted(hits) == sorted(f"g1-{i}" for i in range(9))


def test_counts_are_taken_again_once_the_index_has_grown(record_stores):
    """'deploy' is rare at first and searched for; after 400 chunks saying it arrive, it is dropped (the counts
    kept from the first search are not used for the grown index)."""
    record_stores.chunks.replace_chunks("g1", set(), [chunk(999, "zebra protocol, then deploy"), chunk(1, "deploy it")])
    assert len(record_stores.keywords.search("g1", "deploy zebra", channels=None, limit=5)) == 2
    record_stores.chunks.replace_chunks("g1", set(), [chunk(i, f"deploy deploy log line {i}") for i in range(2, 402)])
    assert [h[0] for h in record_stores.keywords.search("g1", "deploy zebra", channels=None, limit=5)] == ["g1-999"]


def test_a_guild_holding_most_of_the_index_is_still_confined_to_itself(record_stores):
    """The big guild's query leaves the guild out of the FTS5 match (it is in nearly every entry); the SQL join
    still keeps the other guild's chunks out, and the small guild's query is confined inside FTS5 as before."""
    record_stores.chunks.replace_chunks(
        "big", set(), [chunk(i, f"walrus sighting {i}", guild="big") for i in range(10)]
    )
    record_stores.chunks.replace_chunks("small", set(), [chunk(1, "walrus sighting", guild="small")])
    big = record_stores.keywords.search("big", "walrus", channels=None, limit=50)
    small = record_stores.keywords.search("small", "walrus", channels=None, limit=50)
    assert len(big) == 10 and all(chunk_id.startswith("big-") for chunk_id, _ in big)
    assert [chunk_id for chunk_id, _ in small] == ["small-1"]


def test_the_best_matches_outside_the_guild_or_channels_do_not_crowd_out_the_ones_inside(record_stores):
    """The best matches are ranked before they are filtered (`OVERFETCH` times the limit); when those are all in
    another guild or channel, every match is filtered instead, so the asker's own still come back, best first."""

    def said(guild: str, channel: str, number: int, filler: int) -> Chunk:  # more filler, a lower BM25
        return replace(chunk(number, " ".join(["walrus", *["word"] * filler]), guild=guild), channel_id=channel)

    strong = [said("big", "loud", i, i) for i in range(40)]  # the 40 best matches, all in #loud
    weak = [said("big", "quiet", 100 + i, 50 + i) for i in range(10)]
    beside = [said("small", "loud", 200 + i, i) for i in range(30)]  # as good, in a guild a tenth the size
    record_stores.chunks.replace_chunks(
        "big", set(), strong + weak + [said("big", "x", 300 + i, 90) for i in range(250)]
    )
    record_stores.chunks.replace_chunks("small", set(), beside)
    quiet = record_stores.keywords.search("big", "walrus", channels=["quiet"], limit=5)
    assert [chunk_id for chunk_id, _ in quiet] == [f"big-{100 + i}" for i in range(5)]
    loud = record_stores.keywords.search("big", "walrus", channels=["loud", "quiet"], limit=5)
    assert [chunk_id for chunk_id, _ in loud] == [f"big-{i}" for i in range(5)]
    assert {chunk_id for chunk_id, _ in record_stores.keywords.search("big", "walrus", channels=None, limit=40)} == {
        c.chunk_id for c in strong
    }


def test_a_term_in_more_chunks_than_the_budget_is_ranked_in_its_newest_ones_unless_a_range_is_asked(
    record_stores, monkeypatch
):
    """Ranking scores every match, so when even the rarest term is in more chunks than the budget, only its newest
    are ranked (the dense leg searches the rest): the oldest, best match is not among them. A time range is never
    cut so: the range's matches are all ranked, the oldest first."""
    monkeypatch.setattr(term_counts, "POSTINGS_BUDGET", 10)
    said = [
        replace(
            chunk(i, "walrus walrus walrus" if i == 0 else f"walrus and other words {i}"),
            created_at=f"2025-01-{i + 1:02d}",
        )
        for i in range(30)
    ]
    for one in said:  # one at a time: the newest chunks are those written last
        record_stores.chunks.replace_chunks("g1", set(), [one])
    cut = record_stores.keywords.search("g1", "walrus", channels=None, limit=50)
    assert sorted(chunk_id for chunk_id, _ in cut) == sorted(f"g1-{i}" for i in range(20, 30))
    ranged = record_stores.keywords.search("g1", "walrus", channels=None, limit=50, after="2025-01-01")
    assert len(ranged) == 30 and ranged[0][0] == "g1-0"
