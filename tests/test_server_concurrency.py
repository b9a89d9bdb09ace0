"""16 terminals issuing 640 tickets at once: no duplicate, no gap, on SQLite and PostgreSQL.

Every request contends with 15 others from the barrier on, so each of the 640 is a chance for a
lost or doubled number; throughput under load is bench/server_issue.py's job, not this test's."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import BACKENDS, server_fixture  # noqa: E402

CLIENTS, TOTAL = 16, 640


@pytest.fixture(scope="module", params=BACKENDS)
def hall(request, tmp_path_factory):
    return server_fixture(request, tmp_path_factory)


def test_concurrent_issuing_has_no_duplicate_and_no_gap(hall):
    # each client is its own enrolled terminal with its own keep-alive connection
    tokens = []
    for i in range(CLIENTS):
        code = hall.api("POST", "/api/v1/terminals/enrollment-codes", json={}).json()["code"]
        r = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": code, "name": f"dispenser-{i}"})
        tokens.append(r.json()["token"])
    results: list[list[dict]] = [[] for _ in range(CLIENTS)]
    failures: list[str] = []
    start = threading.Barrier(CLIENTS)

    def client(i: int) -> None:
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {tokens[i]}"
        start.wait()
        for n in range(TOTAL // CLIENTS):
            # every other ticket carries an idempotency key, as a terminal's retry would
            body = {"service": "labor", **({"key": f"c{i}-{n}"} if n % 2 else {})}
            r = s.post(hall.url + "/api/v1/tickets", json=body, timeout=60)
            if r.status_code != 201:
                failures.append(f"{r.status_code} {r.text[:200]}")
                return
            results[i].append(r.json())

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not failures, failures[:5]

    numbers = [t["number"] for batch in results for t in batch]
    assert len(numbers) == TOTAL
    assert len(set(numbers)) == TOTAL, "duplicate numbers"
    assert sorted(numbers) == [f"A{n:04d}" for n in range(1, TOTAL + 1)], "a gap in the numbers"
    for batch in results:  # one client's tickets come out in increasing order
        seqs = [int(t["number"][1:]) for t in batch]
        assert seqs == sorted(seqs)

    # the database agrees with what the clients were told
    from kiosk.storage.schema import counters, tickets

    engine = hall.db()
    with engine.connect() as conn:
        stored = conn.execute(sa.select(tickets.c.number, tickets.c.id).where(tickets.c.service == "labor")).all()
        last = conn.execute(sa.select(counters.c.last).where(counters.c.service == "labor")).scalar_one()
    engine.dispose()
    assert sorted(n for n, _ in stored) == sorted(numbers) and last == TOTAL
    assert {i for _, i in stored} == {t["id"] for batch in results for t in batch}

    # retrying a keyed request returns the same ticket and consumes no number
    again = requests.post(hall.url + "/api/v1/tickets", json={"service": "labor", "key": "c0-1"},
                          headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=30)
    assert again.status_code == 200 and again.json()["number"] == results[0][1]["number"]
    nxt = requests.post(hall.url + "/api/v1/tickets", json={"service": "labor"},
                        headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=30)
    assert nxt.json()["number"] == f"A{TOTAL + 1:04d}"
