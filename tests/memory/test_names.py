"""Guild and channel names: read from chat exports (a thread's parent too), written only when they change, read
back through `Memory.names`, erased with the guild or the channel, and added to a store made before them."""

from __future__ import annotations

import json
from dataclasses import replace

from memory import Memory, read_chat_export
from memory.stores.sqlite import open_sqlite_stores
from tests.conftest import downgrade_store
from tests.fakes import dce_export, dce_message, message


def test_an_export_names_its_guild_channel_and_a_threads_parent(tmp_path):
    """A thread's export gives the guild's, the thread's and its parent channel's names (DCE's `category`)."""
    document = dce_export("100", "300", [dce_message("1", "hello")], channel_name="release-plans")
    document["channel"].update({"type": "GuildPublicThread", "categoryId": "200", "category": "dev"})
    path = tmp_path / "thread.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert read_chat_export(path).names == {"": "Test Guild", "300": "release-plans", "200": "dev"}


def test_names_are_written_on_change_only_and_read_back(memory: Memory):
    """The same names again cost no write; a renamed channel is written; `of_guild` and `all` read them back."""
    assert memory.names.remember("g1", {"": "Lighthouse", "c1": "dev", "c2": ""}) == 2
    assert memory.names.remember("g1", {"": "Lighthouse", "c1": "dev"}) == 0
    assert memory.names.remember("g1", {"c1": "dev-talk"}) == 1
    held = memory.names.of_guild("g1")
    assert (held.guild, held.channel("c1"), held.channel("c2")) == ("Lighthouse", "dev-talk", None)
    assert memory.names.of_guild("g2").guild is None
    assert set(memory.names.all()) == {"g1"}


def test_forget_erases_a_channels_names_with_its_threads_and_a_guilds_all(memory: Memory):
    """forget of a channel drops its name and its threads'; forget of the guild drops the rest; after either, the
    same names are written again (the cache of names written forgets them too)."""
    thread = replace(message(2, "in the thread", channel="t1"), parent_channel_id="c1")
    memory.remember_messages([message(1, "hello", channel="c1"), thread])
    memory.names.remember("g1", {"": "Lighthouse", "c1": "dev", "t1": "plans", "c2": "ops"})
    memory.forget("g1", channel_id="c1")
    assert memory.names.of_guild("g1").channels == {"c2": "ops"}
    assert memory.names.remember("g1", {"c1": "dev"}) == 1
    memory.forget("g1")
    assert memory.names.all() == {}
    assert memory.names.remember("g1", {"": "Lighthouse"}) == 1


def test_a_version_10_store_gains_the_names_table(tmp_path):
    """A store made before names existed opens with the table added and its messages kept."""
    path = tmp_path / "m.db"
    stores = open_sqlite_stores(path)
    stores.records.save_messages([(message(0, "kept across the migration"), "k0", "h0")], {})
    stores.database.close()
    downgrade_store(path, 10)
    stores = open_sqlite_stores(path)
    assert [m.content for m in stores.records.messages("g1", ["1000000"])] == ["kept across the migration"]
    assert stores.names.remember("g1", {"c1": "dev"}) == 1
    assert stores.names.of_guild("g1").channel("c1") == "dev"
    stores.database.close()
