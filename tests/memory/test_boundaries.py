"""The packages' boundaries: memory/ has no Discord and a pinned public API that is all bot/ uses; no import cycle
inside bot/; every module opens with its role and stays small."""

from __future__ import annotations

import ast
from pathlib import Path

import memory

PACKAGE = Path(memory.__file__).parent
BOT = PACKAGE.parent / "bot"
MAX_MODULE_LINES = 400


def _imports(path: Path, *, runtime_only: bool = False) -> list[tuple[str, list[str]]]:
    """(module, imported names) of every import in a file; with `runtime_only`, not those under TYPE_CHECKING."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped.update(id(inner) for inner in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_memory_never_imports_discord_or_bot():
    """No module under memory/ imports discord or bot (design.md section 2)."""
    offenders = [
        f"{path.name}: {module}"
        for path in PACKAGE.rglob("*.py")
        for module, _ in _imports(path)
        if module.split(".")[0] in {"discord", "bot"}
    ]
    assert offenders == []


def test_public_api_is_pinned():
    """memory.__all__ is exactly the documented public API, and every name in it exists."""
    assert sorted(memory.__all__) == sorted(
        [
            "AnswerError", "Answerer", "AskedQuestion", "AsyncMemory", "BackfillCursor", "ChannelMark", "ChannelStats",
            "ChatExport", "ChatExportError", "ChatMessage", "Chunk", "ConfigError", "DiscordId", "Draft",
            "EmbeddingError", "EmbeddingModelMismatchError", "Exchange", "ExtractionError", "FileDocument",
            "ForgetReport", "GuildSettingError", "GuildSettings", "GuildStats", "HealthCheck", "HistoryMark", "Hit",
            "IngestReport",
            "LimitSettings",
            "Memory", "MemorySettings", "MemoryStats", "MemoryStoreError", "PackedContext", "QUESTION_DAYS", "Question",
            "PlaceNames", "Recap", "Recapper", "SETTING_KEYS", "SettingChanges", "SettingsSection", "SourceLabel",
            "StoreLockedError", "TimeScope", "UserData", "Visibility", "chunks_held", "clean_text", "count_tokens",
            "extractive_answer", "health_checks", "load_settings", "looks_like_chat_export", "pack",
            "read_chat_export", "secret_from_env", "since", "stores_reachable", "utc_iso",
        ]
    )  # fmt: skip
    assert all(hasattr(memory, name) for name in memory.__all__)


def test_bot_uses_only_what_memory_exports():
    """bot/ imports `memory` names only from memory/__init__.py, and each is in `__all__`."""
    offenders = []
    for path in BOT.rglob("*.py"):
        for module, names in _imports(path):
            if module.startswith("memory."):
                offenders.append(f"{path.relative_to(BOT)}: import of {module}")
            elif module == "memory":
                offenders += [f"{path.relative_to(BOT)}: {n}" for n in names if n not in memory.__all__]
    assert offenders == []


def test_bot_never_reaches_into_memory_internals():
    """No bot module touches the parts behind the façade (`memory.stores`, `memory.vectors`, `memory._…`)."""
    inner = {"stores", "vectors", "embeddings"}
    offenders = []
    for path in BOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute) or not (node.attr in inner or node.attr.startswith("_")):
                continue
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name in {"memory", "sync"}:
                offenders.append(f"{path.relative_to(BOT)}:{node.lineno}: {name}.{node.attr}")
    assert offenders == []


def test_bot_has_no_runtime_import_cycle():
    """The import graph of bot/ at run time (TYPE_CHECKING imports aside) has no cycle: client.py loads the cogs
    as extensions by name, and the cogs import the bot's services, never each other through it."""
    modules = {_module_name(path): path for path in BOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for module, names in _imports(path, runtime_only=True):
            targets.update(t for t in [module, *(f"{module}.{n}" for n in names)] if t in modules and t != name)
        graph[name] = targets
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        for target in graph[node]:
            if target in trail:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in done:
                visit(target, [*trail, target])
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    assert cycles == []


def test_client_imports_no_cog():
    """client.py loads the cogs from the extension list; it imports no cog module."""
    imported = {module for module, _ in _imports(BOT / "client.py")}
    assert not {m for m in imported if m.startswith("bot.cogs.")}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_says_its_role_and_stays_small():
    """Each module of memory/ and bot/ opens with a docstring and has at most about 400 lines."""
    paths = [*PACKAGE.rglob("*.py"), *BOT.rglob("*.py")]
    missing = [p.name for p in paths if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    large = {p.name: n for p in paths if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert missing == [] and large == {}
