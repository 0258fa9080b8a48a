#!/usr/bin/env bash
# Sets up (if needed) and runs every check: lint, format, types, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
# The tests start a PostgreSQL server of their own (tests/pg.py): Debian's, installed here when it is missing.
if [ -z "${MEMORYBOT_PG_BIN:-}" ] && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "PostgreSQL's server is not installed: apt-get install postgresql, or set MEMORYBOT_PG_BIN" >&2
        exit 1
    fi
fi
# shellcheck disable=SC1091
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ruff check .
ruff format --check .
mypy
hadolint Dockerfile
python -m pytest "$@"
