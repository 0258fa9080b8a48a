"""`memorybot search --batch`: one query per JSON line, answered with the model loaded once."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.output import print_json, search_object
from bot.cli.parser import LOCAL, day, moment, place_id
from memory import Memory


def search_batch(path: Path, memory: Memory) -> int:
    """`search --batch`: one `search --json` object per JSON line, each bad line its own error object."""
    try:
        data = path.read_bytes()
    except OSError as e:
        print(f"memorybot: error: --batch {path}: cannot read it: {e.strerror}", file=sys.stderr)
        return 1
    failures = 0
    # Decoded line by line: a line that is not UTF-8 is that line's error, and the rest are still answered.
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            line = raw.decode("utf-8")
            if not line.strip():
                continue
            item = json.loads(line)
            budget = item.get("budget")
            guild, channels = _batch_places(item)
            context = memory.search(
                str(item["query"]), guild, channels=channels,
                max_sources=item.get("max_sources", item.get("k")),  # `k`: the name evaluations first used
                budget=budget, min_relevance=item.get("min_relevance"),
                now=moment(item["now"]) if item.get("now") else None,
                after=day(item["after"]) if item.get("after") else None,
                before=day(item["before"]) if item.get("before") else None,
            )  # fmt: skip
            print_json(search_object(context, budget, memory.names.of_guild(guild)))
        except UnicodeDecodeError as e:
            failures += 1
            print_json({"error": f"line {number}: not UTF-8 text (byte {e.start + 1}): save the file as UTF-8",
                        "results": []})  # fmt: skip
        except argparse.ArgumentTypeError as e:  # its message says it all
            failures += 1
            print_json({"error": f"line {number}: {e}", "results": []})
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            failures += 1
            print_json({"error": f"line {number}: {type(e).__name__}: {e}", "results": []})
    return 1 if failures else 0


def _batch_places(item: dict[str, Any]) -> tuple[str, list[str] | None]:
    """A batch line's guild and channels, checked as the options are (a JSON number is taken as its digits)."""
    try:
        guild = place_id(str(item.get("guild", LOCAL)))
    except argparse.ArgumentTypeError as e:
        msg = f"guild: {e}"
        raise argparse.ArgumentTypeError(msg) from e
    channels = item.get("channels")
    if channels is None:
        return guild, None
    if not isinstance(channels, list):
        msg = f"channels: expected a list of channel ids, not {channels!r}"
        raise argparse.ArgumentTypeError(msg)
    try:
        return guild, [place_id(str(channel)) for channel in channels]
    except argparse.ArgumentTypeError as e:
        msg = f"channels: {e}"
        raise argparse.ArgumentTypeError(msg) from e
