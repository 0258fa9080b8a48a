"""The read-only lookups (stats, search, ask, recap) as the JSON objects `memorybot ... --json` prints: one
implementation for the command line on an open memory and for the running bot's admin socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from memory import AsyncMemory, Draft, Memory, PackedContext, PlaceNames, SourceLabel, count_tokens

# A request is a JSON object (the CLI has checked its values): the options by their argparse names, times as ISO.
Request = dict[str, Any]


def _retrieval(request: Request) -> dict[str, Any]:
    """The retrieval options `search` and `ask` share, as `Memory.search`/`Memory.question` keywords."""
    return {
        "channels": request.get("channels"),
        "max_sources": request.get("max_sources"),
        "budget": request.get("budget"),
        "min_relevance": request.get("min_relevance"),
        "now": datetime.fromisoformat(request["now"]) if request.get("now") else None,
        "after": date.fromisoformat(request["after"]) if request.get("after") else None,
        "before": date.fromisoformat(request["before"]) if request.get("before") else None,
    }


def result_objects(context: PackedContext, names: PlaceNames | None = None) -> list[dict[str, Any]]:
    """The result shape of design.md section 7 (ids are strings); `channel_name` is None when memory does not
    know the channel's name."""
    return [
        {
            "rank": rank,
            "score": hit.score,
            "similarity": None if hit.similarity is None else round(hit.similarity, 6),
            "text": hit.chunk.text,
            "tokens": tokens,
            "guild_id": hit.chunk.guild_id,
            "channel_id": hit.chunk.channel_id,
            "channel_name": names.channel(hit.chunk.channel_id) if names is not None else None,
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


def search_object(context: PackedContext, budget: int | None, names: PlaceNames | None = None) -> dict[str, Any]:
    """`search --json`: the results, the tokens they hold, and the budget asked for (None: no budget)."""
    return {"results": result_objects(context, names), "context_tokens": context.total_tokens, "budget": budget}


def stats(memory: Memory, request: Request) -> dict[str, Any]:
    """`stats`: counts per guild and channel (read from SQLite), each with its `name` (None when unknown)."""
    held = memory.stats(request.get("guild")).as_json()
    known = memory.names.all()
    for guild_id, guild in held["guilds"].items():
        names = known.get(guild_id, PlaceNames(guild_id))
        guild["name"] = names.guild
        for channel_id, channel in guild["channels"].items():
            channel["name"] = names.channel(channel_id)
    return held


def search(memory: Memory, request: Request) -> dict[str, Any]:
    """`search`: one query's hybrid search."""
    guild = str(request["guild"])
    context = memory.search(str(request["query"]), guild, **_retrieval(request))
    return search_object(context, request.get("budget"), memory.names.of_guild(guild))


async def ask(memory: AsyncMemory, request: Request, on_text: Callable[[str], None] | None = None) -> dict[str, Any]:
    """`ask`: the answer (the configured model's, else extractive) with its sources; `on_text` gets each new piece
    of a generated answer as it streams.

    Raises:
        AnswerError: the model failed (after `on_text` may have had part of the answer).
    """
    question = await memory.question(str(request["question"]), str(request["guild"]), **_retrieval(request))
    context = await memory.answers.retrieve(question)
    labels = [SourceLabel.of(hit) for hit in context.hits]
    final: Draft | None = None
    shown = 0
    async for draft in memory.answers.stream(question, context, labels):
        final = draft
        if draft.generated and on_text is not None:
            on_text(draft.text[shown:])
            shown = len(draft.text)
    assert final is not None  # noqa: S101  (the pipeline always yields a final draft)
    names = await asyncio.to_thread(memory.sync.names.of_guild, question.guild_id)
    return {
        "answer": final.text, "sources": result_objects(context, names), "used_sources": final.used_sources,
        "context_tokens": context.total_tokens, "budget": context.budget, "generated": final.generated,
        "prompt_tokens": memory.answers.prompt_tokens(question, context, labels) if final.generated else 0,
        "answer_tokens": count_tokens(final.text, memory.settings.llm.model),
    }  # fmt: skip


async def recap(memory: AsyncMemory, request: Request) -> dict[str, Any]:
    """`recap`: what was said in [after, before), through the configured model or extractively."""
    done = await memory.recaps.recap(
        str(request["guild"]), after=datetime.fromisoformat(request["after"]),
        before=datetime.fromisoformat(request["before"]),
        channels=request.get("channels"),
    )  # fmt: skip
    names = await asyncio.to_thread(memory.sync.names.of_guild, str(request["guild"]))
    return {
        "recap": done.text, "sources": result_objects(done.context, names), "used_sources": list(done.used_sources),
        "generated": done.generated, "after": done.after.isoformat(), "before": done.before.isoformat(),
        "messages": done.messages,
    }  # fmt: skip


SYNC = {"stats": stats, "search": search}  # run in a worker thread by an event loop
ASYNC = {"ask": ask, "recap": recap}
