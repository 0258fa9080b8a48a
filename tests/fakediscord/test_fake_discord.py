"""Tests of the fake Discord itself, driven by a real discord.py client over HTTP and the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import aiohttp
import discord
import pytest
from discord.ext import commands

from tests.fakediscord import (
    ADMINISTRATOR,
    ATTACH_FILES,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeDiscord,
    point_discord_py_at,
)

CATEGORY, FORUM = 4, 15


def seed(fake: FakeDiscord) -> SimpleNamespace:
    """A guild with an owner, a moderator and a plain member, a hidden staff category and threads."""
    w = SimpleNamespace(owner=fake.add_user("owner"), alice=fake.add_user("alice"), bob=fake.add_user("bob"))
    w.guild = fake.add_guild("Test Guild", owner_id=w.owner)
    w.mods = fake.add_role(w.guild, "Mods", MANAGE_MESSAGES | MANAGE_THREADS)
    w.admins = fake.add_role(w.guild, "Admins", ADMINISTRATOR)
    fake.add_member(w.guild, w.alice, roles=[w.mods])
    fake.add_member(w.guild, w.bob)
    w.general = fake.add_channel(w.guild, "general")
    hidden = [
        {"id": w.guild, "type": 0, "allow": 0, "deny": VIEW_CHANNEL},
        {"id": w.mods, "type": 0, "allow": VIEW_CHANNEL, "deny": 0},
    ]
    w.staff_area = fake.add_channel(w.guild, "staff-area", kind=CATEGORY, overwrites=hidden)
    w.staff = fake.add_channel(w.guild, "staff", parent_id=w.staff_area)  # synced with its category
    w.forum = fake.add_channel(w.guild, "help", kind=FORUM)
    w.thread = fake.add_thread(w.guild, w.general, "public-thread", members=[w.alice])
    w.private = fake.add_thread(w.guild, w.general, "private-thread", private=True, members=[w.alice, fake.bot_user_id])
    return w


def make_bot(*, message_content: bool = True, members: bool = True) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content, intents.members = message_content, members
    return commands.Bot(command_prefix="!", intents=intents, guild_ready_timeout=0.05)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, bot: commands.Bot) -> AsyncIterator[commands.Bot]:
    """The robust start: login (runs setup_hook), connect in a task, wait for ready raced against that task."""
    point_discord_py_at(fake)
    await bot.login(fake.token)
    task = asyncio.create_task(bot.connect())
    ready = asyncio.create_task(bot.wait_until_ready())
    try:
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # raises what stopped the client (e.g. a parser KeyError, pitfall 3)
            raise AssertionError("connect() returned before ready")
        assert ready in done, "bot not ready within 10 s"
        yield bot
    finally:
        ready.cancel()
        await bot.close()
        result = (await asyncio.gather(task, return_exceptions=True))[0]
    if isinstance(result, BaseException):
        raise result


def waiter(bot: commands.Bot, event: str, check=None, timeout: float = 5.0) -> asyncio.Task:
    """Start waiting for a bot event before causing it (the client handles frames in its own task)."""
    return asyncio.create_task(bot.wait_for(event, check=check, timeout=timeout))


async def test_login_ready_and_guild_cache(fake: FakeDiscord) -> None:
    """Login, READY and GUILD_CREATE give the client a full, chunked guild cache."""
    w = seed(fake)
    async with running(fake, make_bot()) as bot:
        assert bot.user is not None and str(bot.user.id) == fake.bot_user_id
        assert str(bot.application_id) == fake.application_id
        guild = bot.get_guild(int(w.guild))
        assert guild is not None and guild.name == "Test Guild" and guild.chunked
        assert str(guild.owner_id) == w.owner and str(guild.default_role.id) == w.guild
        assert {c.name for c in guild.channels} == {"general", "staff-area", "staff", "help"}  # hidden ones too
        staff = guild.get_channel(int(w.staff))
        assert staff is not None and not staff.permissions_for(guild.me).view_channel
        assert {t.name for t in guild.threads} == {"public-thread", "private-thread"}
        assert isinstance(guild.get_channel(int(w.forum)), discord.ForumChannel)
        alice = guild.get_member(int(w.alice))
        assert alice is not None and [r.name for r in alice.roles] == ["@everyone", "Mods"]
    identify = next(p for p in fake.gateway_received if p["op"] == 2)
    assert identify["d"]["token"] == fake.token
    assert [r.path for r in fake.requests[:2]] == ["/users/@me", "/oauth2/applications/@me"]
    assert all(r.status != 404 for r in fake.requests)


async def test_login_with_wrong_token_fails(fake: FakeDiscord) -> None:
    """A token the fake does not know gets 401, which discord.py raises as LoginFailure."""
    point_discord_py_at(fake)
    bot = make_bot()
    with pytest.raises(discord.LoginFailure):
        await bot.login("not-the-token")
    await bot.close()


async def test_slash_sync_is_stored(fake: FakeDiscord) -> None:
    """tree.sync(guild=...) PUTs the definitions, which the fake stores by guild with ids."""
    w = seed(fake)
    bot = make_bot()

    @bot.tree.command(name="ingest", description="Upload a file", guild=discord.Object(int(w.guild)))
    async def ingest(interaction: discord.Interaction, file: discord.Attachment, note: str | None = None) -> None:
        await interaction.response.send_message("ok")

    async def setup_hook() -> None:
        await bot.tree.sync(guild=discord.Object(int(w.guild)))

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    async with running(fake, bot):
        (command,) = fake.commands[w.guild]
        assert command["name"] == "ingest" and command["id"] and command["application_id"] == fake.application_id
        assert [(o["name"], o["type"], o["required"]) for o in command["options"]] == [
            ("file", 11, True),
            ("note", 3, False),
        ]
        put = await fake.wait_for_request(lambda r: r.method == "PUT")
        assert put.path == f"/applications/{fake.application_id}/guilds/{w.guild}/commands"
        assert "global" not in fake.commands


async def test_message_with_attachment_reaches_on_message(fake: FakeDiscord) -> None:
    """user_sends_message arrives as MESSAGE_CREATE; the attachment downloads from the fake CDN."""
    w = seed(fake)
    async with running(fake, make_bot()) as bot:
        got = waiter(bot, "message")
        sent = await fake.user_sends_message(
            w.general, w.alice, "hello <@" + w.bob + ">", files=[("notes.txt", b"remember this", "text/plain")]
        )
        message: discord.Message = await got
        assert message.content == f"hello <@{w.bob}>" and str(message.id) == sent["id"]
        assert isinstance(message.author, discord.Member) and message.guild is not None
        assert [str(u.id) for u in message.mentions] == [w.bob]
        (attachment,) = message.attachments
        assert attachment.filename == "notes.txt" and attachment.size == 13
        assert await attachment.read() == b"remember this"
        assert fake.cdn_bytes_served == 13
        assert fake.channel_messages(w.general)[-1]["id"] == sent["id"]


async def test_edits_deletes_and_bulk_deletes_arrive_as_raw_events(fake: FakeDiscord) -> None:
    """MESSAGE_UPDATE, MESSAGE_DELETE and MESSAGE_DELETE_BULK reach the raw event handlers."""
    w = seed(fake)
    first = await fake.user_sends_message(w.general, w.alice, "one")  # before the bot connects: not cached
    second = await fake.user_sends_message(w.general, w.alice, "two")
    third = await fake.user_sends_message(w.general, w.bob, "three")
    async with running(fake, make_bot()) as bot:
        edited = waiter(bot, "raw_message_edit")
        await fake.user_edits_message(w.general, first["id"], "one, edited")
        edit: discord.RawMessageUpdateEvent = await edited
        assert edit.message.content == "one, edited" and edit.cached_message is None
        deleted = waiter(bot, "raw_message_delete")
        await fake.user_deletes_message(w.general, first["id"])
        assert (await deleted).message_id == int(first["id"])
        bulk = waiter(bot, "raw_bulk_message_delete")
        await fake.user_bulk_deletes(w.general, [second["id"], third["id"]])
        assert (await bulk).message_ids == {int(second["id"]), int(third["id"])}
        assert fake.channel_messages(w.general) == []


async def test_slash_command_defer_edit_and_followup_with_file(fake: FakeDiscord) -> None:
    """A deferred slash command edits @original and sends a followup file; the FakeInteraction records all of it."""
    w = seed(fake)
    bot = make_bot()

    @bot.tree.command(name="ingest", description="Upload a file")
    async def ingest(interaction: discord.Interaction, file: discord.Attachment, note: str, count: int = 1) -> None:
        await interaction.response.defer(thinking=True)
        data = await file.read()
        perms = interaction.permissions
        await interaction.edit_original_response(content=f"{note}: {len(data)} bytes x{count} {perms.manage_messages}")
        await interaction.followup.send("report", file=discord.File(io.BytesIO(b"summary"), "report.txt"))

    async def setup_hook() -> None:
        await bot.tree.sync()

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    async with running(fake, bot):
        upload = ("paper.pdf", b"%PDF-1.4 fake", "application/pdf")
        interaction = await fake.user_runs_slash_command(
            w.guild, w.general, w.alice, "ingest", {"file": upload, "note": "n", "count": 3}
        )
        await interaction.wait_done(lambda i: bool(i.edits and i.followups))
        assert [c["type"] for c in interaction.callbacks] == [5] and not interaction.ephemeral
        assert interaction.edits[0]["content"] == "n: 13 bytes x3 True"  # alice's Mods role manages messages
        assert interaction.followups[0]["content"] == "report" and interaction.files == [("report.txt", b"summary")]
        original, followup = fake.channel_messages(w.general)[-2:]
        assert original["type"] == 20 and original["content"] == "n: 13 bytes x3 True" and original["flags"] == 0
        assert original["interaction_metadata"]["user"]["id"] == w.alice
        assert followup["attachments"][0]["filename"] == "report.txt"
        data = interaction.payload["data"]
        assert [o["type"] for o in data["options"]] == [11, 3, 4] and "guild_id" not in data  # a global command


async def test_first_followup_replaces_a_thinking_defer(fake: FakeDiscord) -> None:
    """As on Discord, a followup right after defer(thinking=True) becomes the deferred message, visibility kept."""
    w = seed(fake)
    bot = make_bot()

    @bot.tree.command(name="ask", description="Ask")
    async def ask(interaction: discord.Interaction, question: str) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send(f"answer to {question}", ephemeral=True)

    async with running(fake, bot):
        interaction = await fake.user_runs_slash_command(w.guild, w.general, w.bob, "ask", {"question": "why"})
        await interaction.wait_done()
        (message,) = [m for m in fake.channel_messages(w.general) if m["author"]["id"] == fake.bot_user_id]
        assert message["content"] == "answer to why" and message["id"] == interaction.original["id"]
        assert interaction.followups[0]["flags"] == 64  # asked for, but the public defer decides


async def test_late_callbacks_and_expired_tokens_are_refused_as_on_discord(fake: FakeDiscord) -> None:
    """A first callback after the 3 s window gets 404 Unknown interaction (10062); an edit once the token has expired
    (15 minutes on Discord, shortened here) gets 401 Invalid Webhook Token (50027)."""
    w = seed(fake)
    bot = make_bot()
    fake.interaction_deadline, fake.interaction_token_seconds = 0.2, 0.5
    errors: list[discord.HTTPException] = []

    async def past(seconds: float, interaction: discord.Interaction) -> None:  # waits on the fake's own clock
        created = fake._interactions[interaction.token].created
        while time.monotonic() - created <= seconds:
            await asyncio.sleep(0.02)

    @bot.tree.command(name="late", description="Defers too late")
    async def late(interaction: discord.Interaction) -> None:
        await past(0.2, interaction)
        try:
            await interaction.response.defer()
        except discord.HTTPException as e:
            errors.append(e)

    @bot.tree.command(name="slow", description="Answers after the token expired")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await past(0.5, interaction)
        try:
            await interaction.edit_original_response(content="too late")
        except discord.HTTPException as e:
            errors.append(e)

    async with running(fake, bot):
        await fake.user_runs_slash_command(w.guild, w.general, w.bob, "late", {})
        await fake.user_runs_slash_command(w.guild, w.general, w.bob, "slow", {})
        await fake.wait_until(lambda: len(errors) == 2)
    assert [(e.status, e.code) for e in errors] == [(404, 10062), (401, 50027)]
    assert not [m for m in fake.channel_messages(w.general) if m["content"] == "too late"]


async def test_permissions_match_discord_py(fake: FakeDiscord) -> None:
    """compute_permissions equals discord.py's permissions_for for several overwrite setups, also after changes."""
    w = seed(fake)
    carol = fake.add_user("carol")
    fake.add_member(w.guild, carol, roles=[w.admins])
    fake.add_member(w.guild, fake.bot_user_id, roles=[w.mods])  # the bot sees the staff channels too
    readonly = fake.add_channel(
        w.guild,
        "announcements",
        overwrites=[
            {"id": w.guild, "type": 0, "allow": 0, "deny": SEND_MESSAGES},
            {"id": w.mods, "type": 0, "allow": SEND_MESSAGES, "deny": ATTACH_FILES},
            {"id": w.bob, "type": 1, "allow": ATTACH_FILES, "deny": VIEW_CHANNEL},
        ],
    )
    channels = [w.general, w.staff_area, w.staff, w.forum, w.thread, readonly]
    users = [w.owner, w.alice, w.bob, carol, fake.bot_user_id]

    def compare(guild: discord.Guild) -> None:
        for channel_id in channels:
            channel = guild.get_channel_or_thread(int(channel_id))
            assert channel is not None
            for user_id in users:
                member = guild.get_member(int(user_id))
                assert member is not None
                theirs = channel.permissions_for(member).value
                assert theirs == fake.compute_permissions(w.guild, user_id, channel_id), (channel.name, member.name)

    async with running(fake, make_bot()) as bot:
        guild = bot.get_guild(int(w.guild))
        assert guild is not None
        compare(guild)
        assert not fake.compute_permissions(w.guild, w.bob, w.staff) & VIEW_CHANNEL
        assert not fake.compute_permissions(w.guild, w.bob, w.private) & VIEW_CHANNEL  # not a member of it
        assert fake.compute_permissions(w.guild, w.alice, w.private) & VIEW_CHANNEL
        updated = waiter(bot, "guild_channel_update", check=lambda before, after: after.id == int(w.staff_area))
        opened = [{"id": w.bob, "type": 1, "allow": VIEW_CHANNEL, "deny": SEND_MESSAGES}]
        await fake.set_overwrites(w.staff_area, opened)  # the synced #staff follows its category
        await updated
        await asyncio.sleep(0.05)  # the CHANNEL_UPDATE for #staff right behind it
        compare(guild)
        assert fake.compute_permissions(w.guild, w.bob, w.staff) & VIEW_CHANNEL


async def test_hidden_channels_send_no_events_and_refuse_rest(fake: FakeDiscord) -> None:
    """The bot gets no events from a channel it cannot see, and REST there answers 403 Missing Access."""
    w = seed(fake)
    async with running(fake, make_bot()) as bot:
        got = waiter(bot, "message", timeout=1.0)
        await fake.user_sends_message(w.staff, w.alice, "secret")
        await fake.user_sends_message(w.general, w.alice, "public")
        assert (await got).content == "public"
        with pytest.raises(discord.Forbidden) as refused:
            await bot.http.logs_from(int(w.staff), 10)
        assert refused.value.code == 50001


async def test_message_content_is_blank_without_the_intent(fake: FakeDiscord) -> None:
    """Without MESSAGE_CONTENT the gateway blanks content and attachments, except when the bot is mentioned."""
    w = seed(fake)
    async with running(fake, make_bot(message_content=False)) as bot:
        got = waiter(bot, "message")
        await fake.user_sends_message(w.general, w.bob, "plain", files=[("a.txt", b"x", "text/plain")])
        plain = await got
        assert plain.content == "" and plain.attachments == []
        got = waiter(bot, "message")
        await fake.user_sends_message(w.general, w.bob, f"<@{fake.bot_user_id}> hi")
        assert (await got).content == f"<@{fake.bot_user_id}> hi"


async def test_content_over_2000_chars_is_rejected(fake: FakeDiscord) -> None:
    """A send over 2000 characters gets Discord's 400 with code 50035; exactly 2000 is accepted."""
    w = seed(fake)
    async with running(fake, make_bot()) as bot:
        channel = bot.get_channel(int(w.general))
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as rejected:
            await channel.send("x" * 2001)
        assert rejected.value.status == 400 and rejected.value.code == 50035
        sent = await channel.send("é" * 2000)
        assert len(sent.content) == 2000 and len(fake.channel_messages(w.general)) == 1


async def test_rate_limit_is_retried_and_delivered_once(fake: FakeDiscord) -> None:
    """A Discord-shaped 429 (route and global) is slept on and retried by discord.py; the message arrives once."""
    w = seed(fake)
    async with running(fake, make_bot()) as bot:
        channel = bot.get_channel(int(w.general))
        assert isinstance(channel, discord.TextChannel)
        fake.fail_next("POST", rf"^/channels/{w.general}/messages$", retry_after=0.05)
        fake.fail_next("POST", rf"^/channels/{w.general}/messages$", retry_after=0.05, global_=True)
        await channel.send("hello")
        posts = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]
        assert [r.status for r in posts] == [429, 429, 200]
        assert [m["content"] for m in fake.channel_messages(w.general)] == ["hello"]
        fake.fail_next("GET", r"/channels/\d+$", status=403)
        with pytest.raises(discord.Forbidden):
            await bot.fetch_channel(int(w.general))


async def test_privileged_intents_refused(fake: FakeDiscord) -> None:
    """Asking for privileged intents the portal has not enabled closes with 4014: PrivilegedIntentsRequired."""
    strict = FakeDiscord(privileged_intents_allowed=False)
    await strict.start()
    try:
        seed(strict)
        point_discord_py_at(strict)
        bot = make_bot()
        await bot.login(strict.token)
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(bot.connect(), 10)
        await bot.close()
    finally:
        await strict.stop()


async def test_history_paging_oldest_first_over_250_messages(fake: FakeDiscord) -> None:
    """history(oldest_first=True) pages through 250 messages in order, through deterministic 429s."""
    w = seed(fake)
    sent = [(await fake.user_sends_message(w.general, w.bob, f"m{i}"))["id"] for i in range(250)]
    fake.history_429_ratio = 0.5
    async with running(fake, make_bot()) as bot:
        channel = bot.get_channel(int(w.general))
        assert isinstance(channel, discord.TextChannel)
        oldest_first = [str(m.id) async for m in channel.history(limit=None, oldest_first=True)]
        assert oldest_first == sent
        newest_first = [str(m.id) async for m in channel.history(limit=120)]
        assert newest_first == sent[::-1][:120]
        middle = [m.content async for m in channel.history(limit=3, after=discord.Object(int(sent[9])))]
        assert middle == ["m10", "m11", "m12"]  # after= implies oldest first in discord.py
    pages = [r for r in fake.requests if r.path == f"/channels/{w.general}/messages"]
    assert [r.status for r in pages].count(429) == len(pages) // 2


async def test_button_click_and_message_command(fake: FakeDiscord) -> None:
    """A component click (type 3) reaches the View, and a message context menu gets the resolved message."""
    w = seed(fake)
    bot = make_bot()
    clicks: list[str] = []

    class Confirm(discord.ui.View):
        @discord.ui.button(label="OK", custom_id="confirm")
        async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
            clicks.append(str(interaction.user.id))
            await interaction.response.edit_message(content="confirmed", view=None)

    @bot.tree.context_menu(name="Remember")
    async def remember(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"remembered: {message.content}", ephemeral=True)

    async with running(fake, bot):
        channel = bot.get_channel(int(w.general))
        assert isinstance(channel, discord.TextChannel)
        prompt = await channel.send("sure?", view=Confirm())
        click = await fake.user_clicks_button(str(prompt.id), "confirm", w.alice)
        await click.wait_done()
        assert clicks == [w.alice] and click.callbacks[0]["type"] == 7
        assert fake.channel_messages(w.general)[0]["content"] == "confirmed"
        target = await fake.user_sends_message(w.general, w.bob, "the answer is 42")
        menu = await fake.user_runs_message_command(w.guild, w.general, w.alice, "Remember", target["id"])
        await menu.wait_done()
        assert menu.ephemeral and menu.callbacks[0]["data"]["content"] == "remembered: the answer is 42"
        assert fake.channel_messages(w.general)[-1]["id"] == target["id"]  # ephemeral replies are not stored


async def test_guild_delete_outage_then_removal(fake: FakeDiscord) -> None:
    """GUILD_DELETE with unavailable marks an outage; without it the bot is removed and loses access."""
    w = seed(fake)
    async with running(fake, make_bot()) as bot:
        unavailable = waiter(bot, "guild_unavailable")
        await fake.remove_bot_from_guild(w.guild, unavailable=True)
        assert (await unavailable).id == int(w.guild)
        removed = waiter(bot, "guild_remove")
        await fake.remove_bot_from_guild(w.guild)
        assert (await removed).id == int(w.guild) and bot.get_guild(int(w.guild)) is None
        with pytest.raises(discord.Forbidden):
            await bot.http.send_message(int(w.general), params=discord.http.handle_message_parameters(content="x"))


async def test_resume_replays_missed_events(fake: FakeDiscord) -> None:
    """After op 7 RECONNECT the client RESUMEs at the fake's URL and gets the events it missed."""
    w = seed(fake)
    async with running(fake, make_bot()) as bot:
        resumed = waiter(bot, "resumed")
        got = waiter(bot, "message")
        await fake.request_reconnect()
        await fake.user_sends_message(w.general, w.bob, "while away")
        await resumed
        assert (await got).content == "while away"
        assert [p["op"] for p in fake.gateway_received if p["op"] in (2, 6)] == [2, 6]


async def test_capped_download_stops_the_stream(fake: FakeDiscord) -> None:
    """The CDN streams and counts bytes, so a client that stops reading early is visible; declared_size lies."""
    w = seed(fake)
    message = await fake.user_sends_message(
        w.general, w.bob, "big", files=[("big.bin", b"abc", "application/octet-stream")], declared_size=1024
    )
    (attachment,) = message["attachments"]
    assert attachment["size"] == 1024
    fake.set_cdn_stream_size(attachment["url"], 200 * 1024 * 1024)
    async with aiohttp.ClientSession() as session, session.get(attachment["url"]) as response:
        read = 0
        async for chunk in response.content.iter_chunked(65536):
            read += len(chunk)
            if read >= 1024 * 1024:
                break
    await asyncio.sleep(0.1)
    assert read >= 1024 * 1024
    assert fake.cdn_bytes_served < 32 * 1024 * 1024  # the fake stopped writing soon after the client hung up


async def test_unknown_endpoints_are_recorded_as_404(fake: FakeDiscord) -> None:
    """An endpoint the fake does not implement answers a JSON 404 and shows up in the request log."""
    seed(fake)
    async with running(fake, make_bot()) as bot:
        with pytest.raises(discord.NotFound):
            await bot.http.request(discord.http.Route("GET", "/stickers/{sticker_id}", sticker_id=1))
        missing = await fake.wait_for_request(lambda r: r.status == 404)
        assert missing.path == "/stickers/1" and missing.method == "GET"
