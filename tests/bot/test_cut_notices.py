"""The reply line for a cut file, built from the words memory uses for each cap."""

from __future__ import annotations

from bot.cut_notices import notice_line
from memory.extract import extract_text
from memory.settings import LimitSettings
from tests.memory.test_extract import make_pdf


def cut_wording(filename: str, data: bytes, **limits: int) -> str:
    truncated = extract_text(filename, data, LimitSettings(**limits)).truncated
    assert truncated is not None
    return truncated


def test_each_cap_reads_as_what_was_remembered_and_which_setting_cut_it():
    """Characters kept, PDF pages kept, and a PDF cut by characters each become one line naming the setting."""
    pdf = make_pdf([["first page"], ["second page"], ["third page"]])
    text = cut_wording("big.txt", b"word " * 2_000, max_extracted_chars=1_500)
    pages = cut_wording("report.pdf", pdf, max_pdf_pages=2)
    pdf_chars = cut_wording("report.pdf", pdf, max_extracted_chars=15)
    assert notice_line("big.txt", text) == (
        "📎 big.txt: I remembered the first 1,500 of 9,999 characters (the server's limit, limits.max_extracted_chars)."
    )
    assert notice_line("report.pdf", pages) == (
        "📎 report.pdf: I remembered the first 2 of 3 pages (the server's limit, limits.max_pdf_pages)."
    )
    assert notice_line("report.pdf", pdf_chars) == (
        "📎 report.pdf: I remembered the first 15 characters, up to page 2 of 3 "
        "(the server's limit, limits.max_extracted_chars)."
    )


def test_an_unknown_wording_is_passed_on_as_it_is():
    """Should memory word a cut differently, the line still names the file and says what memory said."""
    assert notice_line("a.txt", "only the start") == "📎 a.txt: only the start."
