"""Text extraction from uploaded files, per type, with caps; pure functions (run in a sandbox for risky types)."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any, Literal

from memory.errors import ExtractionError
from memory.settings import LimitSettings

TextFormat = Literal["text", "markdown", "code", "table"]

CODE_LANGUAGES = {
    ".py": "python", ".js": "js", ".mjs": "js", ".ts": "ts", ".tsx": "ts", ".jsx": "js", ".java": "java",
    ".go": "go", ".rs": "rust", ".c": "c", ".h": "c", ".cpp": "cpp", ".cc": "cpp", ".hpp": "cpp",
    ".cs": "csharp", ".rb": "ruby", ".php": "php", ".kt": "kotlin", ".swift": "swift", ".scala": "scala",
    ".lua": "lua", ".sh": "text", ".bash": "text", ".sql": "text", ".yaml": "text", ".yml": "text",
    ".toml": "text", ".ini": "text", ".cfg": "text", ".css": "text", ".xml": "html", ".proto": "proto",
}  # fmt: skip
PLAIN_SUFFIXES = {".txt", ".text", ".log", ".conf", ".env.example", ""}
MARKDOWN_SUFFIXES = {".md", ".markdown", ".rst", ".adoc"}
# Types whose parsers are complex enough to be run in the sandboxed worker process.
SANDBOXED_SUFFIXES = {".pdf", ".docx", ".html", ".htm", ".xhtml"}

_HTML_HIDDEN = {"script", "style", "noscript", "template", "svg", "nav", "footer"}
_HTML_BLOCKS = {"p", "div", "li", "tr", "pre", "blockquote", "br", "section", "article"}
_HTML_HEADINGS = {f"h{level}": level for level in range(1, 7)}

_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


@dataclass(frozen=True, slots=True)
class ExtractedText:
    """The text of one file and how it is structured (which decides how it is split)."""

    text: str
    format: TextFormat
    language: str | None = None  # for code: a langchain-text-splitters Language value
    # A PDF's text page by page ("" for a page without text), so that chunks end at page breaks and can say
    # which page they are from; `text` is the non-empty pages joined. Empty for every other type.
    pages: tuple[str, ...] = ()
    # Set when a cap cut the file short: how much was kept and which limit cut it, said to whoever ingested it.
    truncated: str | None = None


def clean_text(text: str) -> str:
    """Drop what breaks storage or embedding: lone surrogates (they abort a whole batch), NULs, CRLFs."""
    text = _SURROGATES.sub("\ufffd", text).replace("\x00", "")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def suffix_of(filename: str) -> str:
    """The lower-case extension of a file name, '' if none."""
    return PurePath(filename).suffix.lower()


def decode_text(data: bytes) -> str:
    """Decode bytes of unknown encoding: BOM, then UTF-8, then charset detection; reject binary.

    Raises:
        ExtractionError: the bytes do not look like text.
    """
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
    ):  # fmt: skip
        if data.startswith(bom):
            return _checked_text(data.decode(encoding, errors="replace"))
    try:
        return _checked_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    mostly_utf8 = _mostly_utf8(data)
    if mostly_utf8 is not None:
        return _checked_text(mostly_utf8)
    from charset_normalizer import from_bytes  # slow import, only for non-UTF-8 files

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        msg = "not text (binary content or unknown encoding)"
        raise ExtractionError(msg)
    # Short Western text is clean in many single-byte code pages ("café" is "cafй" in cp1251) and the detector's
    # language score is noise on a few words (it chose cp775 for "Café naïve notes"): among the cleanest guesses
    # prefer Windows-1252, a superset of Latin-1 and the commonest legacy encoding. Short Central European text
    # can lose this tie (a few words of Polish); long text is not clean in cp1252 and keeps its own code page.
    for match in matches:
        if match.chaos == best.chaos and "cp1252" in match.could_be_from_charset:
            best = match
            break
    return _checked_text(str(best))


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few stray bytes (a file pasted together from two editors) decoded as UTF-8, each stray byte
    replaced; None when the bytes are not mostly UTF-8. Handed to charset detection whole, such a file came out
    in a wrong single-byte code page ("Cafķ crĶme")."""
    text = data.decode("utf-8", errors="replace")
    stray = text.count("\ufffd") - data.count("\ufffd".encode())
    # Multi-byte UTF-8 characters by chance in legacy-encoded text are rare next to its invalid bytes.
    valid = sum(1 for char in text if char > "\x7f") - stray
    return text if 0 < stray < valid else None


def _checked_text(text: str) -> str:
    sample = text[:100_000]
    controls = len(_CONTROL.findall(sample))
    if sample and controls / len(sample) > 0.05:
        msg = "not text (binary content)"
        raise ExtractionError(msg)
    return text


def _tidy(text: str) -> str:
    return _BLANK_LINES.sub("\n\n", clean_text(text)).strip()


def _capped(extracted: ExtractedText, limits: LimitSettings) -> ExtractedText:
    cap = limits.max_extracted_chars
    if len(extracted.text) <= cap:
        return extracted
    kept = f"kept the first {cap:,} of {len(extracted.text):,} characters (limits.max_extracted_chars)"
    return replace(extracted, text=extracted.text[:cap], truncated=kept)


def extract_text(filename: str, data: bytes, limits: LimitSettings) -> ExtractedText:
    """Extract the text of one file, choosing the reader by extension (content sniffed for text).

    Raises:
        ExtractionError: too big, unsupported, broken or hostile; the message says which.
    """
    if len(data) > limits.max_file_bytes:
        msg = f"too large ({len(data):,} bytes; the limit is {limits.max_file_bytes:,})"
        raise ExtractionError(msg)
    suffix = suffix_of(filename)
    try:
        if suffix == ".pdf":
            pages, truncated = _pdf_pages(data, limits)
            return ExtractedText("\n\n".join(p for p in pages if p), "text", pages=tuple(pages), truncated=truncated)
        if suffix == ".docx":
            return _capped(ExtractedText(_tidy(_docx_text(data, limits)), "markdown"), limits)
        if suffix in {".html", ".htm", ".xhtml"}:
            return _capped(ExtractedText(_tidy(_html_text(decode_text(data))), "markdown"), limits)
        if suffix in {".csv", ".tsv"}:
            return _capped(ExtractedText(_tidy(_csv_text(decode_text(data), suffix)), "table"), limits)
        if suffix == ".json":
            return _capped(ExtractedText(_tidy(_json_text(decode_text(data))), "table"), limits)
        if suffix in MARKDOWN_SUFFIXES:
            return _capped(ExtractedText(_tidy(decode_text(data)), "markdown"), limits)
        if suffix in CODE_LANGUAGES:
            return _capped(ExtractedText(_tidy(decode_text(data)), "code", CODE_LANGUAGES[suffix]), limits)
        if suffix in PLAIN_SUFFIXES or _looks_textual(data):
            return _capped(ExtractedText(_tidy(decode_text(data)), "text"), limits)
    except ExtractionError:
        raise
    except RecursionError as e:
        msg = "too deeply nested to read"
        raise ExtractionError(msg) from e
    except MemoryError as e:  # the sandbox reports its memory limit instead, seeing this as the cause
        msg = "ran out of memory while reading it"
        raise ExtractionError(msg) from e
    except Exception as e:  # any parser failure on untrusted bytes becomes a clear per-file error
        msg = f"could not be read as {suffix or 'text'}: {type(e).__name__}: {e}"[:300]
        raise ExtractionError(msg) from e
    msg = f"unsupported file type {suffix!r}"
    raise ExtractionError(msg)


def _looks_textual(data: bytes) -> bool:
    try:
        decode_text(data[:4096])
    except ExtractionError:
        return False
    return True


def _pdf_pages(data: bytes, limits: LimitSettings) -> tuple[list[str], str | None]:
    """Each page's tidied text, in order, within the page and character caps; and what a cap left out."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        msg = "encrypted PDF (no password known)"
        raise ExtractionError(msg)
    pages: list[str] = []
    room = limits.max_extracted_chars
    total = len(reader.pages)
    truncated = None
    for number, page in enumerate(reader.pages):
        if number >= limits.max_pdf_pages:
            truncated = f"kept the first {number:,} of {total:,} pages (limits.max_pdf_pages)"
            break
        try:
            text = _tidy(page.extract_text() or "")
        except LimitReachedError as e:  # pypdf's own cap on what one stream may inflate to (75 MB by default)
            msg = f"page {number + 1:,} holds a compressed stream that inflates past pypdf's limit"
            msg += " (a decompression bomb)"
            raise ExtractionError(msg) from e
        if len(text) > room:
            if room:
                pages.append(text[:room])
            cap = limits.max_extracted_chars
            truncated = (
                f"kept the first {cap:,} characters, up to page {number + 1:,} of {total:,} "
                "(limits.max_extracted_chars)"
            )
            break
        room -= len(text)
        pages.append(text)
    if not any(pages):
        msg = "PDF has no extractable text (scanned images need OCR, which is not supported)"
        raise ExtractionError(msg)
    return pages, truncated


def check_zip_archive(data: bytes, limits: LimitSettings) -> None:
    """Refuse zip bombs before any member is inflated: member count, total size and ratio.

    Raises:
        ExtractionError: the archive is broken or would inflate beyond the limits.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        msg = "not a valid Office file (broken zip container)"
        raise ExtractionError(msg) from e
    members = archive.infolist()
    if len(members) > 5000:
        msg = f"archive has {len(members):,} members (the limit is 5,000)"
        raise ExtractionError(msg)
    total = sum(member.file_size for member in members)
    if total > limits.max_archive_bytes:
        msg = f"archive would inflate to {total:,} bytes (the limit is {limits.max_archive_bytes:,})"
        raise ExtractionError(msg)
    for member in members:
        if member.compress_size and member.file_size / member.compress_size > 200 and member.file_size > 10**6:
            msg = f"archive member {member.filename} has a suspicious compression ratio (zip bomb)"
            raise ExtractionError(msg)


def _docx_text(data: bytes, limits: LimitSettings) -> str:
    check_zip_archive(data, limits)
    import docx  # python-docx parses with entity resolution off

    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style.startswith("Heading") and style[-1:].isdigit():
            lines.append("#" * int(style[-1]) + " " + text)
        elif style == "Title":
            lines.append("# " + text)
        else:
            lines.append(text)
        lines.append("")
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
        lines.append("")
    return "\n".join(lines)


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup
    from bs4.element import CData, NavigableString, Tag

    soup = BeautifulSoup(html, "html.parser")
    parts: list[str] = []
    # One walk with an explicit stack instead of editing the tree: bs4's append and replace_with cost time in
    # proportion to the nesting depth, which made 1 MB of nested <div>s take minutes. None marks a block's end.
    stack: list[Any] = [soup]
    while stack:
        node = stack.pop()
        if node is None:
            parts.append("\n")
        elif isinstance(node, Tag):
            if node.name in _HTML_HIDDEN:
                continue
            level = _HTML_HEADINGS.get(node.name)
            if level:
                parts.append(f"\n\n{'#' * level} {' '.join(_html_strings(node))}\n\n")
                continue
            if node.name in _HTML_BLOCKS:
                stack.append(None)
            stack.extend(reversed(node.contents))
        elif type(node) in (NavigableString, CData):  # not comments, doctypes or processing instructions
            parts.append(str(node))
    return "\n".join(line.strip() for line in "".join(parts).splitlines())


def _html_strings(root: Any) -> list[str]:  # noqa: ANN401  (a bs4 Tag; bs4 is imported lazily)
    from bs4.element import CData, NavigableString, Tag

    strings: list[str] = []
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            if node.name not in _HTML_HIDDEN:
                stack.extend(reversed(node.contents))
        elif type(node) in (NavigableString, CData) and node.strip():
            strings.append(node.strip())
    return strings


def _csv_text(text: str, suffix: str) -> str:
    delimiter = "\t" if suffix == ".tsv" else ","
    if suffix == ".csv":
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(rows, [])
    lines = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        pairs = [f"{name.strip() or f'column {i + 1}'}: {value.strip()}" for i, (name, value) in
                 enumerate(zip(header, row, strict=False)) if value.strip()]  # fmt: skip
        lines.append("; ".join(pairs))
    return "\n".join(lines)


def _json_text(text: str) -> str:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        msg = f"invalid JSON: {e}"
        raise ExtractionError(msg) from e
    lines: list[str] = []
    _flatten(value, "", lines)
    return "\n".join(lines)


def _flatten(value: Any, path: str, lines: list[str]) -> None:  # noqa: ANN401  (JSON is Any by nature)
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else str(key), lines)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(item, f"{path}[{index}]", lines)
    elif value is not None and value != "":
        text = json.dumps(value) if isinstance(value, bool) else str(value)  # true, as the file says, not True
        lines.append(f"{path}: {text}" if path else text)
