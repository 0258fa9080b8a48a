"""`memorybot config` as a real process: the configuration in effect, each value's source, secrets only named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from bot.config import Settings, load_config

CONFIG = "retrieval:\n  budget: 900\n\ndiscord:\n  token_env: MY_BOT_TOKEN\n  enabled_channels: ['1', '2']\n"
SECRET = "secret-value-never-shown"


def memorybot(tmp_path: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot ...` in `tmp_path` (its ./config.yaml is the default), without the caller's secrets."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "OPENAI_API_KEY", "MY_BOT_TOKEN"}}
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv], cwd=tmp_path, env={**clean, **(env or {})},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def comment(out: str, key: str) -> str:
    """The source comment of the one output line setting `key:`."""
    found = [text for text in out.splitlines() if text.strip().startswith(f"{key}:")]
    assert len(found) == 1, out
    return found[0].split("  # ", 1)[1]


def test_yaml_shows_each_value_with_its_source_and_loads_back_as_the_same_settings(tmp_path):
    """The YAML is the configuration in effect (it validates back to the same settings); each value says whether
    it came from config.yaml (with its line), --data-dir or the defaults."""
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    done = memorybot(tmp_path, "--data-dir", "elsewhere", "config")
    assert done.returncode == 0, done.stderr
    assert comment(done.stdout, "budget") == "config.yaml:2"
    assert comment(done.stdout, "enabled_channels") == "config.yaml:6"
    assert comment(done.stdout, "max_sources") == "default"
    assert comment(done.stdout, "data_dir") == "--data-dir"
    shown = Settings.model_validate(yaml.safe_load(done.stdout))
    expected = load_config(tmp_path / "config.yaml", data_dir=tmp_path / "elsewhere")
    assert shown == expected
    assert shown.retrieval.budget == 900 and shown.discord.enabled_channels == ["1", "2"]


def test_secrets_are_named_set_or_unset_and_never_shown(tmp_path):
    """A key read from an *_env variable shows the variable's name and whether it is set, never its value."""
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    done = memorybot(tmp_path, "config", env={"MY_BOT_TOKEN": SECRET})
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert comment(done.stdout, "token_env") == "config.yaml:5; MY_BOT_TOKEN is set in the environment"
    keys = [text for text in done.stdout.splitlines() if text.strip().startswith("api_key_env:")]
    assert len(keys) == 2  # embeddings' and llm's
    assert all(text.endswith("# default; OPENAI_API_KEY is unset in the environment") for text in keys)


def test_json_has_the_settings_their_sources_and_the_secrets_state(tmp_path):
    """--json: one object with the settings, a source per dotted key and set/unset per secret variable."""
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    done = memorybot(tmp_path, "config", "--json", env={"MY_BOT_TOKEN": SECRET, "OPENAI_API_KEY": SECRET})
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert SECRET not in done.stdout
    assert shown["file"] == "config.yaml"
    assert shown["settings"]["retrieval"]["budget"] == 900
    assert shown["settings"]["storage"]["data_dir"] == str(tmp_path / "data")
    assert shown["sources"]["retrieval.budget"] == "config.yaml:2"
    assert shown["sources"]["storage.data_dir"] == "default"
    assert shown["sources"]["discord.token_env"] == "config.yaml:5"
    assert shown["secrets"] == {"MY_BOT_TOKEN": "set", "OPENAI_API_KEY": "set", "MEMORYBOT_DATABASE_URL": "unset"}


def test_without_a_config_file_every_value_is_a_default(tmp_path):
    """No config.yaml: the header says so and every source is the default."""
    done = memorybot(tmp_path, "config", "--json")
    shown = json.loads(done.stdout)
    assert done.returncode == 0 and shown["file"] is None
    assert set(shown["sources"].values()) == {"default"}
    assert shown["secrets"] == {"DISCORD_TOKEN": "unset", "OPENAI_API_KEY": "unset", "MEMORYBOT_DATABASE_URL": "unset"}


def test_the_chroma_headers_variable_is_a_secret_named_only_when_given(tmp_path):
    """`storage.chroma.headers_env` (unset by default: no variable) is shown set/unset like the other secrets once
    given, and the headers it holds are never printed."""
    config = "storage:\n  chroma:\n    mode: http\n    headers_env: MY_CHROMA_HEADERS\n"
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    headers = json.dumps({"Authorization": f"Bearer {SECRET}"})
    done = memorybot(tmp_path, "config", "--json", env={"MY_CHROMA_HEADERS": headers})
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout and json.loads(done.stdout)["secrets"]["MY_CHROMA_HEADERS"] == "set"
    done = memorybot(tmp_path, "config", env={"MY_CHROMA_HEADERS": headers})
    assert SECRET not in done.stdout and "MY_CHROMA_HEADERS is set in the environment" in comment(
        done.stdout, "headers_env"
    )


def test_a_bad_config_is_an_error_naming_the_key(tmp_path):
    """An unknown key: exit 1, the key named on stderr, nothing on stdout, no traceback."""
    (tmp_path / "config.yaml").write_text("retrieval:\n  budgt: 900\n", encoding="utf-8")
    done = memorybot(tmp_path, "config")
    assert done.returncode == 1 and done.stdout == ""
    assert "retrieval.budgt: unknown key" in done.stderr and "Traceback" not in done.stderr
