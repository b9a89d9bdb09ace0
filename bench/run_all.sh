#!/usr/bin/env bash
# Run every benchmark in bench/ and write ONE JSON file: {"bench name": its figures, ...}.
#
#     bash bench/run_all.sh [--quick] [--out FILE]
#
# --quick runs each at a small size (a check that the benchmarks work, not figures to quote).
# Default output: bench/results.json (--quick: bench/results-quick.json). The environment each
# needs is set here: SDL_VIDEODRIVER=offscreen and a temporary KIVY_HOME for the Kivy ones, and
# a throwaway PostgreSQL (scripts/ci_postgres.sh, stopped at the end) for server_issue unless
# KIOSK_TEST_PG_URL is already set. A bench that fails is recorded as {"error": ..., "exit": N};
# the script then exits 1 after writing the file.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-$ROOT/.venv/bin/python}
QUICK=0
OUT=
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --out) OUT=$2; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "run_all.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ -n "$OUT" ] || { [ $QUICK = 1 ] && OUT=bench/results-quick.json || OUT=bench/results.json; }

STARTED_UTC=$(date -u +%Y-%m-%dT%H:%M:%SZ)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-run-all.XXXXXX")
export PYTHONPATH=$ROOT SDL_VIDEODRIVER=offscreen KIVY_HOME=$WORK/kivy-home KIVY_NO_ARGS=1
mkdir -p "$KIVY_HOME" "$WORK/lines"
PG_STARTED=
cleanup() {
    [ -n "$PG_STARTED" ] && sh scripts/ci_postgres.sh stop "$PG_STARTED" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
if [ -z "${KIOSK_TEST_PG_URL:-}" ]; then
    if PG_LINES=$(sh scripts/ci_postgres.sh 2>"$WORK/pg.err"); then
        eval "$PG_LINES"
        PG_STARTED=$KIOSK_PG_DIR
    else
        echo "run_all.sh: no PostgreSQL ($(tail -n 1 "$WORK/pg.err")); server_issue runs on SQLite only" >&2
    fi
fi

if [ $QUICK = 1 ]; then
    GUIDES=(--guides 300); SEARCH=(--guides 300 --rounds 1); COLD=(--runs 1); TAP=(--tickets 5); SERVER=(--tickets 320 --raw-seconds 0.5)
    SYNC=(--events 200 --calls 5); REPORTS=(--tickets 5000 --ratings 3000 --runs 1); COUNTY=(--tickets 320)
else
    GUIDES=(); SEARCH=(); COLD=(); TAP=(); SERVER=(); SYNC=(); REPORTS=(); COUNTY=()
fi
[ -n "${KIOSK_TEST_PG_URL:-}" ] || REPORTS+=(--no-postgres)
[ -n "${KIOSK_TEST_PG_URL:-}" ] || SERVER+=(--no-postgres)

FAILED=0
run() {  # name, then the command; keeps every JSON line the bench prints
    local name=$1; shift
    echo "run_all.sh: $name ..." >&2
    local started=$SECONDS
    "$@" >"$WORK/lines/$name.out" 2>"$WORK/lines/$name.err"
    local rc=$?
    echo "$rc $((SECONDS - started))" >"$WORK/lines/$name.rc"
    [ $rc = 0 ] || { FAILED=1; echo "run_all.sh: $name exited $rc" >&2; }
}

run guide_search   "$PY" bench/guide_search.py "${GUIDES[@]}"
run search_screen  "$PY" bench/search_screen.py "${SEARCH[@]}"
run printer_bytes  "$PY" bench/printer_bytes.py
run printer_status "$PY" bench/printer_status.py
run cold_start     "$PY" bench/cold_start.py "${COLD[@]}"
run config_import  "$PY" bench/config_import.py "${COLD[@]}"
run tap_to_ticket  "$PY" bench/tap_to_ticket.py "${TAP[@]}"
run memory         "$PY" bench/memory.py "${TAP[@]}"
run server_issue   "$PY" bench/server_issue.py "${SERVER[@]}"
run sync_drain     "$PY" bench/sync_drain.py "${SYNC[@]}"
run pages          "$PY" bench/pages.py
run reports        "$PY" bench/reports.py "${REPORTS[@]}"
if [ -n "${KIOSK_TEST_PG_URL:-}" ]; then  # several server processes need PostgreSQL
    run county     "$PY" bench/county.py "${COUNTY[@]}"
fi

"$PY" - "$WORK/lines" "$OUT" "$QUICK" "$STARTED_UTC" <<'PYEOF' || FAILED=1
import json, sys, time
from pathlib import Path

lines, out, quick = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
result = {"run": {"quick": quick, "started_utc": sys.argv[4],
                  "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "note": "--quick: small sizes, not figures to quote" if quick else "full size"}}
for rc_file in sorted(lines.glob("*.rc")):
    name = rc_file.stem
    rc, seconds = (int(x) for x in rc_file.read_text().split())
    objs = []
    for line in (lines / f"{name}.out").read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                objs.append(json.loads(line))
            except ValueError:
                pass
    for obj in objs:  # tap_to_ticket prints two figure sets: tap_to_ticket and ui_memory
        key = obj.get("bench", name)
        result[key] = {**obj, "exit": rc, "seconds": seconds}
    if not objs or rc != 0:
        err = (lines / f"{name}.err").read_text(errors="replace").strip().splitlines()[-5:]
        entry = result.setdefault(name, {})
        entry.update({"exit": rc, "seconds": seconds})
        if not objs:
            entry["error"] = "\n".join(err) or "no JSON line printed"
out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
print(out)
PYEOF
exit $FAILED
