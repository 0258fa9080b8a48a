"""The "filings" evaluation set: deterministic, sized as intended, gold ids naming real reports and pages, answers
where the gold says they are."""

from __future__ import annotations

import functools
import io
import random
from collections import Counter

from pypdf import PdfReader

from benchmarks.evalsets import EvalSet
from benchmarks.evalsets.filings import build


@functools.cache
def filings() -> EvalSet:
    return build()


@functools.cache
def page_texts() -> dict[str, list[str]]:
    """Each report's pages as pypdf extracts them."""
    return {f.filename: [p.extract_text() for p in PdfReader(io.BytesIO(f.data)).pages] for f in filings().files}


def page_of(evidence: str) -> tuple[str, int]:
    filename, _, page = evidence.partition("#p")
    return filename, int(page)


def test_builder_is_deterministic_and_seeded():
    """Two builds from one seed are equal; another seed gives other files."""
    assert build() == filings()
    assert build(12).files != filings().files


def test_filings_sizes_and_kinds():
    """8-12 reports of 10-25 pages; ~120 one-page and ~20 two-page questions, nothing else."""
    assert 8 <= len(filings().files) <= 12
    assert all(10 <= len(pages) <= 25 for pages in page_texts().values())
    kinds = Counter(q.kind for q in filings().questions)
    assert set(kinds) == {"page", "page-two"}
    assert 100 <= kinds["page"] <= 140 and 15 <= kinds["page-two"] <= 30


def test_filings_files_are_well_formed():
    """Each report is a PDF of the filings guild, named like a report; its pages fit (<= 45 lines of <= 90 chars)."""
    for file in filings().files:
        assert (file.guild_id, file.channel_id) == ("800000000000000002", "800000000000000201")
        assert file.filename.endswith("-annual-report.pdf") and file.data.startswith(b"%PDF")
        assert file.created_at and file.created_at.endswith("+00:00")
    lines = [page.splitlines() for pages in page_texts().values() for page in pages]
    assert all(20 <= len(page) <= 45 and max(map(len, page)) <= 90 for page in lines)


def test_filings_gold_names_existing_pages():
    """Every gold id is "<report>#p<page>" with the page within the report's page count."""
    for question in filings().questions:
        for group in question.gold:
            for evidence in group:
                filename, page = page_of(evidence)
                assert 1 <= page <= len(page_texts()[filename]), evidence


def test_page_answers_are_on_their_gold_pages():
    """For 20 sampled one-page questions, every gold page's text holds the answer."""
    questions = [q for q in filings().questions if q.kind == "page"]
    for question in random.Random(0).sample(questions, 20):
        (group,) = question.gold
        for evidence in group:
            filename, page = page_of(evidence)
            assert question.answer in page_texts()[filename][page - 1], (question.text, evidence)


def test_two_page_questions_need_two_pages_of_one_report():
    """A two-page question has two groups of pages of the same report, with no page in both."""
    for question in (q for q in filings().questions if q.kind == "page-two"):
        first, second = question.gold
        assert not first & second
        assert len({page_of(evidence)[0] for evidence in first | second}) == 1
