"""What the command line prints: the JSON shapes of design.md section 7, summaries and progress on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Protocol

from memory import Hit, IngestReport, PackedContext


def result_objects(context: PackedContext) -> list[dict[str, Any]]:
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
            "page": hit.chunk.page,
            "section": hit.chunk.section,
            "author_ids": list(hit.chunk.author_ids),
            "created_at": hit.chunk.created_at,
            "jump_url": hit.chunk.jump_url,
            "kind": hit.chunk.kind,
            "chunk_id": hit.chunk.chunk_id,
        }
        for rank, (hit, tokens) in enumerate(zip(context.hits, context.tokens, strict=True), start=1)
    ]


def search_object(context: PackedContext, budget: int | None) -> dict[str, Any]:
    """`search --json`: the results, the tokens they hold, and the budget asked for (None: no budget)."""
    return {"results": result_objects(context), "context_tokens": context.total_tokens, "budget": budget}


def where(hit: Hit) -> str:
    """A source in one line: the file or the chat channel, when, and the jump link."""
    chunk = hit.chunk
    when = chunk.created_at[:16].replace("T", " ") if chunk.created_at else ""
    if chunk.kind == "file":
        dated = f", {when[:10]}" if when else ""
        return f"file {chunk.place} (channel {chunk.channel_id}{dated})" + (
            f" {chunk.jump_url}" if chunk.jump_url else ""
        )
    return f"chat in channel {chunk.channel_id}, {when} {chunk.jump_url or ''}".rstrip()


def print_json(value: object) -> None:
    """One JSON object on one line of stdout."""
    print(json.dumps(value, ensure_ascii=False))


def amount(count: int, noun: str) -> str:
    """A count and what it counts, as every summary writes it: "1 record", "12,345 tokens"."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def print_report(args: argparse.Namespace, report: IngestReport) -> None:
    """An ingestion's summary: one JSON object with `--json`, else on stderr a line of counts, what was cut short,
    what was skipped, and one error line for each thing that could not be read."""
    summary = {
        "records": report.records,
        "records_unchanged": report.records_unchanged,
        "chunks_added": report.chunks_added,
        "chunks_removed": report.chunks_removed,
        "chunks_unchanged": report.chunks_unchanged,
        "tokens": report.tokens,
        "truncated": [{"source": source, "kept": kept} for source, kept in report.truncated],
        "skipped": [{"source": source, "reason": reason} for source, reason in report.skipped],
        "failed": [{"source": source, "reason": reason} for source, reason in report.failed],
        "seconds": round(report.seconds, 3),
    }
    if args.json:
        print_json(summary)
        return
    print(
        f"Remembered {amount(report.records, 'new or changed record')}, {report.records_unchanged:,} unchanged: "
        f"{amount(report.chunks_added, 'chunk')} added, {report.chunks_removed:,} removed, "
        f"{report.chunks_unchanged:,} unchanged, {amount(report.tokens, 'token')} embedded, in {report.seconds:.1f} s.",
        file=sys.stderr,
    )
    for title, items in (("Truncated", report.truncated), ("Skipped", report.skipped)):
        if items:
            print(f"{title} {len(items):,}:", file=sys.stderr)
            for source, reason in items:
                print(f"  {source}: {reason}", file=sys.stderr)
    for source, reason in report.failed:
        print(f"memorybot: error: {source}: {reason}", file=sys.stderr)


class Progress(Protocol):
    """A progress bar: tqdm's, or one that shows nothing."""

    def update(self, n: int = 1) -> object: ...
    def close(self) -> None: ...


class _NoBar:
    def update(self, n: int = 1) -> None:
        """Ignore progress."""

    def close(self) -> None:
        """Nothing to close."""


def progress(total: int | None, unit: str) -> Progress:
    """A progress bar on stderr when it is a terminal (never on stdout, which may carry JSON)."""
    if not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    bar: Progress = tqdm(total=total, unit=f" {unit}", file=sys.stderr, leave=False)
    return bar
