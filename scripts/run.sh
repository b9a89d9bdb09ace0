#!/usr/bin/env bash
# Set up (only what is missing or changed) and start the dispenser on the embedded default
# (sample hall, no server, preview printer), full screen. Extra arguments go to `kiosk run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kiosk run "$@"
