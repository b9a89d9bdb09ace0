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
# both cores: pytest-xdist, each test file whole on one worker (its module-scoped servers start
# once) but for the independent files tests/xdist_order.py splits, heaviest first;
# KIOSK_TEST_WORKERS=0 runs in this one process
workers=${KIOSK_TEST_WORKERS:-2}
xdist=()
[ "$workers" = 0 ] || xdist=(-n "$workers" --dist loadfile)
timeout -s KILL 3600 .venv/bin/python -m pytest -q -p no:cacheprovider "${xdist[@]}" "$@"
