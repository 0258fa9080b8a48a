"""Page-aware files: a PDF page and a markdown section are chunk boundaries, and every source names its place."""

from __future__ import annotations

import hashlib
import json

import pytest

from bot.cli import main
from memory import FileDocument, Memory
from memory.chunking import chunk_id
from memory.extractive import extractive_answer
from tests.fakes import HashEmbeddings
from tests.memory.test_extract import make_pdf

PAGES = [
    ["Electricity for the racks is billed monthly.", "The racks draw about nine kilowatts each."] * 6,
    ["Cold storage costs four dollars per terabyte.", "Warm storage tiers cost more per terabyte."] * 6,
    ["Staff travel is booked through the office.", "Receipts go to finance within a week."] * 6,
]
GUIDE = (
    b"# Runbook\n\nIntro.\n\n## Deploys\n\nThe deploy key rotates on Fridays.\n\n## Backups\n\nSnapshots run nightly."
)


def remember(memory: Memory) -> None:
    report = memory.ingest_files([
        FileDocument(guild_id="g1", channel_id="docs", source="/docs/costs.pdf", filename="costs.pdf",
                     data=make_pdf(PAGES)),
        FileDocument(guild_id="g1", channel_id="docs", source="/docs/guide.md", filename="guide.md", data=GUIDE),
    ])  # fmt: skip
    assert report.records + report.records_unchanged == 2 and not report.skipped


def test_no_chunk_crosses_a_page_and_each_names_its_page(memory: Memory):
    """Every chunk of the PDF holds the words of one page only, and names that page."""
    remember(memory)
    chunks = list(memory.stores.chunks.chunks(memory.stores.chunks.guild_chunk_ids("g1")).values())
    pdf = [c for c in chunks if c.filename == "costs.pdf"]
    assert {c.page for c in pdf} == {1, 2, 3}
    for chunk in pdf:
        own = {word for line in PAGES[chunk.page - 1] for word in line.split()}
        assert set(chunk.text.split()) <= own
    guide = {c.section for c in chunks if c.filename == "guide.md"}
    assert guide == {"Runbook", "Runbook > Deploys", "Runbook > Backups"}


def test_a_source_names_its_page_in_search_and_in_the_extractive_answer(memory: Memory):
    """The best passage for a page-2 fact says p. 2; a markdown passage says its section."""
    remember(memory)
    context = memory.search("cold storage per terabyte", "g1", budget=400)
    top = context.hits[0].chunk
    assert (top.page, top.place) == (2, "costs.pdf p. 2")
    assert "(costs.pdf p. 2) [1]" in extractive_answer("what does cold storage cost per terabyte?", context)
    deploys = memory.search("deploy key rotates", "g1", max_sources=1).hits[0].chunk
    assert deploys.place == "guide.md, Runbook > Deploys"


def test_search_json_carries_page_and_section(tmp_path, capsys):
    """`memorybot search --json` has `page` (null outside PDFs) and `section` on every result."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "costs.pdf").write_bytes(make_pdf(PAGES))
    (folder / "guide.md").write_bytes(GUIDE)
    base = ["--data-dir", str(tmp_path / "data")]
    embeddings = HashEmbeddings()
    assert main([*base, "ingest", str(folder)], embeddings=embeddings) == 0
    capsys.readouterr()
    assert main([*base, "search", "cold storage terabyte snapshots nightly", "--json"], embeddings=embeddings) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    places = {(r["filename"], r["page"], r["section"]) for r in results}
    assert ("costs.pdf", 2, None) in places and ("guide.md", None, "Runbook > Backups") in places


@pytest.mark.sqlite_only  # it makes the store an SQLite store of schema 7 was (PostgreSQL stores start at 13)
def test_a_file_split_before_pages_is_split_again_when_ingested_again(memory: Memory):
    """A store made before page-aware splitting (no pages, the old content hash) gets pages on the next ingest."""
    remember(memory)
    data = make_pdf(PAGES)
    held = memory.stores.chunks.chunks(memory.stores.chunks.guild_chunk_ids("g1")).values()
    with memory.stores.database.transaction() as db:  # what a store of schema v7 held: old ids, no places
        for c in held:
            old_id = chunk_id(c.guild_id, c.channel_id, "file", c.record_id, str(c.position), c.text)
            db.execute(
                "UPDATE chunks SET chunk_id = ?, page = NULL, section = NULL WHERE chunk_id = ?", (old_id, c.chunk_id)
            )
        db.execute(
            "UPDATE files SET content_hash = ? WHERE filename = 'costs.pdf'", (hashlib.sha256(data).hexdigest()[:16],)
        )
    remember(memory)
    after = memory.stores.chunks.chunks(memory.stores.chunks.guild_chunk_ids("g1")).values()
    assert {c.page for c in after if c.filename == "costs.pdf"} == {1, 2, 3}
    assert {c.section for c in after if c.filename == "guide.md"} == {None}  # unchanged file: left as it was
    assert len(after) == len(held) and not memory.stores.chunks.pending_chunks("g1")
