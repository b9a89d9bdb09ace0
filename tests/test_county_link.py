"""A township's own hall server reports to the county server: link, push exactly once, SIGKILL on both sides.

Real ``python -m server`` processes on SQLite files: a county server hosting
its own hall, and a township hall server linked to it with the county's
one-time code (``kiosk admin county-link-code`` / ``kiosk admin link-county``).
Ratings are written into the township's database while its server runs (as
its evaluators would), both servers are killed with SIGKILL in the middle of
pushes and restarted, and at the end the county holds every rating, every
follow-up state, every 核实 verdict and the frozen daily report exactly once.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from test_server_ratings import RATING_HALL  # noqa: E402
from test_server_support import (BACKENDS, hall_today, PASSWORD, PY, ROOT, TEST_HALL, db_url_for, env, kiosk_cli,  # noqa: E402
                                 kiosk_clis, start_server, start_servers)
from page_weight import sign_in_page  # noqa: E402

from kiosk.storage.db import open_engine  # noqa: E402

TOWNSHIP_HALL = RATING_HALL.replace('name = "测试镇便民服务中心"', 'name = "青石镇便民服务中心"')
# The township's pusher at a quick pace (server/county_link.py): a restarted township takes over its
# killed predecessor's lease after 1 s, not 15; it collects new ratings every 0.5 s when idle, not 5 (each
# round reads every follow-up: more often would cost the loaded test machine more than it saves); and it
# retries a killed county every 0.5 s, not after 1, 2, 4 ... up to 60. The same kills, restarts and
# checks, with less waiting between them (one township process runs at a time: a lease shorter than a
# push lets no second pusher in).
PACE = {"KIOSK_COUNTY_LEASE_S": "1", "KIOSK_COUNTY_IDLE_S": "0.5", "KIOSK_COUNTY_BACKOFF_MAX_S": "0.5"}


def launch(db_url: str, port: int, hall_file: Path, log: Path, **extra_env: str) -> subprocess.Popen:
    """(Re)start a server on a known port (the link keeps the county's address) and wait until it answers."""
    out = open(log, "ab")
    proc = subprocess.Popen([PY, "-m", "server", "--db", db_url, "--host", "127.0.0.1", "--port", str(port),
                             "--hall", str(hall_file), "--no-backup"], stdout=out, stderr=subprocess.STDOUT,
                            env=env(**extra_env), cwd=ROOT)
    deadline = time.time() + 300  # it answers or dies first; the limit only turns a hang into a failure
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/livez", timeout=2).status_code == 200:
                return proc
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def scalar(db_url: str, sql: str, **params):
    engine = open_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def rows(db_url: str, sql: str, **params) -> list:
    engine = open_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def add_ratings(db_url: str, hall_file: Path, n: int, bad_every: int = 7) -> None:
    """``n`` ratings in the township's tables in one transaction (as many evaluators' ratings would be), some bad."""
    from kiosk.hall_file import load_hall
    from kiosk.ratings import RatingStore, add_working_days, make_rating
    from kiosk.ratings.tables import followups, ratings

    hall = load_hall(hall_file)
    engine = open_engine(db_url)
    try:
        store = RatingStore(engine, hall.code, hall.timezone)
        rated, cases = [], []
        for i in range(n):
            bad = i % bad_every == 0
            r = make_rating(hall, key=uuid.uuid4().hex, level=1 if bad else 5 - i % 3, window=1 + i % 3,
                            reasons=["attitude"] if bad else [], terminal="eval-x", created_at=time.time() - 60)
            day = store.local_day(r.created_at)
            rated.append(dict(hall=hall.code, day=day.isoformat(), reasons=json.dumps(list(r.reasons)), walk_in=True,
                              **{f: getattr(r, f) for f in ("id", "key", "level", "phone", "ticket_id",
                                                            "ticket_number", "window", "staff", "service",
                                                            "terminal", "created_at")}))
            if bad:
                cases.append(dict(id=uuid.uuid4().hex, hall=hall.code, rating_id=r.id, state="open",
                                  due_date=add_working_days(day, 15, hall).isoformat(), created_at=time.time()))
        with engine.begin() as conn:
            conn.execute(ratings.insert(), rated)
            conn.execute(followups.insert(), cases)
    finally:
        engine.dispose()


def add_county_viewer(db_url: str) -> None:
    from server import accounts

    engine = open_engine(db_url)
    try:
        accounts.add_user(engine, "cview", "county-viewer", PASSWORD)
    finally:
        engine.dispose()


def wait_for(what, check, timeout: float = 240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(params=BACKENDS)
def pair(request, tmp_path):
    """A county server (SQLite or PostgreSQL) and a township's own hall server (SQLite)."""
    county_dir, hall_dir = tmp_path / "county", tmp_path / "township"
    county_dir.mkdir()
    hall_dir.mkdir()
    c_url, drop = db_url_for(request.param, county_dir)
    request.addfinalizer(drop)
    county, township = start_servers(dict(db_url=c_url, tmp=county_dir, hall_text=TEST_HALL),
                                     dict(db_url=f"sqlite:///{hall_dir / 'server.db'}", tmp=hall_dir,
                                          hall_text=TOWNSHIP_HALL, server_env=PACE))
    add_county_viewer(c_url)
    yield county, township
    for s in (county, township):
        if s.process.poll() is None:
            s.stop()


def test_link_then_push_exactly_once_through_sigkill_on_both_sides(pair, tmp_path):
    county, township = pair
    c_db, t_db = county.db_url, township.db_url
    c_port, t_port = int(county.url.rsplit(":", 1)[1]), int(township.url.rsplit(":", 1)[1])

    # the county makes a code for the township hall (while a made-up code and a hosted hall are refused);
    # the township's server spends it
    made, refused = kiosk_clis(
        ("admin", "county-link-code", "--db", c_db, "--hall", "qingshi", "--name", "青石镇便民服务中心"),
        ("admin", "link-county", "--db", t_db, "--server", county.url, "--code", "AAAA-BBBB-CCCC"))
    hosted = kiosk_cli("admin", "county-link-code", "--db", c_db, "--hall", "testhall", "--name", "x", inproc=True)
    assert made.returncode == 0, made.stderr
    code = made.stdout.strip()
    assert refused.returncode == 1 and "--code" in refused.stderr and "Traceback" not in refused.stderr
    assert hosted.returncode == 1 and "--hall" in hosted.stderr  # a hosted hall is not a linked one
    linked = kiosk_cli("admin", "link-county", "--db", t_db, "--server", county.url, "--code", code)
    assert linked.returncode == 0, linked.stderr
    assert "qingshi" in linked.stdout
    again = kiosk_cli("admin", "link-county", "--db", t_db, "--server", county.url, "--code", code, inproc=True)
    assert again.returncode == 1 and "used" in again.stderr  # one-time

    # the township works: ratings, a 核实 verdict, a rectification, the day's report frozen on demand
    bad = []
    for level in (5, 4, 1, 2):
        body = {"key": uuid.uuid4().hex, "level": level, "window": 2,
                "reasons": ["slow"] if level < 3 else []}
        r = township.api("POST", "/api/v1/ratings", token="sup", json=body)
        assert r.status_code == 201, r.text
        if level < 3:
            bad.append(r.json())
    assert township.api("POST", f"/api/v1/followups/{bad[0]['followup_id']}/verify", token="sup",
                        json={"verdict": "rejected", "reason": "群众按错"}).status_code == 200
    assert township.api("POST", f"/api/v1/followups/{bad[1]['followup_id']}/rectify", token="sup",
                        json={"note": "已约谈"}).status_code == 200
    r = township.api("POST", "/api/v1/reports/daily/freeze", token="sup")
    assert r.status_code in (200, 201), r.text
    hall_file = tmp_path / "township" / "hall.toml"
    add_ratings(t_db, hall_file, 400)

    township.process.send_signal(signal.SIGKILL)  # from here on the harness's processes are ours to restart
    township.process.wait(10)
    t_log, c_log = tmp_path / "township.log", tmp_path / "county.log"
    t_proc = launch(t_db, t_port, hall_file, t_log, **PACE)
    c_proc = county.process
    received = "SELECT count(*) FROM county_received WHERE hall = 'qingshi'"
    sent = "SELECT count(*) FROM county_outbox WHERE state = 'sent'"

    for _ in range(2):
        # the county dies while the township pushes a backlog (batches of 200: killed between or inside one)
        add_ratings(t_db, hall_file, 500)
        start = scalar(c_db, received) or 0
        wait_for("the county applying a push", lambda: (scalar(c_db, received) or 0) > start)
        kill(c_proc)
        c_proc = launch(c_db, c_port, tmp_path / "county" / "hall.toml", c_log)
        # the township dies while it pushes
        add_ratings(t_db, hall_file, 500)
        start = scalar(t_db, sent) or 0
        wait_for("the township pushing", lambda: (scalar(t_db, sent) or 0) > start)
        kill(t_proc)
        t_proc = launch(t_db, t_port, hall_file, t_log, **PACE)

    try:
        wait_for("every event delivered", lambda: scalar(t_db, "SELECT count(*) FROM county_outbox WHERE "
                                                              "state != 'sent'") == 0
                 and scalar(t_db, sent) == scalar(t_db, "SELECT count(*) FROM ratings WHERE level IS NOT NULL")
                 + scalar(t_db, "SELECT count(*) FROM county_outbox WHERE kind != 'rating'"), timeout=300)

        # every rating exactly once, with its fields
        t_ratings = rows(t_db, "SELECT id, level, \"window\", reasons, day FROM ratings WHERE level IS NOT NULL "
                               "ORDER BY id")
        c_ratings = rows(c_db, "SELECT id, level, \"window\", reasons, day FROM ratings WHERE hall = 'qingshi' ORDER BY id")
        assert len(t_ratings) == 4 + 400 + 2 * 1000
        assert c_ratings == t_ratings
        # every follow-up in its latest state, and the verdict
        t_cases = rows(t_db, "SELECT id, rating_id, state, due_date, rectify_note FROM rating_followups ORDER BY id")
        c_cases = rows(c_db, "SELECT id, rating_id, state, due_date, rectify_note FROM rating_followups "
                             "WHERE hall = 'qingshi' ORDER BY id")
        assert c_cases == t_cases and len(t_cases) > 100
        assert rows(c_db, "SELECT rating_id, verdict FROM rating_verifications WHERE hall = 'qingshi'") == \
            [(bad[0]["id"], "rejected")]
        # each pushed key applied once: the county's receipts are exactly the township's sent keys
        t_keys = {k for (k,) in rows(t_db, "SELECT key FROM county_outbox")}
        c_keys = {k for (k,) in rows(c_db, "SELECT key FROM county_received WHERE hall = 'qingshi'")}
        assert c_keys == t_keys
        # the frozen daily report, once
        today = hall_today().isoformat()
        reports = rows(c_db, "SELECT day, revision, payload FROM county_reports WHERE hall = 'qingshi'")
        assert [(d, n) for d, n, _ in reports] == [(today, 0)]
        assert json.loads(reports[0][2])["report"]

        # the county's pages see the linked hall with its last report; its own hall sees none of it
        def token(user):
            return requests.post(f"http://127.0.0.1:{c_port}/api/v1/auth/login",
                                 json={"username": user, "password": PASSWORD}, timeout=30).json()["token"]

        auth = {"Authorization": f"Bearer {token('cview')}"}
        listed = requests.get(f"http://127.0.0.1:{c_port}/api/v1/county/linked-halls", headers=auth, timeout=30)
        assert listed.status_code == 200, listed.text
        (row,) = listed.json()
        assert row["code"] == "qingshi" and row["name"] == "青石镇便民服务中心" and row["remote_code"] == "testhall"
        assert row["ratings"] == len(t_ratings) and row["last_report_day"] == today and row["last_report_at"]
        assert row["rated_today"] == len(t_ratings) - 1  # the rejected one leaves 满意率 at the county too
        daily = requests.get(f"http://127.0.0.1:{c_port}/api/v1/reports/daily/halls", headers=auth, timeout=30)
        assert daily.status_code == 200, daily.text
        item = [x for x in daily.json() if x["hall"] == "qingshi"][0]
        assert item["linked"] is True and item["reported"] is True and item["correction"] == 0
        boss = {"Authorization": f"Bearer {token('boss')}"}  # the county's own hall's admin
        own = requests.get(f"http://127.0.0.1:{c_port}/api/v1/ratings?limit=5000", headers=boss, timeout=30).json()
        assert not {r["id"] for r in own} & {i for i, *_ in t_ratings}
        assert requests.get(f"http://127.0.0.1:{c_port}/api/v1/county/linked-halls", headers=boss,
                            timeout=30).status_code == 403
        assert "qingshi" not in {x["hall"] for x in requests.get(
            f"http://127.0.0.1:{c_port}/api/v1/reports/daily/halls", headers=boss, timeout=30).json()}
    finally:
        for p in (t_proc, c_proc):
            if p.poll() is None:
                p.terminate()
                p.wait(10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_push_token_writes_only_its_own_hall_and_bad_events_are_refused_by_field(backend, tmp_path):
    db_url, drop = db_url_for(backend, tmp_path)
    county = start_server(db_url, tmp_path, TEST_HALL)
    add_county_viewer(db_url)
    try:
        tokens = {}
        for hall in ("east", "west"):
            made = kiosk_cli("admin", "county-link-code", "--db", county.db_url, "--hall", hall, "--name", hall + "镇",
                             inproc=True)
            r = county.api("POST", "/api/v1/county/link", token=None, json={"code": made.stdout.strip()})
            assert r.status_code == 201, r.text
            tokens[hall] = r.json()["token"]
        assert county.api("POST", "/api/v1/county/batch", token=None, json={"events": []}).status_code == 401
        assert county.api("POST", "/api/v1/county/batch", token="admin", json={"events": []}).status_code == 401
        rid = uuid.uuid4().hex
        rating = {"id": rid, "key": "k1", "day": hall_today().isoformat(), "level": 4, "reasons": [], "window": 3,
                  "created_at": time.time(), "hall": "west"}  # a payload naming another hall changes nothing
        r = county.api("POST", "/api/v1/county/batch", token=tokens["east"],
                       json={"events": [{"key": "rating:" + rid, "kind": "rating", "payload": rating},
                                        {"key": "rating:" + rid, "kind": "rating", "payload": rating},
                                        {"key": "report:x", "kind": "report", "payload": {"day": "yesterday"}}]})
        assert r.status_code == 200, r.text
        assert [x["outcome"] for x in r.json()["results"]] == ["applied", "duplicate", "rejected"]
        assert r.json()["results"][2]["field"] == "events[2].payload"
        assert rows(county.db_url, "SELECT hall FROM ratings WHERE id = :i", i=rid) == [("east",)]
        r = county.api("POST", "/api/v1/county/batch", token=tokens["west"],
                       json={"events": [{"key": "rating:" + rid, "kind": "rating", "payload": rating}]})
        assert r.json()["results"][0]["outcome"] == "applied"  # west's own key; the row stays east's
        assert rows(county.db_url, "SELECT hall FROM ratings WHERE id = :i", i=rid) == [("east",)]
        r = county.api("POST", "/api/v1/county/batch", token=tokens["east"],
                       json={"events": [{"key": "x", "kind": "ticket", "payload": {}}]})
        assert r.status_code == 422 and "kind" in r.json()["field"]
        for who in ("sup", "boss", "terminal"):  # a hall's own staff or terminal: not the county's links
            assert county.api("GET", "/api/v1/county/linked-halls", token=who).status_code == 403
        county.tokens["admin"] = county.login("cview")
        # a report, then its correction: both kept, the last report day moves on
        for n in (0, 1):
            r = county.api("POST", "/api/v1/county/batch", token=tokens["west"], json={"events": [
                {"key": f"report:2026-11-02:{n}", "kind": "report",
                 "payload": {"day": "2026-11-02", "revision": n, "report": {"n": n}}}]})
            assert r.json()["results"][0]["outcome"] == "applied"
        r = county.api("GET", "/api/v1/county/linked-halls/west/reports/2026-11-02")
        assert [x["report"] for x in r.json()["reports"]] == [{"n": 0}, {"n": 1}]
        west = [h for h in county.api("GET", "/api/v1/county/linked-halls").json() if h["code"] == "west"][0]
        assert west["last_report_day"] == "2026-11-02" and west["last_push_at"]
    finally:
        county.stop()
        drop()


@pytest.mark.browser
def test_the_county_page_shows_a_linked_hall_beside_its_own(browser, tmp_path):
    from test_server_browser import OUT

    county = start_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path, TEST_HALL)
    add_county_viewer(county.db_url)
    try:
        made = kiosk_cli("admin", "county-link-code", "--db", county.db_url, "--hall", "qingshi", "--name",
                         "青石镇便民服务中心", inproc=True)
        token = county.api("POST", "/api/v1/county/link", token=None, json={"code": made.stdout.strip()}).json()["token"]
        day = hall_today().isoformat()
        rating = {"id": uuid.uuid4().hex, "key": "k", "day": day, "level": 5, "reasons": [], "window": 1,
                  "created_at": time.time()}
        report = {"day": day, "revision": 0, "made_at": time.time(), "report": {"total": {"served": 12,
                                                                                          "satisfaction_rate": 1.0}}}
        r = county.api("POST", "/api/v1/county/batch", token=token, json={"events": [
            {"key": "rating:1", "kind": "rating", "payload": rating},
            {"key": f"report:{day}:0", "kind": "report", "payload": report}]})
        assert [x["outcome"] for x in r.json()["results"]] == ["applied", "applied"]
        OUT.mkdir(parents=True, exist_ok=True)
        page = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN").new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        sign_in_page(page, county.url, "cview", PASSWORD, "**/county**")
        row = page.locator("#county tr[data-hall='qingshi']")
        row.wait_for()
        text = row.inner_text()
        assert "青石镇便民服务中心" in text and "自建服务器上报" in text and day in text and "100.0%" in text
        assert page.locator("#county tr[data-hall='testhall']").count() == 1  # beside the hall it hosts
        assert row.locator("td").count() == 9 and row.locator("td >> text=—").count() == 6
        page.screenshot(path=str(OUT / "county-linked.png"), full_page=True)
        assert not problems, problems
    finally:
        county.stop()


def test_one_server_process_pushes_at_a_time(tmp_path):
    """``kiosk serve --workers N``: each process has a pusher; the lease lets one push, and a dead one's lapses."""
    from server import county_link

    engine = open_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    county_link.prepare(engine)
    with engine.begin() as conn:
        conn.execute(county_link.county_link.insert().values(name="county", url="http://127.0.0.1:9", token="t",
                                                             hall="h", hall_name="h", linked_at=0.0))
    now = [1000.0]
    a = county_link.CountyPusher(engine, lambda: None, clock=lambda: now[0])
    b = county_link.CountyPusher(engine, lambda: None, clock=lambda: now[0])
    assert a.lease() and not b.lease() and a.lease()  # a holds and renews it
    now[0] += county_link.LEASE_S + 1  # a stopped renewing (killed)
    assert b.lease() and not a.lease()
    engine.dispose()
