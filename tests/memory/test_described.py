"""Questions that describe a member instead of naming them: the readings of the description, and the described
member's other messages found through the one that matches the description."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memory import Memory
from memory.described import TAIL_WORDS, descriptions
from tests.conftest import make_settings
from tests.fakes import HashEmbeddings, message
from tests.memory.test_member_questions import RecordingEmbeddings


def test_a_description_is_read_with_its_possible_endings_longest_first():
    readings = descriptions("What does the member who relocated to Tallinn do for work?")
    assert [r.said for r in readings] == [
        "the member who relocated to Tallinn do for work",
        "the member who relocated to Tallinn do for",
        "the member who relocated to Tallinn do",
        "the member who relocated to Tallinn",  # a capitalized word ends the cuts: "Tallinn" stays in
    ]
    assert readings[-1].asked == "What does do for work?"


def test_a_long_description_is_cut_at_most_tail_words_and_keeps_three_words_after_its_noun():
    long = descriptions("Which pet has the person who got a drum kit for their birthday last year in spring?")
    assert len(long) == TAIL_WORDS + 1
    assert long[-1].said == "the person who got a drum kit for their"  # "birthday last year in spring" cut
    short = descriptions("What is the name of the pet of the member who got a drum kit?")
    assert [r.said for r in short][-1] == "the member who got a"  # "member" and three words after it


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("Where does the Moonbeam Studios employee live?", "the Moonbeam Studios employee"),
        ("What did whoever organised the meetup bring?", "whoever organised the meetup bring"),
        ("Is the user with the red avatar around?", "the user with the red avatar around"),
    ],
)
def test_descriptions_by_company_by_whoever_and_by_with_are_found(question, said):
    assert descriptions(question)[0].said == said


@pytest.mark.parametrize("question", ["What is the standup time now?", "Who is the person?", "what did Priya say?"])
def test_a_question_describing_no_member_has_no_reading(question):
    assert descriptions(question) == []


# Mari says once that she moved to Tallinn and, much later, what her cat did; others talk of their pets.
MARI = [
    "finally moved to Tallinn last month, the flat is tiny but bright",
    "anyone tried the new ramen place downtown?",
    "my cat Pilv knocked the plant off the shelf again",
    "thursday standup is moved to 10",
]
OTHERS = [
    ("u-ken", "Ken", "my dog Rex loves the park by the river"),
    ("u-ken", "Ken", "Rex chewed my headphones, what a pet"),
    ("u-ana", "Ana", "our parrot learned to whistle the pet food jingle"),
    ("u-ana", "Ana", "pet insurance is a scam honestly"),
    ("u-ana", "Ana", "cats are the best pets, fight me"),
]


QUESTION = "What pet does the member who moved to Tallinn have?"


def _server() -> list:
    return _chat([("u-mari", "Mari", text) for text in MARI] + OTHERS, minutes_apart=180)


def _chat(said: list[tuple[str, str, str]], *, minutes_apart: int) -> list:
    """Messages (author id, name, text) in this order, `minutes_apart` apart."""
    return [
        replace(message(n, text, author=author, minutes=n * minutes_apart), author_name=name)
        for n, (author, name, text) in enumerate(said)
    ]


@pytest.mark.parametrize("member_weight", [2.0, 0.0])
def test_the_described_members_pet_is_found_through_what_she_said_of_herself(tmp_path, real_embeddings, member_weight):
    """The question never says "Mari" or "cat": the description finds her Tallinn message, and her own messages,
    ranked against what is asked of her ("What pet does?"), bring her cat's above the others' pets."""
    embeddings = RecordingEmbeddings(real_embeddings)
    settings = make_settings(tmp_path / "d", retrieval={"member_weight": member_weight})
    with Memory.open(settings, embeddings=embeddings) as memory:
        memory.remember_messages(_server())
        hits = memory.search(QUESTION, "g1").hits
    texts = [h.chunk.text for h in hits]
    cat = next(i for i, text in enumerate(texts) if "Pilv" in text)
    pets = [i for i, text in enumerate(texts) if "Ken: " in text or "Ana: " in text]
    if member_weight:
        assert set(embeddings.queries) & {r.asked for r in descriptions(QUESTION)}  # her messages ranked by the rest
        assert cat < min(pets), texts
    else:  # the leg off: other members' pet talk comes first (what the leg is for)
        assert min(pets) < cat, texts


def test_a_description_that_matches_no_passage_follows_no_member(tmp_path):
    embeddings = RecordingEmbeddings(HashEmbeddings())
    with Memory.open(make_settings(tmp_path / "d"), embeddings=embeddings) as memory:
        memory.search(QUESTION, "g1")  # nothing remembered yet
    assert QUESTION in embeddings.queries
    assert not set(embeddings.queries) & {r.asked for r in descriptions(QUESTION)}  # no member's messages searched


# Ravi says he moved to Porto and, weeks later, something his daughter did without saying "daughter"; Lena and
# Omar talk of their children in the question's words.
RAVI = [
    "finally moved to Porto, the flat is tiny but bright",
    "does anyone know a good mechanic?",
    "Maya lost her first tooth today, she is so proud",
]
PARENTS = [
    ("u-lena", "Lena", "my daughter wants a puppy for her birthday"),
    ("u-omar", "Omar", "what is the name of that kids' show with the dog family?"),
]
DAUGHTER_QUESTION = "What is the name of the daughter of the member who moved to Porto?"


def test_a_described_members_second_fact_is_kept_though_the_whole_question_is_unlike_it(tmp_path, real_embeddings):
    """ "Maya lost her first tooth" is under the relevance floor for the whole question (its description of Porto
    makes it unlike it) but not for what is asked of Ravi ("What is the name of the daughter of?"): his passage is
    judged by that and kept, while the others' passages are still judged by the whole question."""
    server = _chat([("u-ravi", "Ravi", text) for text in RAVI] + PARENTS, minutes_apart=600)
    settings = make_settings(tmp_path / "d", retrieval={"min_relevance": 0.2})
    floor = settings.retrieval.min_relevance
    with Memory.open(settings, embeddings=real_embeddings) as memory:
        memory.remember_messages(server)
        hits = memory.search(DAUGHTER_QUESTION, "g1").hits
    texts = [h.chunk.text for h in hits]
    tooth = next((h for h in hits if "first tooth" in h.chunk.text), None)
    assert tooth is not None, texts
    assert tooth.similarity is not None and tooth.similarity < floor  # kept by what is asked of Ravi
    assert any("Porto" in text for text in texts)
    others = [h for h in hits if h.chunk.author_ids != ("u-ravi",)]
    assert all(h.similarity is not None and h.similarity >= floor for h in others), texts
