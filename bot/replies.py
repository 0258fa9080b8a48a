"""Where an answer is written: created by the first write, edited in place as it streams, continued in more
messages when long. One shape for the three places an answer goes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import discord


class Editable(Protocol):
    """A sent message that can be edited (a channel message, a webhook or interaction message)."""

    async def edit(self, *, content: str) -> object: ...


class Reply:
    """The first `write` sends (with `first`), later ones edit what it sent; `add` sends one more part."""

    def __init__(self, first: Callable[[str], Awaitable[Editable]], add: Callable[[str], Awaitable[object]]) -> None:
        self._first = first
        self._add = add
        self.message: Editable | None = None

    async def write(self, text: str) -> None:
        """Show `text` as the answer so far (or the whole answer)."""
        if self.message is None:
            self.message = await self._first(text)
        else:
            await self.message.edit(content=text)

    async def add(self, text: str) -> None:
        """Continue the answer in another message."""
        await self._add(text)


def original_response(interaction: discord.Interaction, *, ephemeral: bool) -> Reply:
    """The deferred response of a slash command (edited), continued in followups."""

    async def first(text: str) -> Editable:
        return await interaction.edit_original_response(content=text)

    return Reply(first, lambda text: interaction.followup.send(text, ephemeral=ephemeral, suppress_embeds=True))


def private_followup(interaction: discord.Interaction) -> Reply:
    """An ephemeral followup: for an answer that must not be shown to the whole channel."""

    async def first(text: str) -> Editable:
        return await interaction.followup.send(text, ephemeral=True, suppress_embeds=True, wait=True)

    return Reply(first, lambda text: interaction.followup.send(text, ephemeral=True, suppress_embeds=True))


def channel_reply(question: discord.Message) -> Reply:
    """A reply to a member's message (a mention, or a reply to one of the bot's answers)."""

    async def first(text: str) -> Editable:
        return await question.reply(text, mention_author=False, suppress_embeds=True)

    return Reply(first, lambda text: question.channel.send(text, suppress_embeds=True))
