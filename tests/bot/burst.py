"""The burst-kill-restart sequence of issue 12 against the real bot in its own process: one message remembered, then
a burst sent to the channel, the process SIGKILLed once part of it was delivered, the rest sent while it is down, a
restart, live messages sent the moment it is ready; then what SQLite holds. Used by its test and by
`benchmarks/kill9.py --burst`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.bot.conftest import seed
from tests.conftest import REPO
from tests.fakediscord import FakeDiscord

# The bot as `memorybot run` starts it (run_bot: index check, ready line, SIGTERM drains), with the hashing embedder.
CHILD = """
import asyncio, sys
from pathlib import Path
from bot.config import load_config
from bot.run import run_bot
from tests.fakes import HashEmbeddings
asyncio.run(run_bot(load_config(Path(sys.argv[1])), embeddings=HashEmbeddings()))
"""
READY_SECONDS = 120  # a start on a busy machine: the index check runs in a child process of its own
STORED_SECONDS = 120


@dataclass
class BurstResult:
    """What was sent to the channel, what memory held at the kill and at the end, and the history the restart read."""

    sent: list[str]
    remembered: set[str]
    stored_at_kill: int
    mark_at_kill: str | None
    history_queries: list[dict[str, str]] = field(default_factory=list)

    @property
    def lost(self) -> list[str]:
        """Sent but not remembered, in the order sent."""
        return [i for i in self.sent if i not in self.remembered]


def held(data_dir: Path, channel_id: str) -> tuple[set[str], str | None]:
    """The message ids SQLite holds for a channel and its mark, read without the data directory's lock (WAL)."""
    db = sqlite3.connect(f"file:{data_dir / 'memory.sqlite3'}?mode=ro", uri=True)
    try:
        ids = {str(r[0]) for r in db.execute("SELECT message_id FROM messages WHERE channel_id = ?", (channel_id,))}
        row = db.execute("SELECT newest_id FROM channel_marks WHERE channel_id = ?", (channel_id,)).fetchone()
    finally:
        db.close()
    return ids, None if row is None else str(row[0])


async def start_bot(config: Path, token: str, *, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """The bot process, once it says it is ready (its reconciliation has just started); `env` adds variables."""
    env = {**os.environ, "DISCORD_TOKEN": token, "HF_HUB_OFFLINE": "1", **(env or {})}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(config), cwd=REPO, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    seen = []
    async with asyncio.timeout(READY_SECONDS):
        while True:
            line = (await process.stderr.readline()).decode(errors="replace")
            seen.append(line)
            if not line:
                raise RuntimeError("the bot exited before it was ready:\n" + "".join(seen[-20:]))
            if line.startswith("memorybot ready"):
                break
    asyncio.get_running_loop().create_task(_drain(process))  # keep its stderr pipe from filling up
    return process


async def _drain(process: asyncio.subprocess.Process) -> None:
    assert process.stderr is not None
    while await process.stderr.readline():
        pass


async def burst_kill_restart(
    workdir: Path,
    *,
    burst: int = 300,
    kill_after: int = 149,
    stored_first: int = 100,
    live: int = 50,
    window: int = 200,
    max_missed: int = 5000,
) -> BurstResult:
    """Run the sequence once in `workdir` (a fresh fake Discord and data directory) and report. The first
    `stored_first` messages of the burst are stored before the rest (up to `kill_after`) is sent and the bot killed
    at once, so that it dies with a mark past stored messages and delivered ones not yet stored."""
    fake = FakeDiscord()
    await fake.start()
    processes: list[asyncio.subprocess.Process] = []
    try:
        ids = seed(fake)
        data_dir, config = workdir / "data", workdir / "config.yaml"
        discord = {
            "api_base_url": fake.api_base, "gateway_url": fake.gateway_url, "enabled_channels": [ids["general"]],
            "reconcile_messages": window, "reconcile_max_missed": max_missed,
        }  # fmt: skip
        config.write_text(yaml.safe_dump({"discord": discord, "storage": {"data_dir": str(data_dir)}}))
        sent: list[str] = []

        async def say(count: int, what: str) -> None:
            for _ in range(count):
                n = len(sent)
                sent.append((await fake.user_sends_message(ids["general"], ids["bob"], f"{what} {n} W{n}"))["id"])

        async def stored(count: int) -> None:
            async with asyncio.timeout(STORED_SECONDS):
                while len(held(data_dir, ids["general"])[0]) < count:
                    await asyncio.sleep(0.05)  # polling another process's SQLite: there is no event to wait on

        processes.append(await start_bot(config, fake.token))
        await say(1, "remembered before the burst")  # the channel holds memory (and so a mark) already
        await stored(1)
        await say(stored_first, "burst")
        await stored(len(sent))
        await say(kill_after - stored_first, "burst")
        processes[-1].kill()  # SIGKILL: whatever it received and had not stored yet is in no file
        await processes[-1].wait()
        at_kill, mark = held(data_dir, ids["general"])
        await say(burst - kill_after, "sent while down")
        first_request = len(fake.requests)

        processes.append(await start_bot(config, fake.token))
        await say(live, "live right after ready")
        with contextlib.suppress(TimeoutError):  # what is still missing then is reported as lost
            async with asyncio.timeout(STORED_SECONDS):
                while not set(sent) <= held(data_dir, ids["general"])[0]:
                    await asyncio.sleep(0.2)  # polling another process's SQLite: there is no event to wait on
        processes[-1].terminate()
        assert await asyncio.wait_for(processes[-1].wait(), 60) == 0
        path = f"/channels/{ids['general']}/messages"
        queries = [r.query for r in fake.requests[first_request:] if r.method == "GET" and r.path == path]
        return BurstResult(sent, held(data_dir, ids["general"])[0], len(at_kill), mark, queries)
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                with contextlib.suppress(ProcessLookupError):
                    await process.wait()
        await fake.stop()
