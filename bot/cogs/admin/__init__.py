"""The `/memory` command group for server admins, as an extension: a thin cog (`_cog`) over pure text (`_text`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.cogs.admin._cog import MemoryAdmin

if TYPE_CHECKING:
    from bot.client import MemoryBot


async def setup(bot: MemoryBot) -> None:
    """Add the `/memory` group (discord.py calls this when the extension is loaded)."""
    await bot.add_cog(MemoryAdmin(bot))
