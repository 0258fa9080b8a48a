"""`memorybot doctor`: the configuration, the Discord token (and with --discord, the login and intents), then the
memory library's checks; one line each, every failure followed by its fix, exit 1 on any failure."""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import re
from collections.abc import Iterator

import httpx

from bot.cli.output import print_json
from bot.config import DiscordSettings, Settings, config_file, load_config
from memory import ConfigError, HealthCheck, health_checks

TIMEOUT_SECONDS = 10.0
PORTAL_TOKEN = "Discord developer portal -> Bot -> Reset Token"  # noqa: S105  (where to get one, not a token)
PORTAL_INTENTS = (
    "Discord developer portal -> your application -> Bot -> Privileged Gateway Intents: switch on "
    "MESSAGE CONTENT INTENT and SERVER MEMBERS INTENT"
)
# The application's flags (Discord's "Application flags"): each intent is on when either its full flag (verified
# bots) or its _LIMITED flag (bots in fewer than 100 servers, switched on in the portal) is set.
MESSAGE_CONTENT_FLAGS = 1 << 18 | 1 << 19
MEMBERS_FLAGS = 1 << 14 | 1 << 15
_TOKEN_PART = re.compile(r"[A-Za-z0-9_-]+")


def doctor(args: argparse.Namespace) -> int:
    """Run every check, printing each as soon as it is known; 1 if any failed, else 0."""
    checks: list[HealthCheck] = []
    for check in _checks(args):
        checks.append(check)
        if not args.json:
            _print(check)
    failed = sum(c.status == "FAIL" for c in checks)
    if args.json:
        fields = ("name", "status", "detail", "fix")
        print_json({"ok": not failed, "checks": [{f: getattr(c, f) for f in fields} for c in checks]})
    else:
        warned = sum(c.status == "warn" for c in checks)
        summary = f"{failed} of {len(checks)} checks failed" if failed else f"all {len(checks)} checks passed"
        summary += f", {warned} warnings" if warned else ""
        print(summary + ("" if args.discord else " (Discord login not tried: add --discord)"))
    return 1 if failed else 0


def _print(check: HealthCheck) -> None:
    print(f"{check.status:<4}  {check.name}: {check.detail}", flush=True)
    if check.fix:
        print(f"      fix: {check.fix}", flush=True)


def _checks(args: argparse.Namespace) -> Iterator[HealthCheck]:
    path = config_file(args.config)
    try:
        settings = load_config(path, data_dir=args.data_dir)
    except ConfigError as e:
        detail = str(e).replace("\n", "; ")
        fix = f"correct {path} as the message says" if path else "check the --config option"
        yield HealthCheck.fail("config", detail, fix)
        yield HealthCheck.warn("other checks", "not run: they need a valid configuration")
        return
    yield HealthCheck.ok("config", f"{path.resolve()} is valid" if path else "no config file: the defaults are used")
    token = os.environ.get(settings.discord.token_env, "").strip()
    yield _token(settings.discord, token)
    if args.discord:
        try:
            yield from _discord(settings, token)
        except ValueError as e:  # a server at discord.api_base_url that does not speak Discord's JSON
            fix = "point discord.api_base_url at Discord's API (https://discord.com/api/v10)"
            yield HealthCheck.fail("discord login", f"the answer is not Discord's JSON ({e})", fix)
    yield from health_checks(settings)


def _token(discord: DiscordSettings, token: str) -> HealthCheck:
    """Set, and shaped like a bot token: base64 of the bot's user id, a timestamp and an HMAC, dot-separated."""
    name, env = "discord token", discord.token_env
    if not token:
        return HealthCheck.fail(name, f"{env} is not set", f"set {env} ({PORTAL_TOKEN})")
    if token.lower().startswith("bot "):
        return HealthCheck.fail(name, f"{env} starts with 'Bot '", f"set {env} to the token alone, without 'Bot '")
    parts = token.split(".")
    user_id = _user_id(parts[0]) if len(parts) == 3 and all(_TOKEN_PART.fullmatch(p) for p in parts) else None
    if user_id is None:
        detail = f"{env} is not shaped like a bot token (three dot-separated base64 parts)"
        fix = f"copy the bot token again into {env} (not the client secret or public key): {PORTAL_TOKEN}"
        return HealthCheck.fail(name, detail, fix)
    return HealthCheck.ok(name, f"{env} is set and shaped like the token of bot user {user_id}")


def _user_id(part: str) -> str | None:
    try:
        decoded = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if decoded.isdigit() else None


def _discord(settings: Settings, token: str) -> Iterator[HealthCheck]:
    """Log in through the REST API (GET /users/@me), then read the application's intent flags."""
    if not token:
        yield HealthCheck.warn("discord login", f"not tried: {settings.discord.token_env} is not set")
        return
    base = settings.discord.api_base_url.rstrip("/")
    env = settings.discord.token_env
    with httpx.Client(timeout=TIMEOUT_SECONDS, headers={"Authorization": f"Bot {token}"}) as client:
        me = _get(client, f"{base}/users/@me")
        if isinstance(me, HealthCheck):
            yield me
            return
        if me.status_code == 401:
            yield HealthCheck.fail("discord login", f"Discord refused the token in {env} (HTTP 401)", PORTAL_TOKEN)
            return
        if me.status_code != 200:
            yield HealthCheck.fail("discord login", f"GET {base}/users/@me answered HTTP {me.status_code}", "retry")
            return
        user = me.json()
        yield HealthCheck.ok("discord login", f"logged in as {user.get('username')} ({user.get('id')})")
        app = _get(client, f"{base}/oauth2/applications/@me")
        if isinstance(app, HealthCheck):
            yield app
            return
        if app.status_code != 200:
            detail = f"GET {base}/oauth2/applications/@me answered HTTP {app.status_code}"
            yield HealthCheck.fail("discord intents", detail, "retry")
            return
        flags = int(app.json().get("flags") or 0)
    wanted = (("MESSAGE CONTENT", MESSAGE_CONTENT_FLAGS), ("SERVER MEMBERS", MEMBERS_FLAGS))
    off = [intent for intent, bits in wanted if not flags & bits]
    if off:
        detail = f"{' and '.join(off)} INTENT off for this application"
        yield HealthCheck.fail("discord intents", detail, PORTAL_INTENTS)
    else:
        yield HealthCheck.ok("discord intents", "message content and server members intents are on")


def _get(client: httpx.Client, url: str) -> httpx.Response | HealthCheck:
    try:
        return client.get(url)
    except httpx.HTTPError as e:
        fix = "check the network, and discord.api_base_url if it is not Discord's"
        return HealthCheck.fail("discord login", f"GET {url} failed: {type(e).__name__}: {e}", fix)
