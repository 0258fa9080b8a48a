"""Questions per second one process answers without a language model (retrieve and pack, as `/ask` does before
the model is called), with 1, 2 and 4 questions in flight, on an evaluation set remembered with the real model.

    python benchmarks/throughput.py [--set conversations] [--concurrency 1,2,4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from benchmarks.eval import load_sets, remember_set  # noqa: E402
from bot.config import load_config  # noqa: E402
from memory import AsyncMemory, Memory  # noqa: E402
from memory.embeddings import LocalEmbeddings  # noqa: E402
from memory.settings import EmbeddingSettings  # noqa: E402


async def _rate(memory: Memory, guild_id: str, questions: list[str], in_flight: int) -> float:
    """Questions retrieved per second with `in_flight` of them running at once (each in a worker thread)."""
    answers = AsyncMemory(memory, chat_model=None).answers
    gate = asyncio.Semaphore(in_flight)

    async def one(text: str) -> None:
        async with gate:
            await answers.retrieve(memory.question(text, guild_id, budget=1000))

    started = time.perf_counter()
    await asyncio.gather(*(one(text) for text in questions))
    took = time.perf_counter() - started
    await answers.aclose()
    return len(questions) / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="conversations", help="an evaluation set of benchmarks/eval.py")
    parser.add_argument("--concurrency", default="1,2,4", help="questions in flight, comma-separated")
    args = parser.parse_args()
    evalset = load_sets([args.set], False)[0]
    questions = [q.text for q in evalset.questions]
    embedder = LocalEmbeddings(EmbeddingSettings())
    with tempfile.TemporaryDirectory() as folder:
        settings = load_config(REPO / "config.yaml", data_dir=Path(folder))
        with Memory.open(settings, embeddings=embedder) as memory:
            remember_set(memory, evalset)
            asyncio.run(_rate(memory, evalset.guild_id, questions[:10], 1))  # warm-up: caches, ONNX session
            cores = os.cpu_count()
            print(f"{args.set}: {len(questions)} questions, budget 1,000 tokens, no language model, {cores} cores")
            print("in flight | questions/s")
            for in_flight in (int(n) for n in args.concurrency.split(",")):
                rate = asyncio.run(_rate(memory, evalset.guild_id, questions, in_flight))
                print(f"{in_flight} | {rate:.1f}")


if __name__ == "__main__":
    main()
