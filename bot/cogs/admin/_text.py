"""What `/memory` shows, as pure functions of Discord objects and memory's reports (no I/O, tested alone)."""

from __future__ import annotations

import re
import time

import discord

from bot.reconcile import backfill_command
from bot.render import clip, plural
from memory import SETTING_KEYS, AskedQuestion, BackfillCursor, ChannelMark, GuildSettings, MemoryStats

REFUSAL = "Only members with the Manage Server permission can change or see what memorybot remembers here."
MESSAGE_LINK = re.compile(r"https://(?:\w+\.)?discord(?:app)?\.com/channels/(\d+)/(\d+)/(\d+)")


def where(channel: object) -> str:
    """How a channel or category is named in a sentence."""
    if isinstance(channel, discord.CategoryChannel):
        return f"the channels of the category {channel.name}"
    return f"#{getattr(channel, 'name', channel)}"


def name(guild: discord.Guild, channel_id: str) -> str:
    """A channel or category of the guild by id, marked when it no longer exists."""
    channel = guild.get_channel(int(channel_id)) if channel_id.isdigit() else None
    if channel is None:
        return f"channel {channel_id} (deleted)"
    if isinstance(channel, discord.CategoryChannel):
        return f"category {channel.name}"
    return f"#{channel.name}"


def state(remembered: bool) -> str:
    """ "remembered" or "not remembered"."""
    return "remembered" if remembered else "not remembered"


def channels_text(
    guild: discord.Guild, policies: dict[str, bool], defaults: frozenset[str], remembered_now: list[str]
) -> str:
    """`/memory channels`: this server's policies, config.yaml's defaults (marked where overridden), the result."""
    lines = ["**Set in this server** (`/memory enable|disable`; these override config.yaml):"]
    lines += [f"• {name(guild, cid)}: {state(on)}" for cid, on in sorted(policies.items())] or ["• none"]
    lines.append("**Defaults from config.yaml** (`discord.enabled_channels`):")
    shown = [cid for cid in sorted(defaults) if cid.isdigit() and guild.get_channel(int(cid)) is not None]
    for cid in shown:
        overridden = f" (overridden here: {state(policies[cid])})" if cid in policies else ""
        lines.append(f"• {name(guild, cid)}: remembered{overridden}")
    if not shown:
        lines.append("• none")
    lines.append(f"**Remembered now:** {', '.join(remembered_now) or 'no channel'}")
    lines.append("The nearest setting wins: the channel, then a thread's parent, then the category.")
    return clip("\n".join(lines))


def settings_text(current: GuildSettings) -> str:
    """`/memory settings`: each setting with its value and where it comes from."""
    shown: dict[str, object] = {
        "retention_days": current.retention_days or "0 (keep forever)",
        "extra_instruction": current.extra_instruction or "none",
    }
    lines = ["**Settings of this server** (server: set with `/memory settings`; config: config.yaml's default):"]
    lines += [f"• {key}: {shown.get(key, getattr(current, key))} ({current.source(key)})" for key in SETTING_KEYS]
    return "\n".join(lines)


def stats_text(guild: discord.Guild, stats: MemoryStats) -> str:
    """`/memory stats`: this server's counts, per channel by name, disk use and the last ingest."""
    held = stats.guilds.get(str(guild.id))
    last = stats.last_ingest_at or "never"
    disk = f"{stats.disk_bytes / 1_048_576:.1f} MiB (the whole data directory, shared by every server)"
    if held is None:
        return f"Nothing is remembered in this server yet.\nDisk: {disk}\nLast ingest: {last}"
    lines = [
        f"**Memory of {guild.name}:** {plural(held.messages, 'message')}, {plural(held.files, 'file')}, "
        f"{plural(held.chunks, 'chunk')}, {plural(held.tokens, 'token')}, {plural(held.vectors, 'vector')}",
        f"Disk: {disk}",
        f"Last ingest: {last}",
        "**Per channel:**",
    ]
    for channel_id, counts in sorted(held.channels.items(), key=lambda kv: -kv[1].chunks):
        channel = guild.get_channel_or_thread(int(channel_id)) if channel_id.isdigit() else None
        label = f"#{channel.name}" if channel is not None else f"channel {channel_id} (deleted or unseen)"
        lines.append(
            f"• {label}: {plural(counts.messages, 'message')}, {plural(counts.files, 'file')}, "
            f"{plural(counts.chunks, 'chunk')}, {plural(counts.tokens, 'token')}"
        )
    return "\n".join(lines)


def progress_text(channel_name: str, cursor: BackfillCursor, started: float) -> str:
    """One line of backfill progress: messages, files and rate so far (`started` is a `time.monotonic()`)."""
    seconds = max(time.monotonic() - started, 0.001)
    done = "done" if cursor.done else "in progress"
    return (
        f"Backfill of #{channel_name} {done}: {cursor.messages:,} messages, {cursor.files:,} files "
        f"({cursor.messages / seconds:.0f} messages/s)."
    )


def status_line(cursor: BackfillCursor, label: str, *, running: bool = False) -> str:
    """A cursor as one line of `/memory backfill-status` (a backfill resumed after a restart shows as running)."""
    shown = "done" if cursor.done else "running" if running else "unfinished (resumes on restart)"
    limit = f", limit {cursor.max_messages:,}" if cursor.max_messages else ""
    return (
        f"• {label}: {shown}: {cursor.messages:,} messages, {cursor.files:,} files{limit}; "
        f"last update {cursor.updated_at or 'never'}"
    )


def gaps_text(asked: list[AskedQuestion], days: int) -> str:
    """`/memory gaps`: the questions of the last `days` days that found nothing, or got more 👎 than 👍."""
    failed = [q for q in asked if q.unanswered or q.down > q.up]
    if not failed:
        asked_here = plural(len(asked), "question")
        return f"No question went unanswered or was voted down here in the last {days} days ({asked_here} asked)."
    empty = sum(q.unanswered for q in failed)
    lines = [
        f"**Where memory fell short in the last {days} days** ({plural(len(asked), 'question')} asked: {empty} "
        f"found nothing, {len(failed) - empty} got more 👎 than 👍):"
    ]
    for question in failed:
        verdict = "nothing found" if question.unanswered else f"👎 {question.down} · 👍 {question.up}"
        text = question.question if len(question.question) <= 150 else question.question[:149] + "…"
        lines.append(f"• {question.asked_at[:10]} <@{question.user_id}>: “{text}” — {verdict}")
    lines.append("Members vote under each answer; `memorybot eval-export` writes these questions as JSON lines.")
    return "\n".join(lines)


def missed_text(guild: discord.Guild, marks: dict[str, ChannelMark]) -> str:
    """The channels where a restart left more unread than `discord.reconcile_max_missed`, each with the exact
    `/memory backfill` that reads the rest ('' when there is none)."""
    lines = [
        f"• {name(guild, mark.channel_id)}: messages sent while I was away after "
        f"<t:{int(discord.utils.snowflake_time(int(mark.newest_id)).timestamp())}:f> are not all read yet: run "
        f"`{backfill_command(mark.channel_id, mark.newest_id)}`"
        for mark in sorted(marks.values(), key=lambda m: m.channel_id)
        if mark.missed_before is not None
    ]
    if not lines:
        return ""
    head = "**Missed while offline** (more than a restart reads, `discord.reconcile_max_missed`):"
    return "\n".join([head, *lines])
