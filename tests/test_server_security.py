"""Who may do what on a real server: terminal scopes, window staff, the audit trail, sign-in throttling,
password policy. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import http.client
import io
import json
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import (BACKENDS, PASSWORD, db_url_for, enroll_terminal, kiosk_cli,  # noqa: E402
                                 server_fixture, start_server)


@pytest.fixture(scope="module", params=BACKENDS)
def hall(request, tmp_path_factory):
    h = server_fixture(request, tmp_path_factory)
    enroll_terminal(h, "dispenser-2")
    enroll_terminal(h, "eval1", "evaluator", 1)
    enroll_terminal(h, "eval2", "evaluator", 2)
    return h


def issue(hall, token="terminal", service="labor"):
    r = hall.api("POST", "/api/v1/tickets", token=token, json={"service": service})
    assert r.status_code == 201, r.text
    return r.json()


def finish_at(hall, window, who):
    hall.api("POST", f"/api/v1/windows/{window}/finish", token=who)
    t = issue(hall, service="labor" if window in (1, 3) else "medical")
    for _ in range(100):
        r = hall.api("POST", f"/api/v1/windows/{window}/call-next", token=who)
        assert r.status_code == 200, r.text
        if r.json()["ticket"]["id"] == t["id"]:
            break
    assert hall.api("POST", f"/api/v1/windows/{window}/finish", token=who).status_code == 200
    return t


# ------------------------------------------------------------ terminal scopes

def test_only_an_evaluator_rates_and_only_its_window(hall):
    body = {"window": 1, "level": 5}
    r = hall.api("POST", "/api/v1/ratings", token="terminal", json={"key": uuid.uuid4().hex, **body})
    assert r.status_code == 403 and r.json()["field"] == "Authorization" and "dispenser" in r.json()["message"]
    r = hall.api("POST", "/api/v1/ratings", token="eval2", json={"key": uuid.uuid4().hex, **body})
    assert r.status_code == 403 and r.json()["field"] == "window"
    r = hall.api("POST", "/api/v1/ratings", token="eval1", json={"key": uuid.uuid4().hex, **body})
    assert r.status_code == 201, r.text
    t = finish_at(hall, 1, "clerk")
    r = hall.api("POST", "/api/v1/ratings", token="eval2", json={"key": uuid.uuid4().hex, "ticket": t["id"], "level": 1,
                                                                 "reasons": ["attitude"]})
    assert r.status_code == 403 and r.json()["field"] == "ticket"  # no follow-up opened against window 1's clerk
    r = hall.api("POST", "/api/v1/ratings", token="eval1", json={"key": uuid.uuid4().hex, "ticket": t["id"], "level": 4})
    assert r.status_code == 201 and r.json()["window"] == 1


def test_enrollment_codes_fix_the_mode_and_window(hall):
    def code(**body):
        r = hall.api("POST", "/api/v1/terminals/enrollment-codes", token="sup", json=body)
        assert r.status_code == 201, r.text
        return r.json()["code"]

    def enroll(**body):
        return hall.api("POST", "/api/v1/terminals/enroll", token=None, json=body)

    r = enroll(code=code(mode="evaluator", window=3), name="e3", mode="dispenser")
    assert r.status_code == 403 and r.json()["field"] == "mode"
    r = enroll(code=code(mode="evaluator", window=3), name="e3", window=2)
    assert r.status_code == 403 and r.json()["field"] == "window"
    r = enroll(code=code(), name="e-nowin", mode="evaluator")
    assert r.status_code == 422 and r.json()["field"] == "window"
    r = enroll(code=code(mode="evaluator", window=3), name="e3")
    assert r.status_code == 201 and r.json()["mode"] == "evaluator" and r.json()["window"] == 3
    listed = next(t for t in hall.api("GET", "/api/v1/terminals", token="sup").json() if t["name"] == "e3")
    assert listed["enrolled_mode"] == "evaluator" and listed["enrolled_window"] == 3
    r = hall.api("POST", "/api/v1/terminals/enrollment-codes", token="sup", json={"mode": "dispenser", "window": 2})
    assert r.status_code == 422 and r.json()["field"] == "window"
    # the heartbeat reports health; it cannot change what the token may do
    token = hall.tokens["terminal"]
    hall.api("POST", "/api/v1/terminals/heartbeat", token=token, json={"mode": "evaluator", "window": 1})
    time.sleep(0.1)
    r = hall.api("POST", "/api/v1/ratings", token=token, json={"key": uuid.uuid4().hex, "window": 1, "level": 5})
    assert r.status_code == 403


def test_only_the_issuing_terminal_or_staff_cancel_a_ticket(hall):
    t = issue(hall, token="terminal")
    assert hall.api("GET", f"/api/v1/tickets/{t['id']}", token=None).status_code == 200  # the QR link shows it
    r = hall.api("POST", f"/api/v1/tickets/{t['id']}/cancel", token=None)
    assert r.status_code == 401  # the id printed on the QR code changes nothing
    r = hall.api("POST", f"/api/v1/tickets/{t['id']}/cancel", token="dispenser-2")
    assert r.status_code == 403 and r.json()["field"] == "ticket_id"
    assert hall.api("GET", f"/api/v1/tickets/{t['id']}", token=None).json()["status"] == "waiting"
    r = hall.api("POST", f"/api/v1/tickets/{t['id']}/cancel", token="terminal")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    t2 = issue(hall, token="dispenser-2")
    assert hall.api("POST", f"/api/v1/tickets/{t2['id']}/cancel", token="clerk").status_code == 200


def test_a_terminal_voids_only_its_own_tickets(hall):
    key = uuid.uuid4().hex
    r = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "labor", "key": key})
    assert r.status_code == 201
    ticket = r.json()
    void = {"events": [{"key": uuid.uuid4().hex, "kind": "void", "payload": {"key": key}}]}
    r = hall.api("POST", "/api/v1/sync/batch", token="dispenser-2", json=void)
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "rejected", r.text
    assert hall.api("GET", f"/api/v1/tickets/{ticket['id']}", token=None).json()["status"] == "waiting"
    void["events"][0]["key"] = uuid.uuid4().hex
    r = hall.api("POST", "/api/v1/sync/batch", token="terminal", json=void)
    assert r.json()["results"][0]["status"] == "applied"
    assert hall.api("GET", f"/api/v1/tickets/{ticket['id']}", token=None).json()["status"] == "cancelled"


# ------------------------------------------------------------ window staff

def test_window_staff_act_on_their_own_window(hall):
    for action in ("call-next", "recall", "no-show", "start", "finish", "pause", "resume"):
        r = hall.api("POST", f"/api/v1/windows/2/{action}", token="clerk")  # clerk sits at window 1
        assert r.status_code == 403 and r.json()["field"] == "number", (action, r.text)
    r = hall.api("POST", "/api/v1/windows/2/call", token="clerk", json={"number": "B001"})
    assert r.status_code == 403
    r = hall.api("POST", "/api/v1/windows/2/transfer", token="clerk", json={"window": 1})
    assert r.status_code == 403
    assert hall.api("POST", "/api/v1/windows/2/pause", token="clerk2").status_code == 200  # their own
    assert hall.api("POST", "/api/v1/windows/2/resume", token="sup").status_code == 200  # a supervisor: any
    assert hall.api("POST", "/api/v1/windows/1/pause", token="clerk").status_code == 200
    assert hall.api("POST", "/api/v1/windows/1/resume", token="clerk").status_code == 200
    # moved to another window by a supervisor: the old one is closed to them at once
    assert hall.api("PATCH", "/api/v1/users/clerk2", token="sup", json={"window": 4}).status_code == 200
    try:
        assert hall.api("POST", "/api/v1/windows/2/pause", token="clerk2").status_code == 403
        assert hall.api("POST", "/api/v1/windows/4/pause", token="clerk2").status_code == 200
        hall.api("POST", "/api/v1/windows/4/resume", token="clerk2")
    finally:
        hall.api("PATCH", "/api/v1/users/clerk2", token="sup", json={"window": 2})


# ------------------------------------------------------------------ audit

def audit(hall, **query):
    r = hall.api("GET", "/api/v1/audit", token="sup", params=query)
    assert r.status_code == 200, r.text
    return r.json()


def test_console_and_admin_actions_are_recorded(hall):
    t = issue(hall)
    before = time.time()
    called = hall.api("POST", "/api/v1/windows/1/call-next", token="clerk").json()["ticket"]
    hall.api("POST", "/api/v1/windows/1/finish", token="clerk")
    hall.api("POST", "/api/v1/windows/2/pause", token="clerk")  # denied, and recorded as such
    hall.api("PUT", "/api/v1/services/spare", token="boss", json={"code": "spare", "name": "备用业务二", "prefix": "D"})
    hall.api("POST", "/api/v1/users", token="sup", json={"username": "auditee", "role": "window",
                                                         "password": "plum orchard 1987 kite"})
    rows = audit(hall, actor="clerk")
    call = next(r for r in rows if r["action"] == "window.call_next" and r["at"] >= before - 1)
    assert call["target"] == "window 1" and call["outcome"] == "ok" and call["address"] == "127.0.0.1"
    assert call["detail"]["ticket"] == called["number"] and call["role"] == "window"
    denied = next(r for r in rows if r["action"] == "window.pause" and r["target"] == "window 2")
    assert denied["outcome"] == "denied" and denied["status"] == 403
    svc = next(r for r in audit(hall, actor="boss") if r["action"] == "service.update")
    assert svc["target"] == "service spare" and svc["detail"]["name"] == "备用业务二"
    user = next(r for r in audit(hall, action="user.") if r["target"] == "user auditee")
    assert user["actor"] == "sup" and "password" not in json.dumps(user["detail"]) \
        and "plum" not in json.dumps(user)
    logins = audit(hall, action="auth.login")
    assert any(r["actor"] == "clerk" and r["outcome"] == "ok" for r in logins)
    assert t  # the terminal's own ticket is not a console action
    assert not any(r["action"] == "ticket.issue" and r["actor_kind"] == "terminal" for r in audit(hall))


def test_audit_csv_and_who_may_read_it(hall):
    hall.api("POST", "/api/v1/windows/1/pause", token="clerk")
    hall.api("POST", "/api/v1/windows/1/resume", token="clerk")
    r = hall.api("GET", "/api/v1/audit.csv", token="sup", params={"actor": "clerk"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][0].startswith("时间") and any(row[3] == "window.resume" and row[1] == "clerk" for row in rows[1:])
    assert hall.api("GET", "/api/v1/audit", token="clerk").status_code == 403
    assert hall.api("GET", "/api/v1/audit", token="terminal").status_code == 403
    assert hall.api("GET", "/api/v1/audit?from=2026-02-30", token="sup").status_code == 422
    page = hall.api("GET", "/audit", token=None)
    assert page.status_code == 200 and "操作记录" in page.text


def test_every_staff_write_route_declares_its_audit_action():
    """A new route that staff can call and that changes something must say what the audit log records."""
    from fastapi.routing import APIRoute

    from server import app as app_module

    exempt = {("POST", "/api/v1/auth/logout")}
    found, missing = 0, []
    modules = [getattr(app_module, n) for n in dir(app_module) if n.startswith("api_")]
    for module in modules:
        for route in module.router.routes:
            if not isinstance(route, APIRoute):
                continue
            for method in route.methods - {"GET", "HEAD", "OPTIONS"}:
                calls = []
                stack = list(route.dependant.dependencies)
                while stack:
                    d = stack.pop()
                    calls.append(d.call)
                    stack.extend(d.dependencies)
                roles = set().union(*[getattr(c, "__roles__", ()) for c in calls])
                if not roles & {"window", "supervisor", "admin"} or (method, route.path) in exempt:
                    continue
                found += 1
                if not any(hasattr(c, "__audit_action__") for c in calls):
                    missing.append(f"{method} {route.path}")
    assert found >= 25
    assert not missing, f"staff write routes without audited(...): {missing}"


# ---------------------------------------------------------------- sign-in

def login(hall, username, password=PASSWORD, device=None, source=None):
    body = {"username": username, "password": password, **({"device": device} if device else {})}
    if source is None:
        r = requests.post(hall.url + "/api/v1/auth/login", json=body, timeout=30)
        return r.status_code, r.headers, r.json()
    conn = http.client.HTTPConnection("127.0.0.1", int(hall.url.rsplit(":", 1)[1]), timeout=30,
                                      source_address=(source, 0))
    try:
        conn.request("POST", "/api/v1/auth/login", json.dumps(body), {"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), json.loads(r.read())
    finally:
        conn.close()


def test_wrong_passwords_slow_the_guesser_not_the_owner(hall):
    hall.api("POST", "/api/v1/users", token="sup", json={"username": "owner", "role": "window",
                                                         "password": PASSWORD})
    status, _, first = login(hall, "owner")  # the owner's own browser: now a known device
    assert status == 200 and first["device"]
    for _ in range(3):
        assert login(hall, "owner", "guess-number-x", source="127.0.0.7")[0] == 401
    status, headers, body = login(hall, "owner", source="127.0.0.8")  # right password, unknown device: wait
    assert status == 429 and body["field"] == "password" and 1 <= int(headers["retry-after"]) <= 60
    status, _, _ = login(hall, "owner", device=first["device"], source="127.0.0.8")
    assert status == 200  # the known device gets in at once
    for _ in range(3):
        assert login(hall, "owner", "guess-number-x", source="127.0.0.7")[0] == 401
    status, headers, _ = login(hall, "owner", source="127.0.0.8")
    assert status == 429
    time.sleep(int(headers["retry-after"]) + 0.2)  # a short delay, and the right password gets through
    assert login(hall, "owner", source="127.0.0.8")[0] == 200
    # another's device token does not count as known for this account
    _, _, boss = login(hall, "boss")
    for _ in range(3):
        login(hall, "owner", "guess-number-x", source="127.0.0.7")
    assert login(hall, "owner", device=boss["device"], source="127.0.0.8")[0] == 429


def test_an_address_full_of_failures_does_not_lock_out_the_hall_behind_it(hall):
    known = login(hall, "clerk2", source="127.0.0.20")[2]["device"]
    for i in range(20):  # a guesser behind the hall's one NAT address tries many names
        assert login(hall, f"nobody{i}", "guess-number-x", source="127.0.0.20")[0] == 401
    status, headers, _ = login(hall, "sup", source="127.0.0.20")
    assert status == 429 and int(headers["retry-after"]) >= 1  # unknown devices there wait
    assert login(hall, "sup", source="127.0.0.21")[0] == 200  # other addresses do not
    assert login(hall, "clerk2", device=known, source="127.0.0.20")[0] == 200  # nor do known devices there


def test_an_unknown_user_costs_one_verify_at_the_hashers_own_costs():
    """A login for a user that does not exist verifies against a dummy hash, so it takes as long as a real
    user's. The server ships that dummy made with the strong costs (not hashed at every start); with other
    costs (the tests' cheap ones) it makes its own."""
    from kiosk.hashing import strong_hasher
    from server import accounts

    assert not accounts._hasher.check_needs_rehash(accounts._DUMMY_HASH)  # the costs of this process's hashes
    assert accounts._DUMMY_HASH != accounts._STRONG_DUMMY  # here: cheap, made at import
    strong = strong_hasher()
    assert not strong.check_needs_rehash(accounts._STRONG_DUMMY)  # a production server uses it as it is
    assert strong.verify(accounts._STRONG_DUMMY, "not a real password")


@pytest.mark.postgres
def test_throttle_is_shared_by_processes_and_survives_a_restart(tmp_path):
    db_url, drop = db_url_for("postgres", tmp_path)  # several processes share PostgreSQL (SQLite serves one)
    a = start_server(db_url, tmp_path)
    b = start_server(db_url, tmp_path, users=False)  # a second process on the same database
    try:
        for i in range(5):  # wrong passwords alternating between the two processes
            server = (a, b)[i % 2]
            status, headers, _ = login(server, "clerk", "guess-number-x")
            while status == 429:
                time.sleep(int(headers["retry-after"]))
                status, headers, _ = login(server, "clerk", "guess-number-x")
            assert status == 401
        status, headers, _ = login(b, "clerk")
        assert status == 429 and int(headers["retry-after"]) >= 2  # the 5th failure counts: 4 s, not a per-process 1 s
        b.stop()
        a.stop()
        c = start_server(db_url, tmp_path, users=False)
        try:
            status, headers, _ = login(c, "clerk", "guess-number-x")
            while status == 429:  # wait out the delay, then one more wrong password
                time.sleep(int(headers["retry-after"]))
                status, headers, _ = login(c, "clerk", "guess-number-x")
            assert status == 401
            status, headers, _ = login(c, "clerk")  # a fresh count would let this in (1 failure is free)
            assert status == 429 and int(headers["retry-after"]) >= 4  # the 6th failure: 8 s
        finally:
            c.stop()
    finally:
        a.stop()
        b.stop()
        drop()


# ------------------------------------------------------------ password policy

@pytest.mark.parametrize("password", ["12345678", "aaaaaaaa", "password", "1234567890", "aaaaaaaaaaaa",
                                      "password1234", "qwertyuiop", "Password2024", "weakling01"])
def test_weak_passwords_are_refused(hall, password):
    r = hall.api("POST", "/api/v1/users", token="sup", json={"username": "weakling01", "role": "window",
                                                             "password": password})
    assert r.status_code == 422 and r.json()["field"] == "password", r.text
    r = hall.api("PATCH", "/api/v1/users/clerk2", token="sup", json={"password": password})
    assert r.status_code == 422 and r.json()["field"] == "password"


def test_a_strong_password_is_taken_and_the_cli_refuses_a_weak_one(hall, tmp_path):
    r = hall.api("POST", "/api/v1/users", token="sup", json={"username": "strong", "role": "window",
                                                             "password": "violet tram 1987 ladle"})
    assert r.status_code == 201, r.text
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    out = kiosk_cli("admin", "add-user", "w9", "--role", "window", "--password-stdin", "--db", db,
                    stdin="password1234\n")
    assert out.returncode == 1 and "too easy to guess" in out.stderr and len(out.stderr.strip().splitlines()) == 1
