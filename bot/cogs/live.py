"""Live memory: messages, edits, deletes and attachments of remembered channels flow into the ingestion queue; on
every (re)connection, what was missed meanwhile is caught up (unfinished backfills resumed, history reconciled)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.adapters import attachment_sources, is_remembered_kind, place_names, to_chat_message
from bot.ingestion import Erase, ForgetChannel, Remember
from bot.reconcile import Reconciler, ReconcileReport

if TYPE_CHECKING:
    from bot.client import MemoryBot

log = logging.getLogger(__name__)


class LiveMemory(commands.Cog):
    """Keeps memory in step with Discord. Raw events are used for edits and deletes so that messages
    the client never cached (older than its cache, or sent while it was offline) count too."""

    def __init__(self, bot: MemoryBot) -> None:
        self.bot = bot
        self.warned_empty_content = False
        self.reconciler = Reconciler(
            memory=bot.memory, queue=bot.ingestion, attachments=bot.attachments, policies=bot.policies,
            backfiller=bot.backfiller, forget_channel=self.forget_channel,
            limit=bot.settings.discord.reconcile_messages, max_missed=bot.settings.discord.reconcile_max_missed,
        )  # fmt: skip
        # The pass of each connection (its shard; None for an unsharded bot), and the last one started (see on_ready).
        self.passes: dict[int | None, asyncio.Task[ReconcileReport]] = {}
        self.reconciling: asyncio.Task[ReconcileReport] | None = None

    async def cog_unload(self) -> None:
        """Stop the reconciliation passes that are still reading history."""
        for task in self.passes.values():
            task.cancel()
        await asyncio.gather(*self.passes.values(), return_exceptions=True)

    @commands.Cog.listener()
    async def on_connect(self) -> None:
        """A new gateway session (READY; a RESUME replays what was missed and is no new session): its live messages
        must not move channel marks past what was sent in between until the reconciliation has read it. discord.py
        dispatches `connect` before any event of the session, and this runs before their handlers (nothing awaited).
        A sharded bot has a session per shard (`on_shard_connect`)."""
        if not self.bot.sharded:
            self.bot.ingestion.new_session()

    @commands.Cog.listener()
    async def on_shard_connect(self, shard_id: int) -> None:
        """A new session of one shard's connection (a sharded bot, dispatched with `connect`)."""
        self.bot.ingestion.new_session(shard_id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Resume the backfills a restart interrupted, then reconcile what changed while the bot was offline (or
        disconnected), in the background as it reads history; channels being backfilled are left to the backfill.
        A sharded bot does this per shard instead (`on_shard_ready`): discord.py dispatches `ready` only once all its
        shards are ready, and not again when one of them reconnects."""
        if not self.bot.sharded:
            await self.catch_up(None, self.bot.guilds)

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        """One shard's guilds have all arrived after its READY (a sharded bot): catch up on those guilds."""
        await self.catch_up(shard_id, [guild for guild in self.bot.guilds if guild.shard_id == shard_id])

    async def catch_up(self, shard_id: int | None, guilds: Sequence[discord.Guild]) -> None:
        """Resume unfinished backfills (those whose channel is seen by now), then reconcile these guilds (those this
        process owns) in the background. A pass of an earlier session of the same connection still reading is
        replaced: what it reads now no longer covers this session."""
        resumed = await self.bot.backfiller.resume_unfinished(self.bot.get_channel)
        if resumed:
            log.info("resumed %d unfinished backfills", resumed)
        earlier = self.passes.get(shard_id)
        if earlier is not None and not earlier.done():
            earlier.cancel()
        owned = [guild for guild in guilds if self.bot.ownership.owns(guild.id)]
        name = "memorybot-reconcile" if shard_id is None else f"memorybot-reconcile-shard-{shard_id}"
        self.reconciling = self.passes[shard_id] = asyncio.create_task(self.reconciler.run(owned), name=name)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Remember a new message (and its files) from a remembered channel; either way its channel's mark moves past
        it (a message left out on purpose stays out after a restart)."""
        if message.guild is None:
            return
        queue = self.bot.ingestion
        record = to_chat_message(message) if self._remembered(message) else None
        place = (str(message.guild.id), str(message.channel.id))
        mark = queue.live_mark(*place, str(message.id), stored=record is not None)
        if record is None:
            if self._remembered(message):
                self._warn_if_content_missing(message)
            queue.put(Remember(marks=(mark,)))
            return
        with queue.receiving(mark):  # later messages queued while the files download must not move the mark past it
            files = await self.bot.attachments.documents(message)
            # An update that came during the download (Discord's link preview, an edit) changed this cached message
            # in place and was queued first: the record and files are taken again, so the older version does not win.
            record = to_chat_message(message) or record
            still_attached = set(attachment_sources(message))
            files = [f for f in files if f.source in still_attached]
            queue.put(
                Remember(
                    messages=(record,), files=tuple(files), names=place_names(message), announce_cuts=True,
                    marks=(mark,),
                )
            )  # fmt: skip

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Re-remember an edited message: its windows are re-chunked, and files the edit removed are forgotten."""
        message = payload.message
        if message.guild is None or not self._remembered(message):
            return
        record = to_chat_message(message)
        if record is None:
            self._warn_if_content_missing(message)
            return
        kept = ((record.guild_id, record.message_id, attachment_sources(message)),)  # an edit can only remove files
        self.bot.ingestion.put(Remember(messages=(record,), attachments_kept=kept, names=place_names(message)))

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """Erase a deleted message wherever it is remembered."""
        if payload.guild_id is not None:
            self.bot.ingestion.put(Erase(str(payload.guild_id), (str(payload.message_id),)))

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        """Erase bulk-deleted messages."""
        if payload.guild_id is not None:
            self.bot.ingestion.put(Erase(str(payload.guild_id), tuple(str(i) for i in payload.message_ids)))

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A deleted channel's messages are gone from Discord: they go from memory too."""
        await self.forget_channel(channel.guild.id, channel.id)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        """A deleted thread or forum post goes from memory too."""
        await self.forget_channel(payload.guild_id, payload.thread_id)

    async def forget_channel(self, guild_id: int, channel_id: int) -> None:
        """A channel or thread was deleted: queue the erasure of its memory (threads' included, after what was
        queued for it before) and drop the admins' policy for it."""
        self.bot.ingestion.put(ForgetChannel(str(guild_id), str(channel_id)))
        await self.bot.policies.clear(guild_id, channel_id)

    def _remembered(self, message: discord.Message) -> bool:
        """Whether a guild message is of a kind and in a channel that is remembered."""
        return is_remembered_kind(message) and self.bot.policies.is_enabled(message.channel)

    def _warn_if_content_missing(self, message: discord.Message) -> None:
        # Without the Message Content intent Discord sends empty messages; say so once, store nothing.
        if not self.warned_empty_content and not message.content and not message.attachments and not message.embeds:
            self.warned_empty_content = True
            log.warning(
                "a message arrived with no content: is the Message Content intent enabled for this bot "
                "(Developer Portal > Bot > Privileged Gateway Intents)?"
            )


async def setup(bot: MemoryBot) -> None:
    """Add the live-memory cog (discord.py calls this when the extension is loaded)."""
    await bot.add_cog(LiveMemory(bot))
