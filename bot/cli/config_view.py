"""`memorybot config`: the configuration in effect as YAML (or JSON), where each value came from, secrets masked."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bot.cli.output import print_json
from bot.config import config_file, load_config

SECRET_SUFFIX = "_env"  # noqa: S105  a key naming the environment variable that holds a secret (never the secret itself)
COMMENT_COLUMN = 48


def show_config(args: argparse.Namespace) -> int:
    """Print the effective configuration; a bad one raises `ConfigError` (one line from `main`)."""
    path = config_file(args.config)
    settings = load_config(path, data_dir=args.data_dir)
    values = settings.model_dump(mode="json")
    lines = _key_lines(path) if path else {}
    sources = {".".join(key): _source(key, lines, path, args) for key, _ in _leaves(values)}
    secrets = {
        str(value): "set" if os.environ.get(str(value), "").strip() else "unset"
        for key, value in _leaves(values)
        if key[-1].endswith(SECRET_SUFFIX) and value is not None  # an optional one left out names no variable
    }
    if args.json:
        print_json({"file": str(path) if path else None, "settings": values, "sources": sources, "secrets": secrets})
        return 0
    print(f"# memorybot configuration in effect ({f'from {path}' if path else 'no config file: the defaults'})")
    print("# each value's source follows it; secrets are only named (set/unset in the environment), never shown")
    for line in _yaml(values, (), sources, secrets):
        print(line)
    return 0


def _leaves(values: dict[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def _key_lines(path: Path) -> dict[tuple[str, ...], int]:
    """The line of each key in the file (1-based), by its path of section names."""
    found: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, prefix: tuple[str, ...]) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            place = (*prefix, str(key.value))
            found[place] = key.start_mark.line + 1
            walk(value, place)

    root = yaml.compose(path.read_text(encoding="utf-8"))  # already read and validated by load_config
    if root is not None:
        walk(root, ())
    return found


def _source(
    key: tuple[str, ...], lines: dict[tuple[str, ...], int], path: Path | None, args: argparse.Namespace
) -> str:
    if key == ("storage", "data_dir") and args.data_dir is not None:
        return "--data-dir"
    if key in lines:
        return f"{path}:{lines[key]}"
    return "default"


def _scalar(value: object) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=1_000_000, allow_unicode=True)
    return text.removesuffix("\n...\n").strip()


def _yaml(
    values: dict[str, Any], prefix: tuple[str, ...], sources: dict[str, str], secrets: dict[str, str]
) -> Iterator[str]:
    indent = "  " * len(prefix)
    for key, value in values.items():
        place = (*prefix, key)
        if isinstance(value, dict):
            yield f"{indent}{key}:"
            yield from _yaml(value, place, sources, secrets)
            continue
        note = sources[".".join(place)]
        if key.endswith(SECRET_SUFFIX) and value is not None:
            note += f"; {value} is {secrets[str(value)]} in the environment"
        yield f"{indent}{key}: {_scalar(value)}".ljust(COMMENT_COLUMN) + f"  # {note}"
