"""The confirmation asked before a whole server's memory is erased (`/memory forget everything:True`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.render import plural

if TYPE_CHECKING:
    from bot.client import MemoryBot

CONFIRM_ID = "memory-forget-everything:confirm"
CANCEL_ID = "memory-forget-everything:cancel"
CONFIRM_SECONDS = 60.0


class ConfirmEverything(discord.ui.View):
    """Confirm or cancel erasing a whole server's memory; only the admin who asked may click, for 60 seconds."""

    def __init__(self, bot: MemoryBot, invoker_id: int, guild_id: str) -> None:
        super().__init__(timeout=CONFIRM_SECONDS)
        self.bot = bot
        self.invoker_id = invoker_id
        self.guild_id = guild_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Another member (even an admin) who sees the message must not confirm someone else's erasure."""
        if interaction.user.id != self.invoker_id:
            await interaction.response.send_message("Only the admin who asked can confirm this.", ephemeral=True)
            return False
        return True

    @discord.ui.button(label="Erase everything", style=discord.ButtonStyle.danger, custom_id=CONFIRM_ID)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        """Erase the whole server's memory."""
        self.stop()
        await interaction.response.edit_message(content="Erasing this server's memory…", view=None)
        await self.bot.ingestion.idle()  # queued messages must not come back after the erasure
        report = await self.bot.memory.forget(self.guild_id)
        await interaction.edit_original_response(
            content=f"Forgot everything of this server: erased {plural(report.messages, 'message')}, "
            f"{plural(report.files, 'file')} and {plural(report.chunks, 'passage')}."
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=CANCEL_ID)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        """Leave memory as it is."""
        self.stop()
        await interaction.response.edit_message(content="Cancelled: nothing was erased.", view=None)

    async def ask(self, interaction: discord.Interaction) -> None:
        """Show the question, privately, to the admin who asked."""
        await interaction.response.send_message(
            "This erases **everything** memorybot remembers of this server, for good. Confirm within "
            f"{int(CONFIRM_SECONDS)} seconds.",
            view=self,
            ephemeral=True,
        )
