"""Chunking: file pieces stay within the token bound and cover the text; chat windows follow gaps and bounds."""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from memory.chunking import chat_windows, split_file_text
from memory.extract import ExtractedText
from memory.settings import ChunkingSettings
from memory.tokens import count_tokens
from tests.fakes import message

WORDS = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None)
@given(
    paragraphs=st.lists(st.lists(WORDS, min_size=1, max_size=120).map(" ".join), min_size=1, max_size=12),
    size=st.integers(min_value=24, max_value=300),
    fmt=st.sampled_from(["text", "markdown", "table"]),
)
def test_file_pieces_never_exceed_the_bound_and_cover_every_word(paragraphs, size, fmt):
    """Every piece is within file_chunk_tokens, and every word of the text appears in some piece."""
    text = "\n\n".join(paragraphs)
    chunking = ChunkingSettings(file_chunk_tokens=size, file_overlap_tokens=size // 5)
    pieces = [p.text for p in split_file_text(ExtractedText(text, fmt), chunking)]
    assert all(count_tokens(p) <= size for p in pieces)
    joined = " ".join(pieces)
    # Words were joined by plain spaces; other spaces (a no-break space) are part of a word to the splitter.
    for token in re.split(r"[ \n]+", text):
        if count_tokens(token) < size // 2:  # a blob longer than that may be cut anywhere
            # separators like "; " may fall between a word and its punctuation, so compare the word itself
            assert all(word in joined for word in re.findall(r"\w+", token) if len(word) > 3)


def test_one_giant_word_is_cut_at_token_boundaries():
    """A text with no separator at all is still bounded."""
    pieces = [
        p.text for p in split_file_text(ExtractedText("x" * 20000, "text"), ChunkingSettings(file_chunk_tokens=50))
    ]
    assert len(pieces) > 1
    assert all(count_tokens(p) <= 50 for p in pieces)


def test_markdown_pieces_carry_their_heading_trail():
    """A piece of a markdown section starts with the headings above it."""
    text = "# Guide\n\nIntro words.\n\n## Deploys\n\n" + "The deploy key rotates on Fridays. " * 40
    pieces = split_file_text(ExtractedText(text, "markdown"), ChunkingSettings(file_chunk_tokens=60))
    deploy_pieces = [p for p in pieces if "rotates" in p.text]
    assert len(deploy_pieces) > 1
    assert all(p.text.startswith("Guide > Deploys\n") and p.section == "Guide > Deploys" for p in deploy_pieces)
    assert {p.section for p in pieces if "Intro" in p.text} == {"Guide"} and all(p.page is None for p in pieces)


def test_a_pdf_page_is_a_boundary_no_piece_crosses():
    """Each piece of a PDF lies within one page and names it; a page without text gives no piece."""
    pages = tuple(" ".join(f"p{n}w{i}" for i in range(150)) if n != 2 else "" for n in range(1, 5))
    pieces = split_file_text(ExtractedText("\n\n".join(p for p in pages if p), "text", pages=pages),
                             ChunkingSettings(file_chunk_tokens=60, file_overlap_tokens=10))  # fmt: skip
    assert {p.page for p in pieces} == {1, 3, 4}
    for piece in pieces:
        assert {word.split("w")[0] for word in piece.text.split()} == {f"p{piece.page}"}
    for number in (1, 3, 4):  # every word of a page is in one of its pieces
        held = " ".join(p.text for p in pieces if p.page == number).split()
        assert set(held) == set(pages[number - 1].split())


def test_code_is_split_on_definitions():
    """Python code splits at function boundaries rather than mid-function when it can."""
    functions = [f"def f{i}(x):\n    return x + {i}\n" + "    # padding words here\n" * 6 for i in range(12)]
    pieces = split_file_text(
        ExtractedText("\n\n".join(functions), "code", "python"), ChunkingSettings(file_chunk_tokens=80)
    )
    assert all(p.text.lstrip().startswith("def ") for p in pieces)


def test_chat_windows_break_at_time_gaps():
    """A silence longer than chat_gap_minutes starts a new window, without overlap."""
    messages = [message(0, "first"), message(1, "second"), message(200, "third", minutes=200)]
    windows = chat_windows(messages, ChunkingSettings(chat_gap_minutes=30))
    assert [w.message_ids for w in windows] == [("1000000", "1000001"), ("1000200",)]


def test_chat_windows_are_token_bounded_and_carry_the_last_message():
    """A full window ends within the bound; the next one repeats its last message so replies keep context."""
    messages = [message(i, f"message number {i} " + "words " * 20) for i in range(12)]
    windows = chat_windows(messages, ChunkingSettings(chat_window_tokens=90, message_passages=False))
    assert len(windows) > 2
    assert all(w.tokens <= 90 for w in windows)
    for earlier, later in itertools.pairwise(windows):
        assert later.message_ids[0] == earlier.message_ids[-1]
    covered = {mid for w in windows for mid in w.message_ids}
    assert covered == {m.message_id for m in messages}


def test_long_single_message_is_split_and_each_piece_cites_it():
    """A message longer than the window bound becomes several chunks that all name it."""
    windows = chat_windows([message(0, "lorem ipsum " * 400)], ChunkingSettings(chat_window_tokens=100))
    assert len(windows) > 3
    assert all(w.message_ids == ("1000000",) and w.tokens <= 100 for w in windows)
    assert len({w.chunk_id for w in windows}) == len(windows)


def test_windows_are_deterministic_and_independent_of_earlier_history():
    """Re-windowing from a window's first message reproduces the same later windows (what edits rely on)."""
    messages = [message(i, f"topic {i % 3} " + "chat " * (5 + i % 7)) for i in range(40)]
    chunking = ChunkingSettings(chat_window_tokens=60)
    chunks = chat_windows(messages, chunking)
    assert [c.chunk_id for c in chunks] == [c.chunk_id for c in chat_windows(messages, chunking)]
    full = [w for w in chunks if w.kind == "chat"]
    start = full[3].message_ids[0]
    index = next(i for i, m in enumerate(messages) if m.message_id == start)
    again = chat_windows(messages[index:], chunking)
    assert [w.chunk_id for w in again if w.kind == "chat"] == [w.chunk_id for w in full[3:]]
    # The message passages from there on are the same too (those of a message only the earlier windows held aside).
    later = {c.chunk_id for c in chunks if c.kind == "message" and c.start_key >= full[3].start_key}
    assert later <= {c.chunk_id for c in again if c.kind == "message"}


def test_reply_quotes_the_message_it_answers():
    """A reply's line quotes the start of the message it answers, even from another window."""
    original = message(0, "should we use SQLite or Postgres for the index")
    reply = message(90, "SQLite in WAL mode", minutes=90, reply_to=0)
    windows = chat_windows([reply], ChunkingSettings(), context={original.message_id: original})
    assert 'replying to user-u1: "should we use SQLite or Postgres' in windows[0].text
    assert windows[0].message_ids == (reply.message_id,)


def test_attachments_are_named_in_the_window():
    """A message's files are listed in its line."""
    windows = chat_windows([message(0, "see attached", attachments=("plan.pdf",))], ChunkingSettings())
    assert "[attached: plan.pdf]" in windows[0].text


def test_each_message_of_a_window_of_several_is_also_a_passage_of_its_own():
    """A message of five words or more in a window of several is a passage too; short ones and lone ones are not."""
    messages = [
        message(0, "the boiler is serviced every june by acme"),
        message(1, "ok"),
        message(2, "thanks for sorting the boiler out"),
        message(200, "a lone message later on", minutes=200),
    ]
    chunks = chat_windows(messages, ChunkingSettings(chat_gap_minutes=30))
    passages = [c for c in chunks if c.kind == "message"]
    assert [c.message_ids for c in passages] == [("1000000",), ("1000002",)]
    assert passages[0].text.endswith("user-u1: the boiler is serviced every june by acme")
    assert [c.message_ids for c in chunks if c.kind == "chat"] == [("1000000", "1000001", "1000002"), ("1000200",)]
    assert not any(c.kind == "message" for c in chat_windows(messages, ChunkingSettings(message_passages=False)))


def test_a_store_made_before_message_passages_gains_them_at_the_next_catch_up(tmp_path):
    """Schema 10 re-windows every channel once: windows keep their ids and vectors, the messages become passages."""
    from memory import Memory
    from tests.conftest import downgrade_store, make_settings
    from tests.fakes import HashEmbeddings

    data = tmp_path / "data"
    old = make_settings(data, chunking={"message_passages": False})
    with Memory.open(old, embeddings=HashEmbeddings()) as memory:
        memory.remember_messages([message(i, f"message number {i} about the harbour lights") for i in range(6)])
        windows = set(memory.stores.chunks.guild_chunk_ids("g1"))
    downgrade_store(data / "memory.sqlite3", 9)
    embedder = HashEmbeddings()
    with Memory.open(make_settings(data), embeddings=embedder) as memory:
        assert memory.stores.chunks.stale_windows() == [("g1", "c1", "")]
        memory.catch_up()
        held = memory.stores.chunks.chunks(memory.stores.chunks.guild_chunk_ids("g1"))
        assert windows <= set(held) and sum(c.kind == "message" for c in held.values()) == 6
        assert embedder.texts_embedded == 6  # only the new passages
