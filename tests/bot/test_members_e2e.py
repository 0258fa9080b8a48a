"""End to end: members, roles and thread members change what the bot lets people read, at once: the asker's
channels and the audience of a public answer follow GUILD_MEMBER_*, GUILD_ROLE_* and THREAD_MEMBERS_UPDATE, and a
large guild's member list counts only once every chunk has arrived."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from bot.render import PRIVATE_NOTICE
from tests.bot.conftest import World, answer_requests, final_text, started_world, wait_until
from tests.fakediscord import ADMINISTRATOR, READ_MESSAGE_HISTORY, VIEW_CHANNEL, FakeDiscord

OFFSITE = "the staff offsite is in lisbon in may"


def hidden(guild_id: str, bot_id: str, *roles: str) -> list[dict]:
    """Overwrites of a channel only these roles (and the bot) can see."""
    rows = [{"id": guild_id, "type": 0, "allow": 0, "deny": VIEW_CHANNEL}]
    rows += [{"id": role, "type": 0, "allow": VIEW_CHANNEL, "deny": 0} for role in roles]
    return [*rows, {"id": bot_id, "type": 1, "allow": VIEW_CHANNEL, "deny": 0}]


def team_seed(fake: FakeDiscord) -> dict[str, str]:
    """Lighthouse: #general (everyone), #staff (staff and leads), #team (team). carol is team+staff+leads, alice
    and bob team+staff, dave nothing. A private thread "plans" in #general holds alice and the bot."""
    ids = {name: fake.add_user(name) for name in ("owner", "carol", "alice", "bob", "dave")}
    guild = ids["guild"] = fake.add_guild("Lighthouse", owner_id=ids["owner"])
    for role in ("staff", "team", "leads"):
        ids[f"{role}_role"] = fake.add_role(guild, role, 0)
    staff, team, leads = ids["staff_role"], ids["team_role"], ids["leads_role"]
    fake.add_member(guild, ids["carol"], roles=[team, staff, leads])
    fake.add_member(guild, ids["alice"], roles=[team, staff])
    fake.add_member(guild, ids["bob"], roles=[team, staff])
    fake.add_member(guild, ids["dave"])
    ids["general"] = fake.add_channel(guild, "general")
    ids["staff"] = fake.add_channel(guild, "staff", overwrites=hidden(guild, fake.bot_user_id, staff, leads))
    ids["team"] = fake.add_channel(guild, "team", overwrites=hidden(guild, fake.bot_user_id, team))
    ids["plans"] = fake.add_thread(
        guild, ids["general"], "plans", private=True, members=[ids["alice"], fake.bot_user_id]
    )
    return ids


@pytest.fixture
async def team(tmp_path, monkeypatch) -> AsyncIterator[World]:
    async with started_world(tmp_path, monkeypatch, team_seed, remembered=("general", "staff", "team")) as world:
        await world.discord.user_sends_message(world["staff"], world["carol"], OFFSITE)
        await world.settle()
        world.llm.reply = "The offsite is in Lisbon in May [1]."
        yield world


def guild_of(world: World, name: str = "guild") -> discord.Guild:
    guild = world.bot.get_guild(int(world[name]))
    assert guild is not None
    return guild


def went_private(interaction) -> bool:
    """The public answer was withheld: the notice in the channel, the answer in an ephemeral followup."""
    notice = bool(interaction.edits) and interaction.edits[0].get("content") == PRIVATE_NOTICE
    hidden_answer = bool(interaction.followups) and bool(interaction.followups[-1].get("flags", 0) & 64)
    return notice and hidden_answer and "Lisbon" in interaction.followup_messages[-1]["content"]


def went_public(interaction) -> bool:
    """The answer went to the channel for everyone, with nothing withheld."""
    contents = [e.get("content") for e in interaction.edits]
    return not interaction.ephemeral and PRIVATE_NOTICE not in contents and "Lisbon" in (final_text(interaction) or "")


def roles_of(world: World, user: str) -> set[str]:
    member = guild_of(world).get_member(int(world[user]))
    return {str(r.id) for r in member.roles} if member is not None else set()


async def test_a_role_given_or_taken_changes_what_the_member_can_search(team):
    """dave sees #staff text only while he has the staff role."""
    assert "lisbon" not in await team.search("dave", "staff offsite lisbon")
    await team.discord.set_member_roles(team["guild"], team["dave"], [team["staff_role"]])
    await wait_until(lambda: team["staff_role"] in roles_of(team, "dave"))
    assert "lisbon" in await team.search("dave", "staff offsite lisbon")
    await team.discord.set_member_roles(team["guild"], team["dave"], [])
    await wait_until(lambda: team["staff_role"] not in roles_of(team, "dave"))
    assert "lisbon" not in await team.search("dave", "staff offsite lisbon")


async def test_the_audience_follows_members_gaining_and_losing_roles(team):
    """In #team everyone reads #staff, so carol's answer from it is public; once bob loses staff (but stays in
    #team), or dave joins #team, it is sent privately; bob getting staff back makes it public again."""
    assert went_public(await team.ask("carol", "where is the staff offsite?", channel="team"))
    await team.discord.set_member_roles(team["guild"], team["bob"], [team["team_role"]])
    await wait_until(lambda: team["staff_role"] not in roles_of(team, "bob"))
    assert went_private(await team.ask("carol", "where is the staff offsite?", channel="team"))
    await team.discord.set_member_roles(team["guild"], team["bob"], [team["team_role"], team["staff_role"]])
    await wait_until(lambda: team["staff_role"] in roles_of(team, "bob"))
    assert went_public(await team.ask("carol", "where is the staff offsite?", channel="team"))
    await team.discord.set_member_roles(team["guild"], team["dave"], [team["team_role"]])
    await wait_until(lambda: team["team_role"] in roles_of(team, "dave"))
    assert went_private(await team.ask("carol", "where is the staff offsite?", channel="team"))


async def test_a_role_whose_permissions_are_edited_changes_access_at_once(team):
    """An auditors role with Administrator lets dave search #staff; edited to nothing, it no longer does."""
    auditors = await team.discord.create_role(team["guild"], "auditors", ADMINISTRATOR)
    await team.discord.set_member_roles(team["guild"], team["dave"], [auditors])
    await wait_until(lambda: auditors in roles_of(team, "dave"))
    assert "lisbon" in await team.search("dave", "staff offsite lisbon")
    await team.discord.edit_role(team["guild"], auditors, permissions=0)
    role = guild_of(team).get_role(int(auditors))
    await wait_until(lambda: role is not None and not role.permissions.administrator)
    assert "lisbon" not in await team.search("dave", "staff offsite lisbon")


async def test_a_deleted_role_no_longer_lets_the_audience_read(team):
    """Discord sends only GUILD_ROLE_DELETE: alice and bob, cached with the staff role's id, must not still count
    as readers of #staff through its overwrite; carol (leads) keeps it, so her answer in #team goes private."""
    assert went_public(await team.ask("carol", "where is the staff offsite?", channel="team"))
    await team.discord.delete_role(team["guild"], team["staff_role"])
    await wait_until(lambda: guild_of(team).get_role(int(team["staff_role"])) is None)
    bob = guild_of(team).get_member(int(team["bob"]))
    assert bob is not None and bob._roles.has(int(team["staff_role"]))  # discord.py kept the deleted role's id
    assert went_private(await team.ask("carol", "where is the staff offsite?", channel="team"))
    assert "lisbon" not in await team.search("alice", "staff offsite lisbon")
    assert "lisbon" in await team.search("carol", "staff offsite lisbon")


async def test_a_member_who_leaves_no_longer_counts_in_the_audience(team):
    """dave (no roles) is the only reader of #general who cannot read #staff: while he is there, an answer from
    #staff is private and a mention's answer leaves #staff out; once he has left both use it; back, not again."""
    assert went_private(await team.ask("carol", "where is the staff offsite?"))
    before = len(answer_requests(team.llm))
    await mention(team, "carol", "where is the staff offsite?")
    assert not any("lisbon" in str(r["messages"]).lower() for r in answer_requests(team.llm)[before:])
    await team.discord.member_leaves(team["guild"], team["dave"])
    await wait_until(lambda: guild_of(team).get_member(int(team["dave"])) is None)
    assert went_public(await team.ask("carol", "where is the staff offsite?"))
    await mention(team, "carol", "where is the staff offsite?")
    assert "lisbon" in str(answer_requests(team.llm)[-1]["messages"]).lower()
    await team.discord.member_joins(team["guild"], team["dave"])
    await wait_until(lambda: guild_of(team).get_member(int(team["dave"])) is not None)
    assert went_private(await team.ask("carol", "where is the staff offsite?"))


async def test_a_member_who_sees_a_channel_without_its_history_counts_in_its_audience(team):
    """eve (staff, not team) sees new messages in #team but not its history: an answer there drawn from #team's
    older messages would show her what she may not read, so it goes private; with history allowed, public."""
    eve = team.ids["eve"] = team.discord.add_user("eve")
    await team.discord.member_joins(team["guild"], eve, roles=[team["staff_role"]])
    team_overwrites = hidden(team["guild"], team.discord.bot_user_id, team["team_role"])
    channel = guild_of(team).get_channel(int(team["team"]))
    assert channel is not None

    async def eve_sees_team(*, history: bool) -> None:
        allowed = VIEW_CHANNEL | (READ_MESSAGE_HISTORY if history else 0)
        row = {"id": eve, "type": 1, "allow": allowed, "deny": 0 if history else READ_MESSAGE_HISTORY}
        await team.discord.set_overwrites(team["team"], [*team_overwrites, row])
        await wait_until(lambda: channel.overwrites_for(discord.Object(int(eve))).read_message_history is history)

    await eve_sees_team(history=False)
    await team.discord.user_sends_message(team["team"], team["alice"], "the team budget is lisbon-sized this year")
    await team.settle()
    team.llm.reply = "The budget is Lisbon-sized [1]."
    assert went_private(await team.ask("carol", "how big is the team budget?", channel="team"))
    await eve_sees_team(history=True)
    assert went_public(await team.ask("carol", "how big is the team budget?", channel="team"))


async def mention(world: World, user: str, question: str) -> None:
    """`user` mentions the bot in #general, and the bot has replied to that message."""
    bot_id = str(world.bot.user.id)
    sent = await world.discord.user_sends_message(
        world["general"], world[user], f"<@{bot_id}> {question}", mentions=[bot_id]
    )

    def replied() -> bool:
        messages = world.discord.channel_messages(world["general"])
        return any((m.get("message_reference") or {}).get("message_id") == sent["id"] for m in messages)

    await wait_until(replied)


async def test_thread_members_added_and_removed_change_who_reads_a_private_thread(team):
    """bob reads the private thread "plans" only while he is one of its members."""
    await team.discord.user_sends_message(team["plans"], team["alice"], "surprise party for carol on friday")
    await team.settle()
    assert "surprise party" not in await team.search("bob", "surprise party friday")
    thread = guild_of(team).get_thread(int(team["plans"]))
    assert thread is not None
    await team.discord.add_thread_member(team["plans"], team["bob"])
    await wait_until(lambda: any(str(m.id) == team["bob"] for m in thread.members))
    assert "surprise party" in await team.search("bob", "surprise party friday")
    await team.discord.remove_thread_member(team["plans"], team["bob"])
    await wait_until(lambda: not thread.members)
    assert "surprise party" not in await team.search("bob", "surprise party friday")


def ops_seed(fake: FakeDiscord) -> dict[str, str]:
    """The team guild plus a private thread "ops" in #general whose members carol and dave joined before the bot
    started (so its cache does not list them)."""
    ids = team_seed(fake)
    members = [ids["carol"], ids["dave"], fake.bot_user_id]
    ids["ops"] = fake.add_thread(ids["guild"], ids["general"], "ops", private=True, members=members)
    return ids


async def test_an_answer_in_a_private_thread_counts_members_the_cache_does_not_know(tmp_path, monkeypatch):
    """carol asks in the private thread "ops" about #staff: dave is in it (since before the bot started) and cannot
    read #staff, so the answer goes private; once dave is removed from the thread it is public."""
    async with started_world(tmp_path, monkeypatch, ops_seed, remembered=("general", "staff")) as world:
        await world.discord.user_sends_message(world["staff"], world["carol"], OFFSITE)
        await world.settle()
        world.llm.reply = "The offsite is in Lisbon in May [1]."
        thread = guild_of(world).get_thread(int(world["ops"]))
        assert thread is not None and not thread.members  # the cache lists nobody
        assert went_private(await world.ask("carol", "where is the staff offsite?", channel="ops"))
        assert any(r.path == f"/channels/{world['ops']}/thread-members" for r in world.discord.requests)
        await world.discord.remove_thread_member(world["ops"], world["dave"])
        assert went_public(await world.ask("carol", "where is the staff offsite?", channel="ops"))


async def test_an_answer_in_a_private_thread_may_use_the_thread_itself(tmp_path, monkeypatch):
    """Every member of "ops" (carol, dave and the bot, none of them in the cache) reads "ops", so an answer there
    drawn from the thread's own messages is public."""
    async with started_world(tmp_path, monkeypatch, ops_seed, remembered=("general", "staff")) as world:
        await world.discord.user_sends_message(world["ops"], world["dave"], "the ops rota has dave on call sunday")
        await world.settle()
        world.llm.reply = "Dave is on call on Sunday, Lisbon time [1]."
        assert went_public(await world.ask("carol", "who is on call on sunday?", channel="ops"))


def large_seed(fake: FakeDiscord, *, bot_member: bool = True, with_zed: bool = True) -> dict[str, str]:
    """Harbour, a guild of 304 members (above discord.py's large_threshold of 250): everyone has the staff role
    except zed, the last member, whose entry comes in the last member chunk."""
    ids = {name: fake.add_user(name) for name in ("owner", "carol")}
    guild = ids["guild"] = fake.add_guild("Harbour", owner_id=ids["owner"], bot_member=bot_member)
    staff = ids["staff_role"] = fake.add_role(guild, "staff", 0)
    fake.add_member(guild, ids["carol"], roles=[staff])
    for n in range(300):
        fake.add_member(guild, fake.add_user(f"deckhand{n}"), roles=[staff])
    if with_zed:
        ids["zed"] = fake.add_user("zed")
        fake.add_member(guild, ids["zed"])
    ids["general"] = fake.add_channel(guild, "general")
    ids["staff"] = fake.add_channel(guild, "staff", overwrites=hidden(guild, fake.bot_user_id, staff))
    return ids


async def test_a_large_guild_counts_the_members_of_every_chunk(tmp_path, monkeypatch):
    """The members arrive in four chunks after GUILD_CREATE; zed, in the last one, cannot read #staff, so carol's
    answer from it is private; after zed leaves it is public."""
    async with started_world(
        tmp_path, monkeypatch, large_seed, remembered=("general", "staff"), members_per_chunk=100
    ) as world:
        guild = guild_of(world)
        assert world.discord.member_requests and guild.chunked and guild.get_member(int(world["zed"])) is not None
        await world.discord.user_sends_message(world["staff"], world["carol"], OFFSITE)
        await world.settle()
        world.llm.reply = "The offsite is in Lisbon in May [1]."
        assert went_private(await world.ask("carol", "where is the staff offsite?"))
        await world.discord.member_leaves(world["guild"], world["zed"])
        await wait_until(lambda: guild.get_member(int(world["zed"])) is None)
        assert went_public(await world.ask("carol", "where is the staff offsite?"))


def late_large_seed(fake: FakeDiscord) -> dict[str, str]:
    """The team guild, plus Harbour (without zed: every member reads #staff), which the bot joins later."""
    ids = team_seed(fake)
    large = large_seed(fake, bot_member=False, with_zed=False)
    return ids | {f"harbour_{k}": v for k, v in large.items()}


async def test_a_large_guild_whose_member_list_is_incomplete_answers_privately(tmp_path, monkeypatch):
    """The bot joins Harbour while its member chunks are held: a public answer from #staff goes private although
    every member can read it (the bot cannot know yet); once the chunks arrive, the same answer is public."""
    remembered = ("general", "staff", "harbour_general", "harbour_staff")
    async with started_world(tmp_path, monkeypatch, late_large_seed, remembered=remembered) as world:
        world.discord.hold_member_chunks()
        await world.discord.announce_guild(world["harbour_guild"])
        await world.discord.wait_until(lambda: world.discord.member_requests)
        guild = guild_of(world, "harbour_guild")
        assert not guild.chunked
        await world.discord.user_sends_message(world["harbour_staff"], world["harbour_carol"], OFFSITE)
        await world.settle()
        world.llm.reply = "The offsite is in Lisbon in May [1]."
        ask = {"channel": "harbour_general", "guild": "harbour_guild"}
        assert went_private(await world.ask("harbour_carol", "where is the staff offsite?", **ask))
        world.discord.release_member_chunks()
        await wait_until(lambda: guild.chunked)
        assert went_public(await world.ask("harbour_carol", "where is the staff offsite?", **ask))
