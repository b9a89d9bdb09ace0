#!/usr/bin/env bash
# Install the hall kiosk on a Debian box (bookworm or trixie), as root, from this checkout.
#
#   sudo deploy/install.sh                      # touch-screen terminal: app under cage at boot
#   sudo deploy/install.sh --server             # hall server (kiosk serve) only
#   sudo deploy/install.sh --terminal --server  # both on one box
#
# Safe to run again (to upgrade after pulling a new version): it keeps existing
# settings files and restarts only units that are running.
# Behind the Great Firewall or offline, point pip at a mirror or a wheel folder,
# e.g. PIP_INDEX_URL=<the hall's PyPI mirror> sudo -E deploy/install.sh
set -euo pipefail

PREFIX=/opt/hall-kiosk
VENV=$PREFIX/venv
CONF_DIR=/etc/hall-kiosk
DATA_DIR=/var/lib/hall-kiosk
USER_NAME=kiosk
SRC=$(cd "$(dirname "$0")/.." && pwd)

want_terminal=0
want_server=0
for arg in "$@"; do
    case $arg in
        --terminal) want_terminal=1 ;;
        --server) want_server=1 ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown option $arg (use --terminal and/or --server)" >&2; exit 1 ;;
    esac
done
[ $want_terminal = 0 ] && [ $want_server = 0 ] && want_terminal=1

say() { printf '==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (sudo $0 $*)"
command -v apt-get >/dev/null || die "this script is for Debian (apt-get not found)"
if [ ! -f "$SRC/pyproject.toml" ] || [ ! -d "$SRC/kiosk" ]; then
    die "run it from a source checkout ($SRC has no pyproject.toml)"
fi

# ---------------------------------------------------------------- system packages
packages=(python3 python3-venv ca-certificates)
if [ $want_terminal = 1 ]; then
    # cage: the kiosk compositor; xwayland: SDL (Kivy) draws through it by default;
    # GL/EGL and mtdev: Kivy; libpam-systemd: the logind session cage needs;
    # espeak-ng: spoken ticket numbers.
    packages+=(cage xwayland libgl1 libegl1 libgles2 libgl1-mesa-dri libmtdev1
               libpam-systemd dbus espeak-ng)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
python3 -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' \
    || die "python3 must be 3.11-3.13 (Debian 12 or 13)"

# ---------------------------------------------------------------- user and folders
if ! id "$USER_NAME" >/dev/null 2>&1; then
    say "creating system user $USER_NAME"
    useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
            --shell /usr/sbin/nologin --comment "hall kiosk" "$USER_NAME"
fi
# dialout: serial receipt printer; audio: voice; video/render: GPU.
# Not `input`: Kivy would then also read the touch screen directly and see every tap twice.
for group in dialout audio video render; do
    getent group "$group" >/dev/null && usermod -a -G "$group" "$USER_NAME"
done
install -d -m 0750 -o "$USER_NAME" -g "$USER_NAME" "$CONF_DIR" "$DATA_DIR" "$DATA_DIR/logs" "$DATA_DIR/kivy"
install -d -m 0755 "$PREFIX"

# ---------------------------------------------------------------- the application
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    python3 -m venv "$VENV"
fi
say "installing hall-kiosk from $SRC into $VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "$SRC"                                       # dependencies
"$VENV/bin/python" -m pip install -q --no-deps --force-reinstall "$SRC"          # this version, even if unchanged
ln -sfn "$VENV/bin/kiosk" /usr/local/bin/kiosk
rm -rf "$PREFIX/deploy" && cp -r "$SRC/deploy" "$PREFIX/deploy"

# ---------------------------------------------------------------- settings files
if [ $want_terminal = 1 ] && [ ! -e "$CONF_DIR/terminal.toml" ]; then
    say "creating $CONF_DIR/terminal.toml from the shipped defaults"
    "$VENV/bin/python" - "$CONF_DIR/terminal.toml" "$DATA_DIR" <<'PY'
import sys
from pathlib import Path
from kiosk.config_write import apply_settings, ensure_terminal_file

path, data_dir = ensure_terminal_file(Path(sys.argv[1])), sys.argv[2]
apply_settings(path, {"terminal.data_dir": data_dir}, log_dir=Path(data_dir) / "logs")
PY
fi
if [ -e "$CONF_DIR/terminal.toml" ]; then
    chown "$USER_NAME:$USER_NAME" "$CONF_DIR/terminal.toml"
    chmod 0600 "$CONF_DIR/terminal.toml"  # may hold the server token and the PIN hash
fi
if [ $want_server = 1 ] && [ ! -e "$CONF_DIR/server.env" ]; then
    install -m 0600 /dev/null "$CONF_DIR/server.env"  # may hold a database password; systemd reads it as root
    cat >"$CONF_DIR/server.env" <<'ENV'
# Arguments for `kiosk serve` (see `kiosk serve --help`), then: systemctl restart kiosk-server
KIOSK_SERVE_ARGS=--port 8080
# KIOSK_SERVE_ARGS=--port 8080 --hall /etc/hall-kiosk/hall.toml --db postgresql://kiosk@localhost/hall
ENV
fi
chown -R "$USER_NAME:$USER_NAME" "$DATA_DIR"

# ---------------------------------------------------------------- systemd
units=()
[ $want_terminal = 1 ] && units+=(kiosk-terminal.service)
[ $want_server = 1 ] && units+=(kiosk-server.service)
for unit in "${units[@]}"; do
    install -m 0644 "$SRC/deploy/$unit" "/etc/systemd/system/$unit"
done
if [ $want_terminal = 1 ]; then
    install -m 0644 "$SRC/deploy/pam-hall-kiosk" /etc/pam.d/hall-kiosk
fi
install -d -m 0755 /etc/systemd/system/journald.conf.d
install -m 0644 "$SRC/deploy/journald-hall-kiosk.conf" /etc/systemd/system/journald.conf.d/hall-kiosk.conf

if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl restart systemd-journald
    systemctl enable "${units[@]}"
    [ $want_terminal = 1 ] && systemctl set-default graphical.target
    systemctl try-restart "${units[@]}"  # an upgrade takes effect now; a first install at boot
    [ $want_server = 1 ] && systemctl start kiosk-server.service
else
    say "systemd is not running here (chroot or container): enable the units on the box with"
    say "  systemctl enable ${units[*]}"
fi

say "done."
if [ $want_terminal = 1 ]; then
    grep -q '^pin_hash = "[$]argon2' "$CONF_DIR/terminal.toml" \
        || say "set the settings PIN now:  sudo kiosk terminal set-pin"
    say "start the terminal: reboot, or  systemctl start kiosk-terminal"
fi
[ $want_server = 1 ] && say "hall server: http://$(hostname -I 2>/dev/null | awk '{print $1}'):8080/login"
exit 0
