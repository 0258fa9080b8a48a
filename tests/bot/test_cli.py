"""The `memorybot` command line: commands, the `--json` contract of design.md section 7, errors, the lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.cli import main
from memory.lock import DataDirLock
from tests.conftest import REPO
from tests.fakes import HashEmbeddings, dce_export, dce_message

RESULT_KEYS = {"rank", "score", "text", "tokens", "guild_id", "channel_id", "channel_name", "message_ids", "filename",
               "author_ids", "created_at", "jump_url"}  # fmt: skip


@pytest.fixture
def run(tmp_path, capsys):
    """Run the CLI in-process on a temporary data dir with the hashing embedder; return (code, stdout, stderr)."""
    config = tmp_path / "config.yaml"
    config.write_text("retrieval:\n  min_relevance: 0.0\n", encoding="utf-8")

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), "--data-dir", str(tmp_path / "data"), *argv], embeddings=HashEmbeddings())
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def one_json(out: str) -> dict:
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    return json.loads(lines[0])


@pytest.fixture
def export(tmp_path):
    items = [
        dce_message("11", "We decided on SQLite in WAL mode for the index.", timestamp="2024-03-01T10:00:00+00:00"),
        dce_message("12", "Postgres later if needed.", author_id="502", author_name="bob",
                    timestamp="2024-03-01T10:01:00+00:00", kind="Reply", reply_to="11"),
        dce_message("13", "bot noise", is_bot=True, timestamp="2024-03-01T10:02:00+00:00"),
    ]  # fmt: skip
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(dce_export("900", "901", items)), encoding="utf-8")
    return path


def test_ingest_json_summary_and_skips(run, tmp_path):
    """ingest --json reports records, chunks, tokens, seconds and each skipped file with its reason."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Title\n\nSome text about deploys.", encoding="utf-8")
    (folder / "bad.txt").write_bytes(bytes(range(256)) * 8)
    (folder / ".hidden").write_text("never read", encoding="utf-8")
    code, out, _ = run("ingest", str(folder), "--json")
    summary = one_json(out)
    assert code == 0
    assert summary["records"] == 1 and summary["chunks_added"] == 1 and summary["tokens"] > 0
    assert [s["source"].endswith("bad.txt") for s in summary["skipped"]] == [True]
    assert "not text" in summary["skipped"][0]["reason"]
    assert isinstance(summary["seconds"], float)


def test_import_chat_then_search_json_shape(run, export):
    """search --json returns results with every documented field, ids as strings."""
    assert run("import-chat", str(export))[0] == 0
    code, out, _ = run("search", "SQLite WAL", "--guild", "900", "--json")
    results = one_json(out)["results"]
    assert code == 0 and results
    first = results[0]
    assert set(first) >= RESULT_KEYS
    assert first["rank"] == 1 and first["guild_id"] == "900" and first["channel_id"] == "901"
    assert (first["message_ids"], first["author_ids"], first["kind"]) == (["11"], ["501"], "message")
    window = next(r for r in results if r["kind"] == "chat")  # the conversation the message is in
    assert window["message_ids"] == ["11", "12"] and window["author_ids"] == ["501", "502"]
    assert first["filename"] is None
    assert first["jump_url"] == "https://discord.com/channels/900/901/11"
    assert first["created_at"].startswith("2024-03-01T10:00:00")
    assert all(isinstance(v, str) for v in first["message_ids"] + first["author_ids"])


def test_text_search_shows_each_hits_similarity_as_relevance_and_keeps_the_fused_score_to_json(run, export):
    """Text search reads "relevance 0.62" (the cosine similarity) per hit, not the fused score (~0.016 for all)."""
    run("import-chat", str(export))
    code, out, _ = run("search", "SQLite WAL", "--guild", "900")
    results = one_json(run("search", "SQLite WAL", "--guild", "900", "--json")[1])["results"]
    heads = [line for line in out.splitlines() if line.startswith("[")]
    assert code == 0 and len(heads) == len(results) > 0
    for head, result in zip(heads, results, strict=True):
        assert head.startswith(f"[{result['rank']}] relevance {result['similarity']:.2f}  "), head
    assert "score" not in out


def test_search_with_budget_never_exceeds_it(run, tmp_path):
    """With --budget the packed results fit it, and -k caps their count."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(6):
        (folder / f"n{i}.txt").write_text(f"release checklist item {i} " + "details " * 120, encoding="utf-8")
    run("ingest", str(folder))
    packed = one_json(run("search", "release checklist", "--budget", "300", "--json")[1])
    assert 0 < sum(r["tokens"] for r in packed["results"]) <= 300
    assert packed["context_tokens"] == sum(r["tokens"] for r in packed["results"])
    capped = one_json(run("search", "release checklist", "--budget", "5000", "-k", "2", "--json")[1])
    assert len(capped["results"]) == 2


def test_ask_json_contract(run, export):
    """ask --json has answer, sources, context_tokens and budget; the answer cites [1]."""
    run("import-chat", str(export))
    answer = one_json(run("ask", "what database did we decide on?", "--guild", "900", "--budget", "400", "--json")[1])
    assert set(answer) >= {"answer", "sources", "context_tokens", "budget"}
    assert answer["budget"] == 400 and 0 < answer["context_tokens"] <= 400
    assert "[1]" in answer["answer"] and set(answer["sources"][0]) >= RESULT_KEYS


def test_ask_with_nothing_remembered_says_so(run):
    """An empty memory answers that nothing was found, with no sources."""
    answer = one_json(run("ask", "anything?", "--json")[1])
    assert answer["answer"] == "I found nothing in memory about that." and answer["sources"] == []


def test_search_batch_prints_one_object_per_line(run, export, tmp_path):
    """search --batch answers each JSON line with one search --json object, in order."""
    run("import-chat", str(export))
    batch = tmp_path / "queries.jsonl"
    batch.write_text(
        json.dumps({"query": "SQLite", "guild": "900"})
        + "\n"
        + json.dumps({"query": "SQLite", "guild": "99999"})
        + "\n",
        encoding="utf-8",
    )
    code, out, _ = run("search", "--batch", str(batch))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 2
    assert lines[0]["results"] and lines[1]["results"] == []


def test_forget_and_stats_json(run, export):
    """forget --json counts what went; stats --json shows the guild emptied."""
    run("import-chat", str(export))
    before = one_json(run("stats", "--json")[1])
    assert before["guilds"]["900"]["messages"] == 2
    forgotten = one_json(run("forget", "--guild", "900", "--user", "502", "--json")[1])
    assert forgotten["messages"] == 1
    after = one_json(run("stats", "--guild", "900", "--json")[1])
    assert after["guilds"]["900"]["messages"] == 1


def test_reindex_rebuilds_every_vector(run, export):
    """reindex re-embeds every chunk and reports how many."""
    run("import-chat", str(export))
    chunks = one_json(run("stats", "--json")[1])["guilds"]["900"]["chunks"]
    result = one_json(run("reindex", "--json")[1])
    assert result["chunks"] == chunks and result["embedding_model"] == "test:hash-256"


def test_config_error_is_one_clear_line(tmp_path, capsys):
    """A bad config exits 1 with the key named on stderr, nothing on stdout."""
    config = tmp_path / "config.yaml"
    config.write_text("embeddings:\n  provder: local\n", encoding="utf-8")
    code = main(["--config", str(config), "stats"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "embeddings.provder: unknown key" in err


def test_second_process_is_refused_quickly(tmp_path):
    """While a data dir is locked, another memorybot process exits 1 within seconds naming the holder."""
    lock = DataDirLock(tmp_path / "data")
    lock.acquire()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "--data-dir", str(tmp_path / "data"), "stats"],
            capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 1
        assert "in use by another memorybot process" in done.stderr and "PID" in done.stderr
    finally:
        lock.release()


def test_search_resolves_time_words_against_now_and_takes_after(run, tmp_path):
    """`--now` sets what "now" means (the statement in force then wins); `--after` leaves older passages out."""
    # The hashing embedder rates by shared words, so each statement names the "standup time" it sets.
    items = [
        dce_message("21", "standup is at 9:30 in the big room", timestamp="2025-01-06T09:00:00+00:00"),
        dce_message("22", "standup time moves to 10:00 from today", timestamp="2025-02-05T09:00:00+00:00"),
        dce_message("23", "standup is now at 9:45 for the new hires", timestamp="2025-03-20T09:00:00+00:00"),
    ]
    path = tmp_path / "team.json"
    path.write_text(json.dumps(dce_export("900", "902", items)), encoding="utf-8")
    run("import-chat", str(path))
    asked = ["search", "what is the standup time now?", "--guild", "900", "--json"]
    late = one_json(run(*asked, "--now", "2025-03-25T12:00")[1])["results"]
    between = one_json(run(*asked, "--now", "2025-02-10")[1])["results"]
    assert late[0]["message_ids"] == ["23"] and between[0]["message_ids"] == ["22"]
    assert "23" not in {m for r in between for m in r["message_ids"]}  # said after the asking time
    after = one_json(run("search", "standup", "--guild", "900", "--after", "2025-02-01", "--json")[1])["results"]
    assert {m for r in after for m in r["message_ids"]} == {"22", "23"}


def test_a_bad_time_option_is_a_usage_error(run):
    """`--now yesterday` is refused by the parser with the format to use, exit status 2."""
    with pytest.raises(SystemExit) as stopped:
        run("search", "x", "--now", "yesterday")
    assert stopped.value.code == 2


def test_recap_without_a_model_quotes_the_central_message_and_checks_since(run, export):
    """Without a model the recap quotes each conversation; a bad --since is a one-line usage error."""
    run("import-chat", str(export))
    code, out, _ = run("recap", "--guild", "900", "--since", "7d", "--now", "2024-03-03")
    assert code == 0 and "“We decided on SQLite in WAL mode for the index.”" in out and "[1]" in out
    assert "Sources:\n[1] chat in #general (901), 2024-03-01 10:00" in out
    code, _, err = run("recap", "--guild", "900", "--since", "fortnight")
    assert code == 2 and err.startswith("memorybot: error: --since must be a duration like 24h")


def test_eval_export_writes_unanswered_and_down_voted_questions_as_json_lines(run, export, tmp_path):
    """eval-export prints one JSON object per failed question with its passages (no member ids); --all adds the rest."""
    from memory import Memory, PackedContext
    from memory.settings import MemorySettings

    run("import-chat", str(export))
    settings = MemorySettings.model_validate({"storage": {"data_dir": str(tmp_path / "data")}})
    with Memory.open(settings, embeddings=HashEmbeddings()) as memory:
        found = memory.search("SQLite WAL", "900", budget=300)
        voted = memory.log_question("900", "901", "u1", "which database did we pick?", found)
        memory.log_question("900", "901", "u2", "who won the chess cup?", PackedContext([], [], 300))
        memory.log_question("900", "901", "u3", "is it SQLite?", found)
        assert voted is not None
        memory.questions.vote(voted, "u2", "down")
    code, out, _ = run("eval-export", "--guild", "900")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and {(q["question"], q["status"]) for q in lines} == {
        ("which database did we pick?", "down-voted"), ("who won the chess cup?", "unanswered"),
    }  # fmt: skip
    voted_line = next(q for q in lines if q["status"] == "down-voted")
    assert voted_line["down"] == 1 and "SQLite in WAL mode" in voted_line["sources"][0]["text"]
    assert all("user_id" not in q for q in lines)
    everything = [json.loads(line) for line in run("eval-export", "--guild", "900", "--all")[1].splitlines()]
    assert len(everything) == 3


def test_a_lookup_in_a_guild_without_memory_names_the_guilds_that_have_some(run, export):
    """ask and search without --guild find nothing, and stderr says which guild holds the messages."""
    assert run("import-chat", str(export))[0] == 0
    for argv in (("ask", "what did we decide?"), ("search", "SQLite", "--json")):
        code, _, err = run(*argv)
        assert code == 0
        hint = "guild local remembers nothing; guilds with memory: 900 (Test Guild, 2 messages) (pick one with --guild)"
        assert hint in err
    code, _, err = run("search", "SQLite", "--guild", "900")
    assert code == 0 and "remembers nothing" not in err


def _read_only(paths, on: bool) -> None:
    """Make files read-only to this process: `chattr +i` as root (root writes through any mode), else the mode."""
    for path in paths:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True)
        else:
            path.chmod((path.stat().st_mode & ~0o222) if on else (path.stat().st_mode | 0o200))


def test_a_read_only_data_dir_is_one_line_saying_to_copy_it(run, export, tmp_path):
    """A data dir this process cannot write (a read-only copy) exits 1 with one line naming the file and the fix,
    whether the lock file or only the database is read-only."""
    assert run("import-chat", str(export))[0] == 0
    data = tmp_path / "data"
    for frozen in ([data / "memory.sqlite3"], [data / "memorybot.lock", data]):
        _read_only(frozen, on=True)
        try:
            code, out, err = run("search", "SQLite", "--guild", "900")
        finally:
            _read_only(frozen, on=False)
        assert code == 1 and out == ""
        assert err.count("\n") == 1, err
        assert f"the data directory {data} cannot be written ({frozen[0].name}:" in err
        assert f"copy it somewhere writable (cp -r {data} /tmp/memorybot-copy)" in err
