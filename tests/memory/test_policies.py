"""Per-guild channel policies in the memory library: set, replace, clear, list, and the schema 3 migration."""

from __future__ import annotations

import sqlite3

import pytest

from memory import Memory, MemoryStoreError
from memory.stores.sqlite import open_sqlite_stores
from memory.stores.sqlite.migrations import SCHEMA_VERSION
from tests.conftest import downgrade_store
from tests.fakes import message


def test_policies_are_set_replaced_and_listed_per_guild(memory: Memory):
    """A later policy for the same channel replaces the earlier one; guilds do not see each other's."""
    assert memory.channel_policies.of_guild("g1") == {}
    memory.channel_policies.set("g1", "general", False)
    memory.channel_policies.set("g1", "projects", True)
    memory.channel_policies.set("g2", "general", True)
    assert memory.channel_policies.of_guild("g1") == {"general": False, "projects": True}
    memory.channel_policies.set("g1", "general", True)
    assert memory.channel_policies.of_guild("g1") == {"general": True, "projects": True}
    assert memory.channel_policies.of_guild("g2") == {"general": True}
    assert memory.channel_policies.all() == {"g1": {"general": True, "projects": True}, "g2": {"general": True}}


def test_a_cleared_policy_falls_back_and_survives_reopening(tmp_path):
    """Clearing reports whether there was a policy; what is set is still there after reopening the store."""
    path = tmp_path / "m.db"
    stores = open_sqlite_stores(path)
    stores.channel_policies.set("g1", "random", True)
    stores.channel_policies.set("g1", "general", False)
    assert stores.channel_policies.clear("g1", "random") and not stores.channel_policies.clear("g1", "random")
    stores.database.close()
    stores = open_sqlite_stores(path)
    assert stores.channel_policies.of_guild("g1") == {"general": False}
    stores.database.close()


def test_a_version_2_store_is_migrated_to_3_and_keeps_its_data(tmp_path):
    """Opening a store made at schema 2 adds the policy table and leaves messages and opt-outs alone."""
    path = tmp_path / "m.db"
    stores = open_sqlite_stores(path)
    stores.records.save_messages([(message(0, "kept across the migration"), "k0", "h0")], {})
    stores.opt_outs.add("alice")
    stores.database.close()
    downgrade_store(path, 2)
    stores = open_sqlite_stores(path)
    assert stores.database.get_meta("schema_version") == str(SCHEMA_VERSION) == "13"
    assert [m.content for m in stores.records.messages("g1", ["1000000"])] == ["kept across the migration"]
    assert stores.opt_outs.among(["alice", "bob"]) == {"alice"}
    stores.channel_policies.set("g1", "general", False)
    assert stores.channel_policies.of_guild("g1") == {"general": False}
    stores.database.close()


def test_a_store_written_by_a_newer_version_is_refused_and_left_as_it_was(tmp_path):
    """A schema newer than this code knows is refused with what to do (going back means the backup), and the
    file is not touched: its schema version stays the newer one."""
    path = tmp_path / "m.db"
    stores = open_sqlite_stores(path)
    stores.database.set_meta("schema_version", str(SCHEMA_VERSION + 1))
    stores.database.close()
    with pytest.raises(MemoryStoreError, match=rf"newer memorybot \(schema {SCHEMA_VERSION + 1};.*restore the backup"):
        open_sqlite_stores(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION + 1)
    db.close()
