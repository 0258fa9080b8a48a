"""`memorybot doctor`'s checks of the memory side: data directory, disk, embedding model, vector index, LLM."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from memory.embeddings import model_identity
from memory.errors import ConfigError, MemoryStoreError, StoreLockedError
from memory.lock import LOCK_NAME, DataDirLock
from memory.settings import MemorySettings

log = logging.getLogger(__name__)

GIB = 1024**3
MIN_FREE_BYTES = GIB  # below this much free space on the data directory's disk, doctor warns

Status = Literal["ok", "warn", "FAIL"]


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """One finding of `memorybot doctor`: what was checked, how it went, and what to do when it failed."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    @classmethod
    def ok(cls, name: str, detail: str) -> HealthCheck:
        """A check that passed."""
        return cls(name, "ok", detail)

    @classmethod
    def warn(cls, name: str, detail: str, fix: str = "") -> HealthCheck:
        """A finding worth knowing that does not stop memorybot from working."""
        return cls(name, "warn", detail, fix)

    @classmethod
    def fail(cls, name: str, detail: str, fix: str) -> HealthCheck:
        """A check that failed, with its fix."""
        return cls(name, "FAIL", detail, fix)


def health_checks(settings: MemorySettings, *, min_free_bytes: int = MIN_FREE_BYTES) -> Iterator[HealthCheck]:
    """Check what the memory library needs, one finding at a time (each is yielded when it is known).

    The data directory is locked while its index is checked, so that no bot starts writing to it meanwhile; a
    directory already in use by a running bot is a note, not a failure (its index is then not read).

    Args:
        settings: the configuration in effect.
        min_free_bytes: less free disk space than this is a warning.
    """
    from memory.health_endpoints import embedding_check, llm_check  # HTTP clients: only when checking

    data_dir = Path(settings.storage.data_dir)
    found, lock, holder = _data_dir(data_dir)
    try:
        yield found
        if settings.storage.records.backend == "postgres":
            yield _guarded("record store", lambda: _records(settings))
        yield _guarded("disk", lambda: _disk(data_dir, min_free_bytes))
        yield _guarded("embedding model", lambda: embedding_check(settings.embeddings))
        if found.status == "FAIL":
            yield HealthCheck.warn("vector index", "not checked: the data directory is not usable (see above)")
        elif holder is not None:
            yield HealthCheck.warn(
                "vector index",
                f"not checked while memorybot (PID {holder}) uses the data directory; the bot checks it at start",
                "stop the bot and run doctor again to check the index now",
            )
        else:
            yield _guarded("vector index", lambda: _index(settings))
        yield _guarded("llm", lambda: llm_check(settings.llm))
    finally:
        if lock is not None:
            lock.release()


def _guarded(name: str, check: Callable[[], HealthCheck]) -> HealthCheck:
    """The check's finding; an error nobody foresaw fails this check only (its trace is logged, shown with -v)."""
    try:
        return check()
    except Exception as e:  # one broken check must not hide the others' findings
        log.info("the %s check failed", name, exc_info=True)
        return HealthCheck.fail(name, f"the check itself failed: {type(e).__name__}: {e}", "run with -v for the trace")


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _data_dir(path: Path) -> tuple[HealthCheck, DataDirLock | None, str | None]:
    """The data directory's check, the lock taken on it (None when not taken), and the PID holding it if any."""
    name = "data dir"
    where = "point storage.data_dir (or --data-dir) at a folder this user may write"
    if path.exists() and not path.is_dir():
        return HealthCheck.fail(name, f"{path} is not a directory", where), None, None
    if not path.exists():
        parent = _existing_ancestor(path)
        if not parent.is_dir():
            return HealthCheck.fail(name, f"{path} cannot be made: {parent} is a file", where), None, None
        problem = _unwritable(parent)
        if problem:
            detail = f"{path} cannot be made: {parent} is not writable ({problem})"
            return HealthCheck.fail(name, detail, where), None, None
        return HealthCheck.ok(name, f"{path} does not exist yet; it is made on first use"), None, None
    problem = _unwritable(path)
    if problem:
        fix = f"make {path} writable by this user (chown/chmod), or give another --data-dir"
        return HealthCheck.fail(name, f"{path} is not writable ({problem})", fix), None, None
    lock = DataDirLock(path)
    try:
        lock.acquire()
    except StoreLockedError:
        holder = (path / LOCK_NAME).read_text(encoding="utf-8", errors="replace").strip() or "unknown"
        detail = f"{path} is writable; in use by a running memorybot (PID {holder}), which is fine"
        return HealthCheck.ok(name, detail), None, holder
    return HealthCheck.ok(name, f"{path} is writable"), lock, None


def _unwritable(folder: Path) -> str:
    """Why a file cannot be made in `folder` ("" when it can): tried, since permission bits do not bind root."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return ""
    except OSError as e:
        return e.strerror or str(e)


def _disk(data_dir: Path, min_free_bytes: int) -> HealthCheck:
    place = _existing_ancestor(data_dir)
    free = shutil.disk_usage(place).free
    detail = f"{free / GIB:.1f} GiB free on the data directory's disk ({place})"
    if free < min_free_bytes:
        fix = f"free some space (below {min_free_bytes / GIB:g} GiB), or move the data directory to a larger disk"
        return HealthCheck.warn("disk", detail, fix)
    return HealthCheck.ok("disk", detail)


def _records(settings: MemorySettings) -> HealthCheck:
    """The PostgreSQL record store: reachable with the URL in its environment variable, and migrated."""
    from memory.opening import open_record_stores

    name, variable = "record store", settings.storage.records.dsn_env
    try:
        stores = open_record_stores(settings)
    except ConfigError as e:
        return HealthCheck.fail(name, str(e), f"set {variable} to a reachable postgresql:// URL")
    try:
        version = stores.database.get_meta("schema_version")
    finally:
        stores.database.close()
    return HealthCheck.ok(name, f"PostgreSQL at ${variable} answers (schema {version})")


def _index(settings: MemorySettings) -> HealthCheck:
    """The vectors of each guild against the chunks the record store says were embedded, and the model's name."""
    from memory.opening import open_record_stores
    from memory.stores.chroma_health import check_index
    from memory.stores.sqlite import DB_NAME

    name = "vector index"
    chroma = settings.storage.chroma
    if chroma.mode != "embedded":
        return HealthCheck.ok(name, f"not checked here: Chroma runs as a server at {chroma.host}:{chroma.port}")
    data_dir = Path(settings.storage.data_dir)
    if settings.storage.records.backend == "sqlite" and not (data_dir / DB_NAME).exists():
        return HealthCheck.ok(name, "empty: nothing is remembered yet")
    stores = open_record_stores(settings)
    try:
        embedded = stores.chunks.embedded_counts()
        stored = stores.database.get_meta("embedding_model")
    finally:
        stores.database.close()
    identity = model_identity(settings.embeddings)
    if stored is not None and stored != identity:
        detail = f"built with the embedding model {stored!r}, but the configuration asks for {identity!r}"
        return HealthCheck.fail(name, detail, "run `memorybot reindex` to rebuild it with the configured model")
    try:
        damaged, counts = check_index(data_dir / "chroma", embedded)
    except MemoryStoreError as e:
        return HealthCheck.fail(name, str(e).split(";")[0], "move the chroma folder away and run `memorybot reindex`")
    if damaged:
        problems = "; ".join(f"guild {d.guild_id or d.collection}: {d.problem}" for d in damaged)
        guilds = sorted({d.guild_id for d in damaged if d.guild_id})
        fix = "run " + " and ".join(f"`memorybot reindex --guild {g}`" for g in guilds) if guilds else ""
        fix = fix or "run `memorybot reindex`"
        return HealthCheck.fail(name, problems, fix + " (or start the bot, which rebuilds damaged guilds)")
    detail = f"{sum(counts.values())} vectors for {sum(embedded.values())} embedded chunks in {len(embedded)} guilds"
    return HealthCheck.ok(name, detail)
