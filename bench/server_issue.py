"""Hall server issuing throughput: 16 keep-alive clients POST /api/v1/tickets at once.

Runs a real server process (uvicorn, `python -m server`) on SQLite and on
PostgreSQL. Two baselines, measured in the same run:
- raw durable single-row SQLite commits (WAL, synchronous=FULL) on the same disk,
  sampled just before and just after the SQLite load (their mean is the yardstick,
  both samples are shown so a drift in the machine's load is visible);
- the same server's no-database endpoint (GET /livez) hammered by the same clients
  on the same keep-alive connections just before and just after the load (their mean
  is the yardstick): the framework's floor.
Beside the rates, the server process's CPU milliseconds per ticket and per /livez request (Linux /proc):
on a shared machine the rates follow its load, the CPU per request much less.
Targets (issue 17): tickets/s >= 0.25 x raw commit rate and >= 0.5 x /livez req/s;
p99 <= 50 ms; PostgreSQL >= 0.5 x the SQLite tickets/s.
PostgreSQL comes from $KIOSK_TEST_PG_URL, else a throwaway cluster from
scripts/ci_postgres.sh; it is reported as null when neither works.
Prints ONE JSON line.

    .venv/bin/python bench/server_issue.py [--tickets 4000] [--clients 16]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HALL = """
[hall]
name = "压测大厅"
code = "bench"
closed_weekdays = []
[[services]]
code = "labor"
name = "劳动保障"
prefix = "A"
range = [1, 99999]
observe_holidays = false
closed_weekdays = []
[[windows]]
number = 1
name = "劳动保障"
services = ["labor"]
[[windows]]
number = 2
name = "综合"
services = ["labor"]
"""


def raw_commit_rate(folder: Path, seconds: float = 2.0) -> float:
    con = sqlite3.connect(folder / "raw.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t (v) VALUES ('A0001')")
        con.execute("COMMIT")
        n += 1
    rate = n / (time.perf_counter() - start)
    con.close()
    return rate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_server(db_url: str, folder: Path, clients: int) -> tuple[subprocess.Popen, int, list[str]]:
    from kiosk.storage.db import open_engine
    from server import accounts, hall_store

    hall_file = folder / "hall.toml"
    hall_file.write_text(HALL, encoding="utf-8")
    engine = open_engine(db_url)
    hall_store.prepare(engine)
    codes = [accounts.enrollment_code(engine)[0] for _ in range(clients)]
    engine.dispose()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "server", "--db", db_url, "--host", "127.0.0.1", "--port", str(port),
                             "--hall", str(hall_file)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.1)
    tokens = []
    for i, code in enumerate(codes):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/api/v1/terminals/enroll", json.dumps({"code": code, "name": f"bench-{i}"}),
                  {"Content-Type": "application/json"})
        tokens.append(json.loads(c.getresponse().read())["token"])
    return proc, port, tokens


def hammer(port: int, tokens: list[str], total: int, method: str = "POST", path: str = "/api/v1/tickets",
           ok: int = 201) -> dict:
    per_client = total // len(tokens)
    latencies: list[list[float]] = [[] for _ in tokens]
    errors: list[str] = []
    barrier = threading.Barrier(len(tokens) + 1)

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # one keep-alive connection
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[i]}"}
        body = json.dumps({"service": "labor"})
        barrier.wait()
        for _ in range(per_client):
            t0 = time.perf_counter()
            conn.request(method, path, body if method == "POST" else None, headers)
            r = conn.getresponse()
            r.read()
            latencies[i].append(time.perf_counter() - t0)
            if r.status != ok:
                errors.append(str(r.status))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(tokens))]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    lat = sorted(x for xs in latencies for x in xs)
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1)  # noqa: E731
    return {"tickets": len(lat), "errors": len(errors), "tickets_per_s": round(len(lat) / elapsed, 1),
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": round(lat[-1] * 1000, 1)}


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process has used so far (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def hammer_cpu(proc: subprocess.Popen, *args, **kw) -> dict:
    """``hammer`` plus the server process's CPU milliseconds per request over it (robust to a loaded machine:
    time the server spends waiting for the CPU is not counted)."""
    start = cpu_seconds(proc.pid)
    out = hammer(*args, **kw)
    end = cpu_seconds(proc.pid)
    if start is not None and end is not None:
        out["server_cpu_ms_per_request"] = round((end - start) * 1000 / out["tickets"], 3)
    return out


def measure(db_url: str, folder: Path, clients: int, total: int, floor: bool = False) -> dict:
    """Tickets/s on a fresh server; with ``floor``, the same server's GET /livez right after."""
    proc, port, tokens = run_server(db_url, folder, clients)
    try:
        hammer(port, tokens, clients * 10)  # warm-up: connections, statement caches
        if floor:  # sampled just before and just after the load, like the raw commits
            hammer(port, tokens, clients * 10, "GET", "/livez", 200)
            before = hammer_cpu(proc, port, tokens, total, "GET", "/livez", 200)
        out = hammer_cpu(proc, port, tokens, total)
        if floor:
            after = hammer_cpu(proc, port, tokens, total, "GET", "/livez", 200)
            out["no_db_endpoint"] = {"path": "GET /livez", "requests_per_s": round((before["tickets_per_s"]
                                                                                    + after["tickets_per_s"]) / 2, 1),
                                     "before_per_s": before["tickets_per_s"], "after_per_s": after["tickets_per_s"],
                                     "p50_ms": after["p50_ms"], "p99_ms": max(before["p99_ms"], after["p99_ms"]),
                                     "errors": before["errors"] + after["errors"]}
            cpu = [x.get("server_cpu_ms_per_request") for x in (before, after)]
            if None not in cpu:
                out["no_db_endpoint"]["server_cpu_ms_per_request"] = round(sum(cpu) / 2, 3)
        return out
    finally:
        proc.terminate()
        proc.wait(15)


def postgres_url() -> tuple[str | None, str | None, str]:
    """(base url, cluster dir we started or None, note)."""
    url = os.environ.get("KIOSK_TEST_PG_URL")
    if url:
        return url, None, "KIOSK_TEST_PG_URL"
    out = subprocess.run(["sh", str(ROOT / "scripts" / "ci_postgres.sh")], capture_output=True, text=True)
    if out.returncode != 0:
        return None, None, (out.stderr.strip().splitlines() or ["could not start"])[-1]
    found = dict(re.findall(r"export (\w+)='([^']*)'", out.stdout))
    return found["KIOSK_TEST_PG_URL"], found["KIOSK_PG_DIR"], "scripts/ci_postgres.sh"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=4000)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--no-postgres", action="store_true")
    p.add_argument("--raw-seconds", type=float, default=2.0, help="length of each raw-commit sample")
    p.add_argument("--dir", type=Path, default=None, help="where the SQLite files go (default: a temp dir in tmp/)")
    args = p.parse_args()
    (ROOT / "tmp").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-server-", dir=args.dir or ROOT / "tmp"))
    result: dict = {"bench": "server_issue", "clients": args.clients, "disk_dir": str(folder)}
    try:
        before = raw_commit_rate(folder, args.raw_seconds)
        sqlite = measure(f"sqlite:///{folder / 'server.db'}", folder, args.clients, args.tickets, floor=True)
        after = raw_commit_rate(folder, args.raw_seconds)
        raw = (before + after) / 2
        result["baselines"] = {
            "raw_sqlite": "durable single-row commits (WAL, synchronous=FULL, BEGIN IMMEDIATE/INSERT/COMMIT) on the "
                          "same disk, sampled before and after the SQLite load; the mean is the yardstick",
            "no_db_endpoint": "GET /livez on the same server, same clients and connections, sampled right before and "
                              "right after the load; the mean is the yardstick",
            "server_cpu_ms_per_request": "the server process's CPU time (user + system, /proc) per request over each "
                                         "run: what a ticket costs the server, robust to a loaded machine",
        }
        result["raw_sqlite_durable_commits_per_s"] = {"before": round(before, 1), "after": round(after, 1),
                                                      "mean": round(raw, 1), "seconds_each": args.raw_seconds}
        result["sqlite"] = sqlite
        sqlite["ratio_to_raw"] = round(sqlite["tickets_per_s"] / raw, 3)
        sqlite["ratio_to_no_db_endpoint"] = round(sqlite["tickets_per_s"]
                                                  / sqlite["no_db_endpoint"]["requests_per_s"], 3)
        if "server_cpu_ms_per_request" in sqlite and "server_cpu_ms_per_request" in sqlite["no_db_endpoint"]:
            sqlite["cpu_ratio_to_no_db_endpoint"] = round(sqlite["server_cpu_ms_per_request"]
                                                          / sqlite["no_db_endpoint"]["server_cpu_ms_per_request"], 2)

        base, started, note = (None, None, "skipped") if args.no_postgres else postgres_url()
        result["postgres_source"] = note
        if base:
            import psycopg

            name = f"bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(base, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
            try:
                result["postgres"] = measure(re.sub(r"/[^/?]+(\?|$)", f"/{name}\\1", base, count=1), folder,
                                             args.clients, args.tickets)
            finally:
                with psycopg.connect(base, autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                if started:
                    subprocess.run(["sh", str(ROOT / "scripts" / "ci_postgres.sh"), "stop", started],
                                   capture_output=True)
        else:
            result["postgres"] = None
        if result.get("postgres"):
            result["postgres"]["ratio_to_sqlite"] = round(result["postgres"]["tickets_per_s"] / sqlite["tickets_per_s"], 3)
        result["targets"] = {"ratio_to_raw_min": 0.25, "ratio_to_no_db_endpoint_min": 0.5, "p99_ms_max": 50,
                             "postgres_ratio_to_sqlite_min": 0.5}
        result["sqlite_meets_targets"] = (sqlite["ratio_to_raw"] >= 0.25 and sqlite["ratio_to_no_db_endpoint"] >= 0.5
                                          and sqlite["p99_ms"] <= 50 and sqlite["errors"] == 0)
        if result.get("postgres"):
            result["postgres_meets_targets"] = result["postgres"]["ratio_to_sqlite"] >= 0.5
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
