"""The `memorybot` commands that work on an open memory: ingest, import-chat, search, ask, forget, stats, reindex."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.batch import search_batch
from bot.cli.output import print_json, print_report, progress, result_objects, search_object, where
from memory import (
    AnswerError,
    AsyncMemory,
    Draft,
    FileDocument,
    IngestReport,
    Memory,
    MemoryStoreError,
    SourceLabel,
    count_tokens,
    read_chat_export,
    since,
)


def ingest(args: argparse.Namespace, memory: Memory) -> int:
    """Remember files and folders as if uploaded to `--channel` of `--guild`."""
    started = time.monotonic()
    paths, report = _collect_files(args.paths, memory.settings.limits.max_file_bytes)
    bar = progress(len(paths), "files")
    try:
        documents = _read_files(paths, args.guild, args.channel, report)
        report.merge(memory.ingest_files(documents, progress=bar.update))
    finally:
        bar.close()
    report.seconds = time.monotonic() - started
    print_report(args, report)
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


def import_chat(args: argparse.Namespace, memory: Memory) -> int:
    """Remember DiscordChatExporter exports; an unreadable one is reported and the rest go on."""
    started = time.monotonic()
    report = IngestReport()
    for path in args.files:
        try:
            export = read_chat_export(path, guild_id=args.guild)
        except MemoryStoreError as e:
            report.skipped.append((str(path), str(e)))
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
    return 0


def search(args: argparse.Namespace, memory: Memory) -> int:
    """Hybrid search, printed or as JSON; `--batch` runs one query per JSON line with the model loaded once."""
    if args.batch is not None:
        return search_batch(args.batch, memory)
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
        f"erase everything remembered of guild {guild_id} ({messages} messages, {files} files)? [y/N] ",
        end="", file=sys.stderr, flush=True,
    )  # fmt: skip
    try:
        return sys.stdin.readline().strip().lower() in {"y", "yes"}
    except KeyboardInterrupt:
        print(file=sys.stderr)  # what follows starts its own line, not after the question
        raise


def stats(args: argparse.Namespace, memory: Memory) -> int:
    """Counts per guild and channel, disk use, the embedding model and the last ingest."""
    held = memory.stats(args.guild)
    if args.json:
        print_json(held.as_json())
        return 0
    print(f"embedding model: {held.embedding_model}   last ingest: {held.last_ingest_at}")
    print(f"disk: {held.disk_bytes / 1e6:.1f} MB")
    for guild_id, guild in held.guilds.items():
        print(
            f"guild {guild_id}: {guild.messages} messages, {guild.files} files, {guild.chunks} chunks, "
            f"{guild.tokens} tokens, {guild.vectors} vectors"
        )
        for channel_id, channel in guild.channels.items():
            print(
                f"  channel {channel_id}: {channel.messages} messages, {channel.files} files, {channel.chunks} chunks, "
                f"{channel.tokens} tokens, {channel.pending} awaiting a vector"
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
