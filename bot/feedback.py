"""👍/👎 under each answer: buttons that survive restarts (their custom id names the logged question) and record
the member's verdict for `/memory gaps` and evaluation sets."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.client import MemoryBot

VERDICTS = {"up": ("👍", "Helpful"), "down": ("👎", "Not helpful")}


class VerdictButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"memorybot:verdict:(?P<question>[0-9a-f]{16}):(?P<verdict>up|down)",
):
    """One of the two buttons; discord.py rebuilds it from its custom id on every click, restart or not."""

    def __init__(self, question_id: str, verdict: str) -> None:
        emoji, label = VERDICTS[verdict]
        super().__init__(
            discord.ui.Button(
                emoji=emoji, label=label, style=discord.ButtonStyle.secondary,
                custom_id=f"memorybot:verdict:{question_id}:{verdict}",
            )
        )  # fmt: skip
        self.question_id = question_id
        self.verdict = verdict

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> VerdictButton:
        """The button a click came from."""
        return cls(match["question"], match["verdict"])

    async def callback(self, interaction: discord.Interaction) -> None:
        """Record the verdict (a member who opted out is thanked, and nothing is kept)."""
        bot: MemoryBot = interaction.client  # type: ignore[assignment]
        member = str(interaction.user.id)
        if await bot.memory.opt_outs.since(member) is not None:
            text = "Thanks. You opted out of being remembered, so your vote is not kept."
        elif await bot.memory.questions.vote(self.question_id, member, self.verdict) is None:
            text = "That answer is no longer on record, so there is nothing to vote on."
        else:
            text = "Thanks, noted: it helps the admins see where memory falls short."
        await interaction.response.send_message(text, ephemeral=True)


def verdict_buttons(question_id: str) -> discord.ui.View:
    """The two buttons for an answer to a logged question."""
    view = discord.ui.View(timeout=None)
    for verdict in VERDICTS:
        view.add_item(VerdictButton(question_id, verdict))
    return view
