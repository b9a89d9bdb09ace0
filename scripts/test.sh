#!/usr/bin/env bash
# Set up (scripts/setup.sh --test) and run the whole test suite headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

export SDL_VIDEODRIVER=offscreen
KIVY_HOME=$(mktemp -d)
export KIVY_HOME
if [ -z "${KIOSK_TEST_PG_URL:-}" ] && [ -f scripts/ci_postgres.sh ]; then
  # a throwaway PostgreSQL cluster for the server tests; stopped when this script exits
  eval "$(bash scripts/ci_postgres.sh start)"
  trap 'bash scripts/ci_postgres.sh stop >/dev/null 2>&1 || true' EXIT
fi
timeout -s KILL 3600 .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
