"""The `memorybot` command line: remember files and chat exports, search, ask, recap, forget, stats, reindex, run the
bot, check the setup (doctor) and show the configuration in effect (config)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import traceback
from collections.abc import Sequence

from langchain_core.embeddings import Embeddings

from bot.cli import commands, lookups, remote
from bot.cli.config_view import show_config
from bot.cli.doctor import doctor
from bot.cli.parser import build_parser
from bot.config import Settings, config_file, load_config
from bot.errors import BotError
from memory import Memory, MemoryStoreError, StoreLockedError

log = logging.getLogger("memorybot")
HANDLERS = {
    "ingest": commands.ingest, "import-chat": commands.import_chat, "search": commands.search,
    "forget": commands.forget, "reindex": commands.reindex, "eval-export": commands.eval_export,
}  # fmt: skip
SETUP_HANDLERS = {"doctor": doctor, "config": show_config}


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
        if args.command in SETUP_HANDLERS:  # they load (or diagnose) the configuration themselves
            return SETUP_HANDLERS[args.command](args)
        settings = load_config(config_file(args.config), data_dir=args.data_dir)
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
    request = None
    if lookups.is_lookup(args):
        try:
            request = lookups.request_of(args)
        except ValueError as e:
            print(f"memorybot: error: {e}", file=sys.stderr)
            return 2
    try:
        memory = Memory.open(settings, embeddings=embeddings, allow_model_change=args.command == "reindex")
    except StoreLockedError as locked:  # the running bot may answer a lookup itself
        return remote.through_running_bot(args, settings, request, locked)
    with memory:
        if args.command not in {"reindex", "forget"}:
            memory.catch_up()  # finish what an interrupted run left
        if request is not None:
            return lookups.answer_here(args, memory, request)
        return HANDLERS[args.command](args, memory)
