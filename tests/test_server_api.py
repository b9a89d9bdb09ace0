"""The hall server's JSON API against a real uvicorn process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import BACKENDS, PASSWORD, kiosk_cli, server_fixture


@pytest.fixture(scope="module", params=BACKENDS)
def hall(request, tmp_path_factory):
    return server_fixture(request, tmp_path_factory)


def issue(hall, service="labor", token="terminal", **extra):
    r = hall.api("POST", "/api/v1/tickets", token=token, json={"service": service, **extra})
    assert r.status_code in (200, 201), r.text
    return r.json()


def reset_window(hall, number):
    """Leave the window idle: finish whatever it has, resume it."""
    hall.api("POST", f"/api/v1/windows/{number}/resume", token="sup")
    hall.api("POST", f"/api/v1/windows/{number}/finish", token="sup")


def drain(hall, service):
    """Cancel every waiting ticket of a service so a test starts from an empty queue."""
    for t in hall.api("GET", f"/api/v1/tickets?service={service}&status=waiting&limit=5000").json()["tickets"]:
        hall.api("POST", f"/api/v1/tickets/{t['id']}/cancel")


# ------------------------------------------------------------------ basics

def test_health_and_openapi(hall):
    health = hall.api("GET", "/healthz", token=None).json()
    assert health["ok"] is True and health["timezone"] == "Asia/Shanghai"  # the pages' clocks use it
    assert hall.api("GET", "/livez", token=None).json() == {"ok": True}
    doc = hall.api("GET", "/openapi.json", token=None).json()
    paths = doc["paths"]
    for route in ("/api/v1/terminals/enroll", "/api/v1/auth/login", "/api/v1/services", "/api/v1/windows",
                  "/api/v1/tickets", "/api/v1/windows/{number}/call-next", "/api/v1/events", "/api/v1/stats"):
        assert route in paths, route
    assert "HTTPBearer" in json.dumps(doc["components"]["securitySchemes"])


def test_every_write_route_needs_authentication(hall):
    doc = hall.api("GET", "/openapi.json", token=None).json()
    # the one-time code in the body is the credential of these (a terminal's, a hall server's link to the county)
    open_writes = {"/api/v1/terminals/enroll", "/api/v1/auth/login", "/api/v1/county/link"}
    code = hall.api("GET", "/healthz").json()["hall"]
    for path, ops in doc["paths"].items():
        for method in ops:
            if method in ("get", "head") or path in open_writes:
                continue
            concrete = (path.replace("{number}", "1").replace("{code}", "labor").replace("{username}", "clerk")
                        .replace("{ticket_id}", "0" * 32).replace("{terminal_id}", "0" * 32)
                        .replace("{hall}", code))  # the same routes with the hall named (issue 13)
            r = hall.api(method.upper(), concrete, token=None, json={})
            assert r.status_code == 401, (method, path, r.status_code, r.text)
            assert r.json()["field"] == "Authorization"


def test_login(hall):
    r = hall.api("POST", "/api/v1/auth/login", token=None, json={"username": "clerk", "password": "wrong-one!"})
    assert r.status_code == 401 and r.json()["field"] == "password"
    r = hall.api("POST", "/api/v1/auth/login", token=None, json={"username": "nobody", "password": "wrong-one!"})
    assert r.status_code == 401
    r = hall.api("POST", "/api/v1/auth/login", token=None, json={"username": "clerk"})
    assert r.status_code == 422 and r.json()["field"] == "password"
    me = hall.api("GET", "/api/v1/auth/me", token="clerk").json()
    assert me["name"] == "clerk" and me["role"] == "window" and me["display_name"] == "王芳"


def test_login_throttled_after_five_failures(hall):
    for _ in range(5):
        hall.api("POST", "/api/v1/auth/login", token=None, json={"username": "clerk2", "password": "nope-nope"})
    r = hall.api("POST", "/api/v1/auth/login", token=None, json={"username": "clerk2", "password": PASSWORD})
    assert r.status_code == 429


def test_logout_ends_the_session(hall):
    token = hall.login("sup")
    assert hall.api("GET", "/api/v1/auth/me", token=token).status_code == 200
    assert hall.api("POST", "/api/v1/auth/logout", token=token).status_code == 204
    assert hall.api("GET", "/api/v1/users", token=token).status_code == 401


def test_expired_session_is_refused(hall):
    from server.accounts import digest
    from server.schema import sessions

    token = hall.login("sup")
    engine = hall.db()
    with engine.begin() as conn:
        conn.execute(sessions.update().where(sessions.c.token_hash == digest(token)).values(expires_at=time.time() - 1))
    engine.dispose()
    assert hall.api("GET", "/api/v1/users", token=token).status_code == 401


def test_roles_are_enforced(hall):
    assert hall.api("GET", "/api/v1/users", token="clerk").status_code == 403
    assert hall.api("POST", "/api/v1/windows/1/call-next", token="terminal").status_code == 403
    assert hall.api("GET", "/api/v1/stats", token="terminal").status_code == 403
    r = hall.api("POST", "/api/v1/users", token="sup",
                 json={"username": "sneaky", "role": "admin", "password": PASSWORD})
    assert r.status_code == 403 and r.json()["field"] == "role"
    r = hall.api("POST", "/api/v1/users", token="sup", json={"username": "li", "role": "window", "password": PASSWORD})
    assert r.status_code == 201
    assert hall.api("GET", "/api/v1/tickets", token="terminal").status_code == 200


def test_deactivated_user_loses_access(hall):
    r = hall.api("POST", "/api/v1/users", json={"username": "temp", "role": "window", "password": PASSWORD})
    assert r.status_code == 201
    token = hall.login("temp")
    assert hall.api("GET", "/api/v1/windows", token=token).status_code == 200
    assert hall.api("PATCH", "/api/v1/users/temp", json={"active": False}).status_code == 200
    assert hall.api("GET", "/api/v1/windows", token=token).status_code == 401
    r = hall.api("POST", "/api/v1/auth/login", token=None, json={"username": "temp", "password": PASSWORD})
    assert r.status_code == 401


# -------------------------------------------------------------- terminals

def test_enrollment_code_is_one_time(hall):
    # a code made for a name gives the terminal that name, whatever its file says (issue 13: the README's
    # own steps used to be refused here); the answer tells the terminal its name on the server
    code = hall.api("POST", "/api/v1/terminals/enrollment-codes", json={"name": "evaluator-3"}).json()["code"]
    r = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": code, "name": "someone-else"})
    assert r.status_code == 201 and r.json()["name"] == "evaluator-3" and r.json()["hall"] == hall.api("GET", "/healthz").json()["hall"]
    names = [t["name"] for t in hall.api("GET", "/api/v1/terminals").json() if t["id"] == r.json()["terminal_id"]]
    assert names == ["evaluator-3"]
    code = hall.api("POST", "/api/v1/terminals/enrollment-codes", json={}).json()["code"]
    first = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": code.lower(), "name": "eval"})
    assert first.status_code == 201
    again = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": code, "name": "eval"})
    assert again.status_code == 403 and again.json()["field"] == "code"
    token = first.json()["token"]
    assert hall.api("GET", "/api/v1/services", token=token).status_code == 200


def test_expired_enrollment_code_is_refused(hall):
    from server.accounts import digest
    from server.schema import enrollment_codes

    code = hall.api("POST", "/api/v1/terminals/enrollment-codes", json={}).json()["code"]
    engine = hall.db()
    with engine.begin() as conn:
        conn.execute(enrollment_codes.update().where(enrollment_codes.c.code_hash == digest(code))
                     .values(expires_at=time.time() - 1))
    engine.dispose()
    r = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": code, "name": "late"})
    assert r.status_code == 403


def test_heartbeat_shows_in_terminal_health(hall):
    r = hall.api("POST", "/api/v1/terminals/heartbeat", token="terminal",
                 json={"mode": "dispenser", "version": "0.1.0", "printer_state": "paper_near_end", "paper": "near_end"})
    assert r.status_code == 200, r.text
    listed = {t["name"]: t for t in hall.api("GET", "/api/v1/terminals", token="sup").json()}
    me = listed["dispenser-1"]
    assert me["online"] and me["printer_state"] == "paper_near_end" and me["paper"] == "near_end"
    r = hall.api("POST", "/api/v1/terminals/heartbeat", token="terminal", json={"paper": "soggy"})
    assert r.status_code == 422 and r.json()["field"] == "paper"


def test_revoked_terminal_is_refused(hall):
    code = hall.api("POST", "/api/v1/terminals/enrollment-codes", json={}).json()["code"]
    enrolled = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": code, "name": "old"}).json()
    assert hall.api("POST", f"/api/v1/terminals/{enrolled['terminal_id']}/revoke", token="sup").status_code == 204
    assert hall.api("GET", "/api/v1/services", token=enrolled["token"]).status_code == 401


# ---------------------------------------------------------------- tickets

def test_issue_ticket(hall):
    drain(hall, "medical")
    r = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "medical"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert set(t) >= {"id", "number", "service", "issued_at", "people_ahead", "estimated_wait_s"}
    assert t["number"].startswith("B") and t["service"] == "medical" and t["people_ahead"] == 0
    second = issue(hall, "medical")
    assert int(second["number"][1:]) == int(t["number"][1:]) + 1
    assert second["people_ahead"] == 1 and second["estimated_wait_s"] > 0
    listed = hall.api("GET", "/api/v1/tickets?service=medical", token="clerk").json()
    assert [x["number"] for x in listed["tickets"]][-2:] == [t["number"], second["number"]]
    follow = hall.api("GET", f"/api/v1/tickets/{second['id']}", token=None).json()
    assert follow["number"] == second["number"] and follow["people_ahead"] == 1


def test_staff_can_issue_on_behalf(hall):
    t = issue(hall, "labor", token="clerk")
    assert t["terminal"] == "staff:clerk"


def test_idempotency_key_returns_the_same_ticket(hall):
    first = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "labor", "key": "k-123"})
    again = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "labor", "key": "k-123"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and first.json()["number"] == again.json()["number"]


def test_priority_ticket(hall):
    drain(hall, "medical")
    normal = issue(hall, "medical")
    elder = issue(hall, "medical", priority="elderly")
    assert elder["priority"] == "elderly" and elder["people_ahead"] == 0
    r = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "medical", "priority": "vip"})
    assert r.status_code == 422 and r.json()["field"] == "priority"
    queue = hall.api("GET", "/api/v1/windows/2/queue", token="clerk").json()
    assert [t["number"] for t in queue["waiting"]][:2] == [elder["number"], normal["number"]]


def test_sold_out_consumes_nothing(hall):
    before = hall.api("GET", "/api/v1/tickets?service=small").json()["tickets"]
    for _ in range(2 - len(before)):
        issue(hall, "small")
    r = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "small"})
    assert r.status_code == 409 and r.json()["error"] == "sold_out" and r.json()["field"] == "service"
    assert len(hall.api("GET", "/api/v1/tickets?service=small").json()["tickets"]) == 2
    svc = {s["code"]: s for s in hall.api("GET", "/api/v1/services", token="terminal").json()}["small"]
    assert svc["open"] is False and svc["closed_reason"] == "今日号已取完"


@pytest.mark.parametrize("body,status,field", [
    ({"service": "nope"}, 422, "service"),
    ({"service": "BAD CODE"}, 422, "service"),
    ({}, 422, "service"),
    ({"service": "labor", "extra": 1}, 422, "extra"),
    ({"service": "labor", "key": "a\x00b"}, 422, "key"),
    ({"service": "labor", "key": "k" * 65}, 422, "key"),
    ({"service": 7}, 422, "service"),
    ([1, 2], 422, "body"),
])
def test_bad_ticket_input_names_the_field(hall, body, status, field):
    r = hall.api("POST", "/api/v1/tickets", token="terminal", json=body)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field, r.text


def test_junk_json_is_400(hall):
    for junk in (b"{bad", b"\xff\xfe", b"", b"null"):
        r = hall.api("POST", "/api/v1/tickets", token="terminal", data=junk,
                     headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (junk, r.status_code, r.text)
        assert r.json()["field"] == "body"


@pytest.mark.parametrize("query,field", [("date=2026-13-45", "date"), ("date=yesterday", "date"), ("limit=0", "limit"),
                                         ("limit=999999999999999999999", "limit"), ("service=%00", "service"),
                                         ("status=lost", "status")])
def test_bad_query_names_the_field(hall, query, field):
    r = hall.api("GET", f"/api/v1/tickets?{query}", token="clerk")
    assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_bad_path_is_4xx(hall):
    assert hall.api("POST", "/api/v1/windows/99999999999999999999/call-next", token="clerk").status_code == 422
    assert hall.api("POST", "/api/v1/windows/77/call-next", token="sup").status_code == 404
    assert hall.api("POST", "/api/v1/windows/77/call-next", token="clerk").status_code == 403  # not their window
    assert hall.api("GET", "/api/v1/tickets/not-an-id", token=None).status_code == 422
    assert hall.api("GET", "/api/v1/tickets/" + "f" * 32, token=None).status_code == 404


# ---------------------------------------------------------------- windows

def test_window_flow(hall):
    drain(hall, "labor")
    reset_window(hall, 1)
    a = issue(hall, "labor")
    b = issue(hall, "labor")
    c = issue(hall, "labor")

    called = hall.api("POST", "/api/v1/windows/1/call-next", token="clerk").json()
    assert called["ticket"]["number"] == a["number"] and called["window"]["current"]["number"] == a["number"]
    assert called["ticket"]["status"] == "called"
    again = hall.api("POST", "/api/v1/windows/1/recall", token="clerk").json()
    assert again["ticket"]["call_count"] == 2
    assert hall.api("POST", "/api/v1/windows/1/no-show", token="clerk").json()["ticket"]["status"] == "no_show"
    assert hall.api("POST", "/api/v1/windows/1/recall", token="clerk").status_code == 409

    # the no-show comes back: call that number specifically
    back = hall.api("POST", "/api/v1/windows/1/call", token="clerk", json={"number": a["number"]})
    assert back.status_code == 200 and back.json()["ticket"]["status"] == "called"
    assert hall.api("POST", "/api/v1/windows/1/start", token="clerk").json()["ticket"]["status"] == "serving"
    assert hall.api("POST", "/api/v1/windows/1/finish", token="clerk").json()["ticket"]["status"] == "done"

    nxt = hall.api("POST", "/api/v1/windows/1/call-next", token="clerk").json()
    assert nxt["ticket"]["number"] == b["number"]
    moved = hall.api("POST", "/api/v1/windows/1/transfer", token="clerk", json={"service": "medical"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["ticket"]["number"] == b["number"] and moved.json()["ticket"]["service"] == "medical"
    assert moved.json()["window"]["current"] is None
    queue2 = hall.api("GET", "/api/v1/windows/2/queue", token="clerk").json()
    assert b["number"] in [t["number"] for t in queue2["waiting"]]

    assert hall.api("POST", "/api/v1/windows/1/pause", token="clerk").json()["window"]["paused"] is True
    r = hall.api("POST", "/api/v1/windows/1/call-next", token="clerk")
    assert r.status_code == 409 and r.json()["error"] == "window_paused"
    hall.api("POST", "/api/v1/windows/1/resume", token="clerk")
    assert hall.api("POST", "/api/v1/windows/1/call-next", token="clerk").json()["ticket"]["number"] == c["number"]
    hall.api("POST", "/api/v1/windows/1/finish", token="clerk")
    assert hall.api("POST", "/api/v1/windows/1/call-next", token="clerk").json()["ticket"] is None

    today = hall.api("GET", "/api/v1/windows/1/queue", token="clerk").json()["today"]
    assert today["done"] >= 2 and today["transferred"] >= 1


def test_window_errors_name_the_field(hall):
    reset_window(hall, 4)
    r = hall.api("POST", "/api/v1/windows/4/finish", token="sup")
    assert r.status_code == 409 and r.json()["error"] == "no_current_ticket"
    r = hall.api("POST", "/api/v1/windows/4/call", token="sup", json={"number": "a1"})
    assert r.status_code == 422 and r.json()["field"] == "number"
    r = hall.api("POST", "/api/v1/windows/4/call", token="sup", json={"number": "Z999"})
    assert r.status_code == 404
    issue(hall, "spare")
    hall.api("POST", "/api/v1/windows/4/call-next", token="sup")
    r = hall.api("POST", "/api/v1/windows/4/transfer", token="sup", json={})
    assert r.status_code == 422
    r = hall.api("POST", "/api/v1/windows/4/transfer", token="sup", json={"window": 4})
    assert r.status_code == 422
    r = hall.api("POST", "/api/v1/windows/4/transfer", token="sup", json={"service": "ghost"})
    assert r.status_code == 422 and r.json()["field"] == "service"
    hall.api("POST", "/api/v1/windows/4/finish", token="sup")


def test_two_windows_never_call_the_same_ticket(hall):
    drain(hall, "labor")
    drain(hall, "medical")  # window 3 serves it too
    for w in (1, 3):
        reset_window(hall, w)
    issued = {issue(hall, "labor")["number"] for _ in range(20)}
    called: list[str] = []

    def window(number, token):
        s = requests.Session()
        for _ in range(15):
            r = s.post(f"{hall.url}/api/v1/windows/{number}/call-next",
                       headers={"Authorization": f"Bearer {hall.tokens[token]}"}, timeout=30)
            assert r.status_code == 200, r.text
            t = r.json()["ticket"]
            if t:
                called.append(t["number"])

    threads = [threading.Thread(target=window, args=(1, "clerk")), threading.Thread(target=window, args=(3, "sup"))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(called) == sorted(issued), (called, issued)  # each exactly once
    for w in (1, 3):
        reset_window(hall, w)


# ----------------------------------------------------------------- events

def read_events(hall, token, sink, stop, ready):
    headers = {"Authorization": f"Bearer {hall.tokens[token]}"} if token else {}
    with requests.get(hall.url + "/api/v1/events", headers=headers, stream=True, timeout=30) as r:
        ready.set()
        kind = None
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                sink.append((kind, json.loads(line[6:])))
            if stop.is_set():
                return


def test_event_stream_carries_calls(hall):
    reset_window(hall, 4)
    private, public, stop = [], [], threading.Event()
    readers = []
    for token, sink in (("terminal", private), (None, public)):
        ready = threading.Event()
        t = threading.Thread(target=read_events, args=(hall, token, sink, stop, ready), daemon=True)
        t.start()
        ready.wait(10)
        readers.append(t)
    time.sleep(0.3)
    ticket = issue(hall, "spare")
    hall.api("POST", "/api/v1/windows/4/call-next", token="sup")
    deadline = time.time() + 10
    while time.time() < deadline and not (any(k == "ticket_called" for k, _ in private)
                                          and any(k == "ticket_called" for k, _ in public)):
        time.sleep(0.05)
    stop.set()
    hall.api("POST", "/api/v1/windows/4/finish", token="sup")  # one more event lets the readers see `stop`
    calls = [d for k, d in private if k == "ticket_called"]
    assert calls and calls[-1]["ticket"]["number"] == ticket["number"] and calls[-1]["window"] == 4
    assert calls[-1]["ticket"]["id"] == ticket["id"]
    assert any(k == "ticket_issued" for k, _ in private)
    public_calls = [d for k, d in public if k == "ticket_called"]
    assert public_calls and public_calls[-1]["ticket"]["number"] == ticket["number"]
    assert "id" not in public_calls[-1]["ticket"] and "key" not in public_calls[-1]["ticket"]


def test_display_snapshot(hall):
    reset_window(hall, 4)
    t = issue(hall, "spare")
    hall.api("POST", "/api/v1/windows/4/call-next", token="sup")
    d = hall.api("GET", "/api/v1/display", token=None).json()
    slot = d["windows"][d["window_numbers"].index(4)]
    assert slot["number"] == t["number"] and d["recent"][0]["number"] == t["number"]
    assert len(d["recent"]) <= 5
    assert d["timezone"] == "Asia/Shanghai"  # the TV's clock shows the hall's time
    hall.api("POST", "/api/v1/windows/4/finish", token="sup")


# ------------------------------------------------------------ admin edits

def test_add_service_and_window_via_api_takes_effect(hall):
    r = hall.api("POST", "/api/v1/services", token="sup",
                 json={"code": "pension", "name": "养老认证", "prefix": "L", "range_start": 1, "range_end": 300,
                       "windows": [3]})
    assert r.status_code == 201, r.text
    t = issue(hall, "pension")
    assert t["number"] == "L001" and t["windows"] == [3]
    dup = hall.api("POST", "/api/v1/services", token="sup", json={"code": "pension2", "name": "x", "prefix": "L"})
    assert dup.status_code == 409 and dup.json()["field"] == "prefix"
    bad = hall.api("POST", "/api/v1/services", token="sup",
                   json={"code": "late", "name": "x", "prefix": "Q", "hours": "25:00-26:00"})
    assert bad.status_code == 422 and bad.json()["field"] == "hours"
    r = hall.api("PUT", "/api/v1/services/pension", token="sup",
                 json={"code": "pension", "name": "养老认证", "prefix": "L", "enabled": False})
    assert r.status_code == 200
    r = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "pension"})
    assert r.status_code == 409 and r.json()["error"] == "disabled"
    r = hall.api("POST", "/api/v1/windows", token="sup", json={"number": 12, "name": "新窗口", "services": ["labor"]})
    assert r.status_code == 201 and 12 in [w["number"] for w in r.json()]
    r = hall.api("POST", "/api/v1/windows", token="sup", json={"number": 13, "name": "x", "services": ["ghost"]})
    assert r.status_code == 422 and r.json()["field"] == "services[0]"


def test_admin_cli_change_reaches_the_running_server(hall):
    out = kiosk_cli("admin", "add-service", "--code", "notary", "--name", "公证咨询", "--prefix", "N",
                    "--range", "1-50", "--daily-cap", "10", "--windows", "3", "--db", hall.db_url)
    assert out.returncode == 0, out.stderr
    codes = {s["code"]: s for s in hall.api("GET", "/api/v1/services", token="terminal").json()}
    assert codes["notary"]["daily_cap"] == 10 and codes["notary"]["windows"] == [3]
    assert issue(hall, "notary")["number"] == "N001"
    out = kiosk_cli("admin", "add-service", "--code", "notary", "--name", "x", "--prefix", "M", "--db", hall.db_url,
                    inproc=True)
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "already exists" in out.stderr


# ------------------------------------------------------------------ stats

def test_stats_and_csv(hall):
    reset_window(hall, 4)
    issue(hall, "spare")
    hall.api("POST", "/api/v1/windows/4/call-next", token="sup")
    hall.api("POST", "/api/v1/windows/4/start", token="sup")
    hall.api("POST", "/api/v1/windows/4/finish", token="sup")
    s = hall.api("GET", "/api/v1/stats", token="sup").json()
    spare = next(r for r in s["by_service"] if r["key"] == "spare")
    assert spare["tickets"] >= 1 and spare["served"] >= 1 and spare["mean_wait_s"] is not None
    assert spare["p90_wait_s"] >= 0 and spare["mean_service_s"] is not None
    assert any(r["key"] == "sup" and r["served"] >= 1 for r in s["by_staff"])
    assert any(r["key"] == "4" and r["served"] >= 1 for r in s["by_window"])
    csv = hall.api("GET", "/api/v1/stats.csv", token="sup")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeff") and "备用业务" in text
    assert hall.api("GET", "/api/v1/stats?date=2026-02-30", token="sup").json()["field"] == "date"


# ------------------------------------------------------------------- CSRF

def test_cookie_writes_need_the_csrf_token(hall):
    browser = requests.Session()
    r = browser.post(hall.url + "/api/v1/auth/login", json={"username": "clerk", "password": PASSWORD, "cookie": True})
    assert r.status_code == 200 and "kiosk_session" in browser.cookies
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    me = browser.get(hall.url + "/api/v1/auth/me").json()
    r = browser.post(hall.url + "/api/v1/windows/1/pause")
    assert r.status_code == 403 and r.json()["field"] == "X-CSRF-Token"
    r = browser.post(hall.url + "/api/v1/windows/1/pause", headers={"X-CSRF-Token": "guess"})
    assert r.status_code == 403
    r = browser.post(hall.url + "/api/v1/windows/1/resume", headers={"X-CSRF-Token": me["csrf"]})
    assert r.status_code == 200
    # a form post from another site cannot carry a JSON body either
    r = browser.post(hall.url + "/api/v1/tickets", data="service=labor",
                     headers={"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": me["csrf"]})
    assert r.status_code == 422


# ------------------------------------------------------------------ pages

def test_pages_are_served_without_internet(hall):
    import re

    for page in ("/login", "/console", "/display", "/admin", "/audit"):
        r = hall.api("GET", page, token=None)
        assert r.status_code == 200 and "text/html" in r.headers["content-type"]
        # nothing loaded from a CDN (an address shown as a form's placeholder is only text)
        assert not re.search(r"""(src|href|action)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//""", r.text), page
        assert "default-src 'self'" in r.headers["content-security-policy"]
    wav = hall.api("GET", "/static/chime.wav", token=None)
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF" and len(wav.content) > 20_000


def test_database_rows_match(hall):
    """What the API reports is what the database holds: no gaps in any service's numbers."""
    from kiosk.storage.schema import tickets

    engine = hall.db()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tickets.c.service, tickets.c.seq).where(tickets.c.generation == 0)).all()
    engine.dispose()
    by_service: dict[str, list[int]] = {}
    for service, seq in rows:
        by_service.setdefault(service, []).append(seq)
    for service, seqs in by_service.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), service
