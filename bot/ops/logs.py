"""Log output of `memorybot run`: plain `LEVEL message` lines, or one JSON object per line (`ops.log_format: json`)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TextIO

TEXT_FORMAT = "%(levelname)s %(message)s"  # what `memorybot` logs without the ops section


class JsonFormatter(logging.Formatter):
    """One JSON object per record: `ts` (UTC, ISO 8601), `level`, `logger`, `message`, and `exc_info` (the trace)
    when there is one. A line per record whatever the message holds: json.dumps escapes its newlines."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_log_format(log_format: str) -> None:
    """Give the root logger's console handlers (those `logging.basicConfig` made) the configured format; handlers
    of other kinds (files, pytest's capture) are left as they are."""
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    if log_format == "json":
        # sentence-transformers draws a tqdm bar on stderr for each embedding batch while its logger is at INFO
        # (`-v`): a line that is not JSON. At WARNING it draws none; its INFO lines are load notices only.
        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:
            handler.setFormatter(formatter)


def announce(stream: TextIO, text: str, log_format: str) -> None:
    """Write lines meant for the operator whatever the log level (the ready line): as they are, or in JSON mode as
    INFO records of the `memorybot` logger, so that the stream stays one JSON object per line."""
    if log_format != "json":
        stream.write(text)
        return
    formatter = JsonFormatter()
    for line in text.splitlines():
        record = logging.LogRecord("memorybot", logging.INFO, __file__, 0, line, None, None)
        stream.write(formatter.format(record) + "\n")
