"""Live memory: messages, edits, deletes and attachments of enabled channels flow into the ingestion queue."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.adapters import attachment_documents, attachment_sources, is_remembered_kind, to_chat_message
from bot.ingestion import Erase, Remember

if TYPE_CHECKING:
    from bot.client import MemoryBot

log = logging.getLogger(__name__)


class LiveMemory(commands.Cog):
    """Keeps memory in step with Discord. Raw events are used for edits and deletes so that messages
    the client never cached (older than its cache, or sent while it was offline) count too."""

    def __init__(self, bot: MemoryBot) -> None:
        self.bot = bot
        self.warned_empty_content = False

    def _channel(self, channel_id: int) -> object | None:
        return self.bot.get_channel(channel_id)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Remember a new message (and its files) from an enabled channel."""
        await self._remember(message)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Re-remember an edited message: its windows are re-chunked, and files the edit removed are forgotten."""
        await self._remember(payload.message, edited=True)

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
        await self.bot.forget_channel(channel.guild.id, channel.id)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        """A deleted thread or forum post goes from memory too."""
        await self.bot.forget_channel(payload.guild_id, payload.thread_id)

    async def _remember(self, message: discord.Message, *, edited: bool = False) -> None:
        if message.guild is None or not is_remembered_kind(message) or not self.bot.is_enabled(message.channel):
            return
        record = to_chat_message(message)
        if record is None:
            self._warn_if_content_missing(message)
            return
        if edited:  # an edit never adds files, but it can remove them
            kept = ((record.guild_id, record.message_id, attachment_sources(message)),)
            self.bot.ingestion.put(Remember(messages=(record,), attachments_kept=kept))
            return
        assert self.bot.http_session is not None  # noqa: S101  (opened in setup_hook)
        files = await attachment_documents(self.bot.http_session, message, self.bot.settings.limits)
        self.bot.ingestion.put(Remember(messages=(record,), files=tuple(files)))

    def _warn_if_content_missing(self, message: discord.Message) -> None:
        # Without the Message Content intent Discord sends empty messages; say so once, store nothing.
        if not self.warned_empty_content and not message.content and not message.attachments and not message.embeds:
            self.warned_empty_content = True
            log.warning(
                "a message arrived with no content: is the Message Content intent enabled for this bot "
                "(Developer Portal > Bot > Privileged Gateway Intents)?"
            )
