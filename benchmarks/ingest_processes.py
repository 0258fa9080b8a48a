"""Times whole ingestion processes on the same files: `memorybot ingest` against the naive langchain pipeline
(`benchmarks/naive_ingest.py`), in alternating rounds; `bench.py --ingest-processes` runs it and prints the table.

The files are CPython's 79 reference topics (`pydoc_data.topics`, the text `help("if")` shows), one text file each,
as the speed issue measured them.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
NAIVE = REPO / "benchmarks" / "naive_ingest.py"


def write_topics(folder: Path) -> tuple[int, int]:
    """CPython's reference topics as text files in `folder`; returns how many, and their characters in all."""
    from pydoc_data.topics import topics

    folder.mkdir(parents=True, exist_ok=True)
    for name, text in topics.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return len(topics), sum(len(text) for text in topics.values())


def _environment() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.pop("PYTHONPATH", None)
    return env


def _run(argv: Sequence[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and standard output of one whole process; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=_environment(), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        msg = f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}"
        raise RuntimeError(msg)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def bench_ingest_processes(repo: Path = REPO, runs: int = 3) -> dict[str, Any]:
    """Median wall and CPU seconds of each system over `runs` rounds, each into a fresh store; a round runs both,
    in turn, so that another process's load falls on both alike."""
    with tempfile.TemporaryDirectory(prefix="memorybot-ingest-") as tmp:
        folder = Path(tmp) / "topics"
        files, characters = write_topics(folder)
        wall: dict[str, list[float]] = {"naive": [], "memorybot": []}
        cpu: dict[str, list[float]] = {"naive": [], "memorybot": []}
        outputs: dict[str, str] = {}
        load_before = os.getloadavg()[0]
        for number in range(runs):
            store = Path(tmp) / f"round-{number}"
            commands = {
                "naive": [sys.executable, str(NAIVE), str(folder), str(store / "naive")],
                "memorybot": [
                    sys.executable, "-m", "bot", "--data-dir", str(store / "memorybot"), "ingest", str(folder), "--json"
                ],
            }  # fmt: skip
            for system, argv in commands.items():
                seconds, cpu_seconds, outputs[system] = _run(argv, repo)
                wall[system].append(seconds)
                cpu[system].append(cpu_seconds)
        load_after = os.getloadavg()[0]
    medians = {system: statistics.median(values) for system, values in wall.items()}
    cpu_medians = {system: statistics.median(values) for system, values in cpu.items()}
    return {
        "repo": str(repo),
        "runs": runs,
        "files": files,
        "characters": characters,
        "load_average_1m": {"before": round(load_before, 2), "after": round(load_after, 2)},
        "naive_output": outputs["naive"].strip(),
        "memorybot_output": outputs["memorybot"].strip()[-400:],
        "wall_s": {system: round(value, 2) for system, value in medians.items()},
        "cpu_s": {system: round(value, 2) for system, value in cpu_medians.items()},
        "naive_over_memorybot_wall": round(medians["naive"] / medians["memorybot"], 2),
        "naive_over_memorybot_cpu": round(cpu_medians["naive"] / cpu_medians["memorybot"], 2),
    }
