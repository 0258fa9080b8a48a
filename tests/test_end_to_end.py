"""End to end with the real all-MiniLM-L6-v2 model: the shipped sample remembered and questioned via the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.cli import main
from memory import Memory, read_chat_export
from tests.conftest import REPO, files_containing, make_settings

GUILD = "900000000000000001"
DOCS_CHANNEL = "900000000000000030"
OPS = "900000000000000020"
SAM = "1062234517890543616"

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory, real_embeddings) -> Path:
    """A data dir holding the shipped sample: documents plus both chat exports (built once for this module)."""
    data = tmp_path_factory.mktemp("e2e") / "data"
    base = ["--config", str(REPO / "config.yaml"), "--data-dir", str(data)]
    docs = [*base, "ingest", str(REPO / "samples" / "docs"), "--guild", GUILD, "--channel", DOCS_CHANNEL]
    assert main(docs, embeddings=real_embeddings) == 0
    chats = [str(p) for p in sorted((REPO / "samples" / "chat").glob("*.json"))]
    assert main([*base, "import-chat", *chats], embeddings=real_embeddings) == 0
    return data


def ask(data: Path, question: str, embeddings, capsys, *extra: str) -> dict:
    capsys.readouterr()
    argv = ["--config", str(REPO / "config.yaml"), "--data-dir", str(data), "ask", question, "--guild", GUILD, "--json"]
    assert main([*argv, *extra], embeddings=embeddings) == 0
    return json.loads(capsys.readouterr().out)


def test_demo_question_is_answered_from_the_runbook_and_the_ops_chat(sample_dir, real_embeddings, capsys):
    """'When does the deploy key rotate?' cites the runbook and an #ops message, and quotes 16:00 UTC."""
    answer = ask(sample_dir, "When does the deploy key rotate?", real_embeddings, capsys)
    top = answer["sources"][:4]
    assert "runbook-deploys.txt" in {s["filename"] for s in top}
    assert OPS in {s["channel_id"] for s in top if s["filename"] is None}
    assert "16:00 UTC" in answer["answer"]
    assert answer["context_tokens"] <= answer["budget"] == 1500
    chat = next(s for s in answer["sources"] if s["channel_id"] == OPS)
    assert chat["jump_url"] == f"https://discord.com/channels/{GUILD}/{OPS}/{chat['message_ids'][0]}"


def test_a_fact_only_in_chat_is_found_with_its_message(sample_dir, real_embeddings, capsys):
    """The database decision, said only in #dev, comes back with the message that says it."""
    answer = ask(sample_dir, "Which database did we pick for the metadata index?", real_embeddings, capsys)
    texts = [s["text"] for s in answer["sources"][:3]]
    assert any("SQLite in WAL mode" in t for t in texts)


def test_an_unrelated_question_finds_nothing(sample_dir, real_embeddings, capsys):
    """A question the memory knows nothing about gets "nothing found", not made-up passages."""
    answer = ask(sample_dir, "What is the capital of France?", real_embeddings, capsys)
    assert answer["sources"] == [] and "nothing" in answer["answer"]


def test_small_budgets_are_respected_with_real_text(sample_dir, real_embeddings, capsys):
    """At a 200-token budget the packed sources still fit."""
    answer = ask(sample_dir, "What caused the storage outage?", real_embeddings, capsys, "--budget", "200")
    assert 0 < answer["context_tokens"] <= 200
    assert sum(s["tokens"] for s in answer["sources"]) == answer["context_tokens"]


def test_a_figure_on_page_two_is_cited_with_its_page(sample_dir, real_embeddings, capsys):
    """The tiering option's price is on page 2 of the cost analysis PDF; its source names that page."""
    answer = ask(sample_dir, "How much does the cold tier cost per month under option C?", real_embeddings, capsys)
    pdf = [s for s in answer["sources"][:3] if s["filename"] == "storage-costs.pdf"]
    assert pdf and pdf[0]["page"] == 2 and "101 TB x $4.00" in pdf[0]["text"]


def test_a_question_asked_back_then_gets_the_answer_of_back_then(sample_dir, real_embeddings, capsys):
    """Asked on 19 March at 14:00, the migration stood at 71 TB: that message comes first, and the
    "finished: 101 TB" message of the 20th, said after the asking time, is not a source at all."""
    question = "How much has the cold tier migration moved so far?"
    answer = ask(sample_dir, question, real_embeddings, capsys, "--now", "2024-03-19T14:00:00+00:00")
    chat = [s for s in answer["sources"] if s["filename"] is None]
    assert "71 TB moved" in chat[0]["text"]
    assert not any("migration finished" in s["text"] for s in answer["sources"])
    later = ask(sample_dir, question, real_embeddings, capsys, "--now", "2024-03-25T09:00:00+00:00")
    assert "migration finished" in next(s for s in later["sources"] if s["filename"] is None)["text"]


def test_hnsw_agrees_with_exact_search_on_real_embeddings(sample_dir, real_embeddings):
    """Chroma's cosine HNSW returns the exact top 5 for sample questions (recall 1.0 at this size)."""
    memory = Memory.open(make_settings(sample_dir), embeddings=real_embeddings)
    try:
        ids = memory.stores.chunks.guild_chunk_ids(GUILD)
        stored = memory.vectors.vectors(GUILD, ids)
        matrix = np.array([stored[i] for i in ids])
        questions = ["deploy key rotation", "flaky test fix", "storage outage cause", "release date android",
                     "cold tier price per terabyte", "thumbnail sizes"]  # fmt: skip
        for question in questions:
            query = np.array(real_embeddings.embed_query(question))
            exact = [ids[i] for i in np.argsort(-(matrix @ query))[:5]]
            approximate = [chunk for chunk, _ in memory.vectors.query(GUILD, query.tolist(), 5)]
            assert approximate == exact
    finally:
        memory.close()


def test_forgetting_a_member_erases_their_words_from_disk(tmp_path, sample_dir, real_embeddings, capsys):
    """After `forget --user`, none of that member's text is in any file of the data dir, quotes included."""
    import shutil

    data = tmp_path / "copy"
    shutil.copytree(sample_dir, data)
    (data / "memorybot.lock").unlink()
    marker = b"50 times in a loop"
    only_sam = [b"reproduces", b"markdown"]  # words no one else in the samples wrote, checked as index terms too
    assert files_containing(data, marker, terms=False)
    assert all(files_containing(data, word) for word in only_sam)
    argv = ["--config", str(REPO / "config.yaml"), "--data-dir", str(data), "forget", "--guild", GUILD, "--user", SAM]
    assert main([*argv, "--json"], embeddings=real_embeddings) == 0
    said = sum(
        1
        for path in (REPO / "samples" / "chat").glob("*.json")
        for m in read_chat_export(path).messages
        if m.author_id == SAM
    )
    assert json.loads(capsys.readouterr().out)["messages"] == said > 0
    assert files_containing(data, marker, terms=False) == []
    assert files_containing(data, b"is that my docs PR", terms=False) == []
    assert [files_containing(data, word) for word in only_sam] == [[], []]


def test_reingesting_the_sample_is_a_no_op(sample_dir, real_embeddings, capsys):
    """Running the same ingest and import again adds and removes nothing."""
    base = ["--config", str(REPO / "config.yaml"), "--data-dir", str(sample_dir)]
    capsys.readouterr()
    main([*base, "ingest", str(REPO / "samples" / "docs"), "--guild", GUILD, "--channel", DOCS_CHANNEL, "--json"],
         embeddings=real_embeddings)  # fmt: skip
    again = json.loads(capsys.readouterr().out)
    chats = [str(p) for p in sorted((REPO / "samples" / "chat").glob("*.json"))]
    main([*base, "import-chat", *chats, "--json"], embeddings=real_embeddings)
    chat_again = json.loads(capsys.readouterr().out)
    assert again["chunks_added"] == again["chunks_removed"] == 0 and again["chunks_unchanged"] > 0
    assert chat_again["chunks_added"] == chat_again["chunks_removed"] == 0 and chat_again["records"] == 0
