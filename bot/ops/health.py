"""What `/healthz` says: whether the gateway is connected and the stores answer, as a status code and a JSON body."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

from discord.ext import commands

from memory import stores_reachable

if TYPE_CHECKING:
    from bot.client import MemoryBot

STORE_CHECK_SECONDS = 5.0  # an unresponsive Chroma server makes the check fail, not hang (probes time out too)


def connections(bot: MemoryBot) -> dict[str, dict[str, Any]]:
    """Each gateway connection by shard ("0" for an unsharded bot): whether it is open, and its heartbeat latency.
    A sharded bot lists every shard it runs, also one not connected yet."""
    if not isinstance(bot, commands.AutoShardedBot):
        ws = bot.ws
        return {"0": _connection(ws is not None and ws.open, bot.latency)}
    running = bot.shards
    found = {}
    for shard_id in bot.shards_run():
        shard = running.get(shard_id)
        if shard is None:
            found[str(shard_id)] = _connection(False, None)
        else:
            found[str(shard_id)] = _connection(not shard.is_closed(), shard.latency)
    return found


def _connection(connected: bool, latency: float | None) -> dict[str, Any]:
    known = latency is not None and not math.isnan(latency)
    return {"connected": connected, "latency_seconds": round(latency, 4) if known and latency is not None else None}


def gateway_connected(bot: MemoryBot, shards: dict[str, dict[str, Any]] | None = None) -> bool:
    """Ready, not closing, and every gateway connection open (false while discord.py reconnects one)."""
    if not bot.is_ready() or bot.is_closed():
        return False
    shards = connections(bot) if shards is None else shards
    return bool(shards) and all(shard["connected"] for shard in shards.values())


async def health(bot: MemoryBot | None) -> tuple[int, dict[str, Any]]:
    """200 and `status: ok` when every gateway connection is up and both stores answer; 503 otherwise (`starting`
    before the bot exists, `unavailable` after), with what was found, per shard too."""
    if bot is None:
        return 503, {"status": "starting", "gateway": {"connected": False}}
    shards = connections(bot)
    connected = gateway_connected(bot, shards)
    try:
        stores = await asyncio.wait_for(asyncio.to_thread(stores_reachable, bot.memory.sync), STORE_CHECK_SECONDS)
    except TimeoutError:
        stores = {"records": "no answer", "vectors": "no answer"}
    healthy = connected and all(value == "ok" for value in stores.values())
    latency = bot.latency  # a sharded bot's is the mean of its shards'
    body: dict[str, Any] = {
        "status": "ok" if healthy else "unavailable",
        "gateway": {"connected": connected, "latency_seconds": None if math.isnan(latency) else round(latency, 4)},
        "stores": stores,
        "guilds": len(bot.guilds),
        "shards": shards,
    }
    if not bot.sharded:
        body["shard"] = 0  # the one connection's (kept for probes written before sharding)
    return (200 if healthy else 503), body
