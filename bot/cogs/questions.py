"""Questions: `/ask` and mentions stream a grounded answer with sources; `/search` lists passages. Who may see
what is decided here: only channels the asker can read, and for a public answer only what its readers can."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import date, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.access import audience_safe, readable_channels
from bot.errors import APOLOGY, user_message
from bot.feedback import VerdictButton, verdict_buttons
from bot.render import (
    CURSOR,
    EDIT_INTERVAL_SECONDS,
    MAX_MESSAGE_CHARS,
    PRIVATE_NOTICE,
    safe_links,
    sources_lines,
    split_message,
)
from bot.replies import Reply, channel_reply, original_response, private_followup
from memory import AnswerError, Draft, Exchange, Hit, PackedContext, Question, SourceLabel

if TYPE_CHECKING:
    from bot.client import MemoryBot

log = logging.getLogger(__name__)
MAX_REPLY_CHAIN = 6  # earlier exchanges carried into the prompt from a reply chain
SEARCH_PREVIEW_CHARS = 300
SEARCH_SHOWN = 10  # passages /search shows
Asked = discord.Interaction | discord.Message  # where a question came from


class Questions(commands.Cog):
    """The question-answering commands and the mention listener, all through memory's one answering pipeline."""

    def __init__(self, bot: MemoryBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """The verdict buttons answer clicks on any answer, sent before a restart or after."""
        self.bot.add_dynamic_items(VerdictButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(VerdictButton)

    # --- commands -------------------------------------------------------------------------------------

    @app_commands.command(name="ask")
    @app_commands.guild_only()
    async def ask(
        self,
        interaction: discord.Interaction,
        question: str,
        private: bool | None = None,
        after: str | None = None,
        before: str | None = None,
    ) -> None:
        """Ask the server's memory a question; the answer cites its sources.

        Args:
            question: what you want to know ("now", "last week", "in March" count too)
            private: only you see the answer (default: this server's setting)
            after: only what was said from this day on (YYYY-MM-DD)
            before: only what was said up to this day (YYYY-MM-DD)
        """
        member, guild = interaction.user, interaction.guild
        if not isinstance(member, discord.Member) or guild is None:
            await interaction.response.send_message("Ask me in a server channel.", ephemeral=True)
            return
        days = {name: _day(value) for name, value in (("after", after), ("before", before)) if value}
        if wrong := [name for name, value in days.items() if value is None]:
            text = f"`{wrong[0]}` must be a date like 2025-03-01. Nothing was asked."
            await interaction.response.send_message(text, ephemeral=True)
            return
        if refusal := self.bot.limits.check("ask", guild.id, member.id):
            log.info("ask refused to %s in guild %s: %s limit", member.id, guild.id, refusal.scope)
            await interaction.response.send_message(refusal.message(), ephemeral=True)
            return
        asked = await self._question(
            guild, question, await self._readable(guild, member), now=interaction.created_at,
            after=days.get("after"), before=days.get("before"),
        )  # fmt: skip
        private = asked.settings.private if private is None else private
        # Retrieval starts at once and runs while the defer travels to Discord (a round trip saved).
        retrieval = asyncio.create_task(self.bot.memory.answers.retrieve(asked))
        await interaction.response.defer(thinking=True, ephemeral=private)
        context = await retrieval
        target = original_response(interaction, ephemeral=private)
        if not private and context.hits:
            safe = set(await audience_safe(guild, interaction.channel, _channels_of(context)))
            if any(hit.chunk.channel_id not in safe for hit in context.hits):
                await interaction.edit_original_response(content=PRIVATE_NOTICE)
                target = private_followup(interaction)
        await self._deliver(target, asked, context, guild, interaction)

    @app_commands.command(name="search")
    @app_commands.guild_only()
    async def search(self, interaction: discord.Interaction, query: str) -> None:
        """Search the server's memory: the best passages with links, no AI answer.

        Args:
            query: words or a question to look for
        """
        member, guild = interaction.user, interaction.guild
        if not isinstance(member, discord.Member) or guild is None:
            await interaction.response.send_message("Search from a server channel.", ephemeral=True)
            return
        asked = await self._question(guild, query, await self._readable(guild, member), now=interaction.created_at)
        retrieval = asyncio.create_task(self.bot.memory.answers.retrieve(asked))
        await interaction.response.defer(thinking=True, ephemeral=True)
        context = await retrieval
        if not context.hits:
            await interaction.edit_original_response(content="Nothing in memory matches that.")
            return
        lines = []
        for number, hit in enumerate(context.hits[:SEARCH_SHOWN], start=1):
            url, where = _label(guild, hit)
            preview = hit.chunk.text
            if len(preview) > SEARCH_PREVIEW_CHARS:
                preview = preview[:SEARCH_PREVIEW_CHARS] + "…"
            link = f" <{url}>" if url else ""
            lines.append(f"**[{number}]** {where}{link}\n> " + preview.replace("\n", "\n> "))
        parts = split_message("\n\n".join(lines))
        await interaction.edit_original_response(content=parts[0])
        for part in parts[1:]:
            await interaction.followup.send(part, ephemeral=True, suppress_embeds=True)

    # --- mentions and replies -------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A mention of the bot, or a reply to one of its answers, is a question."""
        me = self.bot.user
        if me is None or message.author.bot or message.guild is None:
            return
        if not isinstance(message.author, discord.Member):
            return
        replied = await self._replied_message(message)
        mentioned = me in message.mentions
        if not mentioned and (replied is None or replied.author.id != me.id):
            return
        text = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
        if not text:
            return
        guild = message.guild
        if refusal := self.bot.limits.check("ask", guild.id, message.author.id):
            log.info("mention refused to %s in guild %s: %s limit", message.author.id, guild.id, refusal.scope)
            if self.bot.limits.tell(guild.id, message.author.id):
                await message.reply(refusal.message(), mention_author=False, suppress_embeds=True)
            return
        # A message in a channel is read by everyone there: only channels they can all read may be used.
        channels = await audience_safe(guild, message.channel, await self._readable(guild, message.author))
        history = await self._history(replied)
        asked = await self._question(guild, text, channels, history=history, now=message.created_at)
        context = await self.bot.memory.answers.retrieve(asked)
        try:
            async with message.channel.typing():
                await self._deliver(channel_reply(message), asked, context, guild, message)
        except (discord.HTTPException, discord.RateLimited) as e:
            # Discord refused the reply after discord.py's own bounded retries (five 5xx, a 429 longer than
            # max_ratelimit_timeout, Cloudflare's HTML 429): the channel cannot take a message to tell the member,
            # and retrying here would only add requests to a ban. One line; the next question starts afresh.
            self.bot.errors["discord"] += 1
            log.warning("could not answer a mention in channel %s: %s", message.channel.id, _refusal(e))

    async def _replied_message(self, message: discord.Message) -> discord.Message | None:
        reference = message.reference
        if reference is None or reference.message_id is None:
            return None
        if isinstance(reference.resolved, discord.Message):
            return reference.resolved
        try:
            return await message.channel.fetch_message(reference.message_id)
        except discord.HTTPException:
            return None

    async def _history(self, replied: discord.Message | None) -> list[Exchange]:
        """Earlier question/answer pairs, oldest first, from the chain of replies ending at `replied`."""
        me = self.bot.user
        exchanges: list[Exchange] = []
        current = replied
        while current is not None and me is not None and current.author.id == me.id:
            if len(exchanges) >= MAX_REPLY_CHAIN:
                break
            question = await self._replied_message(current)
            if question is None:
                break
            answer = current.content.split("\n**Sources**", 1)[0]
            exchanges.insert(0, Exchange(re.sub(rf"<@!?{me.id}>", "", question.content).strip(), answer))
            current = await self._replied_message(question)
        return exchanges

    # --- shared ---------------------------------------------------------------------------------------

    async def _readable(self, guild: discord.Guild, member: discord.Member) -> list[str]:
        """The remembered channels this member can read now."""
        return readable_channels(guild, member, await self.bot.memory.channels(str(guild.id)))

    async def _question(
        self,
        guild: discord.Guild,
        text: str,
        channels: list[str],
        *,
        now: datetime,
        history: list[Exchange] | None = None,
        after: date | None = None,
        before: date | None = None,
    ) -> Question:
        return await self.bot.memory.question(
            text, str(guild.id), channels=channels, guild_name=guild.name, history=history or (), now=now,
            after=after, before=before,
        )  # fmt: skip

    async def _deliver(
        self, target: Reply, question: Question, context: PackedContext, guild: discord.Guild, asked_in: Asked
    ) -> None:
        """Stream the answer into `target` with throttled edits, then the final text with its sources and the
        verdict buttons; `asked_in` is the interaction or message that asked."""
        if isinstance(asked_in, discord.Interaction):
            asker_id, channel_id = str(asked_in.user.id), str(asked_in.channel_id)
        else:
            asker_id, channel_id = str(asked_in.author.id), str(asked_in.channel.id)
        guild_id = str(guild.id)
        labels = [_label(guild, hit) for hit in context.hits]
        prompt_labels = [
            SourceLabel(
                where=where,
                who=", ".join(hit.chunk.author_ids),
                when=(hit.chunk.created_at or "")[:16].replace("T", " "),
            )
            for hit, (_, where) in zip(context.hits, labels, strict=True)
        ]
        allowed_urls = [url for url, _ in labels if url]
        last_edit = 0.0
        final: Draft | None = None
        failure = ""
        try:
            async for draft in self.bot.memory.answers.stream(question, context, prompt_labels):
                final = draft
                now = time.monotonic()
                if draft.generated and now - last_edit >= EDIT_INTERVAL_SECONDS:
                    last_edit = now
                    preview = safe_links(draft.text, allowed_urls)
                    await target.write(preview[: MAX_MESSAGE_CHARS - len(CURSOR)] + CURSOR)
        except AnswerError as e:
            # Shown where the answer was going, in place of whatever the model had streamed (a half answer is
            # never left looking whole): the failure in one sentence, then the passages quoted without the model.
            failure = f"⚠️ {user_message(e) or APOLOGY}"
            log.info("answer in guild %s fell back to quotes: %s", guild.id, e)
            final = self.bot.memory.answers.fallback(question, context)
        if final is None:
            return
        text = safe_links(final.text, allowed_urls)
        if failure:
            text = f"{failure}\n\n{text}"
        if final.cut_off:
            text += "\n\n⚠️ The answer was cut off at the length limit."
        if context.hits:
            # Show the sources the answer cites; the extractive answer and an uncited answer show them all.
            shown = final.used_sources or list(range(1, len(labels) + 1))
            text += "\n\n" + sources_lines([(n, *labels[n - 1]) for n in shown])
        # Logged for /memory gaps (unless the asker opted out); the buttons under the answer name the entry.
        logged = await self.bot.memory.questions.log(guild_id, channel_id, asker_id, question.text, context)
        await target.finish(split_message(text), verdict_buttons(logged) if logged else None)


def _label(guild: discord.Guild, hit: Hit) -> tuple[str | None, str]:
    """A source's jump link and a short 'where, when' description with the channel's name."""
    chunk = hit.chunk
    channel = guild.get_channel_or_thread(int(chunk.channel_id)) if chunk.channel_id.isdigit() else None
    where = f"#{channel.name}" if channel is not None else f"channel {chunk.channel_id}"
    when = (chunk.created_at or "")[:10]
    if chunk.kind == "file":
        return chunk.jump_url, f"{chunk.place} in {where}, {when}".rstrip(", ")
    return chunk.jump_url, f"{where}, {when}".rstrip(", ")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _channels_of(context: PackedContext) -> list[str]:
    return list(dict.fromkeys(hit.chunk.channel_id for hit in context.hits))


async def setup(bot: MemoryBot) -> None:
    """Add the questions cog (discord.py calls this when the extension is loaded)."""
    await bot.add_cog(Questions(bot))


def _refusal(error: discord.HTTPException | discord.RateLimited) -> str:
    """Discord's refusal of a send in a few words, for the log."""
    if isinstance(error, discord.RateLimited):
        return f"rate limited for {error.retry_after:.0f} s, over discord.py's max_ratelimit_timeout"
    if error.status == 429:  # discord.py raises a 429 without Discord's JSON at once: Cloudflare's edge sent it
        return "HTTP 429 from Cloudflare (not Discord's JSON): an IP ban for too many invalid requests"
    return f"HTTP {error.status} ({error.text or 'no message'}) after discord.py's retries"
