"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, started on 127.0.0.1 on a free port
(as a user other than root, which PostgreSQL refuses), with one fresh database per test from a migrated template."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

USER = "memorybot"  # the server's superuser (trust authentication on loopback: a test server only)
TEMPLATE = "memorybot_template"
_RUN_AS = ("postgres", "memorybot-pg")  # a non-root account to run the server as: Debian's own, or one we make


def postgres_bin() -> Path:
    """The folder of initdb, pg_ctl and postgres: $MEMORYBOT_PG_BIN, pg_config's, or Debian's newest."""
    named = os.environ.get("MEMORYBOT_PG_BIN")
    candidates = [Path(named)] if named else []
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(found.stdout.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    msg = (
        "PostgreSQL's server binaries (initdb, pg_ctl) were not found: install them (apt-get install postgresql; "
        "scripts/test.sh does as root) or set MEMORYBOT_PG_BIN to their folder"
    )
    raise RuntimeError(msg)


def _version(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


def _server_user() -> str | None:
    """The account to run the server as when this process is root (None: run it as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in _RUN_AS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _RUN_AS[1]], check=True)
    return _RUN_AS[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One server for a test session; `fresh_database` makes each test its own database."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="memorybot-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._user = _server_user()
        self._names = itertools.count(1)
        if self._user is not None:
            shutil.chown(self.root, self._user)
        self._run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-locale")
        # Speed over durability: a crash of a test server loses nothing anyone needs.
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off " \
                  "-c full_page_writes=off -c max_connections=300"  # fmt: skip
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")
        self._make_template()

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            msg = f"{program} failed ({done.returncode}): {done.stderr.strip()} {done.stdout.strip()} {log[-2000:]}"
            raise RuntimeError(msg)

    def dsn(self, database: str = "postgres") -> str:
        """The URL of a database on this server."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE, CHECKPOINT)."""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def _make_template(self) -> None:
        """A database migrated once, that each test's database is copied from (much faster than migrating)."""
        from memory.stores.postgres import open_postgres_stores

        self.execute(f"CREATE DATABASE {TEMPLATE}")
        open_postgres_stores(self.dsn(TEMPLATE), pool_size=1).database.close()

    def fresh_database(self) -> str:
        """A new, migrated, empty database; returns its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return self.dsn(name)

    def drop(self, dsn: str) -> None:
        """Drop a test's database (its connections, if any are left, are ended)."""
        self.execute(f"DROP DATABASE IF EXISTS {dsn.rsplit('/', 1)[1]} WITH (FORCE)")

    def relation_file(self, dsn: str, table: str) -> Path:
        """The heap file of a table (its first segment), after a CHECKPOINT wrote every dirty page to it."""
        self.execute("CHECKPOINT")
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT pg_relation_filepath(%s)", (table,)).fetchone()
        assert row is not None
        return self.data / str(row[0])

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
