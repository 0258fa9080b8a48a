"""The "two-documents" evaluation set: deterministic, sized as intended, gold ids naming two real articles, answers
where the gold says they are."""

from __future__ import annotations

import functools
from collections import Counter

from benchmarks.evalsets import EvalSet
from benchmarks.evalsets.two_documents import build


@functools.cache
def two_documents() -> EvalSet:
    return build()


def articles() -> dict[str, str]:
    return {f.filename: f.data.decode() for f in two_documents().files}


def test_builder_is_deterministic_and_seeded():
    """Two builds from one seed are equal; another seed gives other questions."""
    assert build() == two_documents()
    assert build(14).questions != two_documents().questions


def test_two_documents_sizes_and_kinds():
    """~300 markdown articles of 80-250 words under a "# Title"; ~150 bridge and ~50 comparison questions."""
    files = two_documents().files
    assert 270 <= len(files) <= 330 and len({f.filename for f in files}) == len(files)
    for file in files:
        assert (file.guild_id, file.channel_id) == ("800000000000000003", "800000000000000301")
        assert file.filename.endswith(".md") and file.data.startswith(b"# ")
        assert 80 <= len(file.data.decode().split()) <= 250
    kinds = Counter(q.kind for q in two_documents().questions)
    assert set(kinds) == {"bridge", "comparison"}
    assert 130 <= kinds["bridge"] <= 170 and 40 <= kinds["comparison"] <= 60


def test_two_documents_gold_names_two_different_articles():
    """Every question has two groups of one existing article each, naming different articles."""
    names = set(articles())
    for question in two_documents().questions:
        assert len(question.gold) == 2 and all(len(group) == 1 for group in question.gold)
        (first,), (second,) = question.gold
        assert first != second and {first, second} <= names


def test_bridge_questions_hide_the_bridge_and_its_article_answers():
    """A bridge question does not name its bridge entity, whose article states the answer."""
    texts = articles()
    for question in (q for q in two_documents().questions if q.kind == "bridge"):
        (_,), (bridge,) = question.gold
        title = texts[bridge].splitlines()[0].removeprefix("# ")
        assert title not in question.text
        assert question.answer in texts[bridge]


def test_comparison_answer_is_one_of_the_two():
    """A comparison's answer is the title of one of its two articles, and the question names both."""
    texts = articles()
    for question in (q for q in two_documents().questions if q.kind == "comparison"):
        titles = [texts[name].splitlines()[0].removeprefix("# ") for (name,) in question.gold]
        assert question.answer in titles
        assert all(title in question.text for title in titles)
