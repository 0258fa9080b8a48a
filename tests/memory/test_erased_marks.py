"""What was deleted or forgotten stays out: erased-message marks, late older edits, attachments an edit removed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from memory import FileDocument, Memory
from memory.ingest import ERASED
from memory.stores.sqlite import open_sqlite_stores
from tests.conftest import downgrade_store, files_containing
from tests.fakes import message


def attachment(message_number: int, attachment_id: int, text: str) -> FileDocument:
    return FileDocument(
        guild_id="g1", channel_id="c1", source=f"attachment:{attachment_id}", filename=f"notes-{attachment_id}.txt",
        data=text.encode(), message_id=str(1_000_000 + message_number), author_id="u1",
        created_at="2024-05-01T10:00:00+00:00",
    )  # fmt: skip


def held(memory: Memory) -> str:
    return "\n".join(c.text for c in memory.stores.chunks.chunks(memory.stores.chunks.guild_chunk_ids("g1")).values())


def test_a_deleted_message_and_its_file_are_never_stored_again(memory):
    memory.remember_messages([message(0, "the launch code is PELICAN"), message(1, "unrelated chatter")])
    memory.ingest_files([attachment(0, 50, "PELICAN appendix")])
    memory.delete_messages("g1", ["1000000"])

    again = memory.remember_messages([message(0, "the launch code is PELICAN")])  # e.g. a backfill page read late
    files = memory.ingest_files([attachment(0, 50, "PELICAN appendix")])

    assert again.records == 0 and again.skipped == [("message 1000000", ERASED)]
    assert files.records == 0 and files.skipped == [("attachment:50", ERASED)]
    assert "PELICAN" not in held(memory)
    assert "unrelated chatter" in held(memory)


def test_a_forgotten_member_stays_forgotten_but_a_forgotten_channel_can_be_read_again(memory):
    memory.remember_messages([message(0, "alice wrote OSPREY", author="alice"), message(1, "bob wrote HERON")])
    memory.forget("g1", user_id="alice")
    memory.forget("g1", channel_id="c1")

    memory.remember_messages([message(0, "alice wrote OSPREY", author="alice"), message(1, "bob wrote HERON")])

    assert "OSPREY" not in held(memory)
    assert "HERON" in held(memory)  # an admin who forgot a channel may backfill it afresh


def test_expiry_leaves_no_marks_and_a_forgotten_guild_drops_its_marks(memory):
    memory.guild_settings.change("g1", {"retention_days": 30})
    memory.remember_messages([message(0, "old news KESTREL")])
    memory.expire(now=datetime(2030, 1, 1, tzinfo=UTC))
    assert "KESTREL" not in held(memory)
    assert memory.stores.records.erased("g1", ["1000000"]) == set()

    memory.delete_messages("g1", ["1000001"])
    assert memory.stores.records.erased("g1", ["1000001"]) == {"1000001"}
    memory.forget("g1")  # the bot left the guild, or an admin erased everything: no ids are kept either
    assert memory.stores.records.erased("g1", ["1000001"]) == set()


def test_an_older_version_arriving_after_an_edit_does_not_undo_it(memory):
    original = message(0, "meet at the OLD harbour")
    edited = replace(original, content="meet at the NEW harbour", edited_at="2024-05-01T12:00:00.000000+00:00")
    memory.remember_messages([edited])

    late = memory.remember_messages([original])  # read from history before the edit, stored after it

    assert late.records == 0
    assert "NEW harbour" in held(memory) and "OLD harbour" not in held(memory)
    newer = replace(edited, content="meet at the THIRD harbour", edited_at="2024-05-01T13:00:00.000000+00:00")
    assert memory.remember_messages([newer]).records == 1
    assert "THIRD harbour" in held(memory)


def test_an_edit_that_removes_an_attachment_forgets_only_that_file(memory, data_dir):
    memory.remember_messages([message(0, "two files attached", attachments=("a.txt", "b.txt"))])
    memory.ingest_files([attachment(0, 70, "first file says GANNET"), attachment(0, 71, "second file says PUFFIN")])

    removed = memory.forget_removed_attachments("g1", "1000000", ["attachment:71"])

    assert removed == 1
    assert "GANNET" not in held(memory) and "PUFFIN" in held(memory)
    assert files_containing(data_dir, b"GANNET") == []
    assert memory.forget_removed_attachments("g1", "1000000", ["attachment:71"]) == 0


def test_a_version_5_store_gains_erased_marks(tmp_path):
    path = tmp_path / "m.db"
    stores = open_sqlite_stores(path)
    stores.records.save_messages([(message(0, "kept across the migration"), "k0", "h0")], {})
    stores.database.close()
    downgrade_store(path, 5)

    stores = open_sqlite_stores(path)
    assert [m.content for m in stores.records.messages("g1", ["1000000"])] == ["kept across the migration"]
    stores.records.delete_messages("g1", ["1000000"], {}, keep_out=True)
    assert stores.records.erased("g1", ["1000000", "1000001"]) == {"1000000"}
    stores.database.close()
