#!/usr/bin/env bash
# Set up a fresh Debian machine for the kiosk: system libraries, a virtualenv, the package.
#   bash scripts/setup.sh          # to run the terminal and the server
#   bash scripts/setup.sh --test   # also the test tools, Chromium and PostgreSQL for the tests
set -euo pipefail
cd "$(dirname "$0")/.."
want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

packages=(libgl1 libegl1 libgl1-mesa-dri libmtdev1 python3-venv espeak-ng)
[ $want_tests = 1 ] && packages+=(chromium postgresql libzbar0)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ $want_tests = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
