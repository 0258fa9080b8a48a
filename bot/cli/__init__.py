"""The `memorybot` command line: remember files and chat exports, search, ask, recap, forget, stats, run the bot."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from langchain_core.embeddings import Embeddings

from bot.cli import commands
from bot.cli.parser import build_parser
from bot.config import Settings, load_config
from bot.errors import BotError
from memory import Memory, MemoryStoreError

log = logging.getLogger("memorybot")
HANDLERS = {
    "ingest": commands.ingest, "import-chat": commands.import_chat, "search": commands.search, "ask": commands.ask,
    "forget": commands.forget, "stats": commands.stats, "reindex": commands.reindex, "recap": commands.recap,
    "eval-export": commands.eval_export,
}  # fmt: skip


def main(argv: Sequence[str] | None = None, *, embeddings: Embeddings | None = None) -> int:
    """Run the command line; return the exit code. Known errors become one line on stderr here, and only here.

    Args:
        argv: arguments (default: sys.argv[1:]).
        embeddings: an embedder to use instead of the configured one (tests).
    """
    # Offline by construction: no model hub, no progress bars from model loading on stdout.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if argv is None and hasattr(signal, "SIGPIPE"):  # `memorybot search ... | head` ends quietly
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = build_parser(__doc__).parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        config = args.config
        if config is None and Path("config.yaml").exists():
            config = Path("config.yaml")
        settings = load_config(config, data_dir=args.data_dir)
        return _run(args, settings, embeddings)
    except (MemoryStoreError, BotError) as e:
        return _failed(str(e), e, verbose=args.verbose)
    except OSError as e:  # the environment, not a bug: a file or folder that cannot be used
        named = f"{e.filename}: " if e.filename else ""
        return _failed(f"{named}{e.strerror or e}", e, verbose=args.verbose)
    except KeyboardInterrupt:  # Ctrl-C: the memory was closed on the way out; what was committed stays
        print("memorybot: interrupted", file=sys.stderr)
        return 130  # 128 + SIGINT, as shells report it


def _failed(message: str, error: BaseException, *, verbose: bool) -> int:
    """One line on stderr (with `-v`, the trace first); exit status 1."""
    if verbose:
        traceback.print_exception(error, file=sys.stderr)
    print(f"memorybot: error: {message}", file=sys.stderr)
    return 1


def _run(args: argparse.Namespace, settings: Settings, embeddings: Embeddings | None) -> int:
    if args.command == "run":
        import asyncio

        from bot.run import run_bot

        asyncio.run(run_bot(settings, embeddings=embeddings))
        return 0
    if args.command == "search" and args.batch is None and not args.query:
        print("memorybot: error: search needs a QUERY or --batch FILE", file=sys.stderr)
        return 2
    with Memory.open(settings, embeddings=embeddings, allow_model_change=args.command == "reindex") as memory:
        if args.command not in {"reindex", "forget"}:
            memory.catch_up()  # finish what an interrupted run left
        return HANDLERS[args.command](args, memory)
