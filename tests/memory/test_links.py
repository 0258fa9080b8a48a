"""Linked documents: a page that names another page's title brings it along (the second hop of a question)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from memory import FileDocument, Memory
from memory.links import linked, mentions, title_of
from memory.types import Chunk, Hit
from tests.conftest import make_settings
from tests.fakes import HashEmbeddings, message, passage

PAGES = {
    "harrow-shipworks.md": "# Harrow Shipworks\n\nHarrow Shipworks is a maker of steam ships founded in 1850 by "
    "Maren Holt. Its headquarters are in Kettleby, and it employs about 900 people.\n",
    "maren-holt.md": "# Maren Holt\n\nMaren Holt (1821-1890) was an engineer raised in Dunmore. She studied at "
    "Aldmoor College and later settled in Brookmere.\n",
    "kettleby.md": "# Kettleby\n\nKettleby is a town in the province of Essen, on the banks of the River Aldwater.\n",
}
# Pages that share a word with the question, so that a plain search ranks them above the founder's own page.
DISTRACTORS = {
    f"notes-{n}.md": f"# Notes {n}\n\nThe founder of the rowing club kept notes. Entry {n}.\n" for n in range(6)
}


def chunk(title: str, text: str, kind: str = "file") -> Chunk:
    """A page titled `title` (its top heading), or with kind="chat" a chat passage."""
    return passage(title, text, kind=kind, section=title if kind == "file" else None)


def test_mentions_are_the_names_the_question_does_not_hold():
    """Names in prose are found whole ("River Aldwater", "Bank of the North"); the question's own names and the
    page's own title are the first hop, and a capitalised sentence opener is not a name."""
    text = "Kettleby is a town. She banked with the Bank of the North, on the River Aldwater near Kettleby."
    assert list(mentions(text, "Where is Kettleby?", "Kettleby")) == ["bank of the north", "river aldwater"]
    assert list(mentions(text, "Which river runs by Kettleby?", None)) == ["bank of the north", "river aldwater"]
    assert mentions(text, "Where is Kettleby?", None)["river aldwater"] == text[text.index("She") : -1]


def test_a_chat_passage_has_no_title_and_links_nothing():
    """Chat has no titles, so a message naming a page's title adds no page (chat memory is left as it is)."""
    hits = [Hit(chunk("m1", "[2024-03-18 14:41] Ines: I work at Harrow Shipworks now", kind="chat"), 1.0)]
    page = chunk("Harrow Shipworks", "Harrow Shipworks is a maker of ships.")
    assert title_of(hits[0].chunk) is None
    assert linked(hits, "Where does Ines work?", lambda names: [page], lambda ids: dict.fromkeys(ids, 0.9), 0.0) == hits


def test_the_linked_page_most_like_the_question_goes_after_the_best_two():
    """Of the pages the best passage names, those above the floor join, most similar first, after the best two."""
    first = chunk("Harrow Shipworks", "Harrow Shipworks makes ships. Maren Holt ran it. Its yard is in Kettleby.")
    second, third = chunk("Notes", "notes"), chunk("More", "more")
    pages = {"maren holt": chunk("Maren Holt", "Maren Holt was born..."), "kettleby": chunk("Kettleby", "a town")}
    hits = [Hit(first, 0.03), Hit(second, 0.02), Hit(third, 0.01)]
    similarity = {"Maren Holt": 0.5, "Kettleby": 0.3}
    found = linked(hits, "Who was the boss of Harrow Shipworks?", lambda names: [pages[n] for n in names],
                   lambda ids: {i: similarity[i] for i in ids}, 0.0)  # fmt: skip
    assert [h.chunk.chunk_id for h in found] == ["Harrow Shipworks", "Notes", "Maren Holt", "Kettleby", "More"]
    floored = linked(hits, "Who was the boss of Harrow Shipworks?", lambda names: [pages[n] for n in names],
                     lambda ids: {i: similarity[i] for i in ids}, 0.4)  # fmt: skip
    assert [h.chunk.chunk_id for h in floored] == ["Harrow Shipworks", "Notes", "Maren Holt", "More"]


def test_a_page_named_in_the_words_the_question_asks_about_needs_no_similarity():
    """The second hop is seldom like the question: "the town where X was born" and the town's own page. A page named
    in a sentence sharing the question's words joins below the floor; one named elsewhere does not."""
    first = chunk(
        "Florian Jessop", "Florian Jessop was an astronomer born in Holbridge. He studied at Carbury College."
    )
    pages = {"holbridge": chunk("Holbridge", "Holbridge is a town on the River Rill."),
             "carbury college": chunk("Carbury College", "a college")}  # fmt: skip
    hits = [Hit(first, 0.03), Hit(chunk("Notes", "notes"), 0.02)]
    similarity = {"Holbridge": 0.13, "Carbury College": 0.15}  # both below the floor, as measured for such pages
    found = linked(hits, "The town where Florian Jessop was born lies on which river?",
                   lambda names: [pages[n] for n in names if n in pages], lambda ids: {i: similarity[i] for i in ids},
                   0.2)  # fmt: skip
    assert [h.chunk.chunk_id for h in found] == ["Florian Jessop", "Notes", "Holbridge"]


def test_the_best_passages_names_come_before_the_runner_ups():
    """Among names said in no words of the question, the best passage's go first, however similar the others."""
    first = chunk("SS Clementine", "The SS Clementine was launched in 1959 by Meridian Shipworks.")
    second = chunk("SS Thistle", "The SS Thistle was launched in 1879 by Indigo Shipworks.")
    pages = {"meridian shipworks": chunk("Meridian Shipworks", "a shipyard"),
             "indigo shipworks": chunk("Indigo Shipworks", "a shipyard")}  # fmt: skip
    similarity = {"Meridian Shipworks": 0.23, "Indigo Shipworks": 0.32}
    hits = [Hit(first, 0.03), Hit(second, 0.02), Hit(chunk("More", "more"), 0.01)]
    found = linked(hits, "When was the company that built the SS Clementine founded?",
                   lambda names: [pages[n] for n in names if n in pages], lambda ids: {i: similarity[i] for i in ids},
                   0.2)  # fmt: skip
    assert [h.chunk.chunk_id for h in found][:4] == [
        "SS Clementine",
        "SS Thistle",
        "Meridian Shipworks",
        "Indigo Shipworks",
    ]


def test_a_lookup_that_finds_only_mentions_adds_nothing():
    """A keyword hit that merely mentions the name is not the named page: only a page titled so is linked."""
    first = chunk("Harrow Shipworks", "Harrow Shipworks was founded by Maren Holt.")
    hits = [Hit(first, 0.03), Hit(chunk("Notes", "notes"), 0.02)]
    other = chunk("Letters", "Letters from Maren Holt survive.")
    assert (
        linked(hits, "Who founded Harrow Shipworks?", lambda names: [other], lambda ids: {"Letters": 0.9}, 0.0) == hits
    )


def _remember(tmp_path, linked_documents: bool, uploaded: dict[str, str] | None = None) -> Memory:
    # No floor: the hashing embedder rates two texts without a shared word near 0, either side.
    settings = make_settings(tmp_path / ("on" if linked_documents else "off"),
                             retrieval={"linked_documents": linked_documents, "min_relevance": -1.0})  # fmt: skip
    memory = Memory.open(settings, embeddings=HashEmbeddings())
    when = uploaded or {}
    files = [FileDocument("g1", "docs", f"/wiki/{name}", name, text.encode(), created_at=when.get(name)) for name, text
             in {**PAGES, **DISTRACTORS}.items()]  # fmt: skip
    memory.ingest_files(files)
    return memory


def test_the_founders_page_joins_a_question_that_names_only_the_company(tmp_path):
    """ "Where was the founder of Harrow Shipworks born?": the company's page names Maren Holt, whose page (where
    her birthplace is) is among the first sources only because of that link."""
    question = "Where was the founder of Harrow Shipworks born?"
    for switched_on in (True, False):
        with _remember(tmp_path, switched_on) as memory:
            names = [h.chunk.filename for h in memory.search(question, "g1").hits]
        assert names[0] == "harrow-shipworks.md"
        assert ("maren-holt.md" in names[:4]) is switched_on, names


def test_a_page_named_in_the_questions_words_goes_before_a_closer_one():
    """ "In which province was Maren Holt born?": she was born in Dunmore and settled in Brookmere; Dunmore's page
    comes first although the embedder finds Brookmere's closer to the question."""
    person = chunk("Maren Holt", "Maren Holt was an engineer born in Dunmore. She later settled in Brookmere.")
    pages = {"dunmore": chunk("Dunmore", "a town"), "brookmere": chunk("Brookmere", "a town")}
    hits = [Hit(person, 0.03), Hit(chunk("Notes", "notes"), 0.02)]
    similarity = {"Dunmore": 0.3, "Brookmere": 0.6}
    found = linked(hits, "In which province was Maren Holt born?", lambda names: [pages[n] for n in names],
                   lambda ids: {i: similarity[i] for i in ids}, 0.0)  # fmt: skip
    assert [h.chunk.chunk_id for h in found] == ["Maren Holt", "Notes", "Dunmore", "Brookmere"]


def test_a_question_naming_both_best_pages_follows_no_link():
    """ "Which is older, Kettleby or Dunmore?": the two best pages are the two the question names; no third joins."""
    hits = [Hit(chunk("Kettleby", "Kettleby is on the River Aldwater."), 0.03), Hit(chunk("Dunmore", "Dunmore"), 0.02)]
    river = chunk("River Aldwater", "a river")
    similar = lambda ids: dict.fromkeys(ids, 0.9)  # noqa: E731
    assert linked(hits, "Which is older, Kettleby or Dunmore?", lambda names: [river], similar, -1.0) == hits
    assert len(linked(hits, "Where does Kettleby stand?", lambda names: [river], similar, -1.0)) == 3


def test_two_pieces_of_the_one_page_the_question_names_still_follow_its_links():
    """The best two hits are both pieces of Harrow Shipworks' page: the founder it names is still followed."""
    company = chunk("Harrow Shipworks", "Harrow Shipworks was founded by Maren Holt.")
    more = replace(company, chunk_id="piece 2", text="Ships.")
    founder = chunk("Maren Holt", "Maren Holt was born in Dunmore.")
    hits = [Hit(company, 0.03), Hit(more, 0.02)]
    similar = lambda ids: dict.fromkeys(ids, 0.9)  # noqa: E731
    found = linked(hits, "Where was the founder of Harrow Shipworks born?", lambda names: [founder], similar, -1.0)
    assert [h.chunk.chunk_id for h in found] == ["Harrow Shipworks", "piece 2", "Maren Holt"]


def test_a_page_uploaded_after_the_asking_time_is_not_linked(tmp_path):
    """Asked "as of" 2024-05-01, the founder's page (uploaded in June) is not there yet: the link is not followed,
    and asked later, it is."""
    uploaded = dict.fromkeys([*PAGES, *DISTRACTORS], "2024-04-01T10:00:00.000000+00:00")
    uploaded["maren-holt.md"] = "2024-06-01T10:00:00.000000+00:00"
    question = "Where was the founder of Harrow Shipworks born?"
    with _remember(tmp_path, True, uploaded) as memory:
        then = [h.chunk.filename for h in memory.search(question, "g1", now=datetime(2024, 5, 1, tzinfo=UTC)).hits]
        later = [h.chunk.filename for h in memory.search(question, "g1", now=datetime(2024, 7, 1, tzinfo=UTC)).hits]
    assert then[0] == later[0] == "harrow-shipworks.md"
    assert "maren-holt.md" not in then and "maren-holt.md" in later[:4]


def test_a_name_is_looked_up_as_a_phrase(tmp_path):
    """The keyword lookup for "river aldwater" finds the passages with those words in that order, best first,
    and not one that has both words apart; several names are one query."""
    with _remember(tmp_path, True) as memory:
        memory.remember_messages([
            message(0, "the aldwater mill stands by the river"),
            message(600, "we walked along the River Aldwater all day", minutes=600),
        ])  # fmt: skip
        found = memory.stores.keywords.with_phrases("g1", ["river aldwater"], channels=None, limit=10)
        texts = [c.text for c in memory.stores.chunks.chunks(found).values()]
        both = memory.stores.keywords.with_phrases("g1", ["river aldwater", "maren holt"], channels=None, limit=10)
        names = {c.filename for c in memory.stores.chunks.chunks(both).values()}
    assert any("River Aldwater all day" in t for t in texts) and not any("aldwater mill" in t for t in texts)
    assert {"kettleby.md", "maren-holt.md"} <= names
