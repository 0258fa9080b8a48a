"""`memorybot run` with the ops endpoint on, as a real process against the fake Discord: /healthz answers 503 while
it starts and 200 with a JSON body once connected, the image's HEALTHCHECK command agrees, and the logs are JSON."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys

import aiohttp

from tests.bot.conftest import seed, wait_until
from tests.conftest import REPO
from tests.fakediscord import FakeDiscord

LOGIN_HELD_SECONDS = 3.0  # Discord rate-limits the login this long: the bot is surely not connected meanwhile


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthcheck_command() -> list[str]:
    """The Dockerfile's HEALTHCHECK command, as Docker would run it."""
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    return json.loads(re.search(r"^\s+CMD (\[.+\])$", dockerfile.split("HEALTHCHECK", 1)[1], re.MULTILINE).group(1))


async def test_run_answers_healthz_503_while_starting_then_200_and_logs_json(tmp_path):
    """The first /healthz answer is 503 `starting` (the login is held by a rate limit); once the gateway is up it is
    200 with the gateway connected and both stores ok; the HEALTHCHECK command exits 0 then; stderr is JSON lines."""
    fake = FakeDiscord()
    await fake.start()
    ids = seed(fake)
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"discord:\n  api_base_url: {fake.api_base}\n  gateway_url: {fake.gateway_url}\n"
        f"  enabled_channels: ['{ids['general']}']\n"
        f"storage:\n  data_dir: {tmp_path / 'data'}\n"
        f"ops:\n  http_host: 127.0.0.1\n  http_port: {port}\n  log_format: json\n",
        encoding="utf-8",
    )
    fake.fail_next("GET", r"^/users/@me$", status=429, retry_after=LOGIN_HELD_SECONDS)
    env = {**os.environ, "DISCORD_TOKEN": fake.token, "HF_HUB_OFFLINE": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "-v", "--config", str(config), "run", cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    answers: list[tuple[int, dict]] = []

    async def ask_health() -> bool:
        try:
            async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as reply:
                answers.append((reply.status, await reply.json()))
        except aiohttp.ClientConnectionError:
            return False  # not listening yet
        return answers[-1][0] == 200

    try:
        deadline = asyncio.get_running_loop().time() + 120
        while not await ask_health():
            assert process.returncode is None, "memorybot run exited"
            assert asyncio.get_running_loop().time() < deadline, f"never healthy: {answers[-3:]}"
            await asyncio.sleep(0.05)
        status, body = answers[0]
        assert (status, body["status"], body["gateway"]["connected"]) == (503, "starting", False)
        status, body = answers[-1]
        assert body["status"] == "ok" and body["gateway"]["connected"] is True
        assert body["stores"] == {"records": "ok", "vectors": "ok"} and body["guilds"] == 2

        command = healthcheck_command()
        command[command.index("--config") + 1] = str(config)
        assert command[:3] == ["python", "-m", "bot.ops.probe"]
        probe = await asyncio.create_subprocess_exec(
            sys.executable, *command[1:], cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await asyncio.wait_for(probe.communicate(), 60)
        assert probe.returncode == 0, out
        assert out.decode().startswith(f"http://127.0.0.1:{port}/healthz: 200 ")

        await wait_until(lambda: fake.commands.get(ids["guild"]), 60)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        stderr = (await process.stderr.read()).decode(errors="replace") if process.stderr else ""
        await fake.stop()
    lines = [line for line in stderr.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    messages = [e["message"] for e in entries]
    assert any(m.startswith("memorybot ready: 2 guilds, 1 remembered channels") for m in messages)
    assert any(m == "stopping: finishing queued work" for m in messages)  # -v: INFO records too
