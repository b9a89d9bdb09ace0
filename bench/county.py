"""County server: one process against three processes on one PostgreSQL (issue 13).

20 halls x 11 services on one database; 16 keep-alive clients, each a dispenser of one hall (client i:
hall i % 20), POST /api/v1/tickets over its hall's services; with three processes the clients are spread
over them (client i talks to process i % 3). Figures per setup: tickets/s, p50/p99
of the issue request, and event delivery: the time from a client's 2xx to the ticket_issued event on
an SSE stream (streams read by a separate process, so the load's threads do not delay them). One
process: the stream is on the same process (the baseline). Three processes: streams on every process,
and only deliveries to a process other than the one that issued count ("across processes"). Each
stream is a dispenser's of one hall (the hall of a client on another process): it hears that hall only.

The machine's load average is recorded beside the
figures (2 cores shared with other work: compare the two setups of one run, not runs).
PostgreSQL from $KIOSK_TEST_PG_URL, else a throwaway cluster (scripts/ci_postgres.sh). Prints ONE JSON line.

    .venv/bin/python bench/county.py [--tickets 3000] [--clients 16] [--processes 3] [--halls 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server_issue import free_port, postgres_url  # noqa: E402

SERVICES = 11


def hall_text(n: int = 0) -> str:
    lines = ['[hall]', f'name = "{n + 1}号便民服务中心"', f'code = "hall{n:02d}"', "closed_weekdays = []"]
    prefixes = "ABCDEFGHJKL"
    for i in range(SERVICES):
        lines += ["[[services]]", f'code = "s{i}"', f'name = "业务{i + 1}"', f'prefix = "{prefixes[i]}"',
                  "range = [1, 99999]", "observe_holidays = false", "closed_weekdays = []"]
    for w in range(1, SERVICES + 1):
        lines += ["[[windows]]", f"number = {w}", f'name = "窗口{w}"', f'services = ["s{w - 1}"]']
    return "\n".join(lines) + "\n"


def start(db_url: str, folder: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "server", "--db", db_url, "--host", "127.0.0.1", "--port",
                             str(port), "--hall", str(folder / "hall.toml"), "--no-backup"], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc, port
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.1)


def add_halls(db_url: str, halls: int) -> None:
    """Halls 2..N beside the one the server seeded (``kiosk admin add-hall`` does the same)."""
    from kiosk.hall_file import load_hall
    from kiosk.storage.db import open_engine
    from server import hall_store

    engine = open_engine(db_url)
    folder = Path(tempfile.mkdtemp(prefix="bench-county-halls-"))
    for n in range(1, halls):
        (folder / f"{n}.toml").write_text(hall_text(n), encoding="utf-8")
        hall_store.save_hall(engine, load_hall(folder / f"{n}.toml"))
    engine.dispose()


def tokens_for(db_url: str, port: int, n: int, halls: int) -> list[str]:
    """Dispenser tokens, the i-th of hall i % halls."""
    from kiosk.storage.db import open_engine
    from server import accounts

    engine = open_engine(db_url)
    codes = [accounts.enrollment_code(engine, hall=f"hall{i % halls:02d}")[0] for i in range(n)]
    engine.dispose()
    out = []
    for i, code in enumerate(codes):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/api/v1/terminals/enroll", json.dumps({"code": code, "name": f"county-{uuid.uuid4().hex[:6]}"}),
                  {"Content-Type": "application/json"})
        out.append(json.loads(c.getresponse().read())["token"])
    return out


def listen(port: int, token: str, out: multiprocessing.Queue, ready, stop) -> None:
    """(ticket id, arrival time) of every ticket_issued on the stream of the process at ``port``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/api/v1/events", headers={"Authorization": f"Bearer {token}",
                                                   "Accept": "text/event-stream"})
    r = conn.getresponse()
    seen: list[tuple[str, float]] = []
    kind = None
    ready.set()
    while not stop.is_set():
        line = r.fp.readline()
        if not line:
            break
        now = time.time()
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if text.startswith("event: "):
            kind = text[7:]
        elif text.startswith("data: ") and kind == "ticket_issued":
            seen.append((json.loads(text[6:])["ticket"]["id"], now))
    out.put((port, seen))


def load(ports: list[int], tokens: list[str], total: int) -> tuple[dict, dict]:
    """Run the load; returns figures and {ticket id: (port, time of the 2xx, client)}."""
    per_client = total // len(tokens)
    latencies: list[list[float]] = [[] for _ in tokens]
    done: dict[str, tuple[int, float]] = {}
    errors: list[str] = []
    barrier = threading.Barrier(len(tokens) + 1)

    def client(i: int) -> None:
        port = ports[i % len(ports)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens[i]}"}
        barrier.wait()
        for k in range(per_client):
            body = json.dumps({"service": f"s{(i + k) % SERVICES}"})
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/tickets", body, headers)
            r = conn.getresponse()
            raw = r.read()
            latencies[i].append(time.perf_counter() - t0)
            if r.status != 201:
                errors.append(str(r.status))
                continue
            done[json.loads(raw)["id"]] = (port, time.time(), i)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(tokens))]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    lat = sorted(x for xs in latencies for x in xs)
    return {"tickets": len(lat), "errors": len(errors), "tickets_per_s": round(len(lat) / elapsed, 1),
            "p50_ms": _pick(lat, 0.5), "p99_ms": _pick(lat, 0.99)}, done


def _pick(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)


def setup(base: str, folder: Path, processes: int, clients: int, total: int, halls: int = 20,
          streams: bool = True) -> dict:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    db_url = re.sub(r"/[^/?]+(\?|$)", f"/{name}\\1", base, count=1)
    procs: list[subprocess.Popen] = []
    try:
        ports = []
        for _ in range(processes):
            proc, port = start(db_url, folder)
            procs.append(proc)
            ports.append(port)
        add_halls(db_url, halls)
        tokens = tokens_for(db_url, ports[0], clients, halls)
        # the stream on process p hears the hall of client p + 1, which issues through another process
        listen_clients = [(p + 1) % clients if processes > 1 else 0 for p in range(processes)]
        listen_tokens = [tokens[c] for c in listen_clients]
        ctx = multiprocessing.get_context("fork")
        out, stop = ctx.Queue(), ctx.Event()
        readers = []
        for port, token in zip(ports, listen_tokens if streams else []):
            ready = ctx.Event()
            p = ctx.Process(target=listen, args=(port, token, out, ready, stop), daemon=True)
            p.start()
            ready.wait(30)
            readers.append(p)
        load(ports, tokens, clients * 5)  # warm-up: connections, statement caches
        time.sleep(1.0)
        figures, done = load(ports, tokens, total)
        time.sleep(2.0)  # the last events arrive
        stop.set()
        for p in procs:
            p.terminate()  # ends the streams, so the readers hand in what they saw
        arrivals = [out.get(timeout=60) for _ in readers]
        delays = []
        for port, seen in arrivals:
            for ticket, at in seen:
                if ticket in done and (processes == 1 or done[ticket][0] != port):
                    delays.append(at - done[ticket][1])
        delays.sort()
        expected = sum(1 for _, _, c in done.values() if c in listen_clients)
        figures["event_delivery"] = {
            "streams": processes, "measured": len(delays), "expected": expected,
            "across_processes": processes > 1,
            "p50_ms": _pick(delays, 0.5), "p95_ms": _pick(delays, 0.95), "max_ms": _pick(delays, 1.0)}
        return figures
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        with psycopg.connect(base, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=3000)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--processes", type=int, default=3)
    p.add_argument("--halls", type=int, default=20)
    args = p.parse_args()
    result: dict = {"bench": "county", "clients": args.clients, "services": SERVICES, "halls": args.halls,
                    "cpus": os.cpu_count(), "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    base, started, note = postgres_url()
    result["postgres_source"] = note
    if not base:
        result["error"] = f"no PostgreSQL: {note}"
        print(json.dumps(result, ensure_ascii=False))
        sys.exit(1)
    folder = Path(tempfile.mkdtemp(prefix="bench-county-"))
    (folder / "hall.toml").write_text(hall_text(), encoding="utf-8")
    try:
        result["one_process"] = setup(base, folder, 1, args.clients, args.tickets, args.halls)
        result[f"{args.processes}_processes"] = multi = setup(base, folder, args.processes, args.clients,
                                                               args.tickets, args.halls)
        result["ratio_tickets_per_s"] = round(multi["tickets_per_s"] / result["one_process"]["tickets_per_s"], 3)
        result["baseline"] = "the same load on one process (its streams on that process)"
        result["target"] = {"event_delivery_p95_ms_max": 1000}
        result["meets_target"] = (multi["event_delivery"]["p95_ms"] or 1e9) <= 1000 and multi["errors"] == 0
    finally:
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        if started:
            subprocess.run(["sh", str(ROOT / "scripts" / "ci_postgres.sh"), "stop", started], capture_output=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
