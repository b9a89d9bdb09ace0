#!/bin/sh
# Start a throwaway PostgreSQL cluster for the server tests and print the
# shell lines that point the tests at it:
#
#     eval "$(sh scripts/ci_postgres.sh)"      # exports KIOSK_TEST_PG_URL, KIOSK_PG_DIR
#     ...run the tests...
#     sh scripts/ci_postgres.sh stop            # uses $KIOSK_PG_DIR (or give the dir)
#
# It installs nothing: it needs the server binaries (Debian `postgresql`).
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# `postgres` user (made by the Debian package). Everything lives in one temp
# dir; the server listens on 127.0.0.1 at a free port and on a socket there.
set -eu

pg_bin() {
    if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir; return
    fi
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

BIN=$(pg_bin)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
    echo "ci_postgres: no PostgreSQL server binaries (apt-get install postgresql)" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ "${1:-start}" = "stop" ]; then
    DIR=${2:-${KIOSK_PG_DIR:-}}
    [ -n "$DIR" ] || { echo "ci_postgres: stop needs the dir (or KIOSK_PG_DIR)" >&2; exit 1; }
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
    rm -rf "$DIR"
    exit 0
fi

free_port() {
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1; then
            "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
            return
        fi
    done
    echo $((20000 + $$ % 20000))
}

DIR=$(mktemp -d "${TMPDIR:-/tmp}/kiosk-pg.XXXXXX")
chmod 755 "$DIR"
if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi
PORT=$(free_port)

as_owner "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 || {
    cat "$DIR/initdb.log" >&2; exit 1; }
# fsync stays on: the tests and the benchmark measure durable commits.
as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >&2 || {
    cat "$DIR/server.log" >&2; exit 1; }
as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres kiosk_test >&2

echo "export KIOSK_TEST_PG_URL='postgresql://postgres@127.0.0.1:$PORT/kiosk_test'"
echo "export KIOSK_PG_DIR='$DIR'"
