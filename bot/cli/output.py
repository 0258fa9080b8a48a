"""What the command line prints: JSON objects (their shapes, design.md section 7, are in `bot.readonly`), their
text forms, summaries and progress on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Protocol

from bot.readonly import result_objects, search_object
from memory import IngestReport


def where(result: dict[str, Any]) -> str:
    """A source in one line (from its `result_objects` entry): the file or the chat channel, when, the jump link."""
    when = result["created_at"][:16].replace("T", " ") if result.get("created_at") else ""
    link = result.get("jump_url") or ""
    name = result.get("channel_name")
    if result.get("kind") == "file":
        dated = f", {when[:10]}" if when else ""
        channel = f"#{name}" if name else f"channel {result['channel_id']}"
        return f"file {_place(result)} ({channel}{dated})" + (f" {link}" if link else "")
    channel = f"#{name} ({result['channel_id']})" if name else f"channel {result['channel_id']}"
    return f"chat in {channel}, {when} {link}".rstrip()


def _named(kind: str, place_id: str, name: str | None, *, mark: str = "") -> str:
    """A guild or channel of `stats` as it reads: "guild 9000 (Lighthouse)", "channel 9001 (#dev)"."""
    return f"{kind} {place_id} ({mark}{name})" if name else f"{kind} {place_id}"


def _place(result: dict[str, Any]) -> str | None:
    # The same words as `Chunk.place`, from the JSON fields (a running bot's answer has no Chunk).
    name, page, section = result.get("filename"), result.get("page"), result.get("section")
    if not name:
        return None
    if page is not None:
        return f"{name} p. {page}"
    return f"{name}, {section}" if section else name


def print_search(found: dict[str, Any]) -> None:
    """`search` without --json, from its JSON object (`search_object`)."""
    if not found["results"]:
        print("Nothing found.")
    for result in found["results"]:
        shown = "  ".join(part for part in (relevance(result), where(result)) if part)
        print(f"[{result['rank']}] {shown}  ({result['tokens']} tokens)")
        print("    " + result["text"].replace("\n", "\n    "))
        print()


def print_answer(text: str, sources: list[dict[str, Any]], used: list[int]) -> None:
    """An answer or recap and the sources it cites (all of them when it cites none)."""
    print(text)
    if sources:
        print("\nSources:")
        for number in used or range(1, len(sources) + 1):
            print(f"[{number}] {where(sources[number - 1])}")


def print_stats(held: dict[str, Any]) -> None:
    """`stats` without --json, from its JSON object (`MemoryStats.as_json`); counts read as in ingest's summary."""
    print(f"embedding model: {held['embedding_model']}   last ingest: {held['last_ingest_at']}")
    print(f"disk: {held['disk_bytes'] / 1e6:,.1f} MB")
    for guild_id, guild in held["guilds"].items():
        print(f"{_named('guild', guild_id, guild.get('name'))}: {_counts(guild)}, {amount(guild['vectors'], 'vector')}")
        for channel_id, channel in guild["channels"].items():
            shown = _named("channel", channel_id, channel.get("name"), mark="#")
            print(f"  {shown}: {_counts(channel)}, {channel['pending']:,} awaiting a vector")


def _counts(held: dict[str, Any]) -> str:
    nouns = (("messages", "message"), ("files", "file"), ("chunks", "chunk"), ("tokens", "token"))
    return ", ".join(amount(held[key], noun) for key, noun in nouns)


def guild_hint(guild_id: str, held: dict[str, Any]) -> str | None:
    """When a guild holds nothing: which guilds do (from `stats`' JSON object), else None."""
    guilds = held["guilds"]
    if guild_id in guilds and (guilds[guild_id]["messages"] or guilds[guild_id]["files"]):
        return None
    others = [
        f"{gid} ({g['name'] + ', ' if g.get('name') else ''}{amount(g['messages'], 'message')}"
        + (f", {amount(g['files'], 'file')})" if g["files"] else ")")
        for gid, g in guilds.items()
        if g["messages"] or g["files"]
    ]
    asked = _named("guild", guild_id, guilds.get(guild_id, {}).get("name"))
    if not others:
        return f"{asked} remembers nothing, and neither does any other guild yet"
    return f"{asked} remembers nothing; guilds with memory: {', '.join(others)} (pick one with --guild)"


def relevance(result: dict[str, Any]) -> str:
    """What a person reads of a hit's score (from its `result_objects` entry): its cosine similarity to the
    query, "relevance 0.62".

    The fused score (reciprocal-rank fusion, about 0.016 for every hit) ranks but reads as nothing, so it is
    left to `--json`; a hit no vector scored (the vector index could not say) shows no figure.
    """
    similarity = result.get("similarity")
    return "" if similarity is None else f"relevance {similarity:.2f}"


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


__all__ = [
    "guild_hint", "print_answer", "print_json", "print_report", "print_search", "print_stats", "progress",
    "result_objects", "search_object", "where",
]  # fmt: skip
