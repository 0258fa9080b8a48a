"""memory.health_checks: the memory side of `memorybot doctor`, in-process (the CLI's own tests run it as a process)."""

from __future__ import annotations

from memory import HealthCheck, health_checks
from memory.health import GIB
from tests.conftest import make_settings


def by_name(checks: list[HealthCheck]) -> dict[str, HealthCheck]:
    return {check.name: check for check in checks}


def test_little_free_disk_space_is_a_warning_with_its_fix(tmp_path):
    """Below the free-space floor the disk check warns (a warning, not a failure) and says what to do."""
    settings = make_settings(tmp_path / "data")
    disk = by_name(list(health_checks(settings, min_free_bytes=10**6 * GIB)))["disk"]
    assert disk.status == "warn"
    assert "GiB free on the data directory's disk" in disk.detail
    assert disk.fix.startswith("free some space (below 1e+06 GiB)")
    assert by_name(list(health_checks(settings, min_free_bytes=1)))["disk"].status == "ok"


def test_the_data_dir_lock_is_released_when_the_checks_end(tmp_path):
    """The checks lock an existing data directory while they read its index, and give the lock back after."""
    from memory.lock import DataDirLock

    (tmp_path / "data").mkdir()
    checks = by_name(list(health_checks(make_settings(tmp_path / "data"))))
    assert checks["data dir"].status == "ok" and checks["vector index"].status == "ok"
    lock = DataDirLock(tmp_path / "data")
    lock.acquire()  # would raise StoreLockedError if the checks had kept it
    lock.release()
