"""The README's configuration table names every key of config.yaml with its real default, so it cannot drift."""

from __future__ import annotations

import re
from typing import Any

import yaml

from bot.config import Settings
from tests.conftest import REPO

_CODE = re.compile(r"`([^`]*)`")


def leaf_keys(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The dotted leaf keys of nested settings (e.g. `storage.chroma.port`) with their values."""
    leaves: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            leaves |= leaf_keys(value, f"{prefix}{name}.")
        else:
            leaves[prefix + name] = value
    return leaves


def documented_defaults() -> list[tuple[str, Any]]:
    """The table's (key, default) pairs: a row's first cell names a key then its siblings (`a.b` / `c`: `a.c`), its
    second cell gives one backticked YAML value per key, in the same order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    pairs = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        keys, values = _CODE.findall(cells[0]), _CODE.findall(cells[1])
        assert len(keys) == len(values), f"{line}: {len(keys)} keys but {len(values)} backticked defaults"
        parent = keys[0].rpartition(".")[0]
        names = [keys[0]] + [f"{parent}.{key}" for key in keys[1:]]
        pairs += [(name, yaml.safe_load(value)) for name, value in zip(names, values, strict=True)]
    return pairs


def test_the_configuration_table_has_every_key_once_with_its_real_default():
    """Each key of memory/settings.py and bot/config.py is one row of the table, with the models' own default."""
    expected = leaf_keys(Settings().model_dump(mode="json"))  # the defaults, as YAML would spell them
    documented = documented_defaults()
    names = [name for name, _ in documented]
    assert sorted(set(names)) == sorted(names), "a key is in the table twice"
    assert sorted(set(expected) - set(names)) == [], "keys missing from the README's configuration table"
    assert sorted(set(names) - set(expected)) == [], "the table names keys that config.yaml does not have"
    wrong = {name: (value, expected[name]) for name, value in documented if value != expected[name]}
    assert wrong == {}, "README default != settings default"
