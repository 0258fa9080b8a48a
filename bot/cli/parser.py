"""The `memorybot` command line's arguments: global options, then one subcommand."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path

LOCAL = "local"  # the guild and channel ids used when none is given


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    number = int(text)
    if number < 1:
        msg = f"must be at least 1, not {number}"
        raise argparse.ArgumentTypeError(msg)
    return number


def moment(text: str) -> datetime:
    """An argparse type: an ISO 8601 date or time (UTC unless it says otherwise)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as e:
        msg = f"expected an ISO 8601 time like 2025-06-18T14:00 or 2025-06-18, not {text!r}"
        raise argparse.ArgumentTypeError(msg) from e
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def day(text: str) -> date:
    """An argparse type: an ISO 8601 date."""
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        msg = f"expected a date like 2025-06-18, not {text!r}"
        raise argparse.ArgumentTypeError(msg) from e


def _retrieval_options(command: argparse.ArgumentParser) -> None:
    """Where to look and how much to keep: the same options, names and defaults for `search` and `ask`."""
    command.add_argument("--guild", default=LOCAL)
    command.add_argument("--channel", action="append", dest="channels", metavar="C", help="only this channel (repeat)")
    command.add_argument(
        "-k", "--max-sources", type=positive, default=None, metavar="N",
        help="at most this many passages (default: the guild's setting, else retrieval.max_sources)",
    )  # fmt: skip
    command.add_argument("--min-relevance", type=float, default=None, metavar="S", help="least cosine similarity")
    command.add_argument(
        "--now", type=moment, default=None, metavar="TIME",
        help="answer as if asked at this time: what 'now', 'yesterday' or 'last week' mean (default: the real time)",
    )  # fmt: skip
    command.add_argument("--after", type=day, default=None, metavar="DATE", help="only what was said from this day on")
    command.add_argument("--before", type=day, default=None, metavar="DATE", help="only what was said up to this day")


def build_parser(description: str | None = None) -> argparse.ArgumentParser:
    """Every command and option of `memorybot`."""
    parser = argparse.ArgumentParser(prog="memorybot", description=description)
    parser.add_argument("--config", type=Path, default=None, help="config file (default: ./config.yaml if present)")
    parser.add_argument("--data-dir", type=Path, default=None, help="data directory (default: storage.data_dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="remember files (folders recursively) as if uploaded to a channel")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    ingest.add_argument("--guild", default=LOCAL)
    ingest.add_argument("--channel", default=LOCAL)
    ingest.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    chat = commands.add_parser("import-chat", help="remember DiscordChatExporter JSON exports")
    chat.add_argument("files", nargs="+", type=Path, metavar="FILE")
    chat.add_argument("--guild", default=None, help="remember under this guild id instead of the export's")
    chat.add_argument("--json", action="store_true")

    search = commands.add_parser("search", help="hybrid search of one guild's memory")
    search.add_argument("query", nargs="?", help="what to look for")
    _retrieval_options(search)
    search.add_argument("--budget", type=positive, default=None, help="pack results into this many tokens, as ask does")
    search.add_argument("--batch", type=Path, default=None, help="a file of JSON lines, one query each")
    search.add_argument("--json", action="store_true")

    ask = commands.add_parser("ask", help="answer a question from memory, with sources (the configured LLM, if any)")
    ask.add_argument("question")
    _retrieval_options(ask)
    ask.add_argument("--budget", type=positive, default=None, help="tokens of passages (default: retrieval.budget)")
    ask.add_argument("--json", action="store_true", help="one JSON object: answer, sources, token counts")

    recap = commands.add_parser("recap", help="what was said over a time window, cited (the configured LLM, if any)")
    recap.add_argument("--guild", default=LOCAL)
    recap.add_argument("--channel", action="append", dest="channels", metavar="C", help="only this channel (repeat)")
    recap.add_argument("--since", default="24h", help="a duration back from now (90m, 24h, 7d, 2w) or a date")
    recap.add_argument("--now", type=moment, default=None, metavar="TIME", help="the end of the window (default: now)")
    recap.add_argument("--json", action="store_true", help="one JSON object: recap, sources, window")

    export = commands.add_parser(
        "eval-export", help="questions that found nothing or were voted down, as JSON lines (for an evaluation set)"
    )
    export.add_argument("--guild", required=True)
    export.add_argument("--since", default="30d", help="how far back (the log keeps 30 days)")
    export.add_argument("--all", action="store_true", help="every question asked, with its verdicts")

    forget = commands.add_parser("forget", help="erase a message, a channel, a user, or a whole guild")
    forget.add_argument("--guild", required=True)
    forget.add_argument("--channel", default=None)
    forget.add_argument("--message", default=None)
    forget.add_argument("--user", default=None)
    forget.add_argument("--json", action="store_true")

    stats = commands.add_parser("stats", help="what is remembered: counts per guild and channel")
    stats.add_argument("--guild", default=None)
    stats.add_argument("--json", action="store_true")

    commands.add_parser("run", help="start the Discord bot (needs the token in DISCORD_TOKEN)")

    reindex = commands.add_parser("reindex", help="rebuild the vector index from SQLite (after a model change)")
    reindex.add_argument("--guild", default=None)
    reindex.add_argument("--json", action="store_true")

    # --- checks of the setup (bot/cli/doctor.py, bot/cli/config_view.py): they read the config themselves ---
    check = commands.add_parser(
        "doctor", help="check the setup: config, token, data dir, models, index, LLM (exit 1 on a FAIL)"
    )
    check.add_argument("--discord", action="store_true", help="also log in to Discord and check the intents")
    check.add_argument("--json", action="store_true", help="one JSON object: ok, and each check")
    shown = commands.add_parser("config", help="the configuration in effect and where each value came from")
    shown.add_argument("--json", action="store_true", help="one JSON object: settings, sources, secrets (set/unset)")
    return parser
