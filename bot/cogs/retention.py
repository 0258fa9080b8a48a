"""Retention: every hour, memory older than each server's `retention_days` is erased (0 keeps it forever)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

from memory import ForgetReport

if TYPE_CHECKING:
    from bot.client import MemoryBot

log = logging.getLogger(__name__)


class Retention(commands.Cog):
    """Owns the hourly expiry loop: started with the cog, stopped when it is unloaded."""

    def __init__(self, bot: MemoryBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Start the loop; its first run is now."""
        self.hourly.start()

    async def cog_unload(self) -> None:
        """Stop the loop."""
        self.hourly.cancel()

    async def expire(self) -> ForgetReport:
        """Erase what is older than each guild's retention (off the event loop), in the guilds this process owns."""
        report = await self.bot.memory.expire(guilds=self.bot.ownership)
        if report.messages or report.files:
            log.info("retention expired %d messages and %d files", report.messages, report.files)
        return report

    @tasks.loop(hours=1)
    async def hourly(self) -> None:
        """Hourly retention expiry; a failure is logged and retried next hour rather than ending the loop."""
        try:
            await self.expire()
        except Exception:
            log.exception("retention expiry failed")


async def setup(bot: MemoryBot) -> None:
    """Add the retention cog (discord.py calls this when the extension is loaded)."""
    await bot.add_cog(Retention(bot))
