"""Text extraction per file type: the right text, common encodings decoded, broken and hostile files refused clearly."""

from __future__ import annotations

import codecs
import functools
import io
import random
import struct
import zipfile

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from memory.errors import ExtractionError
from memory.extract import clean_text, extract_text
from memory.settings import LimitSettings

LIMITS = LimitSettings()
POLISH = (
    "Dziękuję bardzo za pomoc. Jutro pojedziemy do Krakowa, żeby zobaczyć zamek i stare miasto. Pogoda ma być "
    "ładna, więc weźmiemy rowery. Czy masz ochotę dołączyć? Będzie też kilku znajomych z pracy."
)


# --- builders: every test file is made here, in memory ----------------------------------------------------------


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(pages: list[list[str]], streams: dict[int, tuple[bytes, bytes]] | None = None) -> bytes:
    """A small valid PDF by hand: one page per list of lines, Helvetica, BT/Tj/ET, exact xref byte offsets;
    `streams` replaces some pages' content by (dictionary entries such as b"/Filter /FlateDecode", raw bytes)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, written once the page numbers are known
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for number, lines in enumerate(pages):
        operators = "BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"{_pdf_string(line)} Tj T*" for line in lines) + " ET"
        entries, content = (streams or {}).get(number, (b"", operators.encode("cp1252")))
        page = len(objects) + 1
        kids.append(page)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {page + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d %s >>\nstream\n" % (len(content), entries) + content + b"\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_docx(*, paragraph: str = "Ship the memory bot by Friday.") -> bytes:
    """A real .docx from python-docx: a title, two headings, paragraphs and a 2x2 table."""
    document = docx.Document()
    document.add_heading("Quarterly plan", level=0)
    document.add_heading("Goals", level=1)
    document.add_paragraph(paragraph)
    document.add_heading("Details", level=2)
    document.add_paragraph("")
    document.add_paragraph("Second paragraph.")
    table = document.add_table(rows=2, cols=2)
    for row, (left, right) in enumerate((("a", "b"), ("owner", "alice"))):
        table.cell(row, 0).text = left
        table.cell(row, 1).text = right
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@functools.cache
def docx_members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(make_docx())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(replace: dict[str, bytes]) -> bytes:
    """The test .docx with some members' content replaced."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in docx_members().items():
            archive.writestr(name, replace.get(name, content))
    return buffer.getvalue()


@functools.cache
def zip_bomb(megabytes: int = 200) -> bytes:
    """A .docx-shaped zip whose word/document.xml inflates to `megabytes` MiB of zeros (about 1/1000 of it on disk)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", docx_members()["[Content_Types].xml"])
        with archive.open("word/document.xml", "w") as member:
            zeros = bytes(1 << 20)
            for _ in range(megabytes):
                member.write(zeros)
    return buffer.getvalue()


def random_bytes(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def extract(filename: str, data: bytes | str, limits: LimitSettings = LIMITS):
    return extract_text(filename, data.encode() if isinstance(data, str) else data, limits)


def refusal(filename: str, data: bytes, limits: LimitSettings = LIMITS) -> str:
    with pytest.raises(ExtractionError) as caught:
        extract_text(filename, data, limits)
    return str(caught.value)


# --- the builders themselves --------------------------------------------------------------------------------------


def test_pdf_builder_writes_a_valid_pdf():
    """The hand-made PDF has exact xref offsets (pypdf reads it in strict mode) and carries the text."""
    data = make_pdf([["Hello (PDF) world"], ["Page two"]])
    start = data.rindex(b"startxref")
    xref = int(data[start:].split()[1])
    assert data[xref:].startswith(b"xref")
    offsets = [int(line[:10]) for line in data[xref:].split(b"\n")[3:] if line.endswith(b" n ")]
    assert [data[offset:].split(b"\n", 1)[0] for offset in offsets] == [b"%d 0 obj" % n for n in range(1, 8)]
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert [page.extract_text().strip() for page in reader.pages] == ["Hello (PDF) world", "Page two"]


# --- each type's text ---------------------------------------------------------------------------------------------


def test_plain_text_file_is_text():
    """A .txt file comes back as its text, format "text"."""
    text = "The deploy key rotates on Fridays.\nAsk Dana."
    result = extract("notes.txt", text)
    assert (result.text, result.format, result.language) == (text, "text", None)


def test_markdown_keeps_its_markup_and_loses_runs_of_blank_lines():
    """A .md file is format "markdown", markup intact, three or more blank lines collapsed to one."""
    result = extract("guide.md", "# Deploys\n\nUse *blue-green*.\n\n\n\n\n- step one\n- step two\n")
    assert result.format == "markdown"
    assert result.text == "# Deploys\n\nUse *blue-green*.\n\n- step one\n- step two"


def test_rst_is_read_as_markdown():
    """A .rst file is format "markdown" with its text unchanged."""
    result = extract("index.rst", "Title\n=====\n\nBody text.\n")
    assert (result.text, result.format) == ("Title\n=====\n\nBody text.", "markdown")


def test_code_file_has_its_language_and_indentation():
    """A .py file is format "code", language "python", indentation and CRLF line ends normalised to LF."""
    result = extract("tool.py", "def rotate(key):\r\n    return key[::-1]\r\n")
    assert (result.format, result.language) == ("code", "python")
    assert result.text == "def rotate(key):\n    return key[::-1]"


@pytest.mark.parametrize(("filename", "language"), [("app.ts", "ts"), ("main.go", "go"), ("lib.rs", "rust")])
def test_other_code_files_name_their_language(filename, language):
    """Other code extensions map to their splitter language."""
    result = extract(filename, "x = 1\n")
    assert (result.format, result.language) == ("code", language)


def test_unknown_extension_with_text_content_is_read_as_text():
    """A file with an unknown extension but text inside is read as plain text (content is sniffed)."""
    assert extract("notes.weird", "plain words here").text == "plain words here"
    assert extract("Makefile", "all:\n\techo hi\n").text == "all:\n\techo hi"


def test_pdf_text_comes_from_every_page_in_order():
    """A PDF's pages are extracted in order, separated by a blank line, format "text"."""
    result = extract("report.pdf", make_pdf([["Quarterly report", "Revenue grew (a lot)"], ["Page two: costs"]]))
    assert result.format == "text"
    assert result.text == "Quarterly report\nRevenue grew (a lot)\n\nPage two: costs"


def test_pdf_reading_stops_at_max_pdf_pages():
    """Pages past limits.max_pdf_pages are not read."""
    data = make_pdf([["first page"], ["second page"], ["third page"]])
    result = extract("long.pdf", data, LimitSettings(max_pdf_pages=2))
    assert result.text == "first page\n\nsecond page"
    assert result.truncated == "kept the first 2 of 3 pages (limits.max_pdf_pages)"
    assert extract("long.pdf", data).truncated is None


def test_pdf_cut_at_max_extracted_chars_says_up_to_which_page():
    """A PDF whose text passes limits.max_extracted_chars says how much was kept and where it stopped."""
    data = make_pdf([["first page"], ["second page"], ["third page"]])
    result = extract("long.pdf", data, LimitSettings(max_extracted_chars=15))
    assert result.text == "first page\n\nsecon"
    assert result.truncated == "kept the first 15 characters, up to page 2 of 3 (limits.max_extracted_chars)"


def test_text_cut_at_max_extracted_chars_says_how_much_was_kept():
    """A text file longer than limits.max_extracted_chars is cut, and the cut is said in numbers."""
    result = extract("big.txt", "word " * 2000, LimitSettings(max_extracted_chars=1500))
    assert len(result.text) == 1500
    assert result.truncated == "kept the first 1,500 of 9,999 characters (limits.max_extracted_chars)"
    assert extract("small.txt", "word " * 10, LimitSettings(max_extracted_chars=1500)).truncated is None


def test_docx_headings_paragraphs_and_table_rows():
    """A .docx becomes markdown: title and Heading 1 as "# ...", Heading 2 as "## ...", table rows as "a | b"."""
    result = extract("plan.docx", make_docx())
    assert result.format == "markdown"
    assert result.text.splitlines() == [
        "# Quarterly plan", "", "# Goals", "", "Ship the memory bot by Friday.", "", "## Details", "",
        "Second paragraph.", "", "a | b", "owner | alice",
    ]  # fmt: skip


def test_html_drops_scripts_styles_and_navigation_and_marks_headings():
    """HTML keeps visible text; script, style, nav and footer content are gone; h1/h2 become "#"/"##" lines."""
    html = (
        "<html><head><title>Runbook</title><style>.secret-style { color: red }</style>"
        "<script>var secretToken = 'abc';</script></head><body><nav>Home | About</nav>"
        "<h1>Deploys</h1><p>Use <b>blue-green</b> deploys.</p><h2>Rollback</h2><ul><li>Revert</li><li>Page</li></ul>"
        "<noscript>enable js</noscript><footer>(c) corp</footer></body></html>"
    )
    result = extract("runbook.html", html)
    assert result.format == "markdown"
    assert result.text == "Runbook\n\n# Deploys\n\nUse blue-green deploys.\n\n## Rollback\n\nRevert\nPage"
    for hidden in ("secret", "color", "Home", "About", "enable js", "corp"):
        assert hidden not in result.text


def test_html_heading_text_excludes_scripts_and_nested_headings_add_no_marker():
    """A heading's line is its visible text only: no script inside it, no stray "#" from a heading nested in it."""
    result = extract("odd.htm", "<h2>Plan <script>evil()</script><h1>inner</h1> end</h2><p>body</p>")
    assert result.text == "## Plan inner end\n\nbody"


def test_html_deep_nesting_is_read_in_linear_time():
    """30,000 nested <div>s extract (editing the tree per tag made this quadratic: minutes; the time itself is
    measured by benchmarks, not asserted here)."""
    depth = 30_000
    html = "<div>" * depth + "<p>deep text</p>" + "</div>" * depth
    assert extract("deep.html", html).text == "deep text"


def test_csv_rows_become_header_value_pairs():
    """Each CSV row is "header: value; ..." with empty cells and empty rows left out, format "table"."""
    result = extract("people.csv", "name,city,team\nAlice,Paris,infra\nBob,,web\n,,\n")
    assert result.format == "table"
    assert result.text == "name: Alice; city: Paris; team: infra\nname: Bob; team: web"


def test_csv_delimiter_is_sniffed_and_tsv_uses_tabs():
    """A semicolon CSV is recognised; a .tsv is split on tabs."""
    assert extract("eu.csv", "name;amount\nAlice;3,50\n").text == "name: Alice; amount: 3,50"
    assert extract("data.tsv", "name\tamount\nBob\t7\n").text == "name: Bob; amount: 7"


def test_json_is_flattened_to_paths():
    """JSON becomes "a.b[0]: value" lines; nulls and empty strings are left out; booleans read as in JSON."""
    data = '{"a": {"b": [1, "x", {"c": true}]}, "d": null, "e": "", "f": 2.5, "g": false}'
    result = extract("config.json", data)
    assert result.format == "table"
    assert result.text == "a.b[0]: 1\na.b[1]: x\na.b[2].c: true\nf: 2.5\ng: false"


def test_json_top_level_scalar_and_list():
    """A top-level list is indexed from "[0]"; a bare scalar is its own line."""
    assert extract("list.json", '["one", "two"]').text == "[0]: one\n[1]: two"
    assert extract("scalar.json", '"just text"').text == "just text"


def test_extracted_text_is_capped_at_max_extracted_chars():
    """Text beyond limits.max_extracted_chars is cut off."""
    result = extract("big.txt", "abcdefghij" * 10, LimitSettings(max_extracted_chars=25))
    assert result.text == "abcdefghij" * 2 + "abcde"


# --- encodings ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data"),
    [
        pytest.param("Grüße aus Köln – 日本語", "Grüße aus Köln – 日本語".encode("utf-16"), id="utf-16-le-bom"),
        pytest.param("Grüße – 日本語", codecs.BOM_UTF16_BE + "Grüße – 日本語".encode("utf-16-be"), id="utf-16-be-bom"),
        pytest.param("Grüße – 日本語 🎉", "Grüße – 日本語 🎉".encode("utf-32"), id="utf-32-bom"),
        pytest.param("naïve café", codecs.BOM_UTF8 + "naïve café".encode(), id="utf-8-bom"),
        pytest.param("zürich ☃ 🎉", "zürich ☃ 🎉".encode(), id="utf-8"),
        pytest.param("café naïve", "café naïve".encode("latin-1"), id="latin-1-short"),
        pytest.param(
            "Le café est très agréable; une naïve élève.",
            "Le café est très agréable; une naïve élève.".encode("latin-1"),
            id="latin-1-sentence",
        ),
        pytest.param("Grüße aus München", "Grüße aus München".encode("latin-1"), id="latin-1-german"),
        pytest.param(
            "Café naïve notes, from an old PC.",
            "Café naïve notes, from an old PC.".encode("latin-1"),
            id="latin-1-notes",
        ),
        pytest.param("Señor Muñoz paid 5 € for it.", "Señor Muñoz paid 5 € for it.".encode("cp1252"), id="cp1252-euro"),
        pytest.param(POLISH, POLISH.encode("cp1250"), id="cp1250-long-polish"),
        pytest.param(
            "日本語のテキストです。今日はいい天気ですね。",
            "日本語のテキストです。今日はいい天気ですね。".encode("shift_jis"),
            id="shift-jis",
        ),
        pytest.param("Привет мир, как дела?", "Привет мир, как дела?".encode("cp1251"), id="cp1251"),
    ],
)
def test_text_in_any_common_encoding_is_decoded_exactly(text, data):
    """BOM-marked, UTF-8 and legacy-encoded text decodes to exactly the original (no BOM, no mojibake)."""
    assert extract("notes.txt", data).text == text


@pytest.mark.parametrize(
    ("data", "text"),
    [
        pytest.param("Café crème\n".encode() + b"caf\xe9\n", "Café crème\ncaf\ufffd", id="two-lines"),
        pytest.param(
            "Café crème brûlée, naïve façade. ".encode() * 3 + b"The caf\xe9 menu.",
            "Café crème brûlée, naïve façade. " * 3 + "The caf\ufffd menu.",
            id="a-stray-byte-at-the-end",
        ),
    ],
)
def test_mostly_utf8_with_a_few_stray_bytes_stays_utf8(data, text):
    """A file of UTF-8 with a few bytes of another encoding keeps its UTF-8 (stray bytes replaced), not mojibake."""
    assert extract("notes.txt", data).text == text


def test_nul_characters_are_removed():
    """NULs inside otherwise normal text are dropped, the text kept."""
    data = b"The deploy\x00 key rotates\x00 on Fridays, every week, at noon."
    assert extract("notes.txt", data).text == "The deploy key rotates on Fridays, every week, at noon."


def test_clean_text_replaces_lone_surrogates_and_line_ends():
    """clean_text turns a lone surrogate into U+FFFD, drops NULs and makes CRLF and CR into LF."""
    assert clean_text("a\ud800b\udfffc\x00d\r\ne\rf") == "a\ufffdb\ufffdcd\ne\nf"


def test_lone_surrogate_from_a_json_escape_is_replaced():
    """A "\\ud800" escape in JSON (valid JSON, invalid Unicode) is replaced, so the text encodes as UTF-8."""
    result = extract("chat.json", '{"msg": "hi \\ud800 there"}')
    assert result.text == "msg: hi \ufffd there"
    result.text.encode("utf-8")  # what Chroma and the embedding API need


# --- refused input ------------------------------------------------------------------------------------------------


def test_random_binary_named_txt_is_refused():
    """Random bytes named notes.txt are refused as not text."""
    assert refusal("notes.txt", random_bytes(4096)).startswith("not text")


def test_text_with_too_many_control_characters_is_refused():
    """UTF-8 that is mostly control characters is binary in disguise and refused."""
    assert refusal("notes.txt", b"\x01\x02\x03\x04 ab" * 100) == "not text (binary content)"


def test_binary_with_unsupported_extension_is_refused():
    """An .exe with binary content is an unsupported type, named in the message."""
    data = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + random_bytes(2048)
    assert refusal("setup.exe", data) == "unsupported file type '.exe'"


def test_file_over_max_file_bytes_is_refused_as_too_large():
    """A file one byte over limits.max_file_bytes is "too large" (sizes in the message); one at the limit is read."""
    limits = LimitSettings(max_file_bytes=1000)
    assert extract("ok.txt", "a" * 1000, limits).text == "a" * 1000
    message = refusal("big.txt", b"a" * 1001, limits)
    assert message.startswith("too large") and "1,001" in message and "1,000" in message


def test_file_over_max_file_bytes_is_refused_before_any_parsing(monkeypatch):
    """The size check comes first: an oversized PDF never reaches pypdf."""
    import pypdf

    def fail(*args, **kwargs):
        raise AssertionError("the PDF parser was called")

    monkeypatch.setattr(pypdf, "PdfReader", fail)
    assert refusal("big.pdf", make_pdf([["x" * 500]]), LimitSettings(max_file_bytes=100)).startswith("too large")


def test_broken_pdf_is_refused():
    """Garbage named .pdf is refused with a "could not be read as .pdf" reason."""
    assert refusal("scan.pdf", random_bytes(3000)).startswith("could not be read as .pdf")


def test_truncated_pdf_is_refused():
    """A PDF cut off in the middle is refused."""
    data = make_pdf([["Hello world"]])
    assert refusal("cut.pdf", data[: len(data) // 3]).startswith("could not be read as .pdf")


def test_encrypted_pdf_is_refused():
    """A PDF that needs a password is refused as encrypted; one with an empty user password is read."""
    plain = make_pdf([["Top secret plan"]])
    for user_password, expected in (("hunter2", None), ("", "Top secret plan")):
        writer = PdfWriter(clone_from=io.BytesIO(plain))
        writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
        buffer = io.BytesIO()
        writer.write(buffer)
        if expected is None:
            assert refusal("locked.pdf", buffer.getvalue()) == "encrypted PDF (no password known)"
        else:
            assert extract("open.pdf", buffer.getvalue()).text == expected


@pytest.mark.parametrize("lines", [[], ["   "], ["", "  "]], ids=["no-text", "spaces", "blank-lines"])
def test_pdf_without_text_is_refused(lines):
    """A PDF whose pages have no or only blank text is refused: "no extractable text"."""
    assert "no extractable text" in refusal("scan.pdf", make_pdf([lines, lines]))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(random_bytes(5000), id="garbage"),
        pytest.param(b"PK\x03\x04" + random_bytes(5000), id="zip-signature-then-garbage"),
        # A password-protected .docx is an OLE compound file, not a zip.
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + random_bytes(4096), id="encrypted-ole"),
    ],
)
def test_docx_that_is_not_a_zip_is_refused(data):
    """Garbage, a fake zip and an encrypted (OLE) .docx are refused as a broken Office file."""
    assert refusal("plan.docx", data) == "not a valid Office file (broken zip container)"


def test_zip_that_is_not_a_word_document_is_refused():
    """A valid zip without the Word parts is refused with a reason, not a crash."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert refusal("plan.docx", buffer.getvalue()).startswith("could not be read as .docx")


def test_docx_zip_bomb_is_refused_before_anything_is_inflated(monkeypatch):
    """A .docx whose document.xml inflates to 200 MiB is refused from the zip directory alone: no member is opened."""
    bomb = zip_bomb(200)
    assert len(bomb) < 1_000_000
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(getattr(name, "filename", name))
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    message = refusal("bomb.docx", bomb)
    total = 200 * 2**20 + len(docx_members()["[Content_Types].xml"])
    assert message == f"archive would inflate to {total:,} bytes (the limit is 104,857,600)"
    assert opened == []  # refused from the directory alone: no member was opened, so none inflated


def test_docx_over_a_low_max_archive_bytes_is_refused():
    """An ordinary .docx is refused once its inflated size is over a lowered limits.max_archive_bytes."""
    message = refusal("plan.docx", make_docx(), LimitSettings(max_archive_bytes=10_000))
    assert message.startswith("archive would inflate to") and "the limit is 10,000" in message


def test_docx_member_with_a_bomb_compression_ratio_is_refused():
    """A member that inflates over 200 times (20 MiB of zeros), though under the total limit, is a zip bomb."""
    message = refusal("ratio.docx", zip_bomb(20))
    assert message == "archive member word/document.xml has a suspicious compression ratio (zip bomb)"


def test_zip_with_too_many_members_is_refused():
    """An archive of 5,001 (empty) members is refused by its member count."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(5001):
            archive.writestr(f"word/media/m{number}.xml", b"")
    assert refusal("many.docx", buffer.getvalue()) == "archive has 5,001 members (the limit is 5,000)"


def test_docx_that_lies_about_its_size_is_not_inflated_past_the_declared_size():
    """A member declaring a small size but holding 50 MiB is read only to the declared size and then refused."""
    real = docx_members()["word/document.xml"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in docx_members().items():
            if name != "word/document.xml":
                archive.writestr(name, content)
                continue
            with archive.open(name, "w") as member:
                member.write(real)
                for _ in range(50):
                    member.write(b" " * (1 << 20))  # whitespace after the root element: still well-formed XML
    data = bytearray(buffer.getvalue())
    # Rewrite the uncompressed size in the central directory entry and the local header to the small lie.
    central = data.index(b"PK\x01\x02")  # the first central directory entry; find the member's
    while data[central + 46 : central + 46 + struct.unpack_from("<H", data, central + 28)[0]] != b"word/document.xml":
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, len(real))
    struct.pack_into("<I", data, struct.unpack_from("<I", data, central + 42)[0] + 22, len(real))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        assert archive.getinfo("word/document.xml").file_size == len(real)  # the checks see only the lie
    # The stored CRC is that of the whole 50 MiB member: a mismatch means reading stopped at the declared size.
    assert "Bad CRC-32" in refusal("liar.docx", bytes(data))


def test_docx_entity_expansion_is_never_expanded():
    """A billion-laughs document.xml is refused, or read with its entities unexpanded; never inflated."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    ]
    document = docx_members()["word/document.xml"]
    body = document[document.index(b"<w:document") :].replace(b"Second paragraph.", b"&lol9;")
    laughs = b'<?xml version="1.0"?>\n<!DOCTYPE lolz [' + "".join(entities).encode() + b"]>\n" + body
    try:
        text = extract("laughs.docx", rezip({"word/document.xml": laughs})).text
    except ExtractionError as e:
        assert str(e).startswith("could not be read as .docx")
    else:
        assert "lollol" not in text


def test_deeply_nested_json_is_refused_as_too_deep():
    """100,000 nested arrays (a RecursionError in the parser) are refused as "too deeply nested to read"."""
    assert refusal("deep.json", b"[" * 100_000 + b"]" * 100_000) == "too deeply nested to read"


def test_invalid_json_is_refused_with_the_position():
    """Broken JSON is refused with the decoder's reason and position."""
    assert refusal("broken.json", b'{"a": ') == "invalid JSON: Expecting value: line 1 column 7 (char 6)"
