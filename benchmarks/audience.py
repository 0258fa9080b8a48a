"""Times the public-answer audience check (`bot.access.audience_safe`) in guilds of 1k, 10k and 100k members
against the fake Discord, with the event loop's lag while it runs, next to the check as it was (on the loop).

    python benchmarks/audience.py [--sizes 1000 10000 100000] [--runs 5]

The guild is built like a large community server: 30 cosmetic roles (no permissions, no overwrites; 0-4 per
member), a staff role held by 5% of members that alone reads #staff, and a handful of members with their own
overwrite. The real discord.py client gets the member list in GUILD_MEMBERS_CHUNK pages of 1,000, as from Discord.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import discord  # noqa: E402

from bot.access import audience_safe, can_read  # noqa: E402
from bot.client import make_intents  # noqa: E402
from tests.fakediscord import VIEW_CHANNEL, FakeDiscord, point_discord_py_at  # noqa: E402

COSMETIC_ROLES = 30


def build(fake: FakeDiscord, members: int, rng: random.Random) -> dict[str, str]:
    """The guild: #general for all, #staff for the staff role, #lounge with a few members' own overwrites."""
    ids = {"owner": fake.add_user("owner")}
    guild = ids["guild"] = fake.add_guild("Big", owner_id=ids["owner"])
    staff = ids["staff_role"] = fake.add_role(guild, "staff", 0)
    cosmetic = [fake.add_role(guild, f"colour-{n}", 0) for n in range(COSMETIC_ROLES)]
    people = []
    for n in range(members - 2):  # the owner and the bot are members too
        user = fake.add_user(f"member{n}")
        roles = rng.sample(cosmetic, rng.randint(0, 4)) + ([staff] if rng.random() < 0.05 else [])
        fake.add_member(guild, user, roles=roles)
        people.append(user)
    ids["general"] = fake.add_channel(guild, "general")
    deny_all = {"id": guild, "type": 0, "allow": 0, "deny": VIEW_CHANNEL}
    bot_in = {"id": fake.bot_user_id, "type": 1, "allow": VIEW_CHANNEL, "deny": 0}
    ids["staff"] = fake.add_channel(
        guild, "staff", overwrites=[deny_all, {"id": staff, "type": 0, "allow": VIEW_CHANNEL, "deny": 0}, bot_in]
    )
    own = [{"id": user, "type": 1, "allow": VIEW_CHANNEL, "deny": 0} for user in rng.sample(people, 20)]
    ids["lounge"] = fake.add_channel(guild, "lounge", overwrites=[deny_all, bot_in, *own])
    return ids


def reference_check(guild: discord.Guild, channel: discord.abc.GuildChannel, channel_ids: list[str]) -> list[str]:
    """The audience check as it was before (main at 78fb2f6): every member grouped by all its roles, on the loop."""
    named = {target.id for c in guild.channels for target in c.overwrites if isinstance(target, discord.Member)}
    representatives: dict[tuple[object, ...], discord.Member] = {}
    for member in guild.members:
        key = (tuple(sorted(r.id for r in member.roles)), member.id if member.id in named else 0)
        representatives.setdefault(key, member)
    readers = [m for m in representatives.values() if can_read(m, channel)]
    targets = [guild.get_channel(int(c)) for c in channel_ids]
    return [c for c, t in zip(channel_ids, targets, strict=True) if t and all(can_read(m, t) for m in readers)]


async def timed(work: Callable[[], Awaitable[object]], runs: int) -> tuple[float, list[float], object]:
    """The median time of `runs` calls (ms) and the event loop's lags meanwhile (ms), sampled every 1 ms."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - asked - 0.001)

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.01)
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - start)
        await asyncio.sleep(0.005)  # the watcher samples between runs too
    stop.set()
    await watcher
    return statistics.median(times) * 1000, [lag * 1000 for lag in lags], result


def lag_figures(lags: list[float]) -> str:
    """The p99 and worst event-loop lag, ms."""
    ordered = sorted(lags)
    return f"{ordered[int(0.99 * (len(ordered) - 1))]:>7.1f} {ordered[-1]:>7.1f}"


async def measure(members: int, runs: int) -> str:
    fake = FakeDiscord()
    await fake.start()
    try:
        ids = build(fake, members, random.Random(members))
        point_discord_py_at(fake)
        client = discord.Client(intents=make_intents(), guild_ready_timeout=0.05, max_messages=None)
        await client.login(fake.token)
        task = asyncio.create_task(client.connect())
        await asyncio.wait_for(client.wait_until_ready(), 600)
        guild = client.get_guild(int(ids["guild"]))
        general = guild.get_channel(int(ids["general"])) if guild is not None else None
        if guild is None or not guild.chunked or len(guild.members) != members or general is None:
            msg = f"the client's member list is incomplete: {guild and len(guild.members)} of {members}"
            raise RuntimeError(msg)
        targets = [ids["general"], ids["staff"], ids["lounge"]]
        check_ms, check_lag, safe = await timed(lambda: audience_safe(guild, general, targets), runs)

        async def before() -> list[str]:
            return reference_check(guild, general, targets)

        ref_ms, ref_lag, ref_safe = await timed(before, runs)
        await client.close()
        await asyncio.gather(task, return_exceptions=True)
        same = safe == ref_safe == [ids["general"]]
        now, before = f"{check_ms:>9.1f} {lag_figures(check_lag)}", f"{ref_ms:>9.1f} {lag_figures(ref_lag)}"
        return f"{members:>8,} {now} | {before} | {same}"
    finally:
        await fake.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'':>8} {'now, in a worker thread':^25} | {'before, on the loop':^25} | same")
    columns = f"{'check ms':>9} {'lag p99':>7} {'max':>7}"
    print(f"{'members':>8} {columns} | {columns} | result")
    for size in args.sizes:
        print(await measure(size, args.runs))


if __name__ == "__main__":
    asyncio.run(main())
