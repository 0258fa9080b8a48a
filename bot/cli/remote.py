"""Asking the running bot: when its lock holds the data directory, the read-only commands go over its admin socket
(`bot.admin_socket`) and print what they would print here; the writing ones are refused in one line."""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import sys
from pathlib import Path
from typing import Any

from bot import readonly
from bot.admin_socket import SOCKET_NAME
from bot.cli.lookups import found_nothing, hint, show
from bot.config import Settings
from bot.errors import BotError
from memory import StoreLockedError


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket (the standard library speaks it over TCP only)."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("memorybot", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        """Connect to the socket file instead of a host."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self._path))
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _call(path: Path, method: str, route: str, body: object | None, timeout: float) -> tuple[int, dict[str, Any]]:
    connection = _UnixConnection(path, timeout)
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, route, body=payload, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def through_running_bot(
    args: argparse.Namespace, settings: Settings, request: readonly.Request | None, locked: StoreLockedError
) -> int:
    """Answer a lookup through the running bot, or refuse a writing command naming what to do instead.

    Raises:
        StoreLockedError: no bot answers on the data directory's socket (another CLI process holds the lock).
        BotError: a writing command, a socket of another user, or the bot's own error (one line).
    """
    data_dir = Path(settings.storage.data_dir)
    path = data_dir / SOCKET_NAME
    try:
        _, hello = _call(path, "GET", "/", None, 10.0)
    except PermissionError as e:
        msg = f"the running bot's admin socket {path} belongs to another user: run memorybot as the bot's user"
        raise BotError(msg) from e
    except (OSError, ValueError, http.client.HTTPException):  # no bot listens (a CLI holds the lock, or a stale file)
        raise locked from None
    pid = hello.get("pid", "?")
    if request is None:
        command = "search --batch" if args.command == "search" else args.command
        msg = (
            f"`memorybot {command}` cannot run while the bot (pid {pid}) holds {data_dir}: "
            + ("use the bot's Discord commands instead, or stop the bot first" if args.command in _WRITES
               else "stop the bot first, or run it on a copy of the data directory")
        )  # fmt: skip
        raise BotError(msg)
    # An answer may wait on the language model twice (query rewriting, then the answer), each with its retries.
    timeout = 60.0 + 2 * settings.llm.timeout_seconds * (settings.llm.max_retries + 1)
    try:
        status, reply = _call(path, "POST", f"/{args.command}", request, timeout)
    except (OSError, ValueError, http.client.HTTPException) as e:
        msg = f"the running bot (pid {pid}) did not answer over {path}: {type(e).__name__}: {e}"
        raise BotError(msg) from e
    if status != 200:
        raise BotError(str(reply.get("error", f"the running bot answered HTTP {status}")))
    print(f"(answered by the running bot, pid {pid})", file=sys.stderr)
    show(args, reply["result"])
    if found_nothing(args, reply["result"]):
        status, held = _call(path, "POST", "/stats", {}, timeout)
        if status == 200:
            hint(args, held["result"])
    return 0


_WRITES = frozenset({"ingest", "import-chat", "forget", "reindex"})
