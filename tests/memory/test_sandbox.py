"""The parser sandbox: risky files are parsed in a worker process that its time and memory limits stop, not the bot."""

from __future__ import annotations

import threading
import zlib

import pytest

from memory import FileDocument
from memory.errors import ExtractionError
from memory.extract import extract_text
from memory.sandbox import SandboxedExtractor
from memory.settings import LimitSettings
from tests.memory.test_extract import make_docx, make_pdf, random_bytes, zip_bomb

HTML = b"<html><head><script>var token = 1;</script></head><body><h1>Runbook</h1><p>Rotate keys.</p></body></html>"
# About 2 MB of small tags: html.parser needs several seconds for it, far over the short limits used below.
SLOW_HTML = b"<p>word</p>" * 200_000


@pytest.fixture
def extractor():
    sandbox = SandboxedExtractor(LimitSettings())
    yield sandbox
    sandbox.close()


def worker_pid(sandbox: SandboxedExtractor) -> int:
    process = sandbox._process
    assert process is not None and process.poll() is None, "no live worker"
    return process.pid


def refusal(sandbox: SandboxedExtractor, filename: str, data: bytes) -> str:
    with pytest.raises(ExtractionError) as caught:
        sandbox.extract(filename, data)
    return str(caught.value)


def test_worker_extracts_docx_pdf_and_html_exactly_as_in_process(extractor):
    """A real .docx, .pdf and .html give the same text through the worker as from extract_text, in one worker."""
    files = {"plan.docx": make_docx(), "report.pdf": make_pdf([["Quarterly report"], ["Page two"]]), "page.html": HTML}
    for filename, data in files.items():
        assert extractor.extract(filename, data) == extract_text(filename, data, LimitSettings())
    assert extractor.extract("page.html", HTML).text == "# Runbook\n\nRotate keys."
    assert extractor.extract("plan.txt", b"plain text too").text == "plain text too"


def test_bad_file_reason_comes_back_and_the_worker_lives_on(extractor):
    """A broken PDF or a zip bomb is refused with the in-process reason; the same worker then reads a good file."""
    extractor.extract("page.html", HTML)
    pid = worker_pid(extractor)
    assert refusal(extractor, "scan.pdf", random_bytes(3000)).startswith("could not be read as .pdf")
    assert refusal(extractor, "bomb.docx", zip_bomb(200)).startswith("archive would inflate to")
    assert refusal(extractor, "setup.exe", b"MZ" + random_bytes(2000)) == "unsupported file type '.exe'"
    assert extractor.extract("report.pdf", make_pdf([["still fine"]])).text == "still fine"
    assert worker_pid(extractor) == pid


def test_worker_start_up_does_not_count_against_the_time_limit():
    """With a 0.1 s limit, shorter than starting the worker, a small file on a cold worker is still read."""
    sandbox = SandboxedExtractor(LimitSettings(parse_timeout_seconds=0.1))
    try:
        assert sandbox.extract("page.html", HTML).text == "# Runbook\n\nRotate keys."
    finally:
        sandbox.close()


def test_slow_parse_is_stopped_at_the_time_limit_and_the_next_file_gets_a_new_worker():
    """A parse longer than parse_timeout_seconds is killed promptly, reported as a timeout; the next file is read."""
    sandbox = SandboxedExtractor(LimitSettings(parse_timeout_seconds=0.25))
    try:
        sandbox.extract("page.html", HTML)
        process = sandbox._process
        assert process is not None
        message = refusal(sandbox, "slow.html", SLOW_HTML)
        assert message == "parsing took longer than 0.25 s and was stopped"
        assert process.poll() is not None and process.returncode < 0  # the old worker was killed, not left to finish
        assert sandbox.extract("page.html", HTML).text == "# Runbook\n\nRotate keys."
        assert worker_pid(sandbox) != process.pid
    finally:
        sandbox.close()


def test_memory_bomb_is_stopped_and_the_worker_restarts():
    """Input needing far more than parse_memory_mb (200) is stopped with the limit named; a fresh worker carries on."""
    sandbox = SandboxedExtractor(LimitSettings(parse_memory_mb=200, max_file_bytes=64 * 2**20))
    try:
        sandbox.extract("page.html", HTML)
        pid = worker_pid(sandbox)
        # One 40 MB text node: decoding, parsing and joining it needs several copies (over 300 MB in all).
        bomb = b"<p>" + b"x" * (40 * 2**20) + b"</p>"
        message = refusal(sandbox, "huge.html", bomb)
        assert "200 MB" in message and "stopped" in message
        assert sandbox.extract("page.html", HTML).text == "# Runbook\n\nRotate keys."
        assert worker_pid(sandbox) != pid
    finally:
        sandbox.close()


def test_the_same_input_is_read_with_enough_memory():
    """The memory bomb above is refused because of the limit: with 1 GB the same input is read (and capped)."""
    limits = LimitSettings(parse_memory_mb=1024, max_file_bytes=64 * 2**20)
    sandbox = SandboxedExtractor(limits)
    try:
        text = sandbox.extract("huge.html", b"<p>" + b"x" * (40 * 2**20) + b"</p>").text
        assert text == "x" * limits.max_extracted_chars
    finally:
        sandbox.close()


def test_worker_that_dies_mid_parse_is_reported_as_a_crash_not_a_timeout(extractor):
    """A worker killed from outside during a parse is reported as crashed, with no time limit blamed."""
    extractor.extract("page.html", HTML)
    process = extractor._process
    assert process is not None
    killer = threading.Timer(0.3, process.kill)
    killer.start()
    try:
        message = refusal(extractor, "slow.html", SLOW_HTML)
    finally:
        killer.cancel()
    assert message == "the parser crashed or exceeded 1024 MB and was stopped"
    assert extractor.extract("page.html", HTML).text == "# Runbook\n\nRotate keys."


def test_close_stops_the_worker_and_a_later_extract_starts_a_new_one(extractor):
    """close() ends the worker process (twice is fine); extracting after it starts a fresh worker."""
    extractor.extract("page.html", HTML)
    process = extractor._process
    assert process is not None
    extractor.close()
    assert process.poll() is not None
    assert extractor._process is None
    extractor.close()
    assert extractor.extract("page.html", HTML).text == "# Runbook\n\nRotate keys."
    assert worker_pid(extractor) != process.pid


def test_poisoned_batch_stores_every_good_file_and_names_each_bad_one(memory):
    """In a batch of 11 files with 3 bad ones, the 8 good ones are stored and searchable; exactly the 3 are skipped."""
    good = {
        "notes.md": b"# Deploys\n\nThe ZORBLAX key rotates on Fridays.",
        "legacy.txt": "Café naïve QUINTAPH notes, written on an old Windows box.".encode("latin-1"),
        "tool.py": b"def grivvel():\n    return 'GRIVVEL helper'\n",
        "people.csv": b"name,codename\nAlice,MORPHOLOX\n",
        "config.json": b'{"service": {"codename": "TWINDLEBERRY"}}',
        "page.html": b"<h1>Runbook</h1><p>Ask SPLENDORAX first.</p><script>var hidden = 'NOPE';</script>",
        "plan.docx": make_docx(paragraph="Ship the BRONTOWEB release by Friday."),
        "report.pdf": make_pdf([["Quarterly CALLIOPAX report"]]),
    }
    bad = {
        "notes.txt": random_bytes(4096),
        "scan.pdf": random_bytes(3000, seed=11),
        "bomb.docx": zip_bomb(200),
    }
    files = {**good, **bad}
    documents = [
        FileDocument(guild_id="g1", channel_id="docs", source=f"/upload/{name}", filename=name, data=data)
        for name, data in sorted(files.items())
    ]
    report = memory.ingest_files(documents)

    assert report.records == len(good)
    reasons = dict(report.skipped)
    assert sorted(reasons) == sorted(f"/upload/{name}" for name in bad)
    assert reasons["/upload/notes.txt"].startswith("not text")
    assert reasons["/upload/scan.pdf"].startswith("could not be read as .pdf")
    assert reasons["/upload/bomb.docx"].startswith("archive would inflate to")

    stored: dict[str | None, str] = {}
    for batch in memory.stores.chunks.iter_guild_chunks("g1"):
        for chunk in batch:
            stored[chunk.filename] = stored.get(chunk.filename, "") + chunk.text + "\n"
    assert sorted(stored) == sorted(good)
    channel = memory.stats("g1").guilds["g1"].channels["docs"]
    assert channel.files == len(good)
    assert channel.pending == 0  # every stored chunk was embedded
    words = {
        "notes.md": "ZORBLAX", "legacy.txt": "QUINTAPH", "tool.py": "GRIVVEL", "people.csv": "MORPHOLOX",
        "config.json": "TWINDLEBERRY", "page.html": "SPLENDORAX", "plan.docx": "BRONTOWEB", "report.pdf": "CALLIOPAX",
    }  # fmt: skip
    for filename, word in words.items():
        assert word in stored[filename]
        hits = memory.search(word, "g1", max_sources=3).hits
        assert hits and hits[0].chunk.filename == filename and word in hits[0].chunk.text
    assert "Café naïve" in stored["legacy.txt"]
    assert "NOPE" not in stored["page.html"]


def nested_flate_bomb(inflated_mb: int) -> bytes:
    """A content stream compressed twice (`/Filter [/FlateDecode /FlateDecode]`, pypdf#3429's shape): about 2 KB
    that inflate to 3 MB, then to `inflated_mb` MB of text-drawing operators."""
    operators = b"BT /F1 12 Tf 72 720 Td (bomb) Tj ET\n"
    block = operators * (2**20 // len(operators))
    inner = zlib.compressobj(9)
    once = b"".join([*(inner.compress(block) for _ in range(inflated_mb)), inner.flush()])
    return zlib.compress(once, 9)


def test_a_nested_flate_bomb_is_refused_by_name_and_the_worker_carries_on(extractor):
    """Scenario 20: a 2 KB PDF whose page inflates to 256 MB through two Flate layers is refused with the page named,
    well inside the worker's memory; the worker stays up and reads the next file."""
    bomb = nested_flate_bomb(256)
    data = make_pdf([["first page"], ["bomb"]], streams={1: (b"/Filter [/FlateDecode /FlateDecode]", bomb)})
    assert len(data) < 4096
    extractor.extract("page.html", HTML)
    pid = worker_pid(extractor)
    message = refusal(extractor, "bomb.pdf", data)
    assert message == "page 2 holds a compressed stream that inflates past pypdf's limit (a decompression bomb)"
    assert worker_pid(extractor) == pid  # refused by the parser's cap, not by killing the worker
    assert extractor.extract("report.pdf", make_pdf([["after the bomb"]])).text == "after the bomb"


def test_a_10000_page_pdf_is_read_up_to_max_pdf_pages(extractor):
    """Scenario 20: 10,000 pages (2.7 MB) read in the worker stop at limits.max_pdf_pages (500), which is said."""
    data = make_pdf([[f"page {n}"] for n in range(10_000)])
    result = extractor.extract("long.pdf", data)
    assert result.pages == tuple(f"page {n}" for n in range(500))
    assert result.truncated == "kept the first 500 of 10,000 pages (limits.max_pdf_pages)"
