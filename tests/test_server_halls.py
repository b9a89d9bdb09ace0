"""Two halls on one server: every route has a hall rule, and no credential of hall A reads or changes hall B.

One real server (``python -m server``, on SQLite and on PostgreSQL) holds hall A (``testhall``, its
staff and dispenser from the harness) and hall B (``beihall``, added with ``kiosk admin add-hall`` while
the server runs), whose names carry the marker 北村 so a leak shows in any answer. Hall B gets a ticket called and finished, a
bad rating (so a follow-up), a staff photo, a help request and a terminal with setting overrides.

``test_every_route_declares_a_hall_rule`` fails when a route is added without an entry in
``server/hall_rules.py::RULES``; ``test_no_route_lets_hall_a_reach_hall_b`` calls every hall route with
hall A's real tokens, once naming hall B in the path and once by hall B's object ids.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import (BACKENDS, PASSWORD, TEST_HALL, db_url_for, enroll_terminal,  # noqa: E402
                                 kiosk_cli, start_server)

B = "beihall"
MARK = "北村"
HALL_B = (TEST_HALL.replace('code = "testhall"', f'code = "{B}"')
          .replace("测试镇便民服务中心", "北村便民服务中心")
          .replace('name = "劳动保障"', 'name = "北村劳动保障"').replace('name = "医疗保障"', 'name = "北村医疗保障"'))
JPEG = b"\xff\xd8\xff\xe0" + b"north village photo" * 20


@pytest.fixture(scope="module", params=BACKENDS)
def two(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"halls-{request.param}")
    db_url, drop = db_url_for(request.param, tmp)
    request.addfinalizer(drop)
    hall = start_server(db_url, tmp)
    request.addfinalizer(hall.stop)  # also when the setup below fails
    (tmp / "b.toml").write_text(HALL_B, encoding="utf-8")
    out = kiosk_cli("admin", "add-hall", "--db", hall.db_url, str(tmp / "b.toml"))
    assert out.returncode == 0 and f"added hall {B}" in out.stdout, out.stderr
    users = (("bsup", "supervisor", ["--hall", B]), ("bclerk", "window", ["--hall", B, "--window", "1"]),
             ("cadmin", "county-admin", []), ("cview", "county-viewer", []))
    for name, role, extra in users:  # in this process (add-hall above is the real `kiosk` run)
        done = kiosk_cli("admin", "add-user", name, "--role", role, "--password-stdin", "--db", hall.db_url, *extra,
                         stdin=PASSWORD + "\n", inproc=True)
        assert done.returncode == 0, done.stderr
        hall.tokens[name] = hall.login(name)
    out = kiosk_cli("admin", "enrollment-code", "--db", hall.db_url, "--hall", B, "--name", "北村取号机", inproc=True)
    assert out.returncode == 0, out.stderr
    r = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": out.stdout.strip(), "name": "x"})
    assert r.status_code == 201 and r.json()["hall"] == B and r.json()["name"] == "北村取号机", r.text
    hall.tokens["bterm"] = r.json()["token"]
    b = {"terminal_id": r.json()["terminal_id"]}
    hall.tokens["aeval"] = enroll_terminal(hall, "a-eval-1", "evaluator", 1)
    code = hall.api("POST", f"/api/v1/halls/{B}/terminals/enrollment-codes", token="bsup",
                    json={"name": "北村评价器", "mode": "evaluator", "window": 1}).json()["code"]
    hall.tokens["beval"] = hall.api("POST", "/api/v1/terminals/enroll", token=None,
                                    json={"code": code, "name": "北村评价器"}).json()["token"]
    # hall B's own data, made by hall B's own credentials on the credential-implied routes
    t = hall.api("POST", "/api/v1/tickets", token="bterm", json={"service": "labor"})
    assert t.status_code == 201 and t.json()["service_name"] == "北村劳动保障", t.text
    b["ticket_id"] = t.json()["id"]
    assert hall.api("POST", "/api/v1/windows/1/call-next", token="bclerk").json()["ticket"]["id"] == b["ticket_id"]
    assert hall.api("POST", "/api/v1/windows/1/finish", token="bclerk").status_code == 200
    b["waiting_id"] = hall.api("POST", "/api/v1/tickets", token="bterm", json={"service": "labor"}).json()["id"]
    reason = hall.api("GET", "/api/v1/rating-reasons", token="beval").json()[0]["code"]
    rating = hall.api("POST", "/api/v1/ratings", token="beval",
                      json={"key": "b-rating-1", "ticket": b["ticket_id"], "level": 1, "reasons": [reason]})
    assert rating.status_code == 201, rating.text
    b["followup_id"] = rating.json()["followup_id"]
    assert hall.api("PUT", "/api/v1/users/bclerk/photo", token="bsup", data=JPEG).status_code == 204
    b["help_id"] = hall.api("POST", "/api/v1/terminals/help", token="bterm").json()["id"]
    r = hall.api("PUT", f"/api/v1/sync/terminals/{b['terminal_id']}/settings", token="bsup",
                 json={"settings": {"timeouts.idle_s": 77}})
    assert r.status_code == 200, r.text
    return hall, b


def test_every_route_declares_a_hall_rule(two):
    from server.hall_rules import HALL_RULES, RULES

    hall, _ = two
    doc = hall.api("GET", "/openapi.json", token=None).json()
    seen = set()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("x-hall-rule") in HALL_RULES, f"{method.upper()} {path}: no hall rule in server/hall_rules.py"
            if not path.startswith("/api/v1/halls/{hall}/"):
                seen.add(f"{method.upper()} {path}")
    assert set(RULES) - seen == set(), "rules for routes that no longer exist"
    # every hall route is also documented with the hall named in the path
    assert "/api/v1/halls/{hall}/windows/{number}/call-next" in doc["paths"]
    assert "/api/v1/halls/{hall}/auth/login" not in doc["paths"]


def _fill(path: str, b: dict) -> str:
    return (path.replace("{number}", "1").replace("{code}", "labor").replace("{username}", "bclerk")
            .replace("{ticket_id}", b["ticket_id"]).replace("{terminal_id}", b["terminal_id"])
            .replace("{followup_id}", b["followup_id"]).replace("{request_id}", b["help_id"])
            .replace("{appointment_id}", "0" * 32).replace("{token}", "x" * 22))


def _body(method: str, path: str) -> dict:
    """A body the route would accept, so a refusal is about the hall, not a 422 on the body."""
    bodies = {"/followups/{followup_id}/rectify": {"note": "改了"},
              "/followups/{followup_id}/callback": {"note": "回访", "satisfied": True},
              "/users/{username}": {"display_name": "改名"},
              "/sync/terminals/{terminal_id}/settings": {"settings": {"timeouts.idle_s": 30}},
              "/users/{username}/photo": None}
    key = path.removeprefix("/api/v1")
    if key in bodies:
        return {"data": JPEG} if bodies[key] is None and method == "PUT" else \
            ({"json": bodies[key]} if bodies[key] is not None else {})
    return {"json": {}} if method in ("POST", "PUT", "PATCH") else {}


def _leaks(r: requests.Response, b: dict) -> list[str]:
    text = r.content.decode("utf-8", "replace") if r.content else ""
    found = [m for m in (MARK, b["ticket_id"], b["waiting_id"], b["terminal_id"], b["followup_id"], "bclerk",
                         B if r.status_code < 400 else "\0") if m in text]
    if r.content[:4] == JPEG[:4] and r.content == JPEG:
        found.append("photo")
    return found


def test_no_route_lets_hall_a_reach_hall_b(two):
    from server.hall_rules import RULES

    hall, b = two
    creds = {"terminal": ["terminal", "aeval"], "staff": ["boss", "sup", "clerk"],
             "hall": ["terminal", "aeval", "boss", "clerk"], "public": ["terminal", "boss"]}
    checked = 0
    for key, rule in RULES.items():
        if rule not in creds:
            continue
        method, path = key.split(" ", 1)
        if not path.startswith("/api/v1/"):
            continue
        for who in creds[rule]:
            # 1. hall B named in the path: refused before the route runs
            named = "/api/v1/halls/" + B + "/" + _fill(path, b).removeprefix("/api/v1/")
            r = hall.api(method, named, token=who, stream=path.endswith("/events"), **_body(method, path))
            assert r.status_code in (403, 404), (who, method, named, r.status_code, r.text[:300])
            assert not _leaks(r, b), (who, method, named, _leaks(r, b))
            # 2. hall B's object ids on the credential-implied route: the route works on hall A only
            if "{" in path:
                r = hall.api(method, _fill(path, b), token=who, **_body(method, path))
                assert r.status_code not in range(200, 300) or not _leaks(r, b), \
                    (who, method, path, r.status_code, r.text[:300])
                if "{" in path.replace("{number}", "").replace("{code}", ""):
                    # dismissing a help request that is not (or no longer) open is a quiet no-op (204);
                    # hall B's request stays open (checked below)
                    ok = (403, 404, 422, 204) if path.endswith("/dismiss") else (403, 404, 422)
                    assert r.status_code in ok, (who, method, path, r.status_code, r.text[:300])
            else:
                r = hall.api(method, path, token=who, stream=path.endswith("/events"), **_body(method, path))
                if path.endswith("/events"):
                    r.close()
                else:
                    assert not _leaks(r, b), (who, method, path, _leaks(r, b), r.text[:300])
            checked += 1
    assert checked > 100
    # nothing of hall B moved: its ticket, follow-up, terminal, photo, help request and overrides
    assert hall.api("GET", f"/api/v1/tickets/{b['ticket_id']}", token="bsup").json()["status"] == "done"
    assert hall.api("GET", f"/api/v1/tickets/{b['waiting_id']}", token="bsup").json()["status"] == "waiting"
    assert [f["state"] for f in hall.api("GET", "/api/v1/followups", token="bsup").json()] == ["open"]
    terminals = {t["id"]: t for t in hall.api("GET", "/api/v1/terminals", token="bsup").json()}
    assert terminals[b["terminal_id"]]["revoked"] is False
    assert hall.api("GET", "/api/v1/users/bclerk/photo", token="bsup").content == JPEG
    assert [h["id"] for h in hall.api("GET", "/api/v1/terminals/help", token="bsup").json()] == [b["help_id"]]
    assert {u["username"]: u["display_name"] for u in hall.api("GET", "/api/v1/users", token="bsup").json()} \
        == {"bsup": "bsup", "bclerk": "bclerk"}
    assert [s["name"] for s in hall.api("GET", "/api/v1/services", token="bterm").json()][:2] \
        == ["北村劳动保障", "北村医疗保障"]


def test_halls_lists_what_a_credential_may_see(two):
    hall, _ = two
    codes = lambda who: [h["code"] for h in hall.api("GET", "/api/v1/halls", token=who).json()]  # noqa: E731
    assert codes("cadmin") == codes("cview") == ["beihall", "testhall"]
    assert codes("boss") == codes("terminal") == ["testhall"]
    assert codes("bsup") == codes("bterm") == [B]
    assert hall.api("GET", "/api/v1/halls", token=None).status_code == 401
    me = hall.api("GET", "/api/v1/auth/me", token="bclerk").json()
    assert me["hall"] == B and hall.api("GET", "/api/v1/auth/me", token="cview").json()["hall"] is None


def test_county_users_name_the_hall_and_the_viewer_writes_nothing(two):
    hall, b = two
    # several halls: a county user must name one
    r = hall.api("GET", "/api/v1/stats", token="cview")
    assert r.status_code == 422 and r.json()["field"] == "hall"
    for who in ("cview", "cadmin"):
        s = hall.api("GET", f"/api/v1/halls/{B}/stats/ratings", token=who)
        assert s.status_code == 200 and s.json()["bad"] == 1, s.text
        assert [f["id"] for f in hall.api("GET", f"/api/v1/halls/{B}/followups", token=who).json()] \
            == [b["followup_id"]]
        assert hall.api("GET", "/api/v1/halls/testhall/followups", token=who).json() == []
        assert hall.api("GET", f"/api/v1/halls/{B}/stats", token=who).status_code == 200
    assert hall.api("GET", "/api/v1/halls/nowhere/stats", token="cadmin").status_code == 404
    # the viewer reads, never writes, and sees no accounts or terminals
    for method, path, body in (("POST", "/windows/1/call-next", {}), ("PUT", "/rating-settings", {"followup_days": 3}),
                               ("POST", f"/followups/{b['followup_id']}/rectify", {"note": "x"}),
                               ("POST", "/services", {}), ("GET", "/users", None), ("GET", "/terminals", None)):
        r = hall.api(method, f"/api/v1/halls/{B}{path}", token="cview", json=body)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    # the county admin acts in the hall it names, and the hall's own supervisor sees it
    r = hall.api("POST", f"/api/v1/halls/{B}/followups/{b['followup_id']}/rectify", token="cadmin",
                 json={"note": "县里督办"})
    assert r.status_code == 200 and r.json()["state"] == "rectified", r.text
    assert hall.api("GET", "/api/v1/followups", token="bsup").json()[0]["rectify_note"] == "县里督办"
    audit = hall.api("GET", "/api/v1/audit?action=followup.", token="bsup").json()
    assert [(a["actor"], a["outcome"]) for a in audit] == [("cadmin", "ok"), ("cview", "denied")]
    assert "cadmin" not in {a["actor"] for a in hall.api("GET", "/api/v1/audit", token="boss").json()}


def test_event_streams_carry_their_own_hall_only(two):
    hall, _ = two
    with requests.get(hall.url + "/api/v1/events", headers={"Authorization": f"Bearer {hall.tokens['terminal']}"},
                      stream=True, timeout=30) as stream:
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines).startswith("retry")
        b_ticket = hall.api("POST", "/api/v1/tickets", token="bterm", json={"service": "medical"}).json()
        a_ticket = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "medical"}).json()
        seen = []
        for line in lines:
            seen.append(line)
            if a_ticket["id"] in line:
                break
        assert not any(b_ticket["id"] in s or MARK in s for s in seen), seen
    # the hall TV of hall B (anonymous, hall named) gets hall B's calls and nothing of hall A
    r = hall.api("GET", f"/api/v1/halls/{B}/display", token=None)
    assert r.status_code == 200 and r.json()["hall"] == "北村便民服务中心"
    assert [c["service_name"] for c in r.json()["recent"]] == ["北村劳动保障"]  # hall B's one call
    assert hall.api("GET", "/api/v1/display", token="terminal").json()["recent"] == []  # hall A called nobody
    assert hall.api("GET", "/api/v1/display", token=None).status_code == 422  # two halls: name one


def test_county_overview_has_one_live_row_per_hall(two):
    hall, b = two
    assert hall.api("GET", "/api/v1/county", token="boss").status_code == 403
    rows = {h["code"]: h for h in hall.api("GET", "/api/v1/county", token="cview").json()["halls"]}
    assert set(rows) == {"testhall", B}
    before = rows[B]["waiting"]
    hall.api("POST", "/api/v1/tickets", token="bterm", json={"service": "labor"})
    row = {h["code"]: h for h in hall.api("GET", "/api/v1/county", token="cview").json()["halls"]}[B]
    assert row["waiting"] == before + 1 and row["name"] == "北村便民服务中心"
    assert row["satisfaction_rate"] == 0.0 and row["rated_today"] == 1
    assert row["terminals_online"] >= 1 and row["tickets_today"] >= 3
    labor = next(s for s in row["services"] if s["code"] == "labor")
    assert labor["name"] == "北村劳动保障" and labor["waiting"] >= 2
    hall.api("POST", "/api/v1/terminals/heartbeat", token="bterm", json={"paper": "near_end",
                                                                         "printer_state": "paper_near_end"})
    row = {h["code"]: h for h in hall.api("GET", "/api/v1/county", token="cadmin").json()["halls"]}[B]
    assert [w["name"] for w in row["paper_warnings"]] == ["北村取号机"]


def test_add_hall_checks_the_file_and_updates_by_code(two, tmp_path):
    hall, _ = two
    bad = tmp_path / "bad.toml"
    bad.write_text(HALL_B.replace('prefix = "B"', 'prefix = "b"').replace("range = [1, 999]", "range = [9, 1]", 1),
                   encoding="utf-8")
    out = kiosk_cli("admin", "add-hall", "--db", hall.db_url, str(bad))
    assert out.returncode != 0 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) >= 2 and all(re.match(rf"^{re.escape(str(bad))}:\d+: \S+: .+", ln) for ln in lines), lines
    renamed = tmp_path / "b2.toml"
    renamed.write_text(HALL_B.replace("北村便民服务中心", "北村便民服务中心（新址）"), encoding="utf-8")
    out = kiosk_cli("admin", "add-hall", "--db", hall.db_url, str(renamed))
    assert out.returncode == 0 and f"updated hall {B}" in out.stdout, out.stderr
    deadline = time.time() + 10
    while hall.api("GET", "/api/v1/hall", token="bsup").json()["name"] != "北村便民服务中心（新址）":
        assert time.time() < deadline
        time.sleep(0.2)
    assert hall.api("GET", "/api/v1/hall", token="sup").json()["name"] == "测试镇便民服务中心"


def test_phone_pages_and_reports_find_the_right_hall(two):
    hall, _ = two
    t = hall.api("POST", "/api/v1/tickets", token="bterm", json={"service": "medical"}).json()
    assert t["token"], t
    page = hall.api("GET", f"/api/v1/public/tickets/{t['token']}", token=None)
    assert page.status_code == 200 and page.json()["hall"].startswith("北村便民服务中心"), page.text
    assert page.json()["service_name"] == "北村医疗保障"
    assert hall.api("GET", f"/q/{t['token']}", token=None).status_code == 200
    # reports: another hall by query is refused; 'all' means the halls this credential may see
    assert hall.api("GET", f"/api/v1/reports/period?hall={B}", token="boss").status_code == 404
    assert hall.api("GET", f"/api/v1/reports/daily?hall={B}", token="sup").status_code == 404
    own = hall.api("GET", "/api/v1/reports/period?hall=all", token="boss")
    assert own.status_code == 200 and MARK not in own.text
    county = hall.api("GET", "/api/v1/reports/period?hall=all", token="cview")
    assert county.status_code == 200 and MARK in county.text


def test_terminal_enroll_takes_the_codes_name_and_hall(two, tmp_path):
    """The README's steps: the terminal file says 取号机-1, the code was made for 北村取号机-2 of hall B."""
    from tests.sync_support import cli, terminal_file

    hall, _ = two
    path = terminal_file(tmp_path, "取号机-1")
    out = kiosk_cli("admin", "enrollment-code", "--db", hall.db_url, "--hall", B, "--name", "北村取号机-2", inproc=True)
    assert out.returncode == 0, out.stderr
    r = cli(path, "enroll", "--server", hall.url, "--code", out.stdout.strip())
    assert r.returncode == 0, r.stderr
    text = path.read_text(encoding="utf-8")
    assert re.search(r'^name = "([^"]*)"', text, re.M).group(1) == "北村取号机-2"  # was 取号机-1
    token = re.search(r'token = "([^"]+)"', text).group(1)
    assert [h["code"] for h in hall.api("GET", "/api/v1/halls", token=token).json()] == [B]
    out = kiosk_cli("admin", "enrollment-code", "--db", hall.db_url)  # two halls: which one?
    assert out.returncode != 0 and "--hall" in out.stderr and B in out.stderr and out.stdout == ""
