"""`memorybot ask` through the configured language model: the real langchain-openai client against the fake
OpenAI server, streamed to the terminal, with sources; `--json` adds token counts; a failing model is one line."""

from __future__ import annotations

import asyncio
import json
import sys
import threading

import pytest

from bot.cli import main
from tests.bot.conftest import answer_requests
from tests.fakeopenai import FakeOpenAI
from tests.fakes import HashEmbeddings, dce_export, dce_message

QUESTION = "what database did we decide on?"
REPLY = "The team chose SQLite in WAL mode for the index [1]; Postgres only if needed."


@pytest.fixture
def llm():
    """The fake OpenAI server in a thread of its own (the command line runs its own event loop)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeOpenAI()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    server.reply = REPLY
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def cli(tmp_path, llm, monkeypatch):
    """Run the command line in-process, configured with the fake model, on a data dir holding one chat export."""
    monkeypatch.setenv("OPENAI_API_KEY", llm.api_key)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"retrieval: {{min_relevance: 0.0}}\nllm: {{base_url: '{llm.base_url}', model: gpt-4o-mini, max_retries: 0, "
        "timeout_seconds: 2}\n",
        encoding="utf-8",
    )
    items = [
        dce_message("11", "We decided on SQLite in WAL mode for the index.", timestamp="2024-03-01T10:00:00+00:00"),
        dce_message("12", "Postgres later if needed.", author_id="502", author_name="bob",
                    timestamp="2024-03-01T10:01:00+00:00", kind="Reply", reply_to="11"),
    ]  # fmt: skip
    export = tmp_path / "dev.json"
    export.write_text(json.dumps(dce_export("900", "901", items)), encoding="utf-8")
    embeddings = HashEmbeddings()

    def invoke(*argv: str) -> int:
        return main(["--config", str(config), "--data-dir", str(tmp_path / "data"), *argv], embeddings=embeddings)

    assert invoke("import-chat", str(export)) == 0
    return invoke


class Writes:
    """Stands in for stdout and keeps every write apart, to tell a streamed answer from one printed at the end."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""


def test_ask_streams_the_models_answer_to_the_terminal_then_lists_its_sources(cli, llm, monkeypatch):
    """The answer arrives in several writes as the model streams it; the cited source follows with its link."""
    out = Writes()
    monkeypatch.setattr(sys, "stdout", out)
    assert cli("ask", QUESTION, "--guild", "900") == 0
    printed = "".join(out.parts)
    answer, sources = printed.split("\nSources:\n")
    assert answer.strip() == REPLY
    streamed = [part for part in out.parts if part and part in REPLY]
    assert len(streamed) >= 3 and "".join(streamed) == REPLY  # piece by piece, in order
    assert sources.startswith("[1] chat in #general (901), 2024-03-01 10:00 https://discord.com/channels/900/901/11")
    request = llm.requests[-1]
    assert request["stream"] is True and request["model"] == "gpt-4o-mini"
    prompt = llm.last_prompt_text()
    assert "We decided on SQLite in WAL mode" in prompt and prompt.rstrip().endswith(QUESTION)


def test_ask_json_gives_the_generated_answer_sources_and_token_counts(cli, llm, capsys):
    """--json: the model's answer, the sources it drew on and cited, and the context, prompt and answer tokens."""
    capsys.readouterr()
    assert cli("ask", QUESTION, "--guild", "900", "--budget", "300", "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["answer"] == REPLY and answer["generated"] is True and answer["used_sources"] == [1]
    assert ["11", "12"] in [s["message_ids"] for s in answer["sources"]]  # the conversation that says it
    assert answer["budget"] == 300 and 0 < answer["context_tokens"] <= 300
    assert answer["prompt_tokens"] > answer["context_tokens"] and answer["answer_tokens"] > 5
    assert len(answer_requests(llm)) == 1 and len(llm.requests) <= 2  # at most one rewrite before the answer


def test_a_failing_model_is_one_line_and_exit_code_1(cli, llm, capsys):
    """A model that answers 500 gives one clear line on stderr, no traceback, and exit code 1."""
    llm.fault = "500"
    capsys.readouterr()
    assert cli("ask", QUESTION, "--guild", "900") == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "memorybot: error: The language model failed (HTTP 500). Please try again later."
    assert "Traceback" not in captured.err and captured.out == ""


def test_recap_goes_through_the_model_and_lists_the_conversations_it_cites(cli, llm, capsys):
    """`memorybot recap --since 2d --now …` asks the model once about the window's one conversation, cited [1]."""
    llm.reply = "- The team picked SQLite in WAL mode for the index [1]."
    capsys.readouterr()
    assert cli("recap", "--guild", "900", "--since", "2d", "--now", "2024-03-02T12:00", "--json") == 0
    recap = json.loads(capsys.readouterr().out)
    assert recap["recap"] == llm.reply and recap["generated"] is True and recap["used_sources"] == [1]
    assert recap["sources"][0]["message_ids"] == ["11", "12"] and recap["messages"] == 2
    assert recap["after"].startswith("2024-02-29T12:00") and '<conversation id="1">' in llm.last_prompt_text()


def test_a_model_that_hangs_up_is_logged_with_the_url_tried(cli, llm, capsys, caplog):
    """A connection the model drops says, in the log the operator reads, which endpoint failed."""
    llm.fault = "disconnect"
    assert cli("ask", QUESTION, "--guild", "900") == 1
    assert f"language model at {llm.base_url} failed" in caplog.text
