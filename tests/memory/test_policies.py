"""Per-guild channel policies in the memory library: set, replace, clear, list, and the schema 3 migration."""

from __future__ import annotations

from memory import Memory
from memory.records import SCHEMA_VERSION, RecordStore
from tests.conftest import downgrade_store
from tests.fakes import message


def test_policies_are_set_replaced_and_listed_per_guild(memory: Memory):
    """A later policy for the same channel replaces the earlier one; guilds do not see each other's."""
    assert memory.channel_policies("g1") == {}
    memory.set_channel_policy("g1", "general", False)
    memory.set_channel_policy("g1", "projects", True)
    memory.set_channel_policy("g2", "general", True)
    assert memory.channel_policies("g1") == {"general": False, "projects": True}
    memory.set_channel_policy("g1", "general", True)
    assert memory.channel_policies("g1") == {"general": True, "projects": True}
    assert memory.channel_policies("g2") == {"general": True}
    assert memory.all_channel_policies() == {"g1": {"general": True, "projects": True}, "g2": {"general": True}}


def test_a_cleared_policy_falls_back_and_survives_reopening(tmp_path):
    """Clearing reports whether there was a policy; what is set is still there after reopening the store."""
    path = tmp_path / "m.db"
    store = RecordStore(path)
    store.set_channel_policy("g1", "random", True)
    store.set_channel_policy("g1", "general", False)
    assert store.clear_channel_policy("g1", "random") and not store.clear_channel_policy("g1", "random")
    store.close()
    store = RecordStore(path)
    assert store.channel_policies("g1") == {"general": False}
    store.close()


def test_a_version_2_store_is_migrated_to_3_and_keeps_its_data(tmp_path):
    """Opening a store made at schema 2 adds the policy table and leaves messages and opt-outs alone."""
    path = tmp_path / "m.db"
    store = RecordStore(path)
    store.save_messages([(message(0, "kept across the migration"), "k0", "h0")], {})
    store.add_opt_out("alice", "2024-01-01T00:00:00+00:00")
    store.close()
    downgrade_store(path, 2)
    store = RecordStore(path)
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION) == "6"
    assert [m.content for m in store.messages("g1", ["1000000"])] == ["kept across the migration"]
    assert store.opted_out(["alice", "bob"]) == {"alice"}
    store.set_channel_policy("g1", "general", False)
    assert store.channel_policies("g1") == {"general": False}
    store.close()
