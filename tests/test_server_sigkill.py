"""Nothing lost when a server process dies (issue 13 point 5).

Three real server processes on one real PostgreSQL; 16 clients spread over them issue tickets; one
process is SIGKILLed mid-load. A client whose request gets no answer sends the same request (same
idempotency key) to the next process, as a terminal with several addresses does. Then: every ticket a
client got a 2xx for exists exactly once, no ticket exists that no client got, and per hall, service and
day the numbers run 1..N without a duplicate or a gap; the dead process's clients finished through the
others.

Two halls: hall A from the harness and hall B added with `kiosk admin add-hall`; the clients alternate
between their dispensers' tokens.
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections import Counter, defaultdict

import pytest
import requests
import sqlalchemy as sa

from .test_server_support import TEST_HALL, db_url_for, enroll_terminal, kiosk_cli, start_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

CLIENTS = 16
PER_CLIENT = 12  # 192 tickets; all 16 clients still run when the kill lands (asserted below)
KILL_AFTER = CLIENTS * PER_CLIENT // 3  # tickets issued before the kill: mid-load, 8 left per client
SERVICES = ("labor", "medical", "spare")


def test_sigkill_of_one_process_loses_and_doubles_nothing(tmp_path):
    db_url, drop = db_url_for("postgres", tmp_path)
    servers = []
    try:
        for i in range(3):
            (tmp_path / f"p{i}").mkdir()
            servers.append(start_server(db_url, tmp_path / f"p{i}", users=(i == 0)))
        (tmp_path / "b.toml").write_text(TEST_HALL.replace('code = "testhall"', 'code = "beihall"'), encoding="utf-8")
        out = kiosk_cli("admin", "add-hall", "--db", db_url, str(tmp_path / "b.toml"))
        assert out.returncode == 0, out.stderr
        out = kiosk_cli("admin", "enrollment-code", "--db", db_url, "--hall", "beihall", "--name", "北村取号机",
                        inproc=True)
        assert out.returncode == 0, out.stderr
        r = servers[1].api("POST", "/api/v1/terminals/enroll", token=None, json={"code": out.stdout.strip(), "name": "x"})
        assert r.status_code == 201 and r.json()["hall"] == "beihall", r.text
        halls = {"testhall": enroll_terminal(servers[0], "load-terminal"), "beihall": r.json()["token"]}

        issued: list[list[dict]] = [[] for _ in range(CLIENTS)]
        served_by: list[Counter] = [Counter() for _ in range(CLIENTS)]
        errors: list[str] = []
        total = [0]
        lock = threading.Lock()
        killed = threading.Event()

        def client(n: int) -> None:
            session = requests.Session()
            hall, token = list(halls.items())[n % len(halls)]
            home = n % 3  # 16 clients spread over the three processes
            for k in range(PER_CLIENT):
                body = {"service": SERVICES[(n + k) % len(SERVICES)], "key": uuid.uuid4().hex}
                for attempt in range(30):
                    server = servers[(home + attempt) % 3]
                    try:
                        r = session.post(server.url + "/api/v1/tickets", json=body, timeout=10,
                                         headers={"Authorization": f"Bearer {token}"})
                    except requests.RequestException:
                        continue  # no answer: the same request (same key) to the next process
                    if r.status_code >= 500:
                        continue
                    if r.status_code not in (200, 201):
                        errors.append(f"client {n}: HTTP {r.status_code} {r.text[:200]}")
                        return
                    issued[n].append(dict(r.json(), hall=hall, key=body["key"]))
                    served_by[n][(home + attempt) % 3] += 1
                    with lock:
                        total[0] += 1
                    break
                else:
                    errors.append(f"client {n}: no process answered")
                    return

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        deadline = time.time() + 300
        while total[0] < KILL_AFTER and time.time() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        servers[0].process.send_signal(signal.SIGKILL)  # mid-load, no goodbye
        servers[0].process.wait(10)
        killed.set()
        for t in threads:
            t.join(600)
        assert not errors, errors[:5]
        assert KILL_AFTER <= total[0] < CLIENTS * PER_CLIENT or total[0] == CLIENTS * PER_CLIENT
        assert all(len(got) == PER_CLIENT for got in issued)  # every client finished ...
        for n in range(0, CLIENTS, 3):  # ... those of the dead process through the others
            assert sum(v for p, v in served_by[n].items() if p != 0) > 0

        got = [t for per in issued for t in per]
        by_key = {t["key"]: t for t in got}
        assert len(by_key) == len(got) == CLIENTS * PER_CLIENT
        engine = servers[1].db()
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, key, hall, service, day, seq, number FROM tickets")).all()
        engine.dispose()
        in_db = Counter(r.id for r in rows)
        assert all(in_db[t["id"]] == 1 for t in got)  # every 2xx ticket exists exactly once
        assert len(rows) == len(got)  # and nothing else: a request cut off by the kill was answered on retry
        keys = {r.key: r for r in rows}
        assert all(keys[t["key"]].id == t["id"] and keys[t["key"]].number == t["number"] for t in got)

        runs = defaultdict(list)
        for r in rows:
            runs[(r.hall, r.service, r.day)].append(r.seq)
        assert len(runs) == len(SERVICES) * len(halls)  # both halls, every service
        mine = {t["key"]: t["hall"] for t in got}
        assert all(keys[k].hall == h for k, h in mine.items())  # each ticket in its client's hall
        for where, seqs in runs.items():
            assert sorted(seqs) == list(range(1, len(seqs) + 1)), where  # no duplicate, no gap
    finally:
        for s in servers:
            s.stop()
        drop()
