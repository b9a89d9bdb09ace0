#!/usr/bin/env bash
# Set up a fresh Debian machine for the kiosk: system libraries, a virtualenv, the package.
#   bash scripts/setup.sh          # to run the terminal and the server
#   bash scripts/setup.sh --test   # also the test tools, Chromium and PostgreSQL for the tests
set -euo pipefail
cd "$(dirname "$0")/.."
want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

packages=(libgl1 libegl1 libgl1-mesa-dri libmtdev1 python3-venv espeak-ng)
# cage, grim, xwayland: tests/test_cage.py runs the terminal under the deploy's compositor;
# xvfb, openbox, xdotool, x11-apps (xwd), x11-utils (xprop): tests/test_x11_display.py runs it on X
# strace: tests/test_terminal_memory.py counts the opens of the font file
[ $want_tests = 1 ] && packages+=(chromium postgresql libzbar0 cage grim xwayland xvfb openbox xdotool x11-apps x11-utils strace)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing system packages: ${missing[*]}"
  # wait for apt's lock (unattended upgrades on a fresh box) instead of failing
  apt=(apt-get -o DPkg::Lock::Timeout=600)
  $sudo "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive $sudo "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# pip runs only when pyproject.toml (or the wanted extras) changed since the last set-up, so a
# set-up box starts offline and in a second; its chatter goes to .venv/setup.log unless it fails
extras=""
[ $want_tests = 1 ] && extras="[test]"
stamp=".venv/.setup-stamp$extras"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $extras"
hash_now="$(sha256sum pyproject.toml | cut -d' ' -f1)"
installed() {  # the test set-up covers the plain one
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] ||
    { [ -z "$extras" ] && [ "$(cat ".venv/.setup-stamp[test]" 2>/dev/null)" = "$hash_now [test]" ]; }
}
if [ ! -x .venv/bin/kiosk ] || ! installed; then
  echo "installing the Python packages into .venv (log: .venv/setup.log)"
  if ! { .venv/bin/python -m pip install -q --upgrade pip &&
         .venv/bin/python -m pip install -q -e ".$extras"; } >.venv/setup.log 2>&1; then
    tail -n 30 .venv/setup.log >&2
    echo "setup: pip failed (full log: .venv/setup.log)" >&2
    exit 1
  fi
  echo "$want" >"$stamp"
fi
