"""Tests of the fake's members, roles, member chunks, thread members and link previews, seen by a real discord.py."""

from __future__ import annotations

import discord

from tests.fakediscord import READ_MESSAGE_HISTORY, VIEW_CHANNEL, FakeDiscord
from tests.fakediscord.members import link_embed
from tests.fakediscord.protocol import GUILD_CREATE, GUILD_MEMBERS_CHUNK
from tests.fakediscord.test_fake_discord import fake, make_bot, running, seed, waiter

__all__ = ["fake"]  # the fixture, imported for pytest


def crowd(fake: FakeDiscord, guild_id: str, count: int, *, roles: list[str] | None = None) -> list[str]:
    """`count` new members of a guild, named m0, m1, ..."""
    ids = []
    for n in range(count):
        ids.append(fake.add_user(f"m{n}"))
        fake.add_member(guild_id, ids[-1], roles=roles or [])
    return ids


async def test_large_guild_sends_a_partial_list_then_member_chunks(fake: FakeDiscord) -> None:
    """Above IDENTIFY's large_threshold GUILD_CREATE carries only the bot, with `large` and the real member_count;
    discord.py asks op 8 at startup and the fake pages the list (nonce echoed), so the cache is complete at ready."""
    w = seed(fake)
    fake.members_per_chunk = 100
    everyone = crowd(fake, w.guild, 300)
    async with running(fake, make_bot()) as bot:
        guild = bot.get_guild(int(w.guild))
        assert guild is not None and guild.chunked and guild.member_count == 304
        assert {str(m.id) for m in guild.members} >= {*everyone, w.alice, w.owner}
        (created,) = [g for g in fake.sent_events(GUILD_CREATE) if g["id"] == w.guild]
        assert created["large"] and created["member_count"] == 304
        assert [m["user"]["id"] for m in created["members"]] == [fake.bot_user_id]
        (request,) = fake.member_requests
        assert str(request["guild_id"]) == w.guild and request["limit"] == 0 and request["query"] == ""
        pages = fake.sent_events(GUILD_MEMBERS_CHUNK)
        assert [(p["chunk_index"], p["chunk_count"]) for p in pages] == [(0, 4), (1, 4), (2, 4), (3, 4)]
        assert {p["nonce"] for p in pages} == {request["nonce"]} and sum(len(p["members"]) for p in pages) == 304
    identify = next(p for p in fake.gateway_received if p["op"] == 2)
    assert identify["d"]["large_threshold"] == 250


async def test_small_guild_is_complete_without_chunks(fake: FakeDiscord) -> None:
    """At or under the threshold every member comes in GUILD_CREATE and discord.py asks for no chunks."""
    w = seed(fake)
    crowd(fake, w.guild, 246)  # 250 members in all: not above the threshold
    async with running(fake, make_bot()) as bot:
        guild = bot.get_guild(int(w.guild))
        assert guild is not None and guild.chunked and len(guild.members) == 250
        (created,) = fake.sent_events(GUILD_CREATE)
        assert not created["large"] and len(created["members"]) == 250
        assert fake.member_requests == []


async def test_held_chunks_leave_a_joined_guild_incomplete_until_released(fake: FakeDiscord) -> None:
    """A large guild joined while running is cached at once with the partial list; on_guild_join waits for the
    chunks, which the fake holds back until released."""
    w = seed(fake)
    other = fake.add_guild("Big", owner_id=w.owner, bot_member=False)
    crowd(fake, other, 260)
    async with running(fake, make_bot()) as bot:
        fake.hold_member_chunks()
        joined = waiter(bot, "guild_join")
        await fake.announce_guild(other)
        await fake.wait_until(lambda: fake.member_requests)  # sent once discord.py has cached the guild
        guild = bot.get_guild(int(other))
        assert guild is not None and not guild.chunked and [m.id for m in guild.members] == [bot.user.id]
        assert not joined.done()
        fake.release_member_chunks()
        assert (await joined).id == int(other)
        assert guild.chunked and len(guild.members) == 262


async def test_query_members_by_ids_and_by_name(fake: FakeDiscord) -> None:
    """op 8 with user_ids answers the known ones and lists the others in not_found; a query matches name prefixes."""
    w = seed(fake)
    stranger = fake.add_user("stranger")  # a user, but not a member
    async with running(fake, make_bot()) as bot:
        guild = bot.get_guild(int(w.guild))
        assert guild is not None
        found = await guild.query_members(user_ids=[int(w.alice), int(stranger)])
        assert [str(m.id) for m in found] == [w.alice]
        assert fake.sent_events(GUILD_MEMBERS_CHUNK)[-1]["not_found"] == [stranger]
        assert [m.name for m in await guild.query_members("AL")] == ["alice"]


async def test_members_join_change_roles_and_leave(fake: FakeDiscord) -> None:
    """GUILD_MEMBER_ADD/UPDATE/REMOVE keep discord.py's members, roles, member_count and permissions in step."""
    w = seed(fake)
    dave = fake.add_user("dave")
    async with running(fake, make_bot()) as bot:
        guild = bot.get_guild(int(w.guild))
        assert guild is not None
        joined = waiter(bot, "member_join")
        await fake.member_joins(w.guild, dave)
        assert str((await joined).id) == dave and guild.member_count == 5 and guild.chunked
        staff = guild.get_channel(int(w.staff))
        assert staff is not None
        member = guild.get_member(int(dave))
        assert member is not None and not staff.permissions_for(member).view_channel
        updated = waiter(bot, "member_update")
        await fake.set_member_roles(w.guild, dave, [w.mods])
        _, after = await updated
        assert [r.name for r in after.roles] == ["@everyone", "Mods"]
        assert staff.permissions_for(after).value == fake.compute_permissions(w.guild, dave, w.staff)
        assert staff.permissions_for(after).view_channel
        left = waiter(bot, "member_remove")
        await fake.member_leaves(w.guild, dave)
        assert str((await left).id) == dave and guild.get_member(int(dave)) is None and guild.member_count == 4


async def test_member_events_need_the_members_intent(fake: FakeDiscord) -> None:
    """Without GUILD_MEMBERS no member event is sent: the message sent after the join arrives first and alone."""
    w = seed(fake)
    dave = fake.add_user("dave")
    async with running(fake, make_bot(members=False)) as bot:
        seen: list[str] = []

        async def joined(member: discord.Member) -> None:
            seen.append(str(member.id))

        bot.add_listener(joined, "on_member_join")
        got = waiter(bot, "message")
        await fake.member_joins(w.guild, dave)
        await fake.user_sends_message(w.general, w.bob, "after the join")
        assert (await got).content == "after the join" and seen == []


async def test_roles_created_edited_and_deleted(fake: FakeDiscord) -> None:
    """GUILD_ROLE_CREATE/UPDATE change the cache and permissions_for at once; GUILD_ROLE_DELETE comes alone, so
    discord.py's members keep the deleted role's id and #staff its overwrite: permissions_for is then stale."""
    w = seed(fake)
    async with running(fake, make_bot()) as bot:
        guild = bot.get_guild(int(w.guild))
        assert guild is not None
        created = waiter(bot, "guild_role_create")
        auditors = await fake.create_role(w.guild, "Auditors", 0)
        assert (await created).name == "Auditors" and guild.get_role(int(auditors)) is not None
        general = guild.get_channel(int(w.general))
        bob = guild.get_member(int(w.bob))
        assert general is not None and bob is not None
        edited = waiter(bot, "guild_role_update")
        await fake.edit_role(w.guild, w.guild, permissions=VIEW_CHANNEL)  # @everyone loses history
        _, after = await edited
        assert after.permissions.value == VIEW_CHANNEL and not general.permissions_for(bob).read_message_history
        assert general.permissions_for(bob).value == fake.compute_permissions(w.guild, w.bob, w.general)
        assert not fake.compute_permissions(w.guild, w.bob, w.general) & READ_MESSAGE_HISTORY
        alice = guild.get_member(int(w.alice))
        staff = guild.get_channel(int(w.staff))
        assert alice is not None and staff is not None and staff.permissions_for(alice).view_channel
        deleted = waiter(bot, "guild_role_delete")
        await fake.delete_role(w.guild, w.mods)
        assert str((await deleted).id) == w.mods and guild.get_role(int(w.mods)) is None
        assert [r.name for r in alice.roles] == ["@everyone"]  # resolved roles skip the unknown id...
        assert staff.permissions_for(alice).view_channel  # ...but the overwrite still matches it: stale
        assert not fake.compute_permissions(w.guild, w.alice, w.staff) & VIEW_CHANNEL  # Discord's truth


async def test_thread_members_added_and_removed(fake: FakeDiscord) -> None:
    """THREAD_MEMBERS_UPDATE adds and removes thread members in the cache; those who were in the thread before the
    bot connected are not in its cache (GUILD_CREATE lists none) but GET thread-members lists them."""
    w = seed(fake)
    carol = fake.add_user("carol")
    fake.add_member(w.guild, carol)
    private = fake.add_thread(w.guild, w.general, "plans", private=True, members=[w.alice, carol, fake.bot_user_id])
    async with running(fake, make_bot()) as bot:
        guild = bot.get_guild(int(w.guild))
        assert guild is not None
        thread = guild.get_thread(int(private))
        assert thread is not None and [m.id for m in thread.members] == []
        assert {str(m.id) for m in await thread.fetch_members()} == {w.alice, carol, fake.bot_user_id}
        joined = waiter(bot, "thread_member_join")
        await fake.add_thread_member(private, w.bob)
        assert str((await joined).id) == w.bob and [str(m.id) for m in thread.members] == [w.bob]
        left = waiter(bot, "raw_thread_member_remove")
        await fake.remove_thread_member(private, w.bob)
        await left
        assert thread.members == [] and fake.thread_member_ids(private) == {w.alice, carol, fake.bot_user_id}
        assert not fake.compute_permissions(w.guild, w.bob, private) & VIEW_CHANNEL
        assert fake.compute_permissions(w.guild, carol, private) & VIEW_CHANNEL


async def test_bot_added_to_a_private_thread_gets_it_created(fake: FakeDiscord) -> None:
    """A private thread the bot cannot see sends nothing; adding the bot sends THREAD_CREATE, then its membership."""
    w = seed(fake)
    hidden = fake.add_thread(w.guild, w.general, "hidden", private=True, members=[w.bob])
    async with running(fake, make_bot()) as bot:
        guild = bot.get_guild(int(w.guild))
        assert guild is not None and guild.get_thread(int(hidden)) is None
        joined = waiter(bot, "thread_join")
        await fake.add_thread_member(hidden, fake.bot_user_id)
        thread = await joined
        assert thread.id == int(hidden) and thread.me is not None


async def test_link_previews_update_embeds_only(fake: FakeDiscord) -> None:
    """Discord's unfurl is a MESSAGE_UPDATE of the whole message with new embeds, content and edited_at unchanged;
    suppressing the previews empties them and sets the flag."""
    w = seed(fake)
    async with running(fake, make_bot()) as bot:
        got = waiter(bot, "message")
        sent = await fake.user_sends_message(w.general, w.bob, "read https://example.org/tides")
        await got
        edited = waiter(bot, "raw_message_edit")
        preview = link_embed(url="https://example.org/tides", title="Tide tables", description="When the sea turns")
        await fake.discord_unfurls_links(w.general, sent["id"], [preview])
        update: discord.RawMessageUpdateEvent = await edited
        message = update.message
        assert message.content == "read https://example.org/tides" and message.edited_at is None
        assert [(e.type, e.title, e.description) for e in message.embeds] == [
            ("article", "Tide tables", "When the sea turns")
        ]
        assert update.cached_message is not None and update.cached_message.embeds == []
        edited = waiter(bot, "raw_message_edit")
        await fake.user_suppresses_embeds(w.general, sent["id"])
        message = (await edited).message
        assert message.embeds == [] and message.flags.suppress_embeds and message.edited_at is None
