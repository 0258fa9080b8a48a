"""The read-only commands (stats, search, ask, recap): their request from the arguments, and their printing, the
same whether this process opened the memory or the running bot answered over its admin socket."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from bot import readonly
from bot.cli.output import guild_hint, print_answer, print_json, print_search, print_stats
from memory import AnswerError, AsyncMemory, Memory, since

COMMANDS = frozenset({"stats", "search", "ask", "recap"})
_FOUND = {"search": "results", "ask": "sources", "recap": "sources"}  # where an empty result shows nothing found


def is_lookup(args: argparse.Namespace) -> bool:
    """Whether the command only reads and a running bot can answer it (`search --batch` is not one)."""
    return args.command in COMMANDS and getattr(args, "batch", None) is None


def request_of(args: argparse.Namespace) -> readonly.Request:
    """The JSON request for a lookup command.

    Raises:
        ValueError: `recap --since` is neither a duration nor a date (the message says which forms work).
    """
    if args.command == "stats":
        return {"guild": args.guild}
    if args.command == "recap":
        end = args.now or datetime.now(UTC)
        try:
            start = since(args.since, end)
        except ValueError as e:
            msg = f"--since must be {e}"
            raise ValueError(msg) from e
        return {"guild": args.guild, "channels": args.channels, "after": start.isoformat(), "before": end.isoformat()}
    text = {"search": "query", "ask": "question"}[args.command]
    return {
        text: getattr(args, text), "guild": args.guild, "channels": args.channels, "max_sources": args.max_sources,
        "budget": args.budget, "min_relevance": args.min_relevance,
        "now": args.now.isoformat() if args.now else None,
        "after": args.after.isoformat() if args.after else None,
        "before": args.before.isoformat() if args.before else None,
    }  # fmt: skip


def show(args: argparse.Namespace, result: dict[str, Any], *, shown: int = 0) -> None:
    """Print a lookup's result: its JSON object with --json, else its text (`shown`: answer characters streamed)."""
    if args.json:
        print_json(result)
    elif args.command == "stats":
        print_stats(result)
    elif args.command == "search":
        print_search(result)
    elif args.command == "ask":
        print_answer(result["answer"][shown:], result["sources"], result["used_sources"])
    else:
        print_answer(result["recap"], result["sources"], result["used_sources"])


def found_nothing(args: argparse.Namespace, result: dict[str, Any]) -> bool:
    """Whether a search, answer or recap had nothing to show (then `hint` may say where the memory is)."""
    return args.command in _FOUND and not result[_FOUND[args.command]]


def hint(args: argparse.Namespace, held: dict[str, Any]) -> None:
    """On stderr: the guild asked remembers nothing, and which guilds do."""
    text = guild_hint(args.guild, held)
    if text:
        print(f"memorybot: {text}", file=sys.stderr)


def answer_here(args: argparse.Namespace, memory: Memory, request: readonly.Request) -> int:
    """Run a lookup on the memory this process opened and print it."""
    if args.command in readonly.SYNC:
        result = readonly.SYNC[args.command](memory, request)
        show(args, result)
    else:
        result = asyncio.run(_answer_async(args, memory, request))
    if found_nothing(args, result):
        hint(args, readonly.stats(memory, {}))
    return 0


async def _answer_async(args: argparse.Namespace, memory: Memory, request: readonly.Request) -> dict[str, Any]:
    handle = AsyncMemory(memory)
    shown = 0

    def stream(piece: str) -> None:  # a generated answer appears as it is written
        nonlocal shown
        if not args.json:
            sys.stdout.write(piece)
            sys.stdout.flush()
            shown += len(piece)

    try:
        result = await (
            readonly.ask(handle, request, stream) if args.command == "ask" else readonly.recap(handle, request)
        )
    except AnswerError:
        if shown:
            print()
        raise
    finally:
        await handle.answers.aclose()  # the model both share
    show(args, result, shown=shown)
    return result
