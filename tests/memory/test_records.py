"""The SQLite keyword index: guild-confined, and not drowned by very common words."""

from __future__ import annotations

from memory import Chunk
from memory.stores.sqlite import open_sqlite_stores


def chunk(number: int, text: str, guild: str = "g1") -> Chunk:
    return Chunk(chunk_id=f"{guild}-{number}", kind="file", guild_id=guild, channel_id="c", record_id=f"r{number}",
                 position=0, start_key=str(number), text=text, tokens=1, message_ids=(), author_ids=(),
                 created_at=None, jump_url=None)  # fmt: skip


def test_common_words_are_dropped_so_the_rare_one_decides(tmp_path):
    """With 'deploy' in hundreds of chunks, 'deploy zebra' ranks the zebra chunk first."""
    stores = open_sqlite_stores(tmp_path / "m.db")
    stores.chunks.replace_chunks("g1", set(), [chunk(i, f"deploy deploy log line {i}") for i in range(400)])
    stores.chunks.replace_chunks("g1", set(), [chunk(999, "zebra protocol, then deploy")])
    hits = stores.keywords.search("g1", "deploy zebra", channels=None, limit=5)
    assert hits[0][0] == "g1-999"
    assert len(hits) == 1  # the frequent term no longer matches on its own


def test_a_query_of_only_common_words_still_matches(tmp_path):
    """If every term is frequent, they are all kept and results come back."""
    stores = open_sqlite_stores(tmp_path / "m.db")
    stores.chunks.replace_chunks("g1", set(), [chunk(i, f"deploy release {i}") for i in range(400)])
    assert len(stores.keywords.search("g1", "deploy release", channels=None, limit=10)) == 10


def test_keyword_search_is_confined_to_the_guild(tmp_path):
    """A term present only in another guild finds nothing, even with odd characters in guild ids."""
    stores = open_sqlite_stores(tmp_path / "m.db")
    stores.chunks.replace_chunks('we"ird', set(), [chunk(1, "walrus plan", guild='we"ird')])
    stores.chunks.replace_chunks("g2", set(), [chunk(2, "other text", guild="g2")])
    assert stores.keywords.search("g2", "walrus", channels=None, limit=5) == []
    assert [h[0] for h in stores.keywords.search('we"ird', "walrus", channels=None, limit=5)] == ['we"ird-1']
