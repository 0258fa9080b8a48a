"""Where an answer is written: created by the first write, edited in place as it streams, continued in more
messages when long. One shape for the three places an answer goes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import discord

View = discord.ui.View | None


class Editable(Protocol):
    """A sent message that can be edited (a channel message, a webhook or interaction message)."""

    async def edit(self, *, content: str, view: discord.ui.View = ...) -> object: ...


class Reply:
    """The first `write` sends (with `first`), later ones edit what it sent; `add` sends one more part. A `view`
    (buttons) goes with the part it is given to."""

    def __init__(
        self, first: Callable[[str, View], Awaitable[Editable]], add: Callable[[str, View], Awaitable[object]]
    ) -> None:
        self._first = first
        self._add = add
        self.message: Editable | None = None

    async def write(self, text: str, view: View = None) -> None:
        """Show `text` as the answer so far (or the whole answer)."""
        if self.message is None:
            self.message = await self._first(text, view)
        elif view is not None:
            await self.message.edit(content=text, view=view)
        else:
            await self.message.edit(content=text)

    async def add(self, text: str, view: View = None) -> None:
        """Continue the answer in another message."""
        await self._add(text, view)

    async def finish(self, parts: list[str], view: View = None) -> None:
        """The final answer in its parts, the view under the last one."""
        for index, part in enumerate(parts):
            shown = view if index == len(parts) - 1 else None
            await (self.write(part, shown) if index == 0 else self.add(part, shown))


def original_response(interaction: discord.Interaction, *, ephemeral: bool) -> Reply:
    """The deferred response of a slash command (edited), continued in followups."""

    async def first(text: str, view: View) -> Editable:
        if view is None:
            return await interaction.edit_original_response(content=text)
        return await interaction.edit_original_response(content=text, view=view)

    return Reply(first, lambda text, view: _followup(interaction, text, view, ephemeral=ephemeral))


def private_followup(interaction: discord.Interaction) -> Reply:
    """An ephemeral followup: for an answer that must not be shown to the whole channel."""

    async def first(text: str, view: View) -> Editable:
        return await _followup(interaction, text, view, ephemeral=True)

    return Reply(first, lambda text, view: _followup(interaction, text, view, ephemeral=True))


def channel_reply(question: discord.Message) -> Reply:
    """A reply to a member's message (a mention, or a reply to one of the bot's answers)."""

    async def first(text: str, view: View) -> Editable:
        if view is None:
            return await question.reply(text, mention_author=False, suppress_embeds=True)
        return await question.reply(text, mention_author=False, suppress_embeds=True, view=view)

    async def add(text: str, view: View) -> object:
        if view is None:
            return await question.channel.send(text, suppress_embeds=True)
        return await question.channel.send(text, suppress_embeds=True, view=view)

    return Reply(first, add)


async def _followup(
    interaction: discord.Interaction, text: str, view: View, *, ephemeral: bool
) -> discord.WebhookMessage:
    if view is None:
        return await interaction.followup.send(text, ephemeral=ephemeral, suppress_embeds=True, wait=True)
    return await interaction.followup.send(text, ephemeral=ephemeral, suppress_embeds=True, wait=True, view=view)
