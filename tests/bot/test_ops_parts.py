"""The parts the ops endpoint reads: the ingestion queue's depth and lag, the JSON log lines, the probe's URL."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import threading

from bot.config import OpsSettings
from bot.ingestion import Erase, IngestionQueue
from bot.ops.logs import JsonFormatter, announce, use_log_format
from bot.ops.probe import healthz_url
from memory import Memory, stores_reachable
from tests.bot.conftest import wait_until
from tests.bot.test_ops_run_e2e import free_port
from tests.conftest import make_settings
from tests.fakes import HashEmbeddings


class BlockingMemory:
    """Deletes wait for `release`: a batch stays in progress for as long as the test wants."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.deleted: list[str] = []

    def delete_messages(self, guild_id, message_ids):
        self.entered.set()
        assert self.release.wait(10)
        self.deleted += message_ids


async def test_depth_counts_queued_and_in_progress_jobs_and_lag_ages_until_done():
    """Two jobs queued: depth 2 and a growing lag; the first being applied still counts; once done, 0 and 0."""
    memory = BlockingMemory()
    queue = IngestionQueue(memory)  # type: ignore[arg-type]
    assert (queue.depth, queue.lag_seconds) == (0, 0.0)
    queue.put(Erase("g", ("1",)))
    queue.put(Erase("g", ("2",)))
    assert queue.depth == 2
    await wait_until(lambda: queue.lag_seconds > 0)
    queue.start()
    await asyncio.to_thread(memory.entered.wait, 10)
    assert queue.depth == 2  # the first is being applied, the second waits behind it
    first_lag = queue.lag_seconds
    await wait_until(lambda: queue.lag_seconds > first_lag)  # still the first job's age: it is not done
    memory.release.set()
    await asyncio.wait_for(queue.idle(), 10)
    assert (queue.depth, queue.lag_seconds, memory.deleted) == (0, 0.0, ["1", "2"])
    await queue.close()


def test_a_json_log_line_is_one_object_with_the_trace():
    """A record with a multi-line message and an exception is one line of JSON holding both."""
    try:
        raise ValueError("bad batch")
    except ValueError:
        record = logging.LogRecord("memorybot.x", logging.ERROR, __file__, 1, "line one\nline %d", (2,), None)
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("ERROR", "memorybot.x", "line one\nline 2")
    assert "ValueError: bad batch" in entry["exc_info"] and entry["ts"].endswith("+00:00")


def test_use_log_format_changes_console_handlers_only(monkeypatch):
    """The basicConfig console handler gets the JSON format; a handler of another kind keeps its own; the embedding
    library's progress bars are off."""
    root = logging.getLogger()
    console, other = logging.StreamHandler(io.StringIO()), logging.FileHandler("/dev/null")
    kept = logging.Formatter("%(message)s")
    other.setFormatter(kept)
    monkeypatch.setattr(root, "handlers", [console, other])
    library = logging.getLogger("sentence_transformers")
    level = library.level
    try:
        use_log_format("json")
        assert library.level == logging.WARNING  # no progress bars between the JSON lines
    finally:
        library.setLevel(level)
    assert isinstance(console.formatter, JsonFormatter) and other.formatter is kept
    use_log_format("text")
    assert not isinstance(console.formatter, JsonFormatter)
    other.close()


def test_announce_writes_text_as_is_or_one_json_object_per_line():
    """The ready lines: unchanged in text mode; in JSON mode each an INFO record of the memorybot logger."""
    text, as_json = io.StringIO(), io.StringIO()
    announce(text, "memorybot ready: 1 guilds\nmemorybot: warning: none\n", "text")
    announce(as_json, "memorybot ready: 1 guilds\nmemorybot: warning: none\n", "json")
    assert text.getvalue() == "memorybot ready: 1 guilds\nmemorybot: warning: none\n"
    entries = [json.loads(line) for line in as_json.getvalue().splitlines()]
    assert [(e["level"], e["logger"], e["message"]) for e in entries] == [
        ("INFO", "memorybot", "memorybot ready: 1 guilds"),
        ("INFO", "memorybot", "memorybot: warning: none"),
    ]


def test_the_probe_reaches_an_endpoint_on_every_interface_through_loopback():
    """0.0.0.0 and :: are listening addresses: the probe asks 127.0.0.1; a named host or IPv6 address is kept."""
    assert healthz_url(OpsSettings(http_host="0.0.0.0", http_port=8080)) == "http://127.0.0.1:8080/healthz"  # noqa: S104
    assert healthz_url(OpsSettings(http_host="::", http_port=8080)) == "http://127.0.0.1:8080/healthz"
    assert healthz_url(OpsSettings(http_host="::1", http_port=9)) == "http://[::1]:9/healthz"
    assert healthz_url(OpsSettings(http_host="bot.internal", http_port=9)) == "http://bot.internal:9/healthz"


def test_stores_reachable_names_a_chroma_server_that_does_not_answer(tmp_path):
    """SQLite answers but the configured Chroma server does not: records `ok`, vectors the error in one line (what
    /healthz shows with its 503)."""
    port = free_port()  # nothing listens there
    settings = make_settings(tmp_path / "data", storage={"chroma": {"mode": "http", "host": "127.0.0.1", "port": port}})
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        found = stores_reachable(memory)
    assert found["records"] == "ok"
    assert found["vectors"] != "ok" and "\n" not in found["vectors"].strip()
