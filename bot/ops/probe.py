"""The container health check: `python -m bot.ops.probe [--config FILE]` exits 0 when the running bot's `/healthz`
answers 200, else 1 with one line saying why (what Docker's HEALTHCHECK and compose's healthcheck run)."""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from bot.config import OpsSettings, config_file, load_config

TIMEOUT_SECONDS = 5.0
EVERY_INTERFACE = {"0.0.0.0", "::", ""}  # noqa: S104  (a listening address, to be reached on loopback)


def healthz_url(ops: OpsSettings) -> str:
    """Where the endpoint the config describes answers, seen from the same machine."""
    host = "127.0.0.1" if ops.http_host in EVERY_INTERFACE else ops.http_host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{ops.http_port}/healthz"


def probe(url: str) -> tuple[bool, str]:
    """Whether `url` answers 200, and one line about it."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as reply:  # noqa: S310  (an http URL we built)
            return True, f"{url}: {reply.status} {reply.read().decode(errors='replace')}"
    except urllib.error.HTTPError as e:  # 503: starting, or the gateway or a store is down (the body says which)
        return False, f"{url}: {e.code} {e.read().decode(errors='replace')}"
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        return False, f"{url}: no answer ({reason})"


def main(argv: Sequence[str] | None = None) -> int:
    """Probe the endpoint of the config file (default ./config.yaml); the exit status is the verdict."""
    parser = argparse.ArgumentParser(prog="python -m bot.ops.probe", description=__doc__)
    parser.add_argument("--config", type=Path, help="the config.yaml the bot runs with (default: ./config.yaml)")
    args = parser.parse_args(argv)
    ops = load_config(config_file(args.config)).ops
    if not ops.http_port:
        sys.stdout.write("memorybot probe: ops.http_port is 0, so the bot serves no /healthz: set it in the config\n")
        return 1
    healthy, line = probe(healthz_url(ops))
    sys.stdout.write(line.rstrip() + "\n")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
