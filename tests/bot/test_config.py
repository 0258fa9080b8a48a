"""config.yaml is validated at start: unknown keys and wrong types are named; secrets come from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import Settings, load_config
from memory import ConfigError
from memory.settings import secret_from_env
from tests.conftest import REPO


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_is_valid_and_offline():
    """The shipped config.yaml validates, uses the local embedder and leaves the LLM unset."""
    settings = load_config(REPO / "config.yaml")
    assert isinstance(settings, Settings)
    assert settings.embeddings.provider == "local"
    assert settings.llm.base_url is None
    assert settings.storage.chroma.mode == "embedded"
    assert settings.storage.data_dir == REPO / "data"


def test_unknown_key_is_named(tmp_path):
    """A typo in a nested section fails with the full key path."""
    path = write(tmp_path, "storage:\n  chroma:\n    prot: 9000\n")
    with pytest.raises(ConfigError, match=r"storage\.chroma\.prot: unknown key"):
        load_config(path)


def test_unknown_section_is_named(tmp_path):
    """An unknown top-level section is rejected by name."""
    with pytest.raises(ConfigError, match=r"retreival: unknown key"):
        load_config(write(tmp_path, "retreival:\n  k: 3\n"))


def test_wrong_type_is_named(tmp_path):
    """A value of the wrong type names its key."""
    with pytest.raises(ConfigError, match=r"retrieval\.max_sources: "):
        load_config(write(tmp_path, "retrieval:\n  max_sources: lots\n"))


def test_out_of_range_value_is_rejected(tmp_path):
    """Bounds are checked (a port above 65535)."""
    with pytest.raises(ConfigError, match=r"storage\.chroma\.port"):
        load_config(write(tmp_path, "storage:\n  chroma:\n    port: 70000\n"))


def test_invalid_yaml_and_missing_file(tmp_path):
    """Broken YAML and a missing file give clear errors."""
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "storage: [unclosed\n"))
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.yaml")


def test_top_level_must_be_a_mapping(tmp_path):
    """A YAML list at the top is refused."""
    with pytest.raises(ConfigError, match="mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))


def test_data_dir_relative_to_config_and_overridden(tmp_path, monkeypatch):
    """A relative data_dir resolves against the config's folder; --data-dir overrides it against the cwd."""
    path = write(tmp_path, "storage:\n  data_dir: mem\n")
    assert load_config(path).storage.data_dir == tmp_path / "mem"
    monkeypatch.chdir(tmp_path)
    assert load_config(path, data_dir=Path("other")).storage.data_dir == tmp_path / "other"


def test_a_relative_chroma_ssl_ca_resolves_against_the_configs_folder_wherever_the_bot_is_started(
    tmp_path, monkeypatch
):
    """`ssl_ca: certs/ca.pem` is the file next to config.yaml, as data_dir is; an absolute path stays as written."""
    chroma = "storage:\n  chroma:\n    mode: http\n    ssl: true\n    ssl_ca: {}\n"
    monkeypatch.chdir(tmp_path.parent)
    folder = tmp_path / "conf"
    folder.mkdir()
    assert load_config(write(folder, chroma.format("certs/ca.pem"))).storage.chroma.ssl_ca == folder / "certs/ca.pem"
    assert load_config(write(folder, chroma.format("/etc/ca.pem"))).storage.chroma.ssl_ca == Path("/etc/ca.pem")


def test_settings_are_frozen():
    """Settings cannot be changed after loading."""
    settings = load_config(None)
    with pytest.raises(ValueError, match="frozen"):
        settings.retrieval.max_sources = 3  # type: ignore[misc]


def test_secrets_only_from_environment(monkeypatch):
    """A secret is read from the named variable; unset, the error names it."""
    monkeypatch.setenv("MB_TEST_KEY", "sk-123")
    assert secret_from_env("MB_TEST_KEY", purpose="x") == "sk-123"
    monkeypatch.delenv("MB_TEST_KEY")
    with pytest.raises(ConfigError, match="MB_TEST_KEY"):
        secret_from_env("MB_TEST_KEY", purpose="the llm")


def test_secret_keys_are_not_accepted_in_yaml(tmp_path):
    """There is no key for a secret value in the file: putting one there is an unknown key."""
    with pytest.raises(ConfigError, match=r"llm\.api_key: unknown key"):
        load_config(write(tmp_path, "llm:\n  api_key: sk-live\n"))


def _leaves(value: object, prefix: str = "") -> dict[str, object]:
    if not isinstance(value, dict):
        return {prefix: value}
    return {k: v for key, item in value.items() for k, v in _leaves(item, f"{prefix}{key}.").items()}


def test_no_config_file_gets_the_shipped_relevance_floor(tmp_path, monkeypatch):
    """Without any config.yaml the relevance floor is the one config.yaml ships (0.2), not 0.0."""
    monkeypatch.chdir(tmp_path)
    shipped = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["retrieval"]["min_relevance"]
    assert load_config(None).retrieval.min_relevance == shipped == 0.2


def test_shipped_config_only_shows_the_built_in_defaults():
    """Every value config.yaml lists equals the built-in default, so a default lives in one place only."""
    shipped = _leaves(yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8")))
    defaults = _leaves(Settings().model_dump(mode="json"))
    differing = {key: (value, defaults[key]) for key, value in shipped.items() if defaults[key] != value}
    assert differing == {}


def test_a_pasted_integer_channel_id_is_taken_as_its_string(tmp_path):
    """YAML reads a pasted Discord id as an integer: `enabled_channels` accepts it (and quoted ids) as strings."""
    path = write(tmp_path, "discord:\n  enabled_channels: [900000000000000030, '900000000000000031']\n")
    assert load_config(path).discord.enabled_channels == ["900000000000000030", "900000000000000031"]


def test_a_channel_id_that_is_not_an_id_is_still_refused(tmp_path):
    """Only integers are turned into ids: a list or a boolean in `enabled_channels` is an error naming the key."""
    path = write(tmp_path, "discord:\n  enabled_channels: [true]\n")
    with pytest.raises(ConfigError, match=r"discord\.enabled_channels\.0: Input should be a valid string"):
        load_config(path)


@pytest.mark.parametrize(
    ("discord", "error"),
    [
        ("shard_ids: [0]", r"discord\.shard_ids: needs a number in discord\.shard_count .*e\.g\. 2\)$"),
        ("shard_count: auto\n  shard_ids: [0]", r"discord\.shard_ids: needs a number .*, not auto$"),
        ("shard_count: 2\n  shard_ids: [0, 2]", r"discord\.shard_ids: shard 2 does not exist .* \(shards are 0 to 1\)"),
        ("shard_count: 2\n  shard_ids: [1, 1]", r"discord\.shard_ids: lists shard 1 twice"),
        ("shard_count: 2\n  shard_ids: []", r"discord\.shard_ids: is empty"),
        ("shard_count: 0", r"discord\.shard_count: must be a number of shards \(1 or more\) or auto, not 0$"),
        ("shard_count: many", r"discord\.shard_count: must be .* not 'many'$"),
    ],
)
def test_bad_shard_settings_are_one_line_naming_the_key(tmp_path, discord, error):
    """Shards that cannot be run are refused at load, each with one line naming the key and what would fit."""
    with pytest.raises(ConfigError, match=error) as raised:
        load_config(write(tmp_path, f"discord:\n  {discord}\n"))
    assert len(str(raised.value).splitlines()) == 2  # the file's line, then the one problem


def test_shards_that_fit_are_taken(tmp_path):
    """A count with some of its shards, a count alone (all of them), `auto`, and none (unsharded)."""
    assert load_config(write(tmp_path, "discord:\n  shard_count: 4\n  shard_ids: [3, 1]\n")).discord.shard_ids == [3, 1]
    assert load_config(write(tmp_path, "discord:\n  shard_count: 2\n")).discord.shard_ids is None
    assert load_config(write(tmp_path, "discord:\n  shard_count: auto\n")).discord.shard_count == "auto"
    assert load_config(write(tmp_path, "discord: {}\n")).discord.shard_count is None
