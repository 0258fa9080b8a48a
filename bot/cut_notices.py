"""Telling an uploader that a cap cut their file short: one quiet reply per message, sent off the ingestion worker."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

import discord

from bot.ingestion import Cut

log = logging.getLogger(__name__)

# memory's wording of a cut: "kept the first 600 of 777 characters (limits.max_extracted_chars)"
_KEPT = re.compile(r"kept (?P<what>.+) \((?P<setting>limits\.\w+)\)")


def notice_line(filename: str, kept: str) -> str:
    """One line for one cut file, in the bot's voice and naming the setting that cut it."""
    match = _KEPT.fullmatch(kept)
    if match is None:  # an unexpected wording is still worth passing on as it is
        return f"📎 {filename}: {kept}."
    return f"📎 {filename}: I remembered {match['what']} (the server's limit, {match['setting']})."


def notices(cuts: list[Cut]) -> dict[tuple[str, str], str]:
    """The reply text per uploaded message (channel id, message id), one line per cut file in upload order."""
    lines: dict[tuple[str, str], list[str]] = {}
    for file, kept in cuts:
        if file.message_id is not None:
            lines.setdefault((file.channel_id, file.message_id), []).append(notice_line(file.filename, kept))
    # A message has at most 10 attachments (Discord's limit), so the lines stay far below 2,000 characters.
    return {where: "\n".join(text) for where, text in lines.items()}


class CutNotices:
    """The ingestion queue's `on_cuts`: each message with cut files gets its reply in a task of its own, so a slow
    or refused send never holds up ingestion. `idle` waits for the replies still being sent."""

    def __init__(self, get_channel: Callable[[int], object]) -> None:
        self._get_channel = get_channel
        self._sending: set[asyncio.Task[None]] = set()  # bounded by the messages of one batch still being sent

    def __call__(self, cuts: list[Cut]) -> None:
        for (channel_id, message_id), text in notices(cuts).items():
            task = asyncio.create_task(self._reply(int(channel_id), int(message_id), text), name="memorybot-cut")
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def idle(self) -> None:
        """Wait until the replies being sent are sent (or refused)."""
        await asyncio.gather(*self._sending, return_exceptions=True)

    async def _reply(self, channel_id: int, message_id: int, text: str) -> None:
        channel = self._get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread | discord.VoiceChannel):
            log.info("could not tell message %s about its cut files: channel %s is gone", message_id, channel_id)
            return
        permissions = channel.permissions_for(channel.guild.me)
        # Discord: threads need Send Messages in Threads, other channels Send Messages; a reply also needs
        # Read Message History.
        can_send = (
            permissions.send_messages_in_threads if isinstance(channel, discord.Thread) else permissions.send_messages
        )
        if not (can_send and permissions.read_message_history):
            log.info("not telling message %s about its cut files: no permission to reply in #%s", message_id, channel)
            return
        reference = discord.MessageReference(
            message_id=message_id, channel_id=channel_id, guild_id=channel.guild.id, fail_if_not_exists=False
        )
        try:
            await channel.send(
                text, reference=reference, mention_author=False, allowed_mentions=discord.AllowedMentions.none()
            )
        except discord.HTTPException as e:
            log.warning("could not tell message %s about its cut files: %s", message_id, e)
