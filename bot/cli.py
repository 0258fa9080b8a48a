"""The `memorybot` command line: remember files and chat exports, search, ask, forget, stats, reindex."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.config import Settings, load_config
from memory import (
    FileDocument,
    Hit,
    IngestReport,
    Memory,
    MemoryStoreError,
    PackedContext,
    read_chat_export,
)

LOCAL = "local"  # the guild and channel ids used when none is given
log = logging.getLogger("memorybot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="memorybot", description=__doc__)
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
    search.add_argument("--guild", default=LOCAL)
    search.add_argument("--channel", action="append", dest="channels", metavar="C", help="only this channel (repeat)")
    search.add_argument("-k", type=int, default=None, help="at most this many results")
    search.add_argument("--budget", type=int, default=None, help="pack results into this many tokens, as ask does")
    search.add_argument("--batch", type=Path, default=None, help="a file of JSON lines, one query each")
    search.add_argument("--json", action="store_true")

    ask = commands.add_parser("ask", help="answer a question from memory, with sources")
    ask.add_argument("question")
    ask.add_argument("--guild", default=LOCAL)
    ask.add_argument("--channel", action="append", dest="channels", metavar="C")
    ask.add_argument("--budget", type=int, default=None, help="context budget in tokens (default from config)")
    ask.add_argument("--json", action="store_true")

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
    return parser


def main(argv: Sequence[str] | None = None, *, embeddings: Embeddings | None = None) -> int:
    """Run the command line; return the exit code.

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
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        config = args.config
        if config is None and Path("config.yaml").exists():
            config = Path("config.yaml")
        settings = load_config(config, data_dir=args.data_dir)
        return _run(args, settings, embeddings)
    except MemoryStoreError as e:
        print(f"memorybot: error: {e}", file=sys.stderr)
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
            memory.rebuild_stale_windows()
            memory.embed_pending()  # finish what an interrupted run left
        handler = {
            "ingest": _ingest, "import-chat": _import_chat, "search": _search, "ask": _ask, "forget": _forget,
            "stats": _stats, "reindex": _reindex,
        }[args.command]  # fmt: skip
        return handler(args, memory)


# --- commands ---------------------------------------------------------------------------------------------


def _ingest(args: argparse.Namespace, memory: Memory) -> int:
    started = time.monotonic()
    paths, report = _collect_files(args.paths, memory.settings.limits.max_file_bytes)
    bar = _progress(len(paths), "files")
    try:
        documents = _read_files(paths, args.guild, args.channel, report)
        report.merge(memory.ingest_files(documents, progress=bar.update))
    finally:
        bar.close()
    report.seconds = time.monotonic() - started
    _print_report(args, report)
    return 0


def _collect_files(roots: Sequence[Path], max_bytes: int) -> tuple[list[Path], IngestReport]:
    report = IngestReport()
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found.extend(
                p for p in sorted(root.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
            )  # fmt: skip
        elif root.is_file():
            found.append(root)
        else:
            report.skipped.append((str(root), "no such file or folder"))
    kept = []
    for path in found:
        size = path.stat().st_size
        if size > max_bytes:  # refused before reading a byte
            report.skipped.append((str(path), f"too large ({size:,} bytes; the limit is {max_bytes:,})"))
        else:
            kept.append(path)
    return kept, report


def _read_files(paths: Sequence[Path], guild: str, channel: str, report: IngestReport) -> Iterator[FileDocument]:
    for path in paths:
        try:
            data = path.read_bytes()
            modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat(timespec="microseconds")
        except OSError as e:
            report.skipped.append((str(path), f"cannot read: {e.strerror}"))
            continue
        yield FileDocument(
            guild_id=guild, channel_id=channel, source=str(path.resolve()), filename=path.name, data=data,
            created_at=modified,
        )  # fmt: skip


def _import_chat(args: argparse.Namespace, memory: Memory) -> int:
    started = time.monotonic()
    report = IngestReport()
    for path in args.files:
        try:
            export = read_chat_export(path, guild_id=args.guild)
        except MemoryStoreError as e:
            report.skipped.append((str(path), str(e)))
            continue
        report.skipped.extend(export.skipped)
        bar = _progress(None, f"chunks of #{export.channel_name or export.channel_id}")
        try:
            result = memory.remember_messages(export.messages, progress=bar.update)
        finally:
            bar.close()
        report.merge(result)
    report.seconds = time.monotonic() - started
    _print_report(args, report)
    return 0


def _search(args: argparse.Namespace, memory: Memory) -> int:
    if args.batch is not None:
        return _search_batch(args.batch, memory)
    context = memory.search(args.query, args.guild, channels=args.channels, k=args.k, budget=args.budget)
    if args.json:
        _print_json(_search_object(context, args.budget))
    else:
        if not context.hits:
            print("Nothing found.")
        for rank, (hit, tokens) in enumerate(zip(context.hits, context.tokens, strict=True), start=1):
            print(f"[{rank}] score {hit.score:.4f}  {_where(hit)}  ({tokens} tokens)")
            print("    " + hit.chunk.text.replace("\n", "\n    "))
            print()
    return 0


def _search_batch(path: Path, memory: Memory) -> int:
    failures = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            budget = item.get("budget")
            context = memory.search(
                str(item["query"]), str(item.get("guild", LOCAL)), channels=item.get("channels"), k=item.get("k"),
                budget=budget,
            )  # fmt: skip
            _print_json(_search_object(context, budget))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            failures += 1
            _print_json({"error": f"line {number}: {type(e).__name__}: {e}", "results": []})
    return 1 if failures else 0


def _ask(args: argparse.Namespace, memory: Memory) -> int:
    answer = memory.ask(args.question, args.guild, channels=args.channels, budget=args.budget)
    if args.json:
        _print_json(
            {
                "answer": answer.text,
                "sources": _result_objects(answer.context),
                "context_tokens": answer.context.total_tokens,
                "budget": answer.context.budget,
                "generated": answer.generated,
            }
        )
        return 0
    print(answer.text)
    if answer.context.hits:
        print("\nSources:")
        for number, hit in enumerate(answer.context.hits, start=1):
            print(f"[{number}] {_where(hit)}")
    return 0


def _forget(args: argparse.Namespace, memory: Memory) -> int:
    report = memory.forget(args.guild, channel_id=args.channel, message_id=args.message, user_id=args.user)
    summary = {"messages": report.messages, "files": report.files, "chunks": report.chunks}
    if args.json:
        _print_json(summary)
    else:
        print(f"Forgot {report.messages} messages, {report.files} files, {report.chunks} chunks.")
    return 0


def _stats(args: argparse.Namespace, memory: Memory) -> int:
    stats = memory.stats(args.guild)
    if args.json:
        _print_json(stats)
        return 0
    print(f"embedding model: {stats['embedding_model']}   last ingest: {stats['last_ingest_at']}")
    print(f"disk: {stats['disk_bytes'] / 1e6:.1f} MB")
    for guild, values in stats["guilds"].items():
        print(
            f"guild {guild}: {values.get('messages', 0)} messages, {values.get('files', 0)} files, "
            f"{values.get('chunks', 0)} chunks, {values.get('tokens', 0)} tokens, {values.get('vectors', 0)} vectors"
        )
        for channel, counts in values["channels"].items():
            print(f"  channel {channel}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def _reindex(args: argparse.Namespace, memory: Memory) -> int:
    bar = _progress(None, "chunks")
    try:
        count = memory.reindex(args.guild, progress=bar.update)
    finally:
        bar.close()
    if args.json:
        _print_json({"chunks": count, "embedding_model": memory.identity})
    else:
        print(f"Re-embedded {count} chunks with {memory.identity}.")
    return 0


# --- output -----------------------------------------------------------------------------------------------


def _result_objects(context: PackedContext) -> list[dict[str, Any]]:
    """The result shape of design.md section 7 (ids are strings)."""
    return [
        {
            "rank": rank,
            "score": hit.score,
            "similarity": None if hit.similarity is None else round(hit.similarity, 6),
            "text": hit.chunk.text,
            "tokens": tokens,
            "guild_id": hit.chunk.guild_id,
            "channel_id": hit.chunk.channel_id,
            "message_ids": list(hit.chunk.message_ids),
            "filename": hit.chunk.filename,
            "author_ids": list(hit.chunk.author_ids),
            "created_at": hit.chunk.created_at,
            "jump_url": hit.chunk.jump_url,
            "kind": hit.chunk.kind,
            "chunk_id": hit.chunk.chunk_id,
        }
        for rank, (hit, tokens) in enumerate(zip(context.hits, context.tokens, strict=True), start=1)
    ]


def _search_object(context: PackedContext, budget: int | None) -> dict[str, Any]:
    return {"results": _result_objects(context), "context_tokens": context.total_tokens, "budget": budget}


def _where(hit: Hit) -> str:
    chunk = hit.chunk
    if chunk.kind == "file":
        return f"file {chunk.filename} (channel {chunk.channel_id})" + (f" {chunk.jump_url}" if chunk.jump_url else "")
    when = chunk.created_at[:16].replace("T", " ") if chunk.created_at else ""
    return f"chat in channel {chunk.channel_id}, {when} {chunk.jump_url or ''}".rstrip()


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False))


def _print_report(args: argparse.Namespace, report: IngestReport) -> None:
    summary = {
        "records": report.records,
        "chunks_added": report.chunks_added,
        "chunks_removed": report.chunks_removed,
        "chunks_unchanged": report.chunks_unchanged,
        "tokens": report.tokens,
        "skipped": [{"source": source, "reason": reason} for source, reason in report.skipped],
        "seconds": round(report.seconds, 3),
    }
    if args.json:
        _print_json(summary)
        return
    print(
        f"Remembered {report.records} records: {report.chunks_added} chunks added, {report.chunks_removed} removed, "
        f"{report.chunks_unchanged} unchanged, {report.tokens:,} tokens embedded, in {report.seconds:.1f} s.",
        file=sys.stderr,
    )
    if report.skipped:
        print(f"Skipped {len(report.skipped)}:", file=sys.stderr)
        for source, reason in report.skipped:
            print(f"  {source}: {reason}", file=sys.stderr)


class _NoBar:
    def update(self, n: int = 1) -> None:
        """Ignore progress."""

    def close(self) -> None:
        """Nothing to close."""


def _progress(total: int | None, unit: str) -> Any:  # noqa: ANN401  (a tqdm bar or a stand-in)
    if not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=f" {unit}", file=sys.stderr, leave=False)
