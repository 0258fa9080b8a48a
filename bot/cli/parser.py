"""The `memorybot` command line's arguments: global options, then one subcommand (one function per command)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

LOCAL = "local"  # the guild and channel ids used when none is given
MAX_SOURCES = 200  # retrieval.max_sources allows 1..200; -k takes the same range
ID_EXAMPLE = "123456789012345678"


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(text)
    except ValueError as e:
        msg = f"must be a whole number of at least 1, not {text!r}"
        raise argparse.ArgumentTypeError(msg) from e
    if number < 1:
        msg = f"must be a whole number of at least 1, not {number}"
        raise argparse.ArgumentTypeError(msg)
    return number


def sources(text: str) -> int:
    """An argparse type: how many passages, 1 to MAX_SOURCES (the range retrieval.max_sources allows)."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_SOURCES or str(number) != text.strip():
        msg = f"must be a whole number from 1 to {MAX_SOURCES}, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return number


def relevance(text: str) -> float:
    """An argparse type: a cosine similarity, -1 to 1 (the range retrieval.min_relevance allows)."""
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not -1.0 <= number <= 1.0:  # NaN fails this too
        msg = f"must be a number from -1 to 1, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return number


def is_discord_id(text: str) -> bool:
    """A Discord id (snowflake) as the command line takes it: digits only, a positive integer."""
    return text.isascii() and text.isdigit() and int(text) > 0


def discord_id(text: str) -> str:
    """An argparse type: a Discord id (a message's or member's), digits only."""
    if is_discord_id(text):
        return text
    msg = f"{text!r} is not a Discord id (digits only, e.g. {ID_EXAMPLE})"
    raise argparse.ArgumentTypeError(msg)


def place_id(text: str) -> str:
    """An argparse type: a guild's or channel's Discord id, or `local` (what the command line uses when none is
    given, so files ingested without ids can be searched and forgotten by name)."""
    if is_discord_id(text) or text == LOCAL:
        return text
    msg = f"{text!r} is not a Discord id (digits only, e.g. {ID_EXAMPLE}) nor {LOCAL}"
    raise argparse.ArgumentTypeError(msg)


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


def _package_version() -> str:
    try:
        return version("memorybot")
    except PackageNotFoundError:  # a checkout run without installing: no metadata to read
        return "unknown"


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, examples: str
) -> argparse.ArgumentParser:
    """A subcommand with its one-line summary and an epilog of examples."""
    return commands.add_parser(
        name, help=summary, description=summary, epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip


def _json(command: argparse.ArgumentParser, what: str = "print one JSON object on stdout") -> None:
    command.add_argument("--json", action="store_true", help=what)


def _guild(command: argparse.ArgumentParser, *, default: str | None = LOCAL, required: bool = False) -> None:
    said = "required" if required else f"default: {default}" if default else "default: every guild"
    command.add_argument(
        "--guild", type=place_id, default=default, required=required, metavar="G",
        help=f"the guild (server) id ({said})",
    )  # fmt: skip


def _channels(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--channel", action="append", dest="channels", metavar="C", type=place_id,
        help="only this channel id (repeat for several; default: every channel)",
    )  # fmt: skip


def _retrieval_options(command: argparse.ArgumentParser) -> None:
    """Where to look and how much to keep: the same options, names and defaults for `search` and `ask`."""
    _guild(command)
    _channels(command)
    command.add_argument(
        "-k", "--max-sources", type=sources, default=None, metavar="N",
        help=f"at most this many passages, 1 to {MAX_SOURCES} (default: the guild's setting, else "
        "retrieval.max_sources)",
    )  # fmt: skip
    command.add_argument(
        "--min-relevance", type=relevance, default=None, metavar="S",
        help="least cosine similarity of a passage to the query, -1 to 1 (default: retrieval.min_relevance)",
    )  # fmt: skip
    command.add_argument(
        "--now", type=moment, default=None, metavar="TIME",
        help="answer as if asked at this time: what 'now', 'yesterday' or 'last week' mean (default: the real time)",
    )  # fmt: skip
    command.add_argument(
        "--after", type=day, default=None, metavar="DATE", help="only what was said from this day on (default: any)"
    )
    command.add_argument(
        "--before", type=day, default=None, metavar="DATE", help="only what was said up to this day (default: any)"
    )


def _ingest(command: argparse.ArgumentParser) -> None:
    command.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders (read recursively)")
    _guild(command)
    command.add_argument(
        "--channel", type=place_id, default=LOCAL, metavar="C",
        help=f"the channel id the files count as uploaded to (default: {LOCAL})",
    )  # fmt: skip
    _json(command)


def _import_chat(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "files", nargs="+", type=Path, metavar="PATH", help="DiscordChatExporter JSON files, or folders of them"
    )
    command.add_argument(
        "--guild", type=place_id, default=None, metavar="G",
        help="remember under this guild id (default: the export's own)",
    )  # fmt: skip
    _json(command)


def _search(command: argparse.ArgumentParser) -> None:
    command.add_argument("query", nargs="?", help="what to look for (or give --batch)")
    _retrieval_options(command)
    command.add_argument(
        "--budget", type=positive, default=None, metavar="T",
        help="pack results into this many tokens, as ask does (default: no budget, -k results)",
    )  # fmt: skip
    command.add_argument(
        "--batch", type=Path, default=None, metavar="FILE",
        help="a UTF-8 file of JSON lines, one query each (keys: query, guild, channels, max_sources, budget, ...)",
    )  # fmt: skip
    _json(command)


def _ask(command: argparse.ArgumentParser) -> None:
    command.add_argument("question", help="the question, in quotes")
    _retrieval_options(command)
    command.add_argument(
        "--budget", type=positive, default=None, metavar="T", help="tokens of passages (default: retrieval.budget)"
    )
    _json(command, "one JSON object: answer, sources, token counts")


def _recap(command: argparse.ArgumentParser) -> None:
    _guild(command)
    _channels(command)
    command.add_argument(
        "--since", default="24h", metavar="WHEN", help="a duration back from now (90m, 24h, 7d, 2w) or a date "
        "(default: 24h)",
    )  # fmt: skip
    command.add_argument(
        "--now", type=moment, default=None, metavar="TIME", help="the end of the window (default: now)"
    )
    _json(command, "one JSON object: recap, sources, window")


def _eval_export(command: argparse.ArgumentParser) -> None:
    _guild(command, default=None, required=True)
    command.add_argument(
        "--since", default="30d", metavar="WHEN", help="how far back (default: 30d; the log keeps 30 days)"
    )
    command.add_argument("--all", action="store_true", help="every question asked, with its verdicts")


def _forget(command: argparse.ArgumentParser) -> None:
    _guild(command, default=None, required=True)
    command.add_argument("--channel", type=place_id, default=None, metavar="C", help="only this channel id")
    command.add_argument("--message", type=discord_id, default=None, metavar="M", help="only this message id")
    command.add_argument(
        "--user", type=discord_id, default=None, metavar="U", help="only this member's messages and files"
    )
    command.add_argument(
        "--yes", action="store_true", help="erase a whole guild without asking (needed when stdin is not a terminal)"
    )
    _json(command, "one JSON object: messages, files, chunks erased")


def _stats(command: argparse.ArgumentParser) -> None:
    _guild(command, default=None)
    _json(command)


def _reindex(command: argparse.ArgumentParser) -> None:
    _guild(command, default=None)
    _json(command, "one JSON object: chunks, embedding_model")


def _run(command: argparse.ArgumentParser) -> None:
    """`run` has no options of its own: it reads config.yaml and the environment (see RUN_NEEDS)."""


def _doctor(command: argparse.ArgumentParser) -> None:
    """`doctor` and `config` read (or diagnose) the configuration themselves (bot/cli/doctor.py, config_view.py)."""
    command.add_argument("--discord", action="store_true", help="also log in to Discord and check the intents")
    _json(command, "one JSON object: ok, and each check")


def _config(command: argparse.ArgumentParser) -> None:
    _json(command, "one JSON object: settings, sources, secrets (set/unset)")


RUN_NEEDS = """\
needs:
  DISCORD_TOKEN        the bot's token (Developer Portal > your application > Bot), in the environment;
                       another variable if discord.token_env names one
  config.yaml          discord.enabled_channels (the channel ids to remember), storage.data_dir, and llm.*
                       for generated answers (OPENAI_API_KEY, or llm.api_key_env, when llm.base_url is set)
  intents              MESSAGE CONTENT and SERVER MEMBERS switched on in the Developer Portal > Bot
"""

# Each command: its arguments, its one-line summary and examples (shown by `memorybot COMMAND --help`).
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], str, str]] = {
    "ingest": (_ingest, "remember files (folders recursively) as if uploaded to a channel",
               "  memorybot ingest docs/ --guild 900000000000000001 --channel 900000000000000030\n"),
    "import-chat": (_import_chat, "remember DiscordChatExporter JSON exports",
                    "  memorybot import-chat exports/*.json\n"),
    "search": (_search, "hybrid search of one guild's memory",
               '  memorybot search "deploy key" --guild 900000000000000001 --budget 300 --json\n'
               "  memorybot search --batch queries.jsonl\n"),
    "ask": (_ask, "answer a question from memory, with sources (the configured LLM, if any)",
            '  memorybot ask "When does the deploy key rotate?" --guild 900000000000000001\n'),
    "recap": (_recap, "what was said over a time window, cited (the configured LLM, if any)",
              "  memorybot recap --guild 900000000000000001 --since 7d\n"),
    "eval-export": (_eval_export, "questions that found nothing or were voted down, as JSON lines (for an "
                    "evaluation set)", "  memorybot eval-export --guild 900000000000000001 --since 7d > gaps.jsonl\n"),
    "forget": (_forget, "erase a message, a channel, a user, or a whole guild",
               "  memorybot forget --guild 900000000000000001 --user 1062234517890543616\n"
               "  memorybot forget --guild 900000000000000001 --yes   (the whole guild, without asking)\n"),
    "stats": (_stats, "what is remembered: counts per guild and channel", "  memorybot stats --json\n"),
    "run": (_run, "start the Discord bot (needs the token in DISCORD_TOKEN)",
            "  DISCORD_TOKEN=... memorybot run   (reads ./config.yaml; --config FILE for another)\n\n" + RUN_NEEDS),
    "reindex": (_reindex, "rebuild the vector index from SQLite (after a model change)",
                "  memorybot reindex --guild 900000000000000001\n"),
    "doctor": (_doctor, "check the setup: config, token, data dir, models, index, LLM (exit 1 on a FAIL)",
               "  memorybot doctor\n  memorybot doctor --discord --json\n"),
    "config": (_config, "the configuration in effect and where each value came from",
               "  memorybot config\n  memorybot --config /srv/memorybot/config.yaml config --json\n"),
}  # fmt: skip


def build_parser(description: str | None = None) -> argparse.ArgumentParser:
    """Every command and option of `memorybot`; a new command is one more entry of COMMANDS."""
    parser = argparse.ArgumentParser(
        prog="memorybot", description=description,
        epilog="memorybot COMMAND --help shows a command's options, their defaults, and examples",
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"memorybot {_package_version()}")
    parser.add_argument(
        "--config", type=Path, default=None, metavar="FILE", help="config file (default: ./config.yaml if present)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, metavar="DIR", help="data directory (default: storage.data_dir)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log progress details, and error traces, to stderr"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (arguments, summary, examples) in COMMANDS.items():
        arguments(_command(commands, name, summary, examples))
    return parser
