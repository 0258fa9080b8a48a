"""End to end: the real discord.py bot against the fake Discord, the real langchain-openai against the fake LLM."""

from __future__ import annotations

import re

from tests.bot.conftest import answer_requests, final_text, remembered, wait_until
from tests.fakediscord import READ_MESSAGE_HISTORY, VIEW_CHANNEL


def mentions_are_off(body: dict) -> bool:
    data = body.get("data", body)
    allowed = data.get("allowed_mentions") if isinstance(data, dict) else None
    return allowed is not None and allowed.get("parse") == [] and not allowed.get("users") and not allowed.get("roles")


async def test_enabled_channel_is_remembered_and_searchable_disabled_is_not(world):
    """A message in #general is found by /search; one in #random (not enabled) is never stored."""
    await world.discord.user_sends_message(world["general"], world["alice"], "the backup window is 02:00 to 04:00 UTC")
    await world.discord.user_sends_message(world["random"], world["alice"], "the coffee machine code is 7781")
    await world.settle()
    assert "backup window" in remembered(world)
    assert "coffee" not in remembered(world)
    shown = await world.search("bob", "backup window")
    assert "02:00 to 04:00" in shown and "coffee" not in shown


async def test_threads_and_category_channels_follow_their_parent_policy(world):
    """A channel inside an enabled category is remembered."""
    await world.discord.user_sends_message(world["project"], world["alice"], "project x ships with feature flags")
    await world.settle()
    assert "feature flags" in remembered(world)


async def test_an_edit_changes_what_is_found(world):
    """After an edit, the new text is found and the old one is gone."""
    sent = await world.discord.user_sends_message(world["general"], world["alice"], "the release is on monday")
    await world.settle()
    await world.discord.user_edits_message(world["general"], sent["id"], "the release is on thursday")
    await world.settle()
    text = remembered(world)
    assert "thursday" in text and "monday" not in text


async def test_delete_and_bulk_delete_erase(world):
    """A deleted message and bulk-deleted messages leave memory; the others stay."""
    sent = [
        await world.discord.user_sends_message(world["general"], world["bob"], f"note number {i} unique{i}")
        for i in range(6)
    ]
    await world.settle()
    await world.discord.user_deletes_message(world["general"], sent[0]["id"])
    await world.discord.user_bulk_deletes(world["general"], [m["id"] for m in sent[1:4]])
    await world.settle()
    text = remembered(world)
    assert all(f"unique{i}" not in text for i in range(4))
    assert "unique4" in text and "unique5" in text


async def test_bots_own_and_other_bots_messages_are_skipped(world):
    """Another bot's message is not remembered, nor the bot's own answers."""
    await world.discord.user_sends_message(world["general"], world["otherbot"], "beep boop automated noise")
    world.llm.reply = "Answer text that must not be remembered."
    await world.ask("alice", "anything about noise?")
    await world.settle()
    text = remembered(world)
    assert "beep boop" not in text and "must not be remembered" not in text


async def test_an_uploaded_file_is_found_through_search(world):
    """A text attachment is downloaded, remembered with its message, and found by /search."""
    await world.discord.user_sends_message(
        world["general"], world["alice"], "runbook attached",
        files=[("runbook.md", b"# Restore\n\nTo restore a backup run lh-restore --latest.", "text/markdown")],
    )  # fmt: skip
    await world.settle()
    shown = await world.search("bob", "restore a backup")
    assert "lh-restore --latest" in shown and "runbook.md" in shown


async def test_ask_defers_streams_and_cites_jump_links(world):
    """/ask defers first, edits the answer in as it streams, and lists sources linking to the right message."""
    sent = await world.discord.user_sends_message(
        world["general"], world["alice"], "deploy key rotates fridays at 16:00"
    )
    await world.settle()
    world.llm.reply = "The deploy key rotates on Fridays at 16:00 [1]. " + "More detail follows here. " * 8
    world.llm.chunk_chars = 8
    world.llm.chunk_delay_seconds = 0.15
    interaction = await world.ask("bob", "when does the deploy key rotate?")
    assert interaction.callbacks[0]["type"] == 5
    previews = [e["content"] for e in interaction.edits if e.get("content", "").endswith("▌")]
    assert previews, "the answer was streamed with intermediate edits"
    final = final_text(interaction)
    assert "Fridays at 16:00 [1]" in final
    jump = f"https://discord.com/channels/{world['guild']}/{world['general']}/{sent['id']}"
    assert "[1] #general" in final and f"<{jump}>" in final
    prompt = world.llm.last_prompt_text()
    assert "deploy key rotates fridays" in prompt


def prompt_sources(world) -> list[str]:
    """The passages in the prompt of the latest answer."""
    prompt = answer_requests(world.llm)[-1]["messages"][0]["content"]
    return re.findall(r'<source id="\d+"[^>]*>\n(.*?)\n</source>', prompt, re.DOTALL)


async def test_prompt_holds_the_right_chunks_within_the_budget(world):
    """The packed context in the prompt holds the relevant message and fits the budget in force: config.yaml's,
    then the smaller one an admin set with /memory settings (which binds: the first prompt held more)."""
    from memory.tokens import count_tokens

    for i in range(40):
        await world.discord.user_sends_message(world["general"], world["bob"], f"status update {i}: " + "filler " * 40)
    await world.discord.user_sends_message(
        world["general"], world["alice"], "the database choice is SQLite in WAL mode"
    )
    await world.settle()
    await world.ask("bob", "what database did we choose?")
    sources = prompt_sources(world)
    tokens = sum(count_tokens(s, "gpt-4o-mini") for s in sources)
    assert any("SQLite in WAL mode" in s for s in sources)
    assert 300 < tokens <= world.settings.retrieval.budget
    changed = await world.discord.user_runs_slash_command(
        world["guild"], world["general"], world["alice"], "memory", {"budget": 300}, subcommand="settings"
    )
    await changed.wait_done()
    await world.ask("bob", "what database did we choose?")
    sources = prompt_sources(world)
    assert any("SQLite in WAL mode" in s for s in sources)
    assert sum(count_tokens(s, "gpt-4o-mini") for s in sources) <= 300


def reached_the_model(world, text: str) -> bool:
    """Whether any request to the model (an answer or a query rewrite) held this text."""
    return any(text in str(m.get("content")) for r in world.llm.requests for m in r["messages"])


async def test_hidden_channel_text_never_reaches_a_member_who_cannot_read_it(world):
    """Bob cannot get #staff text by /ask, /search or a mention; alice (staff) can."""
    await world.discord.user_sends_message(world["staff"], world["alice"], "staff only: layoffs planned for q3 zebra")
    await world.settle()
    await world.ask("bob", "what is planned for q3 zebra?", private=True)
    assert world.llm.requests and not reached_the_model(world, "staff only")  # neither an answer nor a rewrite
    assert "layoffs" not in await world.search("bob", "layoffs q3 zebra")
    asked = len(world.llm.requests)
    reply = await mention(world, "bob", "general", "layoffs q3 zebra?")
    assert "layoffs" not in reply["content"]
    assert asked_by_mention(world, "layoffs q3 zebra?", since=asked)  # this mention's own request was read
    assert not reached_the_model(world, "staff only")
    assert "layoffs" in await world.search("alice", "layoffs q3 zebra")


async def mention(world, user: str, channel: str, question: str) -> dict:
    """Mention the bot with a question; return the bot's reply to that message once it is complete."""
    bot_id = str(world.bot.user.id)
    sent = await world.discord.user_sends_message(world[channel], world[user], f"<@{bot_id}> {question}",
                                                  mentions=[bot_id])  # fmt: skip

    def reply() -> dict | None:
        return next((m for m in world.discord.channel_messages(world[channel]) if m["author"]["id"] == bot_id
                     and (m.get("message_reference") or {}).get("message_id") == sent["id"]
                     and m.get("content") and not m["content"].endswith("▌")), None)  # fmt: skip

    await wait_until(lambda: reply() is not None)
    found = reply()
    assert found is not None
    return found


def asked_by_mention(world, question: str, *, since: int) -> list[dict]:
    """The requests to the model (answers or query rewrites), from request number `since` on, for this question."""
    return [r for r in world.llm.requests[since:] if any(question in str(m.get("content")) for m in r["messages"])]


async def test_a_member_who_may_view_a_channel_but_not_read_its_history_gets_none_of_it(world):
    """Read Message History counts: bob let into #staff with View Channel only finds none of its text by /search
    or /ask; once he may read its history too, he does."""
    await world.discord.user_sends_message(world["staff"], world["alice"], "staff only: the vault code is HERON-4417")
    await world.settle()
    channel = world.bot.get_channel(int(world["staff"]))
    bob = world.bot.get_guild(int(world["guild"])).get_member(int(world["bob"]))

    async def let_bob_in(allow: int, deny: int) -> None:
        seeded = [(world["guild"], 0, 0, VIEW_CHANNEL), (world["staff_role"], 0, VIEW_CHANNEL, 0),
                  (str(world.bot.user.id), 1, VIEW_CHANNEL, 0), (world["bob"], 1, allow, deny)]  # fmt: skip
        rows = [{"id": i, "type": kind, "allow": a, "deny": d} for i, kind, a, d in seeded]
        await world.discord.set_overwrites(world["staff"], rows)
        wanted = (True, bool(allow & READ_MESSAGE_HISTORY))  # the update reached the bot's cache
        await wait_until(lambda: (channel.permissions_for(bob).view_channel,
                                  channel.permissions_for(bob).read_message_history) == wanted)  # fmt: skip

    await let_bob_in(VIEW_CHANNEL, READ_MESSAGE_HISTORY)
    assert "HERON-4417" not in await world.search("bob", "vault code")
    await world.ask("bob", "what is the vault code?", private=True)
    assert world.llm.requests and not reached_the_model(world, "HERON-4417")  # neither an answer nor a rewrite
    await let_bob_in(VIEW_CHANNEL | READ_MESSAGE_HISTORY, 0)
    assert "HERON-4417" in await world.search("bob", "vault code")


async def test_a_mention_in_a_public_channel_uses_only_what_everyone_there_may_read(world):
    """Alice (staff) mentions the bot in #general: the reply, read by all of #general, holds nothing of #staff,
    though she may read it; the same mention in #staff does use it."""
    await world.discord.user_sends_message(world["staff"], world["alice"], "staff only: the offsite is in LISBON-QX")
    await world.discord.user_sends_message(world["general"], world["bob"], "the offsite planning starts soon")
    await world.settle()
    asked = len(world.llm.requests)
    reply = await mention(world, "alice", "general", "where is the offsite?")
    assert asked_by_mention(world, "where is the offsite?", since=asked)
    assert not any("LISBON-QX" in str(m.get("content")) for r in world.llm.requests[asked:] for m in r["messages"])
    assert "LISBON-QX" not in reply["content"]
    asked = len(world.llm.requests)
    await mention(world, "alice", "staff", "where is the offsite?")
    (request,) = [
        r for r in asked_by_mention(world, "where is the offsite?", since=asked) if r in answer_requests(world.llm)
    ]
    assert "LISBON-QX" in request["messages"][0]["content"]


async def test_private_thread_needs_membership(world):
    """A private thread's text reaches its member and not a member of the parent channel who is not in it."""
    await world.discord.user_sends_message(world["secret_thread"], world["alice"], "surprise party for carol on friday")
    await world.settle()
    assert "surprise party" in remembered(world)
    assert "surprise party" not in await world.search("bob", "surprise party")
    assert "surprise party" in await world.search("alice", "surprise party")


async def test_public_answer_from_private_channels_is_sent_privately(world):
    """Alice asks publicly in #general about #staff text: the answer goes to her alone, with a notice."""
    await world.discord.user_sends_message(world["staff"], world["alice"], "the staff offsite is in lisbon in may")
    await world.settle()
    world.llm.reply = "The offsite is in Lisbon in May [1]."
    interaction = await world.ask("alice", "where is the staff offsite?")
    assert "privately" in interaction.edits[0]["content"]
    assert interaction.followups and interaction.followups[-1].get("flags", 0) & 64
    assert "Lisbon" in interaction.followup_messages[-1]["content"]
    assert all("Lisbon" not in e.get("content", "") for e in interaction.edits)


async def test_guilds_never_share_memory(world):
    """A question in the other guild, which remembers walruses too, finds its own memory and none of the first's."""
    await world.discord.user_sends_message(world["general"], world["alice"], "walrus protocol is enabled")
    await world.discord.user_sends_message(world["other_general"], world["carol"], "the walrus enclosure opens at nine")
    await world.settle()
    shown = await world.search("carol", "walrus protocol", channel="other_general", guild="other_guild")
    assert "walrus enclosure" in shown and "walrus protocol is enabled" not in shown  # searched, and only its own
    world.llm.reply = "It opens at nine [1]."
    await world.ask("carol", "is the walrus protocol enabled?", channel="other_general", guild="other_guild")
    (answer,) = answer_requests(world.llm)
    assert "walrus enclosure" in answer["messages"][0]["content"]
    assert not reached_the_model(world, "walrus protocol is enabled")
    shown_first = await world.search("alice", "walrus protocol")  # the first guild does hold it
    assert "walrus protocol is enabled" in shown_first and "walrus enclosure" not in shown_first


async def test_pings_in_answers_ping_nobody(world):
    """An answer full of @everyone and role/user pings goes out with mentions disabled on every request."""
    await world.discord.user_sends_message(world["general"], world["alice"], "ping test context")
    await world.settle()
    world.llm.reply = f"@everyone @here <@&{world['staff_role']}> <@{world['bob']}> look [1]"
    interaction = await world.ask("alice", "ping test?")
    bodies = [*interaction.edits, *interaction.followups]
    assert bodies and all(mentions_are_off(b) for b in bodies)
    await world.discord.user_sends_message(world["general"], world["bob"], f"<@{world.bot.user.id}> ping test?",
                                           mentions=[str(world.bot.user.id)])  # fmt: skip
    request = await world.discord.wait_for_request(
        lambda r: r.method == "POST" and r.path.endswith(f"/channels/{world['general']}/messages")
    )
    assert mentions_are_off(request.json)


async def test_a_3000_character_answer_arrives_in_valid_parts(world):
    """A long answer is split: every part at most 2,000 characters, code fences balanced."""
    await world.discord.user_sends_message(world["general"], world["alice"], "long answer context")
    await world.settle()
    world.llm.reply = (
        "Intro [1].\n```python\n" + "\n".join(f"x_{i} = {i}" for i in range(250)) + "\n```\n" + "end " * 60
    )
    world.llm.chunk_chars = 400
    interaction = await world.ask("alice", "long answer?")
    parts = [interaction.edits[-1]["content"], *[f["content"] for f in interaction.followups]]
    assert len(parts) >= 2 and all(len(p) <= 2000 for p in parts)
    assert all(p.count("```") % 2 == 0 for p in parts)
    assert "x_249 = 249" in "".join(parts)


async def test_llm_failure_gives_one_clear_message(world):
    """A model error ends in one warning sentence, not a half answer shown as whole."""
    await world.discord.user_sends_message(world["general"], world["alice"], "context for a failing answer")
    await world.settle()
    world.llm.fault = "disconnect"
    interaction = await world.ask("alice", "failing answer?")
    final = final_text(interaction)
    assert final.startswith("⚠️") and "could not be reached" in final


async def test_mention_and_reply_chain_carry_the_conversation(world):
    """A mention is answered in a reply; replying to that answer sends the earlier exchange to the model."""
    await world.discord.user_sends_message(world["general"], world["alice"], "the database is SQLite in WAL mode")
    await world.settle()
    bot_id = str(world.bot.user.id)
    world.llm.reply = "SQLite in WAL mode [1]."
    question = await world.discord.user_sends_message(world["general"], world["bob"], f"<@{bot_id}> which database?",
                                                      mentions=[bot_id])  # fmt: skip
    await wait_until(lambda: any(m["author"]["id"] == bot_id and "SQLite" in m.get("content", "")
                                 and not m["content"].endswith("▌")
                                 for m in world.discord.channel_messages(world["general"])))  # fmt: skip
    answer = next(m for m in world.discord.channel_messages(world["general"]) if m["author"]["id"] == bot_id)
    assert answer["message_reference"]["message_id"] == question["id"]
    world.llm.reply = "Postgres later, if needed [1]."
    await world.discord.user_sends_message(world["general"], world["bob"], "and later on?", reply_to=answer["id"])
    await wait_until(lambda: len(answer_requests(world.llm)) == 2)
    follow_up = answer_requests(world.llm)[-1]["messages"]
    assert [m["role"] for m in follow_up] == ["system", "user", "assistant", "user"]
    assert follow_up[1]["content"] == "which database?" and follow_up[-1]["content"] == "and later on?"


async def test_slash_commands_are_synced_to_each_guild(world):
    """On start the bot syncs /ask and /search to every guild so they appear at once."""
    for guild in ("guild", "other_guild"):
        names = {c["name"] for c in world.discord.commands[world[guild]]}
        assert {"ask", "search"} <= names


async def test_oversized_and_lying_attachments_are_refused(world):
    """A file declared too big is not downloaded; one that lies about its size is cut off at the cap."""
    limit = world.settings.limits.max_file_bytes
    big = [("huge.txt", b"x" * 10, "text/plain")]
    await world.discord.user_sends_message(
        world["general"], world["alice"], "big one", files=big, declared_size=limit + 1
    )
    await world.settle()
    assert world.discord.cdn_bytes_served == 0  # refused on its declared size, nothing downloaded
    liar = [("liar.txt", b"y" * (limit * 3), "text/plain")]
    await world.discord.user_sends_message(world["general"], world["alice"], "liar", files=liar, declared_size=100)
    await world.settle()
    assert world.discord.cdn_bytes_served < limit * 2  # the download stopped at the cap, not at the end
    stats = world.memory.stats(world["guild"]).as_json()["guilds"][world["guild"]]
    assert stats.get("files", 0) == 0
    assert "big one" in remembered(world) and "liar" in remembered(world)
