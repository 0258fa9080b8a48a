"""The `memorybot` commands that work on an open memory: ingest, import-chat, search, ask, forget, stats, reindex."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.output import amount, print_json, print_report, progress, result_objects, search_object, where
from bot.cli.parser import LOCAL, day, moment
from memory import (
    AnswerError,
    AsyncMemory,
    ChatExportError,
    Draft,
    FileDocument,
    IngestReport,
    Memory,
    SourceLabel,
    count_tokens,
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
    """Hybrid search, printed or as JSON; `--batch` runs one query per JSON line with the model loaded once."""
    if args.batch is not None:
        return _search_batch(args.batch, memory)
    context = memory.search(
        args.query, args.guild, channels=args.channels, max_sources=args.max_sources, budget=args.budget,
        min_relevance=args.min_relevance, now=args.now, after=args.after, before=args.before,
    )  # fmt: skip
    if args.json:
        print_json(search_object(context, args.budget))
        return 0
    if not context.hits:
        print("Nothing found.")
    for rank, (hit, tokens) in enumerate(zip(context.hits, context.tokens, strict=True), start=1):
        print(f"[{rank}] score {hit.score:.4f}  {where(hit)}  ({tokens} tokens)")
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
                str(item["query"]), str(item.get("guild", LOCAL)), channels=item.get("channels"),
                max_sources=item.get("max_sources", item.get("k")),  # `k`: the name evaluations first used
                budget=budget, min_relevance=item.get("min_relevance"),
                now=moment(item["now"]) if item.get("now") else None,
                after=day(item["after"]) if item.get("after") else None,
                before=day(item["before"]) if item.get("before") else None,
            )  # fmt: skip
            print_json(search_object(context, budget))
        except (ValueError, KeyError, TypeError, AttributeError, argparse.ArgumentTypeError) as e:
            failures += 1
            print_json({"error": f"line {number}: {type(e).__name__}: {e}", "results": []})
    return 1 if failures else 0


def ask(args: argparse.Namespace, memory: Memory) -> int:
    """Answer through the answering pipeline: the configured language model, streamed, else extractively."""
    return asyncio.run(_ask(args, memory))


async def _ask(args: argparse.Namespace, memory: Memory) -> int:
    answers = AsyncMemory(memory).answers
    question = memory.question(
        args.question, args.guild, channels=args.channels, max_sources=args.max_sources, budget=args.budget,
        min_relevance=args.min_relevance, now=args.now, after=args.after, before=args.before,
    )  # fmt: skip
    context = await answers.retrieve(question)
    labels = [SourceLabel.of(hit) for hit in context.hits]
    final: Draft | None = None
    shown = 0  # characters of a generated answer already streamed to the terminal
    try:
        async for draft in answers.stream(question, context, labels):
            final = draft
            if draft.generated and not args.json:
                sys.stdout.write(draft.text[shown:])
                sys.stdout.flush()
                shown = len(draft.text)
    except AnswerError:
        if shown:
            print()
        raise
    finally:
        await answers.aclose()
    assert final is not None  # noqa: S101  (the pipeline always yields a final draft)
    if args.json:
        print_json(
            {
                "answer": final.text, "sources": result_objects(context), "used_sources": final.used_sources,
                "context_tokens": context.total_tokens, "budget": context.budget, "generated": final.generated,
                "prompt_tokens": answers.prompt_tokens(question, context, labels) if final.generated else 0,
                "answer_tokens": count_tokens(final.text, memory.settings.llm.model),
            }
        )  # fmt: skip
        return 0
    print(final.text[shown:])
    if context.hits:
        print("\nSources:")
        for number in final.used_sources or range(1, len(context.hits) + 1):
            print(f"[{number}] {where(context.hits[number - 1])}")
    return 0


def recap(args: argparse.Namespace, memory: Memory) -> int:
    """What was said in a window, through the configured model (else the central message of each conversation)."""
    return asyncio.run(_recap(args, memory))


async def _recap(args: argparse.Namespace, memory: Memory) -> int:
    end = args.now or datetime.now(UTC)
    try:
        start = since(args.since, end)
    except ValueError as e:
        print(f"memorybot: error: --since must be {e}", file=sys.stderr)
        return 2
    handle = AsyncMemory(memory)
    try:
        done = await handle.recaps.recap(args.guild, after=start, before=end, channels=args.channels)
    finally:
        await handle.answers.aclose()  # the model both share
    if args.json:
        print_json(
            {
                "recap": done.text, "sources": result_objects(done.context), "used_sources": list(done.used_sources),
                "generated": done.generated, "after": done.after.isoformat(), "before": done.before.isoformat(),
                "messages": done.messages,
            }
        )  # fmt: skip
        return 0
    print(done.text)
    if done.context.hits:
        print("\nSources:")
        for number in done.used_sources or range(1, len(done.context.hits) + 1):
            print(f"[{number}] {where(done.context.hits[number - 1])}")
    return 0


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
    """Erase a message, a channel, a user's messages and files, or a whole guild."""
    report = memory.forget(args.guild, channel_id=args.channel, message_id=args.message, user_id=args.user)
    if args.json:
        print_json({"messages": report.messages, "files": report.files, "chunks": report.chunks})
    else:
        print(f"Forgot {report.messages} messages, {report.files} files, {report.chunks} chunks.")
    return 0


def stats(args: argparse.Namespace, memory: Memory) -> int:
    """Counts per guild and channel, disk use, the embedding model and the last ingest."""
    held = memory.stats(args.guild)
    if args.json:
        print_json(held.as_json())
        return 0
    print(f"embedding model: {held.embedding_model}   last ingest: {held.last_ingest_at}")
    print(f"disk: {held.disk_bytes / 1e6:,.1f} MB")
    for guild_id, guild in held.guilds.items():
        counts = (amount(guild.messages, "message"), amount(guild.files, "file"), amount(guild.chunks, "chunk"))
        print(
            f"guild {guild_id}: {', '.join(counts)}, {amount(guild.tokens, 'token')}, {amount(guild.vectors, 'vector')}"
        )
        for channel_id, channel in guild.channels.items():
            counts = (
                amount(channel.messages, "message"),
                amount(channel.files, "file"),
                amount(channel.chunks, "chunk"),
            )
            print(
                f"  channel {channel_id}: {', '.join(counts)}, {amount(channel.tokens, 'token')}, "
                f"{channel.pending:,} awaiting a vector"
            )
    return 0


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
