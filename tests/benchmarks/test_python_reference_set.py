"""The "python-reference" evaluation set: deterministic, one page per module, questions whose gold page holds the
words they were made from and that never name the module or the function asked about."""

from __future__ import annotations

import functools
from collections import Counter

from benchmarks.evalsets import EvalSet
from benchmarks.evalsets.python_reference import MODULES, build


@functools.cache
def python_reference() -> EvalSet:
    return build()


def test_builder_is_deterministic_and_seeded():
    """Two builds from one seed are equal; another seed gives other questions."""
    assert build() == python_reference()
    assert build(18).questions != python_reference().questions


def test_one_markdown_page_per_module_with_a_section_per_member():
    """Each module has a page "# <module>" with "## <member>" sections; the pages are of a reference's size."""
    files = python_reference().files
    assert [f.filename for f in files] == [f"{m.replace('.', '-')}.md" for m in MODULES]
    for file, module in zip(files, MODULES, strict=True):
        text = file.data.decode()
        assert text.startswith(f"# {module}\n") and "\n## " in text
        assert 40 <= len(text.split()) <= 4000


def test_questions_point_at_the_page_that_documents_their_answer():
    """About a hundred questions of two kinds; the gold page holds the answer's section, and the question does not
    name the function (or the module) it asks about."""
    evalset = python_reference()
    pages = {f.filename: f.data.decode() for f in evalset.files}
    kinds = Counter(q.kind for q in evalset.questions)
    assert set(kinds) == {"topic", "function"} and kinds["function"] >= 60 and kinds["topic"] >= 12
    for question in evalset.questions:
        (gold,) = question.gold
        (filename,) = gold
        module = question.answer
        if question.kind == "function":
            module, member = question.answer.rsplit(".", 1)
            assert f"\n## {member}\n" in pages[filename]
            assert member.lower() not in question.text.lower()
        else:
            assert module.split(".")[-1] not in question.text.lower()
        assert filename == f"{module.replace('.', '-')}.md"
