"""What `/healthz` says: whether the gateway is connected and the stores answer, as a status code and a JSON body."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

from memory import stores_reachable

if TYPE_CHECKING:
    from bot.client import MemoryBot

STORE_CHECK_SECONDS = 5.0  # an unresponsive Chroma server makes the check fail, not hang (probes time out too)


def gateway_connected(bot: MemoryBot) -> bool:
    """Ready, not closing, and its gateway connection open (false while discord.py reconnects)."""
    if not bot.is_ready() or bot.is_closed():
        return False
    ws = bot.ws
    return ws is not None and ws.open


async def health(bot: MemoryBot | None) -> tuple[int, dict[str, Any]]:
    """200 and `status: ok` when the gateway is connected and both stores answer; 503 otherwise (`starting` before
    the bot exists, `unavailable` after), with what was found."""
    if bot is None:
        return 503, {"status": "starting", "gateway": {"connected": False}}
    connected = gateway_connected(bot)
    try:
        stores = await asyncio.wait_for(asyncio.to_thread(stores_reachable, bot.memory.sync), STORE_CHECK_SECONDS)
    except TimeoutError:
        stores = {"records": "no answer", "vectors": "no answer"}
    healthy = connected and all(value == "ok" for value in stores.values())
    latency = bot.latency
    body = {
        "status": "ok" if healthy else "unavailable",
        "gateway": {"connected": connected, "latency_seconds": None if math.isnan(latency) else round(latency, 4)},
        "stores": stores,
        "guilds": len(bot.guilds),
        "shard": bot.shard_id or 0,
    }
    return (200 if healthy else 503), body
