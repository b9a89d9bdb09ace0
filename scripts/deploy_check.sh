#!/usr/bin/env bash
# Prove deploy/install.sh on a fresh Debian 12 in a systemd-nspawn container (as root):
#
#   bash scripts/deploy_check.sh          # ~5 min the first time, ~2-3 min later (caches below)
#
# 1. A minimal Debian (debootstrap --variant=minbase, plus systemd and dbus as on any Debian
#    box) is made once and cached in $KIOSK_DEPLOY_CACHE (/var/cache/hall-kiosk-deploy), with
#    the .deb and pip downloads; each run works on a fresh copy of it.
# 2. install.sh --terminal --server runs there as on a new box (not booted: the "systemd is not
#    running" path): Debian packages, the venv from PyPI, the user, folders, settings files,
#    units, PAM file, journald drop-in. Then the checks below of what it left.
# 3. The container boots with systemd as PID 1 and its own network namespace (loopback only):
#    kiosk-server.service must come up enabled at boot and answer /healthz on port 8080; a staff
#    account made with the installed `kiosk` signs in. install.sh runs again there, on the booted
#    system with the network cut and pip pointed at a wheel folder of the build tools (the
#    upgrade path: systemctl branch, units restarted).
#    kiosk-terminal.service is enabled; the container has no tty0, screen or input devices, so
#    its ConditionPathExists=/dev/tty0 skips it: cage and the logind session are NOT proven
#    here (tests/test_cage.py runs the app under cage on this machine).
# Needs: root, debootstrap and systemd-container (installed here when missing), the network
# for the Debian mirror and PyPI on the first step (PIP_CERT/PIP_INDEX_URL are passed on).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
CACHE=${KIOSK_DEPLOY_CACHE:-/var/cache/hall-kiosk-deploy}
SUITE=${KIOSK_DEPLOY_SUITE:-bookworm}
MIRROR=${KIOSK_DEPLOY_MIRROR:-http://deb.debian.org/debian}

say() { printf 'deploy_check: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (debootstrap and systemd-nspawn need it)"

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi

BASE=$CACHE/$SUITE-root
mkdir -p "$CACHE/apt" "$CACHE/pip"
if [ ! -e "$BASE/.complete" ]; then
    say "debootstrap $SUITE into $BASE (once; cached)"
    rm -rf "$BASE.part"
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus "$SUITE" "$BASE.part" "$MIRROR" \
        >"$CACHE/debootstrap.log" 2>&1 || { tail -n 20 "$CACHE/debootstrap.log" >&2; fail "debootstrap"; }
    rm -rf "$BASE" && mv "$BASE.part" "$BASE" && touch "$BASE/.complete"
fi

WORK=$(mktemp -d /var/tmp/kiosk-deploy.XXXXXX)
ROOTFS=$WORK/root
BOOT_PID=
cleanup() {
    if [ -n "$BOOT_PID" ] && kill -0 "$BOOT_PID" 2>/dev/null; then
        kill -TERM "$BOOT_PID" 2>/dev/null || true   # nspawn asks the container's systemd to power off
        for _ in $(seq 1 100); do kill -0 "$BOOT_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$BOOT_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
cp -a "$BASE" "$ROOTFS"
echo "deploy-check" >"$ROOTFS/etc/hostname"
mkdir -p "$ROOTFS/root/hall-kiosk"
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then  # the checkout as it is, without .venv and ignored files
    git -C "$SRC" ls-files -z --cached --others --exclude-standard | (cd "$SRC" && tar --null -T - -cf - 2>/dev/null) |
        tar -C "$ROOTFS/root/hall-kiosk" -xf -
else
    tar -C "$SRC" --exclude=./.venv --exclude=./.git -cf - . | tar -C "$ROOTFS/root/hall-kiosk" -xf -
fi

nspawn=(systemd-nspawn -q --register=no --keep-unit -D "$ROOTFS"
        --bind="$CACHE/apt:/var/cache/apt/archives" --bind="$CACHE/pip:/root/.cache/pip")
pipenv=()
if [ -n "${PIP_CERT:-}" ] && [ -f "$PIP_CERT" ]; then  # a TLS-inspecting proxy's CA, as on this build machine
    cp "$PIP_CERT" "$ROOTFS/root/pip-ca.crt"
    pipenv+=(--setenv=PIP_CERT=/root/pip-ca.crt)
fi
[ -n "${PIP_INDEX_URL:-}" ] && pipenv+=(--setenv=PIP_INDEX_URL="$PIP_INDEX_URL")
pipenv+=(--setenv=PIP_DEFAULT_TIMEOUT=120)

# ------------------------------------------------------------- 1. install on the fresh box
say "install.sh --terminal --server in a fresh $SUITE (log: $WORK/install.log while it runs)"
started=$SECONDS
if ! "${nspawn[@]}" "${pipenv[@]}" /bin/bash /root/hall-kiosk/deploy/install.sh --terminal --server \
        >"$WORK/install.log" 2>&1; then
    tail -n 40 "$WORK/install.log" >&2
    fail "install.sh exited non-zero"
fi
say "installed in $((SECONDS - started)) s"

inside() { "${nspawn[@]}" "${pipenv[@]}" --pipe /bin/bash -c "$1"; }
check() {  # description, then a shell test run inside the container
    if inside "$2" >"$WORK/check.out" 2>&1; then
        say "ok: $1"
    else
        cat "$WORK/check.out" >&2
        fail "$1"
    fi
}
check "system user kiosk (nologin) in dialout, audio, video" \
    'id kiosk && getent passwd kiosk | grep -q ":/var/lib/hall-kiosk:/usr/sbin/nologin$" &&
     for g in dialout audio video; do id -nG kiosk | tr " " "\n" | grep -qx $g || exit 1; done'
check "/usr/local/bin/kiosk runs the installed version" \
    '/usr/local/bin/kiosk --help >/dev/null && /opt/hall-kiosk/venv/bin/python -c "import kiosk, server, screens, devices"'
check "terminal.toml: kiosk-owned, 0600, valid, data in /var/lib/hall-kiosk" \
    'f=/etc/hall-kiosk/terminal.toml; [ "$(stat -c %U:%a $f)" = kiosk:600 ] && kiosk config check $f &&
     grep -q "/var/lib/hall-kiosk" $f'
check "server.env root-only 0600 with KIOSK_SERVE_ARGS" \
    '[ "$(stat -c %U:%a /etc/hall-kiosk/server.env)" = root:600 ] && grep -q "^KIOSK_SERVE_ARGS=--port 8080" /etc/hall-kiosk/server.env'
check "units, PAM file, the terminal's session script and journald drop-in installed; systemd-analyze verify passes" \
    'cd /etc/systemd/system && cmp kiosk-terminal.service /root/hall-kiosk/deploy/kiosk-terminal.service &&
     cmp /opt/hall-kiosk/deploy/kiosk-session.sh /root/hall-kiosk/deploy/kiosk-session.sh &&
     grep -q "^ExecStart=/bin/sh /opt/hall-kiosk/deploy/kiosk-session.sh " kiosk-terminal.service &&
     cmp kiosk-server.service /root/hall-kiosk/deploy/kiosk-server.service &&
     cmp /etc/pam.d/hall-kiosk /root/hall-kiosk/deploy/pam-hall-kiosk &&
     [ -f /lib/x86_64-linux-gnu/security/pam_systemd.so ] &&
     [ -f /etc/systemd/system/journald.conf.d/hall-kiosk.conf ] &&
     systemd-analyze verify kiosk-server.service kiosk-terminal.service'
check "cage, Xwayland and Kivy's GL libraries installed; the app imports Kivy" \
    'command -v cage && command -v Xwayland && dpkg -s libgl1-mesa-dri libmtdev1 >/dev/null &&
     KIVY_NO_ARGS=1 KIVY_HOME=$(mktemp -d) /opt/hall-kiosk/venv/bin/python -c "import kivy"'
check "folders owned by kiosk" \
    'for d in /var/lib/hall-kiosk /var/lib/hall-kiosk/logs /etc/hall-kiosk; do [ "$(stat -c %U:%a $d)" = kiosk:750 ] || { echo $d; exit 1; }; done'
# the build tools in a wheel folder, for the offline upgrade below (install.sh's own advice)
inside '/opt/hall-kiosk/venv/bin/python -m pip download -q -d /root/wheels pip "setuptools>=68" wheel' \
    >"$WORK/wheels.log" 2>&1 || { cat "$WORK/wheels.log" >&2; fail "pip download of the build tools"; }
inside 'systemctl enable kiosk-server.service kiosk-terminal.service >/dev/null 2>&1 && systemctl set-default graphical.target >/dev/null 2>&1' ||
    fail "systemctl enable (offline) of the installed units"

# ------------------------------------------------------------- 2. boot it
say "booting the container (systemd as PID 1, network namespace of its own)"
"${nspawn[@]}" -b --private-network >"$WORK/boot.log" 2>&1 </dev/null &
BOOT_PID=$!
leader=
for _ in $(seq 1 300); do  # the container's init: the child of systemd-nspawn
    leader=$(pgrep -P "$BOOT_PID" -x systemd 2>/dev/null | head -n 1 || true)
    [ -n "$leader" ] && [ "$(readlink "/proc/$leader/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] && break
    leader=
    kill -0 "$BOOT_PID" 2>/dev/null || { cat "$WORK/boot.log" >&2; fail "the container did not boot"; }
    sleep 0.2
done
[ -n "$leader" ] || fail "no init process in the container"
run() { nsenter -t "$leader" -a -- /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 \
            /bin/bash -c "$1"; }
state=$(run 'timeout 180 systemctl is-system-running --wait' 2>&1 || true)
say "system state after boot: $state"
boot_check() {
    if run "$2" >"$WORK/check.out" 2>&1; then
        say "ok: $1"
    else
        cat "$WORK/check.out" >&2
        run 'systemctl --no-pager status kiosk-server kiosk-terminal; journalctl --no-pager -n 40 -u kiosk-server' >&2 || true
        fail "$1"
    fi
}
healthz='for i in $(seq 1 120); do
             /opt/hall-kiosk/venv/bin/python -c "import urllib.request as u; assert u.urlopen(\"http://127.0.0.1:8080/healthz\", timeout=2).status == 200" 2>/dev/null && exit 0
             sleep 1
         done; exit 1'
boot_check "kiosk-server.service enabled, started at boot as kiosk, answers /healthz on :8080" \
    "systemctl is-enabled kiosk-server && $healthz && systemctl is-active kiosk-server &&
     [ \"\$(ps -o user= -p \$(systemctl show -p MainPID --value kiosk-server))\" = kiosk ]"
boot_check "a staff account made with the installed kiosk signs in to the running server" \
    "echo 'Qingshi-hall-wang-2026' | kiosk admin add-user wang --role admin --password-stdin \
         --db sqlite:////var/lib/hall-kiosk/server.db &&
     chown -R kiosk:kiosk /var/lib/hall-kiosk &&
     /opt/hall-kiosk/venv/bin/python -c \"
import json, urllib.request as u
req = u.Request('http://127.0.0.1:8080/api/v1/auth/login', method='POST', headers={'Content-Type': 'application/json'},
                data=json.dumps({'username': 'wang', 'password': 'Qingshi-hall-wang-2026'}).encode())
assert json.load(u.urlopen(req, timeout=10))['token']\""
boot_check "kiosk-terminal.service enabled for graphical.target (skipped here: no /dev/tty0)" \
    'systemctl is-enabled kiosk-terminal && [ "$(systemctl get-default)" = graphical.target ] &&
     [ ! -e /dev/tty0 ] && systemctl show -p ConditionResult --value kiosk-terminal | grep -qx no'
say "install.sh again on the booted box, offline (the upgrade path)"
if ! run 'cd /root/hall-kiosk && PIP_NO_INDEX=1 PIP_FIND_LINKS=/root/wheels bash deploy/install.sh --terminal --server' \
        >"$WORK/upgrade.log" 2>&1; then
    tail -n 30 "$WORK/upgrade.log" >&2
    fail "install.sh on the booted box (offline upgrade)"
fi
boot_check "after the upgrade kiosk-server is running again and answers /healthz" \
    "systemctl is-active kiosk-server && $healthz"
say "all checks passed ($((SECONDS)) s); not proven here: cage on a real seat (no tty0, DRM or input in a container)"
