"""The `memorybot` commands that need the memory opened here: ingest, import-chat, search --batch, eval-export, forget,
reindex (the lookups a running bot can answer are in `bot.cli.lookups`)."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.batch import search_batch
from bot.cli.output import amount, print_json, print_report, progress
from memory import (
    ChatExportError,
    FileDocument,
    IngestReport,
    Memory,
    looks_like_chat_export,
    read_chat_export,
    since,
)

log = logging.getLogger("memorybot")
CHAT_EXPORT_HINT = "looks like a DiscordChatExporter export; use `memorybot import-chat FILE`"


def ingest(args: argparse.Namespace, memory: Memory) -> int:
    """Remember files and folders as if uploaded to `--channel` of `--guild`; 1 when something could not be read."""
    started = time.monotonic()
    report = IngestReport()
    paths = _within_size(_files_in(args.paths, "*", report), memory.settings.limits.max_file_bytes, report)
    bar = progress(len(paths), "files")
    try:
        documents = _read_files(paths, args.guild, args.channel, report)
        report.merge(memory.ingest_files(documents, progress=bar.update))
    finally:
        bar.close()
    report.seconds = time.monotonic() - started
    print_report(args, report)
    return 1 if report.failed else 0


def _files_in(roots: Sequence[Path], pattern: str, report: IngestReport) -> list[Path]:
    """The files named, and those matching `pattern` in the folders named (recursively, hidden ones left out); a
    path that is neither is reported as failed."""
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found.extend(
                p for p in sorted(root.rglob(pattern))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
            )  # fmt: skip
        elif root.is_file():
            found.append(root)
        else:
            report.failed.append((str(root), "no such file or folder"))
    return found


def _within_size(paths: Sequence[Path], max_bytes: int, report: IngestReport) -> list[Path]:
    kept = []
    for path in paths:
        size = path.stat().st_size
        if size > max_bytes:  # refused before reading a byte
            report.skipped.append((str(path), f"too large ({size:,} bytes; the limit is {max_bytes:,})"))
        else:
            kept.append(path)
    return kept


def _read_files(paths: Sequence[Path], guild: str, channel: str, report: IngestReport) -> Iterator[FileDocument]:
    for path in paths:
        try:
            data = path.read_bytes()
            modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat(timespec="microseconds")
        except OSError as e:
            log.info("ingest: cannot read %s", path, exc_info=True)  # the trace, with -v
            report.failed.append((str(path), f"cannot read: {e.strerror}"))
            continue
        # Stored as a file it would be flattened JSON keys; as chat it is messages with authors and dates.
        if path.suffix.lower() == ".json" and looks_like_chat_export(data):
            report.failed.append((str(path), CHAT_EXPORT_HINT))
            continue
        yield FileDocument(
            guild_id=guild, channel_id=channel, source=str(path.resolve()), filename=path.name, data=data,
            created_at=modified,
        )  # fmt: skip


def import_chat(args: argparse.Namespace, memory: Memory) -> int:
    """Remember DiscordChatExporter exports, named or in folders; one that cannot be read is reported, the rest go
    on, and the exit code is 1."""
    started = time.monotonic()
    report = IngestReport()
    for path in _files_in(args.files, "*.json", report):
        try:
            export = read_chat_export(path, guild_id=args.guild)
        except ChatExportError as e:
            log.info("import-chat: %s", e, exc_info=True)  # the trace, with -v
            report.failed.append((str(path), e.reason))
            continue
        report.skipped.extend(export.skipped)
        memory.names.remember(export.guild_id, export.names)
        bar = progress(None, f"chunks of #{export.channel_name or export.channel_id}")
        try:
            result = memory.remember_messages(export.messages, progress=bar.update)
        finally:
            bar.close()
        report.merge(result)
    report.seconds = time.monotonic() - started
    print_report(args, report)
    return 1 if report.failed else 0


def search(args: argparse.Namespace, memory: Memory) -> int:
    """`search --batch`: one query per JSON line with the model loaded once (one query: `bot.cli.lookups`)."""
    return search_batch(args.batch, memory)


def eval_export(args: argparse.Namespace, memory: Memory) -> int:
    """The logged questions of a guild as JSON lines: each with its status, verdicts and the passages used."""
    try:
        start = since(args.since, datetime.now(UTC))
    except ValueError as e:
        print(f"memorybot: error: --since must be {e}", file=sys.stderr)
        return 2
    for asked in memory.questions.asked(args.guild, start.isoformat(timespec="seconds")):
        status = "unanswered" if asked.unanswered else "down-voted" if asked.down > asked.up else "answered"
        if not args.all and status == "answered":
            continue
        passages = [
            {"chunk_id": c.chunk_id, "text": c.text, "message_ids": list(c.message_ids), "filename": c.filename,
             "page": c.page, "section": c.section, "created_at": c.created_at}
            for c in memory.sources_of(asked)
        ]  # fmt: skip
        print_json(
            {
                "question": asked.question, "asked_at": asked.asked_at, "guild_id": asked.guild_id,
                "channel_id": asked.channel_id, "status": status, "up": asked.up, "down": asked.down,
                "sources": passages,
            }
        )  # fmt: skip
    return 0


def forget(args: argparse.Namespace, memory: Memory) -> int:
    """Erase a message, a channel, a user's messages and files, or a whole guild (asked first, or `--yes`)."""
    whole = args.channel is None and args.message is None and args.user is None
    if whole and not args.yes:
        if not sys.stdin.isatty():  # no one to ask: a script must say --yes
            print(
                f"memorybot: error: forget --guild {args.guild} alone erases the whole guild; add --yes to confirm "
                "(stdin is not a terminal, so it cannot ask)",
                file=sys.stderr,
            )
            return 2
        if not _confirmed(args.guild, memory):
            print("Nothing erased.", file=sys.stderr)
            return 1
    report = memory.forget(args.guild, channel_id=args.channel, message_id=args.message, user_id=args.user)
    if args.json:
        print_json({"messages": report.messages, "files": report.files, "chunks": report.chunks})
    else:
        print(f"Forgot {report.messages} messages, {report.files} files, {report.chunks} chunks.")
    return 0


def _confirmed(guild_id: str, memory: Memory) -> bool:
    held = memory.stats(guild_id).guilds.get(guild_id)
    messages, files = (held.messages, held.files) if held else (0, 0)
    # The question goes to stderr: stdout may be piped into something that expects only the result.
    print(
        f"erase everything remembered of guild {guild_id} ({amount(messages, 'message')}, "
        f"{amount(files, 'file')})? [y/N] ",
        end="", file=sys.stderr, flush=True,
    )  # fmt: skip
    try:
        return sys.stdin.readline().strip().lower() in {"y", "yes"}
    except KeyboardInterrupt:
        print(file=sys.stderr)  # what follows starts its own line, not after the question
        raise


def reindex(args: argparse.Namespace, memory: Memory) -> int:
    """Rebuild the vector index from SQLite with the configured model."""
    bar = progress(None, "chunks")
    try:
        count = memory.reindex(args.guild, progress=bar.update)
    finally:
        bar.close()
    if args.json:
        print_json({"chunks": count, "embedding_model": memory.identity})
    else:
        print(f"Re-embedded {count} chunks with {memory.identity}.")
    return 0
