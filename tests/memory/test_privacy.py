"""Members' privacy in the memory library: opt-out and opt-in, erasure everywhere, what is held about someone."""

from __future__ import annotations

import pytest

from memory import FileDocument, Memory
from memory.stores.sqlite import open_sqlite_stores
from memory.stores.sqlite.migrations import SCHEMA_VERSION
from tests.conftest import downgrade_store, files_containing
from tests.fakes import message


def doc(name: str, text: str, *, guild: str = "g1", channel: str = "docs", author: str | None = None) -> FileDocument:
    return FileDocument(guild_id=guild, channel_id=channel, source=f"/src/{guild}/{name}", filename=name,
                        data=text.encode(), author_id=author, created_at="2024-05-01T10:00:00+00:00")  # fmt: skip


def held_text(memory: Memory, guild: str = "g1") -> str:
    return "\n".join(c.text for c in memory.stores.chunks.chunks(memory.stores.chunks.guild_chunk_ids(guild)).values())


def test_an_opted_out_author_is_not_remembered_and_is_reported(memory):
    """After opt-out, their messages and files are skipped (and said so); others' are kept; opt-in resumes."""
    memory.opt_outs.add("alice")
    assert (memory.opt_outs.since("alice") is not None) and not (memory.opt_outs.since("bob") is not None)
    report = memory.remember_messages([
        message(0, "ALICE-HIDDEN-REMARK about deploys", author="alice"),
        message(1, "bob says the deploy went fine", author="bob"),
    ])  # fmt: skip
    files = memory.ingest_files([doc("a.txt", "ALICE-HIDDEN-FILE", author="alice"), doc("b.txt", "bob notes")])
    assert report.records == 1 and [why for _, why in report.skipped] == ["its author opted out of being remembered"]
    assert files.records == 1 and files.skipped[0][0] == "/src/g1/a.txt"
    text = held_text(memory)
    assert "ALICE-HIDDEN" not in text and "bob says" in text and "bob notes" in text
    assert memory.opt_outs.remove("alice") and not (memory.opt_outs.since("alice") is not None)
    assert not memory.opt_outs.remove("alice")  # nothing to undo the second time
    memory.remember_messages([message(2, "ALICE-BACK-AGAIN remark", author="alice")])
    assert "ALICE-BACK-AGAIN" in held_text(memory)


def test_opting_out_twice_keeps_the_first_date(memory):
    """The opt-out date is when they first asked."""
    memory.opt_outs.add("alice")
    since = memory.user_data("alice").as_json()["opted_out_since"]
    memory.opt_outs.add("alice")
    assert memory.user_data("alice").as_json()["opted_out_since"] == since and since is not None


@pytest.mark.sqlite_only  # it reads the SQLite file itself (tests/memory/test_postgres_erasure.py: PostgreSQL's)
def test_forget_user_everywhere_erases_every_guild_and_only_them(memory, data_dir):
    """Their messages and files go in every guild, to the last byte on disk; other people's stay."""
    for guild in ("g1", "g2"):
        memory.remember_messages([
            message(0, f"ALICE-SECRET-{guild} plan", guild=guild, author="alice"),
            message(1, f"bob reply in {guild}", guild=guild, author="bob"),
        ])  # fmt: skip
    memory.ingest_files([doc("alice.txt", "ALICE-FILE-BYTES", guild="g2", author="alice"), doc("bob.txt", "bob doc")])
    assert files_containing(data_dir, b"ALICE-SECRET-g2")
    report = memory.forget_user_everywhere("alice")
    assert (report.messages, report.files) == (2, 1) and report.chunks > 0
    for needle in (b"ALICE-SECRET-g1", b"ALICE-SECRET-g2", b"ALICE-FILE-BYTES"):
        assert files_containing(data_dir, needle) == []
    assert "bob reply in g1" in held_text(memory, "g1") and "bob reply in g2" in held_text(memory, "g2")
    assert "bob doc" in held_text(memory, "g1")
    assert memory.forget_user_everywhere("alice").messages == 0


def test_user_data_lists_counts_files_and_dates_per_guild_and_channel(memory):
    """Counts per guild and channel, file names, first and last dates, the opt-out flag; nothing of others."""
    memory.remember_messages([
        message(0, "first from alice", author="alice"),
        message(5, "second from alice", author="alice"),
        message(6, "bob here", author="bob"),
        message(1, "alice elsewhere", guild="g2", channel="c9", author="alice"),
    ])  # fmt: skip
    memory.ingest_files([doc("plan.txt", "the plan", author="alice")])
    data = memory.user_data("alice").as_json()
    assert data["user_id"] == "alice" and data["opted_out"] is False
    assert data["messages"] == 3 and data["files"] == 1
    c1 = data["guilds"]["g1"]["channels"]["c1"]
    assert c1["messages"] == 2 and c1["first"] < c1["last"]
    assert data["guilds"]["g1"]["channels"]["docs"]["files"] == ["plan.txt"]
    assert data["guilds"]["g2"]["channels"]["c9"]["messages"] == 1
    assert memory.user_data("nobody").as_json() == {"user_id": "nobody", "opted_out": False, "opted_out_since": None,
                                          "messages": 0, "files": 0, "guilds": {}}  # fmt: skip


def test_a_version_1_store_is_migrated_and_keeps_its_data(tmp_path):
    """Opening a store made at schema 1 adds the opt-out table and leaves the messages alone."""
    path = tmp_path / "m.db"
    stores = open_sqlite_stores(path)
    stores.records.save_messages([(message(0, "kept across the migration"), "k0", "h0")], {})
    stores.database.close()
    downgrade_store(path, 1)
    stores = open_sqlite_stores(path)
    assert stores.database.get_meta("schema_version") == str(SCHEMA_VERSION) == "13"
    assert [m.content for m in stores.records.messages("g1", ["1000000"])] == ["kept across the migration"]
    stores.opt_outs.add("alice")
    assert stores.opt_outs.among(["alice", "bob"]) == {"alice"}
    stores.database.close()
