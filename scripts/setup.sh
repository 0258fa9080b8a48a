#!/usr/bin/env bash
# Creates .venv and installs memorybot into it, offline embedding model included.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev,bench
set -euo pipefail
cd "$(dirname "$0")/.."
extras=${1:-}
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install --quiet --disable-pip-version-check --upgrade pip
# The CPU build of torch first: with no torch installed, a plain requirement pulls a multi-GB CUDA build.
python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
