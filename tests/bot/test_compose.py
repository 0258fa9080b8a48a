"""docker-compose.yml is valid Compose (the compose-spec JSON schema: no Docker engine runs here) and names only
what exists: the build, mounted files, declared volumes, the env file's variables, health checks that can pass."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from bot.config import Settings, load_config
from tests.bot.test_ops_run_e2e import healthcheck_command
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
SCHEMA = json.loads((REPO / "tests/bot/compose_spec/compose-spec.json").read_text(encoding="utf-8"))


def env_example() -> dict[str, str]:
    lines = (REPO / "docker/env.example").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_compose_file_is_valid_against_the_compose_spec_schema():
    """jsonschema finds no error against compose-spec's own schema (a typo'd key or a wrong type would be one)."""
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    errors = [
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(COMPOSE)
    ]
    assert errors == []


def test_the_schema_check_would_catch_a_mistake():
    """The same validator refuses a misspelt service key and a healthcheck given as a number."""
    broken = {"services": {"bot": {"imagee": "x", "healthcheck": {"test": 5}}}}
    messages = [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(broken)]
    assert any("imagee" in m for m in messages) and any("5" in m for m in messages)


def test_the_bot_is_built_here_and_the_servers_are_pinned_images():
    """The bot builds from this repository's Dockerfile; Chroma's server is the chromadb client's version that
    pyproject requires, PostgreSQL a major version: no `latest`."""
    assert set(SERVICES) == {"bot", "chroma", "postgres"}
    assert SERVICES["bot"]["build"] == "." and (REPO / "Dockerfile").is_file()
    requires = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    chromadb = next(r for r in requires if r.startswith("chromadb>="))
    assert SERVICES["chroma"]["image"] == "chromadb/chroma:" + chromadb.removeprefix("chromadb>=")
    assert re.fullmatch(r"postgres:\d+", SERVICES["postgres"]["image"])


def test_every_volume_is_declared_or_a_file_of_the_repository():
    """A named volume is in the top-level `volumes`; a bind mount's source exists in the repository."""
    declared = set(COMPOSE["volumes"])
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name}: {source}"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
    used = {v.split(":", 1)[0] for s in SERVICES.values() for v in s.get("volumes", [])}
    assert declared <= used, "a declared volume no service uses"


def test_the_bots_mounted_config_is_valid_and_points_at_the_compose_services():
    """docker/compose.config.yaml validates; the records are in PostgreSQL, at the URL the env file's
    MEMORYBOT_DATABASE_URL names; Chroma is the `chroma` service over HTTP on the port it listens on; the ops
    endpoint listens on every interface on the port compose publishes."""
    mounted = next(v for v in SERVICES["bot"]["volumes"] if v.endswith(":/app/config.yaml:ro"))
    settings = load_config(REPO / mounted.split(":", 1)[0])
    records = settings.storage.records
    assert (records.backend, records.dsn_env) == ("postgres", "MEMORYBOT_DATABASE_URL")
    assert records.dsn_env in env_example()
    chroma = settings.storage.chroma
    assert (chroma.mode, chroma.host, chroma.port) == ("http", "chroma", 8000)
    assert settings.ops.http_host == "0.0.0.0"  # noqa: S104  (inside the container, reached through the port)
    assert SERVICES["bot"]["ports"] == [f"127.0.0.1:{settings.ops.http_port}:{settings.ops.http_port}"]


def test_secrets_come_from_an_ignored_env_file_whose_example_names_them_all():
    """The bot and PostgreSQL read `.env` (git-ignored); docker/env.example names the bot's token variable and
    every variable PostgreSQL's health check uses; no secret sits in the compose file."""
    assert SERVICES["bot"]["env_file"] == SERVICES["postgres"]["env_file"] == ".env"
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO, check=False)
    assert ignored.returncode == 0, ".env must be git-ignored"
    example = env_example()
    assert {Settings().discord.token_env, "OPENAI_API_KEY", "POSTGRES_PASSWORD"} <= example.keys()
    check = " ".join(SERVICES["postgres"]["healthcheck"]["test"])
    assert set(re.findall(r"\$\$\{(\w+)\}", check)) <= example.keys()
    assert not any("environment" in s and "PASSWORD" in str(s["environment"]) for s in SERVICES.values())


def test_the_env_examples_database_url_is_the_postgres_service_as_its_own_values_make_it():
    """MEMORYBOT_DATABASE_URL reaches the `postgres` service on PostgreSQL's port, as the user and database the
    POSTGRES_* values make at its first start, with a placeholder where POSTGRES_PASSWORD goes."""
    example = env_example()
    url = urlsplit(example["MEMORYBOT_DATABASE_URL"])
    assert url.scheme == "postgresql" and url.hostname == "postgres"
    assert url.port == 5432 and "ports" not in SERVICES["postgres"]  # reached inside compose's network only
    assert url.username == example["POSTGRES_USER"] and url.path == "/" + example["POSTGRES_DB"]
    assert url.password == "CHANGE-ME" and example["POSTGRES_PASSWORD"] == ""  # no password ships


def test_every_service_has_a_healthcheck_and_the_bot_waits_for_healthy_servers():
    """Each service checks its health; the bot's is the Dockerfile's HEALTHCHECK, and it starts after both servers
    report healthy."""
    for name, service in SERVICES.items():
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    assert SERVICES["bot"]["healthcheck"]["test"] == ["CMD", *healthcheck_command()]
    assert SERVICES["bot"]["depends_on"] == {
        "chroma": {"condition": "service_healthy"}, "postgres": {"condition": "service_healthy"}
    }  # fmt: skip


def test_the_chroma_healthcheck_is_valid_bash_asking_for_the_heartbeat():
    """The Chroma image has bash but no curl: the check parses as bash and asks /api/v2/heartbeat on its port."""
    test = SERVICES["chroma"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "bash", "-c"]
    assert subprocess.run(["bash", "-n", "-c", test[3]], check=False).returncode == 0
    assert "/dev/tcp/127.0.0.1/8000" in test[3] and "GET /api/v2/heartbeat" in test[3]


@pytest.mark.parametrize("config", ["docker/config.yaml", "docker/compose.config.yaml"])
def test_the_probe_command_parses_each_docker_config(config):
    """`python -m bot.ops.probe --config <file>` runs on both configs and says the URL the container would ask (here
    nothing answers there, or something else does), so the module and its option exist."""
    command = healthcheck_command()
    command[command.index("--config") + 1] = str(REPO / config)
    result = subprocess.run([sys.executable, *command[1:]], cwd=REPO, capture_output=True, text=True, check=False)
    port = load_config(REPO / config).ops.http_port
    assert result.returncode in (0, 1), shlex.join(command)  # 2 would be argparse refusing the option
    assert result.stdout.startswith(f"http://127.0.0.1:{port}/healthz: ")
