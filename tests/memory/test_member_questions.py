"""Questions that name a member: that member's own messages are searched with the question without the name."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memory import Memory
from memory.mentions import name_candidates, without_names
from memory.stores.sqlite import open_sqlite_stores
from tests.conftest import make_settings
from tests.fakes import HashEmbeddings, message

# Priya's small talk, the messages of others that name her, and the one fact a question asks for.
PRIYA = [
    "the bus was 4 minutes late again, classic",
    "listening to Radiohead on repeat lately",
    "got caught in the rain without an umbrella at lunch",
    "who decided thursday meetings were a good idea",
    "honestly what's everyone up to this evening?",
    "my brain is wild today, too much coffee",
]
ABOUT_PRIYA = [
    "Priya how did the thing on friday go?",
    "Priya probably has opinions on this one",
    "Priya what did you end up doing about the kettle?",
    "ask Priya, she always knows the best lunch spots",
]
FACT = "spent the whole weekend knitting scarves, zero regrets"
OTHERS = ["I've been playing chess online every week", "treated myself to a sewing machine this afternoon"]


def _server() -> list:
    said = [("u-priya", "Priya", text) for text in PRIYA] + [("u-jonas", "Jonas", text) for text in ABOUT_PRIYA]
    said += [("u-priya", "Priya", FACT)] + [("u-omar", "Omar", text) for text in OTHERS]
    # Hours apart: each message is a passage of its own, as in a quiet channel.
    return [
        replace(message(n, text, author=author, minutes=n * 180), author_name=name)
        for n, (author, name, text) in enumerate(said)
    ]


class RecordingEmbeddings:
    """An embedder (the real model, or the hashing one), keeping the queries it was asked to embed."""

    def __init__(self, model) -> None:
        self.model, self.queries = model, []

    def embed_documents(self, texts):
        return self.model.embed_documents(texts)

    def embed_query(self, text):
        self.queries.append(text)
        return self.model.embed_query(text)


@pytest.mark.parametrize("member_weight", [2.0, 0.0])
def test_the_named_members_own_messages_rank_above_those_that_only_name_them(tmp_path, real_embeddings, member_weight):
    embeddings = RecordingEmbeddings(real_embeddings)
    settings = make_settings(tmp_path / "d", retrieval={"member_weight": member_weight})
    with Memory.open(settings, embeddings=embeddings) as memory:
        memory.remember_messages(_server())
        hits = memory.search("What pastime is Priya into lately?", "g1").hits
    texts = [h.chunk.text for h in hits]
    fact = next(i for i, text in enumerate(texts) if FACT in text)
    naming_her = [i for i, text in enumerate(texts) if "Jonas: " in text]
    # the member's leg asks without the name; switched off, it asks nothing
    assert ("What pastime is into lately?" in embeddings.queries) == bool(member_weight)
    if member_weight:
        assert fact < min(naming_her), texts
    else:  # the leg switched off: messages that only say "Priya" come before her own (what the leg is for)
        assert min(naming_her) < fact, texts


def test_a_question_naming_nobody_embeds_only_the_question(tmp_path):
    embeddings = RecordingEmbeddings(HashEmbeddings())
    with Memory.open(make_settings(tmp_path / "d"), embeddings=embeddings) as memory:
        memory.remember_messages(_server())
        memory.search("what pastime is anyone into lately?", "g1")
        memory.search("What is PRIYA into?", "g1")  # names are matched whatever their case
    assert embeddings.queries == ["what pastime is anyone into lately?", "What is PRIYA into?", "What is into?"]


def test_name_candidates_are_runs_of_up_to_three_words_without_lone_stop_words():
    found = name_candidates("Did Will Smith meet Ana María López or Élodie?")
    assert "will" not in found and "did" not in found  # a lone stop word is no name
    # Lower case as SQLite makes it: ASCII letters only, so "Élodie" is looked up as "Élodie".
    assert {"will smith", "smith", "ana maría", "ana maría lópez", "Élodie"} <= set(found)


def test_without_names_drops_each_name_and_its_possessive():
    assert without_names("What is Priya's job, and does priya like it?", ["priya"]) == "What is job, and does like it?"
    assert without_names("Where does Ana  María live?", ["ana maría"]) == "Where does live?"


def test_members_are_looked_up_by_name_through_the_index(tmp_path):
    """A guild's members by name, found case-insensitively, and by an index rather than a scan of every message
    (the lookup runs for every question)."""
    stores = open_sqlite_stores(tmp_path / "m.db")
    stores.records.save_messages([(m, f"k{i}", f"h{i}") for i, m in enumerate(_server())], {})
    database = stores.database
    reads: list[tuple[str, tuple]] = []
    read = database.query  # type: ignore[attr-defined]
    database.query = lambda sql, params=(): reads.append((sql, tuple(params))) or read(sql, params)  # type: ignore
    assert stores.records.members_named("g1", name_candidates("what does PRIYA think?")) == {"u-priya": "priya"}
    assert stores.records.members_named("g2", ["priya"]) == {}  # another guild's members are not this one's
    sql, params = reads[0]
    plan = read(f"EXPLAIN QUERY PLAN {sql}", params)
    used = [str(row["detail"]) for row in plan]
    assert any("messages_by_author_name (guild_id=? AND <expr>=?)" in detail for detail in used), used
    database.close()
