#!/usr/bin/env bash
# Sets up, then remembers the shipped sample (documents and a chat export) and answers one question with
# sources, on the embedded default: no Discord token, no API key, no network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
data=.demo-data
rm -rf "$data"
memorybot --data-dir "$data" ingest samples/docs --guild 900000000000000001 --channel 900000000000000030
memorybot --data-dir "$data" import-chat samples/chat/*.json
question=${1:-"When does the deploy key rotate?"}
echo
echo "Q: $question"
memorybot --data-dir "$data" ask "$question" --guild 900000000000000001
