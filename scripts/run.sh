#!/usr/bin/env bash
# Set up and start the dispenser on the embedded default (sample hall, no server, preview printer).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kiosk run "$@"
