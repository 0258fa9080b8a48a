"""The memory package stands alone: no Discord imports, and a pinned public API."""

from __future__ import annotations

import ast
from pathlib import Path

import memory

PACKAGE = Path(memory.__file__).parent


def test_memory_never_imports_discord_or_bot():
    """No module under memory/ imports discord or bot (design.md section 2)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in {"discord", "bot"}]
    assert offenders == []


def test_public_api_is_pinned():
    """memory.__all__ is exactly the documented public API, and every name in it exists."""
    assert sorted(memory.__all__) == sorted(
        [
            "Answer", "ChatExport", "ChatExportError", "ChatMessage", "Chunk", "ConfigError", "EmbeddingError",
            "EmbeddingModelMismatchError", "ExtractionError", "FileDocument", "ForgetReport", "Hit", "IngestReport",
            "Memory", "MemorySettings", "MemoryStoreError", "PackedContext", "StoreLockedError", "extractive_answer",
            "load_settings", "pack", "read_chat_export", "utc_iso",
        ]
    )  # fmt: skip
    assert all(hasattr(memory, name) for name in memory.__all__)


def test_every_module_says_its_role():
    """Each module opens with a one-line docstring."""
    missing = [p.name for p in PACKAGE.rglob("*.py") if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert missing == []
