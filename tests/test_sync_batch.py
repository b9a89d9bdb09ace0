"""POST /api/v1/sync/batch against a real server: each event's outcome, own series only, no 500 on a clash;
`kiosk terminal sync` counts re-sent events as duplicates."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest

from .sync_support import RestartableServer, build, cli, enrolled_terminal
from .test_server_support import start_server


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    h = start_server(f"sqlite:///{tmp / 'server.db'}", tmp)
    yield h
    h.stop()


def _series(hall) -> str:
    r = hall.api("GET", "/api/v1/sync/terminal", token="terminal", params={"mode": "dispenser"})
    assert r.status_code == 200, r.text
    return r.json()["series"]


def _today(hall) -> str:
    r = hall.api("GET", "/api/v1/tickets", params={"limit": 1})
    return r.json()["date"]


def _ticket_event(hall, number: str, seq: int, series: str, service: str = "labor", key: str | None = None) -> dict:
    return {"key": key or uuid.uuid4().hex, "kind": "ticket",
            "payload": {"id": uuid.uuid4().hex, "number": number, "service": service, "day": _today(hall),
                        "seq": seq, "series": series, "issued_at": time.time() - 60}}


def _batch(hall, events: list[dict]) -> list[dict]:
    r = hall.api("POST", "/api/v1/sync/batch", token="terminal", json={"events": events})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def test_an_offline_ticket_in_a_prefix_letter_is_refused_and_issuing_goes_on(hall):
    """The audit's case: an offline labor ticket AQ001 against a service whose prefix is AQ."""
    mine = _series(hall)
    assert mine and mine != "Q"
    r = hall.api("POST", "/api/v1/services", token="sup",
                 json={"code": "aq", "name": "养老认证", "prefix": "AQ", "range_start": 1, "range_end": 999,
                       "windows": [4]})
    assert r.status_code == 201, r.text
    [result] = _batch(hall, [_ticket_event(hall, "AQ001", 1, "Q")])
    assert result["status"] == "rejected" and result["field"] == "series"
    assert f"not this terminal's offline series '{mine}'" in result["error"]
    numbers = []
    for _ in range(2):
        r = hall.api("POST", "/api/v1/tickets", json={"service": "aq"})
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    assert numbers == ["AQ001", "AQ002"]
    # and the letter stays out of reach: a terminal's letter is never a two-letter prefix's last letter
    r = hall.api("POST", "/api/v1/services", token="sup",
                 json={"code": "ax", "name": "测试", "prefix": "A" + mine, "range_start": 1, "range_end": 999})
    assert r.status_code == 409 and r.json()["field"] == "prefix"


def test_a_number_already_held_is_skipped_not_a_500_nor_a_stuck_counter(hall):
    # a clash the checks cannot see (an old database, a row put there by hand): the online number is skipped
    today = _today(hall)
    first = hall.api("POST", "/api/v1/tickets", json={"service": "spare"})
    assert first.status_code == 201 and first.json()["number"] == "D001"
    db = sqlite3.connect(hall.db_url.split("///", 1)[1], timeout=10)
    with db:
        db.execute("INSERT INTO tickets (id, hall, day, service, number, seq, series, generation, status, issued_at,"
                   " call_count) VALUES (?, 'testhall', ?, 'spare', 'D002', 2, 'Q', 0, 'waiting', ?, 0)",
                   (uuid.uuid4().hex, today, time.time()))
    db.close()
    got = [hall.api("POST", "/api/v1/tickets", json={"service": "spare"}) for _ in range(2)]
    assert [r.status_code for r in got] == [201, 201], [r.text for r in got]
    assert [r.json()["number"] for r in got] == ["D003", "D004"]


def test_each_event_has_its_outcome_and_a_resend_is_a_duplicate_by_key(hall):
    mine = _series(hall)
    e1 = _ticket_event(hall, f"B{mine}001", 1, mine, "medical")
    e2 = _ticket_event(hall, f"B{mine}002", 2, mine, "medical")
    clash = _ticket_event(hall, f"B{mine}002", 2, mine, "medical")  # another key, a number already sent
    foreign = _ticket_event(hall, "BQ003", 3, "Q", "medical")
    bad = {"key": uuid.uuid4().hex, "kind": "ticket", "payload": {"number": "??"}}
    results = _batch(hall, [e1, e2, clash, foreign, bad])
    assert [(r["key"], r["status"]) for r in results] == [
        (e1["key"], "applied"), (e2["key"], "applied"), (clash["key"], "rejected"), (foreign["key"], "rejected"),
        (bad["key"], "rejected")]
    assert results[2]["field"] == "number" and "already taken" in results[2]["error"]
    assert results[3]["field"] == "series"

    # the answer was lost: the terminal sends the same events again; nothing is added, each is a duplicate
    again = _batch(hall, [e1, e2])
    assert [(r["key"], r["status"], r["number"]) for r in again] == [
        (e1["key"], "duplicate", f"B{mine}001"), (e2["key"], "duplicate", f"B{mine}002")]
    # recognised by its key, not by its number: a resend carrying another number is still the same event
    renumbered = dict(e1, payload=dict(e1["payload"], number=f"B{mine}007", seq=7, id=uuid.uuid4().hex))
    [r] = _batch(hall, [renumbered])
    assert r["status"] == "duplicate"
    listed = [t["number"] for t in hall.api("GET", "/api/v1/tickets", params={"service": "medical"}).json()["tickets"]]
    assert sorted(n for n in listed if n.startswith("B" + mine)) == [f"B{mine}001", f"B{mine}002"]

    # voids: applied once, then duplicate
    void = {"key": uuid.uuid4().hex, "kind": "void", "payload": {"key": e2["key"]}}
    [r] = _batch(hall, [void])
    assert r["status"] == "applied" and r["number"] == f"B{mine}002"
    [r] = _batch(hall, [void])
    assert r["status"] == "duplicate"


def test_cli_sync_counts_a_resent_rating_as_a_duplicate(hall, tmp_path):
    server = RestartableServer.around(hall)  # the module's server: an evaluator takes no series letter
    path = enrolled_terminal(server, tmp_path, "eval", mode="evaluator")
    term = build(path, background=False)
    key = uuid.uuid4().hex
    term.backend.outbox.put("rating", {"key": key, "level": 5, "reasons": [], "window": 1,
                                       "created_at": time.time()}, key)
    term.close()
    r = cli(path, "sync")
    assert r.returncode == 0, r.stderr
    assert "delivered 1 new, 0 already there" in r.stdout, r.stdout
    # the answer got lost on the way back: the outbox still holds the rating and sends it again
    db = sqlite3.connect(str(tmp_path / "eval" / "data" / "queue.db"), timeout=10)
    with db:
        assert db.execute("UPDATE outbox SET state = 'pending' WHERE key = ?", (key,)).rowcount == 1
    db.close()
    r = cli(path, "sync", inproc=True)  # the first sync above was its own process; this one runs here
    assert r.returncode == 0, r.stderr
    assert "delivered 0 new, 1 already there" in r.stdout, r.stdout
    rows = server.hall.api("GET", "/api/v1/ratings", token="sup").json()
    assert len(rows) == 1 and rows[0]["level"] == 5  # stored once


def test_a_letter_is_never_assigned_when_a_prefix_ends_in_it(hall):
    taken = _series(hall)
    free = next(c for c in "XYZWVUTSRQPNMLKJHGFEDCBA" if c != taken and c != "Q")  # the next letter in line
    r = hall.api("POST", "/api/v1/services", token="sup",
                 json={"code": "pf", "name": "测试前缀", "prefix": "B" + free, "range_start": 1, "range_end": 99})
    assert r.status_code == 201, r.text
    code = hall.api("POST", "/api/v1/terminals/enrollment-codes", token="sup", json={}).json()["code"]
    token = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": code, "name": "d2"}).json()["token"]
    r = hall.api("GET", "/api/v1/sync/terminal", token=token, params={"mode": "dispenser"})
    assert r.status_code == 200 and r.json()["series"] not in ("", taken, free), r.json()
