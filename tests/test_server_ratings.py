"""Ratings (好差评), statistics, follow-ups and the duty screen against a real server, SQLite and PostgreSQL.

The browser part (marked ``browser``) signs in as a supervisor and opens the
statistics and follow-up pages; screenshots land in tmp/out/ratings-*.png.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import (BACKENDS, PASSWORD, ROOT, TEST_HALL, db_url_for, enroll_terminal, hall_today,  # noqa: E402
                                 start_server)
from page_weight import sign_in_page  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
REASONS = """
[[rating_reasons]]
code = "attitude"
name = "服务态度差"

[[rating_reasons]]
code = "slow"
name = "办事效率低"

[[rating_reasons]]
code = "not-told-once"
name = "未一次性告知/多次跑"

[[rating_reasons]]
code = "other"
name = "其他"
"""
RATING_HALL = TEST_HALL + REASONS
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture(scope="module", params=BACKENDS)
def hall(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"ratings-{request.param}")
    db_url, drop = db_url_for(request.param, tmp)
    h = start_server(db_url, tmp, RATING_HALL)
    request.addfinalizer(drop)
    request.addfinalizer(h.stop)
    for window in (1, 2, 3, 4):  # each window's evaluator: its token rates that window only
        enroll_terminal(h, f"eval{window}", "evaluator", window)
    return h


def ts(y, m, d, hh=10, mm=0) -> float:
    return datetime(y, m, d, hh, mm, tzinfo=TZ).timestamp()


def key() -> str:
    return uuid.uuid4().hex


def ticket_window(hall, ticket_id) -> int | None:
    engine = hall.db()
    try:
        with engine.connect() as conn:
            from kiosk.storage.schema import tickets

            return conn.execute(sa.select(tickets.c.window).where(tickets.c.id == ticket_id)).scalar()
    finally:
        engine.dispose()


def rate(hall, token="evaluator", **body):
    """Rate as the evaluator of the rated window (the body's, else the ticket's), unless ``token`` says who."""
    body.setdefault("key", key())
    if token == "evaluator":
        window = body.get("window") if isinstance(body.get("window"), int) else None
        if window is None and isinstance(body.get("ticket"), str):
            window = ticket_window(hall, body["ticket"])
        token = f"eval{window if window in (1, 2, 3, 4) else 1}"
    return hall.api("POST", "/api/v1/ratings", token=token, json=body)


CLERK = {1: "clerk", 2: "clerk2", 3: "sup", 4: "sup"}  # who works each window (window staff: their own only)


def finished_ticket(hall, window=1, service="labor", who=None):
    """Issue a ticket, have the window's clerk call and finish it at ``window``; returns the ticket."""
    who = who or CLERK[window]
    hall.api("POST", f"/api/v1/windows/{window}/finish", token=who)  # whatever was open there
    t = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": service}).json()
    for _ in range(50):  # call until this ticket comes up (earlier tests may have left waiting ones)
        r = hall.api("POST", f"/api/v1/windows/{window}/call-next", token=who)
        assert r.status_code == 200, r.text
        if r.json()["ticket"]["id"] == t["id"]:
            break
    assert hall.api("POST", f"/api/v1/windows/{window}/finish", token=who).status_code == 200
    return t


def rating_rows(hall) -> int:
    engine = hall.db()
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM ratings")).scalar()
    finally:
        engine.dispose()


def edit_hall_settings(hall, **changes) -> dict:
    """Change the hall's settings JSON in the database (as the admin pages would), bumping its version."""
    from server.schema import hall_settings

    engine = hall.db()
    try:
        with engine.begin() as conn:
            row = conn.execute(sa.select(hall_settings.c.code, hall_settings.c.settings)).one()
            settings = json.loads(row.settings)
            before = {k: settings[k] for k in changes}
            settings.update(changes)
            conn.execute(hall_settings.update().where(hall_settings.c.code == row.code)
                         .values(settings=json.dumps(settings), version=hall_settings.c.version + 1))
    finally:
        engine.dispose()
    return before


# -------------------------------------------------------------------- reasons

def test_rating_reasons_for_terminals_and_staff(hall):
    r = hall.api("GET", "/api/v1/rating-reasons", token="terminal")
    assert r.status_code == 200
    assert r.json()[:2] == [{"code": "attitude", "name": "服务态度差"}, {"code": "slow", "name": "办事效率低"}]
    assert hall.api("GET", "/api/v1/rating-reasons", token="clerk").status_code == 200
    assert hall.api("GET", "/api/v1/rating-reasons", token=None).status_code == 401


# ------------------------------------------------------------- recording one

def test_rating_a_finished_ticket(hall):
    t = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "labor"}).json()
    r = rate(hall, ticket=t["id"], level=5)
    assert r.status_code == 409 and r.json()["field"] == "ticket"  # still waiting
    t = finished_ticket(hall, window=1)
    k = key()
    r = rate(hall, key=k, ticket=t["id"], level=4)
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["window"], got["staff"], got["staff_name"], got["service"], got["ticket_number"]) == \
        (1, "clerk", "王芳", "labor", t["number"])
    assert got["level"] == 4 and got["level_name"] == "满意" and got["walk_in"] is False
    before = rating_rows(hall)
    again = rate(hall, key=k, ticket=t["id"], level=1, reasons=["slow"])  # the same key, another body
    assert again.status_code == 200 and again.json() == got
    other_key = rate(hall, ticket=t["id"], level=1, reasons=["slow"])  # the same ticket, another key
    assert other_key.status_code == 200 and other_key.json()["id"] == got["id"] and other_key.json()["level"] == 4
    assert rating_rows(hall) == before


def test_ticket_rules(hall):
    r = rate(hall, ticket="0" * 32, level=5)
    assert r.status_code == 404 and r.json()["field"] == "ticket"
    t = finished_ticket(hall, window=3)
    r = rate(hall, ticket=t["id"], window=1, level=5)
    assert r.status_code == 422 and r.json()["field"] == "window"
    r = rate(hall, ticket=t["id"], window=3, level=None)  # matching window; unrated
    assert r.status_code == 201 and r.json()["level"] is None and r.json()["level_name"] == "未评价"


def test_walk_in_ratings(hall):
    r = rate(hall, window=2, level=5)
    assert r.status_code == 201, r.text
    assert r.json()["walk_in"] is True and r.json()["ticket_id"] is None and r.json()["service"] is None
    r = rate(hall, level=5)
    assert r.status_code == 422 and r.json()["field"] == "window"
    before = edit_hall_settings(hall, walk_in_ratings=False)
    try:
        r = rate(hall, window=2, level=5)
        assert r.status_code == 422 and r.json()["field"] == "ticket"
        t = finished_ticket(hall, window=2, service="medical")
        assert rate(hall, ticket=t["id"], level=5).status_code == 201  # tickets still rate
    finally:
        edit_hall_settings(hall, **before)
    assert rate(hall, window=2, level=3).status_code == 201


@pytest.mark.parametrize("body, status, field", [
    ({"window": 1, "level": 0}, 422, "level"),
    ({"window": 1, "level": 6}, 422, "level"),
    ({"window": 1, "level": "5"}, 422, "level"),
    ({"window": 1, "level": True}, 422, "level"),
    ({"window": 1, "level": 4.5}, 422, "level"),
    ({"window": 1}, 422, "level"),
    ({"window": 1, "level": 2}, 422, "reasons"),
    ({"window": 1, "level": 1, "reasons": []}, 422, "reasons"),
    ({"window": 1, "level": 1, "reasons": ["rude-ness"]}, 422, "reasons[0]"),
    ({"window": 1, "level": 1, "reasons": ["<script>"]}, 422, "reasons.0"),
    ({"window": 1, "level": 5, "reasons": ["slow"]}, 422, "reasons"),
    ({"window": 1, "level": 1, "reasons": ["slow"], "phone": "12345678901"}, 422, "phone"),
    ({"window": 1, "level": 1, "reasons": ["slow"], "phone": "138 0013 8000"}, 422, "phone"),
    ({"window": 9, "level": 5}, 422, "window"),
    ({"window": 0, "level": 5}, 422, "window"),
    ({"window": "一", "level": 5}, 422, "window"),
    ({"ticket": "A001", "level": 5}, 422, "ticket"),
    ({"window": 1, "level": 5, "key": ""}, 422, "key"),
    ({"window": 1, "level": 5, "key": "x" * 65}, 422, "key"),
    ({"window": 1, "level": 5, "extra": 1}, 422, "extra"),
    ({"window": 1, "level": 5, "created_at": "yesterday"}, 422, "created_at"),
])
def test_validation_errors_name_the_field(hall, body, status, field):
    before = rating_rows(hall)
    r = rate(hall, **body)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field, r.text
    assert rating_rows(hall) == before


@pytest.mark.parametrize("raw", [b"{junk", b"", b"[1, 2]", b'"level"', b"null", "{\"level\": 5\x00}".encode()])
def test_junk_bodies_are_4xx(hall, raw):
    before = rating_rows(hall)
    r = hall.api("POST", "/api/v1/ratings", token="eval1", data=raw, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["field"] == "body"
    assert rating_rows(hall) == before


def test_offline_times_are_kept_and_a_clock_ahead_is_not_trusted(hall):
    from kiosk.ratings.model import api_body, make_rating
    from kiosk.hall_file import load_hall

    local = load_hall(Path(hall.log).parent / "hall.toml")  # the terminal's copy of the hall
    made = make_rating(local, key=key(), level=2, window=2, reasons=["slow"], phone="13712345678",
                       created_at=ts(2026, 1, 7, 11))
    r = rate(hall, **api_body(made))
    assert r.status_code == 201, r.text
    assert r.json()["created_at"] == made.created_at and r.json()["day"] == "2026-01-07"
    ahead = rate(hall, window=2, level=5, created_at=time.time() + 86400)
    assert ahead.status_code == 201 and abs(ahead.json()["created_at"] - time.time()) < 60
    t = finished_ticket(hall, window=3)
    made = make_rating(local, key=key(), level=5, window=3, ticket_id=t["id"], ticket_number=t["number"])
    assert "window" not in api_body(made)
    r = rate(hall, **api_body(made))
    assert r.status_code == 201 and r.json()["ticket_number"] == t["number"] and r.json()["window"] == 3


def test_concurrent_repeats_store_one_rating(hall):
    k, results = key(), []
    before = rating_rows(hall)

    def post():
        results.append(rate(hall, key=k, window=2, level=1, reasons=["attitude"]))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in results) == [200] * 7 + [201]
    assert len({r.json()["id"] for r in results}) == 1
    assert rating_rows(hall) == before + 1
    fid = results[0].json()["followup_id"]
    assert fid and all(r.json()["followup_id"] == fid for r in results)


# ---------------------------------------------------------------------- roles

def test_roles(hall):
    r = rate(hall, token="clerk", window=1, level=5)  # window staff may not rate their own window
    assert r.status_code == 403 and r.json()["field"] == "Authorization"
    assert rate(hall, token="sup", window=1, level=5).status_code == 201  # a paper card typed in
    assert rate(hall, token=None, window=1, level=5).status_code == 401
    for path in ("/api/v1/stats/ratings", "/api/v1/stats/ratings.csv", "/api/v1/ratings", "/api/v1/followups",
                 "/api/v1/rating-settings"):
        for who in ("clerk", "terminal"):
            assert hall.api("GET", path, token=who).status_code == 403, (path, who)
        assert hall.api("GET", path, token="sup").status_code == 200, path
        assert hall.api("GET", path, token=None).status_code == 401, path
    for path in ("/api/v1/followups/" + "0" * 32 + "/rectify", "/api/v1/followups/" + "0" * 32 + "/callback"):
        assert hall.api("POST", path, token="clerk", json={"note": "x"}).status_code == 403
    assert hall.api("PUT", "/api/v1/rating-settings", token="clerk", json={"followup_days": 1}).status_code == 403


def test_window_staff_never_see_who_gave_which_rating(hall):
    """The event stream (read by the call console and the hall TV) says only that a window was rated."""
    frames: list[str] = []
    ready = threading.Event()

    def listen(token):
        with hall.api("GET", "/api/v1/events", token=token, stream=True) as r:
            assert r.status_code == 200
            ready.set()
            event = None
            for line in r.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "rating_recorded":
                    frames.append(line[6:])
                    return

    listener = threading.Thread(target=listen, args=(hall.tokens["clerk"],), daemon=True)
    listener.start()
    assert ready.wait(10)
    time.sleep(0.3)
    k = key()
    r = rate(hall, key=k, window=1, level=1, reasons=["attitude"], phone="13800138000")
    assert r.status_code == 201
    listener.join(10)
    assert frames, "no rating_recorded event"
    data = json.loads(frames[0])
    assert data["kind"] == "rating_recorded" and data["window"] == 1
    for secret in ("level", "reasons", "phone", "ticket", "key", "staff", "id"):
        assert secret not in data, data
    assert "13800138000" not in frames[0] and "attitude" not in frames[0] and k not in frames[0]


# ----------------------------------------------------------------- statistics

def test_statistics_arithmetic(hall):
    """Window 4 is used by this test only; ratings dated in the past make the day exact."""
    levels = [5, 5, 4, 3, 2, 1, None, None]
    for i, lv in enumerate(levels):
        body = dict(window=4, level=lv, created_at=ts(2026, 1, 5, 9 + i))
        if lv in (1, 2):
            body["reasons"] = ["slow", "attitude"] if lv == 1 else ["slow"]
        assert rate(hall, **body).status_code == 201
    assert rate(hall, window=4, level=5, created_at=ts(2026, 1, 6, 0, 5)).status_code == 201  # the next local day
    r = hall.api("GET", "/api/v1/stats/ratings?from=2026-01-05&to=2026-01-05&window=4", token="sup")
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["from"] == "2026-01-05" and s["to"] == "2026-01-05"
    assert s["levels"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 2}
    assert (s["total"], s["unrated"], s["satisfied"], s["bad"]) == (6, 2, 4, 2)
    assert s["satisfaction_rate"] == pytest.approx(round(4 / 6, 4))
    assert [row["key"] for row in s["by_window"]] == ["4"]
    assert s["by_day"][0]["total"] == 6
    assert {x["code"]: x["count"] for x in s["reasons"]} == {"slow": 2, "attitude": 1}
    walk_ins = next(row for row in s["by_service"] if row["key"] == "")
    assert walk_ins["total"] == 6
    two_days = hall.api("GET", "/api/v1/stats/ratings?from=2026-01-05&to=2026-01-06&window=4", token="sup").json()
    assert two_days["total"] == 7 and [d["total"] for d in two_days["by_day"]] == [6, 1]
    assert two_days["satisfaction_rate"] == pytest.approx(round(5 / 7, 4))
    none = hall.api("GET", "/api/v1/stats/ratings?from=2025-01-05&to=2025-01-05", token="sup").json()
    assert none["total"] == 0 and none["satisfaction_rate"] is None


def test_statistics_by_staff_and_service(hall):
    hall.api("PATCH", "/api/v1/users/clerk", token="sup", json={"window": 3})  # 王芳 moves to window 3 today
    try:
        t = finished_ticket(hall, window=3, service="medical", who="clerk")
    finally:
        hall.api("PATCH", "/api/v1/users/clerk", token="sup", json={"window": 1})
    assert rate(hall, ticket=t["id"], level=2, reasons=["slow"]).status_code == 201
    today = hall_today().isoformat()
    s = hall.api("GET", f"/api/v1/stats/ratings?from={today}&to={today}&staff=clerk&service=medical",
                 token="sup").json()
    assert s["bad"] >= 1 and s["staff"] == "clerk" and s["service"] == "medical"
    assert all(row["key"] in ("clerk",) for row in s["by_staff"])
    assert [row["key"] for row in s["by_service"]] == ["medical"]
    assert "王芳" in [row["name"] for row in s["by_staff"]]


@pytest.mark.parametrize("query, field", [("from=2026-02-30", "from"), ("to=yesterday", "to"),
                                          ("from=2026-03-02&to=2026-03-01", "from"), ("window=99", "window"),
                                          ("window=x", "window"), ("service=nope", "service"),
                                          ("staff=%00", "staff"), ("from=2000-01-01&to=2026-01-01", "from")])
def test_statistics_bad_queries(hall, query, field):
    r = hall.api("GET", "/api/v1/stats/ratings?" + query, token="sup")
    assert 400 <= r.status_code < 500 and r.json()["field"] == field, r.text


def test_csv_export(hall):
    r = hall.api("GET", "/api/v1/stats/ratings.csv?from=2026-01-05&to=2026-01-06&window=4", token="sup")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert "满意率" in text and "差评明细" in text and "66.7%" in text and "办事效率低" in text
    assert "138" not in text  # phone numbers stay out of exported files


# ----------------------------------------------------------------- follow-ups

def test_bad_rating_opens_a_follow_up_and_its_lifecycle(hall):
    r = rate(hall, window=1, level=1, reasons=["not-told-once"], phone="13912345678")
    assert r.status_code == 201
    rating = r.json()
    fid = rating["followup_id"]
    assert fid
    assert rate(hall, window=1, level=3).json()["followup_id"] is None
    cases = {f["id"]: f for f in hall.api("GET", "/api/v1/followups?state=open", token="sup").json()}
    case = cases[fid]
    assert case["rating"]["id"] == rating["id"] and case["rating"]["phone"] == "13912345678"
    assert case["rating"]["reason_names"] == ["未一次性告知/多次跑"]
    assert case["state"] == "open" and case["overdue"] is False
    from kiosk.ratings.workdays import add_working_days
    from kiosk.domain import Hall

    day = date.fromisoformat(rating["day"])
    assert case["due_date"] == add_working_days(day, 15, Hall(name="x")).isoformat()  # the test hall works every day

    cb = f"/api/v1/followups/{fid}/callback"
    rect = f"/api/v1/followups/{fid}/rectify"
    r = hall.api("POST", cb, token="sup", json={"note": "电话回访"})
    assert r.status_code == 409 and r.json()["field"] == "state"
    assert hall.api("POST", rect, token="sup", json={"note": ""}).status_code == 422
    assert hall.api("POST", rect, token="sup", json={}).json()["field"] == "note"
    r = hall.api("POST", rect, token="sup", json={"note": "已约谈窗口人员，窗口张贴材料清单"})
    assert r.status_code == 200 and r.json()["state"] == "rectified" and r.json()["rectified_by"] == "sup"
    assert hall.api("POST", rect, token="sup", json={"note": "again"}).status_code == 409
    r = hall.api("POST", cb, token="boss", json={"note": "群众表示满意", "satisfied": True})
    assert r.status_code == 200
    done = r.json()
    assert done["state"] == "called_back" and done["called_back_by"] == "boss" and done["callback_satisfied"] is True
    assert done["rectify_note"] == "已约谈窗口人员，窗口张贴材料清单" and done["rectified_at"] <= done["called_back_at"]
    assert hall.api("POST", cb, token="sup", json={"note": "again"}).status_code == 409
    assert fid in {f["id"] for f in hall.api("GET", "/api/v1/followups?state=called_back", token="sup").json()}
    assert fid not in {f["id"] for f in hall.api("GET", "/api/v1/followups?state=open", token="sup").json()}
    assert hall.api("POST", "/api/v1/followups/" + "f" * 32 + "/rectify", token="sup",
                    json={"note": "x"}).status_code == 404
    assert hall.api("GET", "/api/v1/followups?state=lost", token="sup").status_code == 422


def test_due_dates_follow_the_hall_calendar_and_setting(hall):
    before = edit_hall_settings(hall, closed_weekdays=[6, 7], closed_dates=["2026-01-01"], open_dates=["2026-01-04"])
    try:
        # Wednesday 2025-12-31; New Year's Day closed, Saturday closed, Sunday 2026-01-04 a 调休 working day
        r = rate(hall, window=2, level=2, reasons=["slow"], created_at=ts(2025, 12, 31, 15))
        fid = r.json()["followup_id"]
        case = next(f for f in hall.api("GET", "/api/v1/followups", token="sup").json() if f["id"] == fid)
        assert case["due_date"] == "2026-01-21"
        assert case["overdue"] is True and case["days_left"] < 0  # long past
        overdue = {f["id"] for f in hall.api("GET", "/api/v1/followups?overdue=true", token="sup").json()}
        assert fid in overdue
        assert fid not in {f["id"] for f in hall.api("GET", "/api/v1/followups?overdue=false", token="sup").json()}

        assert hall.api("GET", "/api/v1/rating-settings", token="sup").json()["followup_days"] == 15
        r = hall.api("PUT", "/api/v1/rating-settings", token="sup", json={"followup_days": 3})
        assert r.status_code == 200 and r.json()["followup_days"] == 3
        for bad in (0, 91, "3", None):
            r = hall.api("PUT", "/api/v1/rating-settings", token="sup", json={"followup_days": bad})
            assert r.status_code == 422 and r.json()["field"] == "followup_days"
        # Friday 2026-01-09 + 3 working days -> Wednesday 2026-01-14
        r = rate(hall, window=2, level=1, reasons=["other"], created_at=ts(2026, 1, 9, 16))
        case = next(f for f in hall.api("GET", "/api/v1/followups", token="sup").json()
                    if f["id"] == r.json()["followup_id"])
        assert case["due_date"] == "2026-01-14"
    finally:
        hall.api("PUT", "/api/v1/rating-settings", token="sup", json={"followup_days": 15})
        edit_hall_settings(hall, **before)


# ------------------------------------------------------------------ duty screen

def test_staff_on_duty(hall):
    finished_ticket(hall, window=1)  # clerk (王芳) called there today
    r = hall.api("PATCH", "/api/v1/users/clerk", token="sup", json={"staff_no": "XZ-0107"})
    assert r.status_code == 200
    d = hall.api("GET", "/api/v1/windows/1/duty", token="terminal").json()
    assert d["window"] == 1 and d["name"] == "劳动保障" and d["services"] == [{"code": "labor", "name": "劳动保障"}]
    assert d["staff"] == {"name": "王芳", "staff_no": "XZ-0107", "photo_url": None}

    assert hall.api("PUT", "/api/v1/users/clerk/photo", token="clerk", data=PNG).status_code == 403
    r = hall.api("PUT", "/api/v1/users/clerk/photo", token="sup", data=b"GIF89a not allowed")
    assert r.status_code == 415 and r.json()["field"] == "body"
    r = hall.api("PUT", "/api/v1/users/clerk/photo", token="sup", data=b"\xff\xd8\xff" + b"0" * 1_000_001)
    assert r.status_code == 413
    assert hall.api("PUT", "/api/v1/users/nobody/photo", token="sup", data=PNG).status_code == 404
    assert hall.api("PUT", "/api/v1/users/clerk/photo", token="sup", data=PNG,
                    headers={"Content-Type": "image/png"}).status_code == 204
    d = hall.api("GET", "/api/v1/windows/1/duty", token="terminal").json()
    assert d["staff"]["photo_url"].startswith("/api/v1/users/clerk/photo")
    img = hall.api("GET", d["staff"]["photo_url"], token="terminal")
    assert img.status_code == 200 and img.content == PNG and img.headers["content-type"] == "image/png"
    assert hall.api("DELETE", "/api/v1/users/clerk/photo", token="sup").status_code == 204
    assert hall.api("GET", "/api/v1/users/clerk/photo", token="terminal").status_code == 404

    assert hall.api("GET", "/api/v1/windows/4/duty", token="terminal").json()["staff"] is None  # nobody there
    r = hall.api("GET", "/api/v1/windows/42/duty", token="terminal")
    assert r.status_code == 404 and r.json()["field"] == "number"
    assert hall.api("GET", "/api/v1/windows/1/duty", token=None).status_code == 401


def test_openapi_lists_the_routes(hall):
    paths = hall.api("GET", "/openapi.json", token=None).json()["paths"]
    for route in ("/api/v1/ratings", "/api/v1/rating-reasons", "/api/v1/stats/ratings", "/api/v1/stats/ratings.csv",
                  "/api/v1/followups", "/api/v1/followups/{followup_id}/rectify",
                  "/api/v1/followups/{followup_id}/callback", "/api/v1/windows/{number}/duty"):
        assert route in paths, route


# -------------------------------------------------------------------- browser

OUT = ROOT / "tmp" / "out"


@pytest.mark.browser
def test_supervisor_pages(browser, tmp_path):
    h = start_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path, RATING_HALL)
    for window in (1, 2):
        enroll_terminal(h, f"eval{window}", "evaluator", window)
    try:
        _seed(h)
        OUT.mkdir(parents=True, exist_ok=True)
        problems: list[str] = []
        ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN", bypass_csp=True)
        page = ctx.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        sign_in_page(page, h.url, "sup", PASSWORD, "**/admin**")
        page.click("nav.tabs a:has-text('评价统计')")
        page.wait_for_url("**/ratings**")
        page.wait_for_selector("#by-window table")
        assert page.inner_text("#rate") == "71.4%"  # seeded today: 7 rated, 5 of them satisfied
        assert "服务态度差" in page.inner_text("#bad") and "服务态度差" in page.inner_text("#reasons")
        assert page.locator("#reasons .rrow").count() == 3
        assert "1号 劳动保障" in page.inner_text("#by-window") and "王芳" in page.inner_text("#by-staff")
        assert page.get_attribute("#csv", "href").startswith("/api/v1/stats/ratings.csv?")
        page.screenshot(path=str(OUT / "ratings-stats.png"), full_page=True)
        page.select_option("#window", "2")
        page.wait_for_function("document.getElementById('rate').textContent === '50.0%'")

        page.click("nav.tabs a:has-text('整改回访')")
        page.wait_for_url("**/followups")
        page.wait_for_selector(".case")
        assert page.locator(".case.overdue").count() == 1
        assert "已逾期" in page.inner_text(".case.overdue .due")
        page.screenshot(path=str(OUT / "ratings-followups.png"), full_page=True)
        first = page.locator(".case.overdue")
        # an unverified case shows the 核实 form too: name the step's own box
        first.locator("textarea[aria-label='整改措施']").fill("已约谈窗口人员，一次性告知清单张贴到窗口")
        first.locator("button:has-text('记录整改')").click()
        page.wait_for_selector(".case.overdue .st-rectified")
        page.locator(".case.overdue textarea[aria-label='回访结果']").fill("电话回访，群众表示满意")
        page.locator(".case.overdue select").select_option("yes")
        page.locator(".case.overdue button:has-text('记录回访')").click()
        page.wait_for_function("document.querySelectorAll('.case.overdue').length === 0")
        page.click("#states button[data-state='called_back']")
        page.wait_for_selector(".case.closed")
        assert "群众表示满意" in page.inner_text(".case.closed")
        page.screenshot(path=str(OUT / "ratings-followups-done.png"), full_page=True)

        # the staff tab uploads the photo the evaluator's idle screen shows
        photo = tmp_path / "wang.png"
        photo.write_bytes(PNG)
        page.goto(h.url + "/admin#staff")
        page.wait_for_selector("#staff-table table")
        with page.expect_file_chooser() as chooser:
            page.locator("#staff-table tr:has-text('王芳') button:has-text('上传照片')").click()
        chooser.value.set_files(str(photo))
        page.wait_for_selector("#toast.show:has-text('照片已更新')")
        duty = h.api("GET", "/api/v1/windows/1/duty", token="terminal").json()
        assert duty["staff"]["name"] == "王芳" and duty["staff"]["photo_url"]

        clerk = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
        sign_in_page(clerk, h.url, "clerk", PASSWORD, "**/console")
        for path in ("/ratings", "/followups"):
            clerk.goto(h.url + path)
            clerk.wait_for_url("**/login?denied=1")
        assert not problems, problems
    finally:
        h.stop()


def _seed(h):
    """Today: window 1 gets 5,5,4,3,1 (+ unrated), window 2 gets 4,2; one old overdue case at window 2."""
    for level in (5, 5, 4, 3):
        finished = finished_ticket(h, window=1)
        assert rate(h, ticket=finished["id"], level=level).status_code == 201
    t = finished_ticket(h, window=1)
    assert rate(h, ticket=t["id"], level=1, reasons=["attitude", "slow"], phone="13800138000").status_code == 201
    assert rate(h, window=1, level=None).status_code == 201
    assert rate(h, window=2, level=4).status_code == 201
    assert rate(h, window=2, level=2, reasons=["not-told-once"]).status_code == 201
    now = time.time()
    assert rate(h, window=2, level=1, reasons=["attitude", "other"], phone="13912345678",
                created_at=now - 40 * 86400).status_code == 201


def test_the_rating_and_photo_tables_are_made_at_start_before_any_request(tmp_path):
    """Migrations run when the server starts, never on a request's path (no lazy store on first use)."""
    h = start_server(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path, RATING_HALL, users=False)
    try:
        engine = h.db()
        with engine.connect() as conn:
            components = set(conn.execute(sa.text("SELECT component FROM schema_versions")).scalars())
        tables = set(sa.inspect(engine).get_table_names())
        engine.dispose()
        assert {"ratings", "staff_profile"} <= components
        assert {"ratings", "rating_followups", "rating_settings", "staff_photos"} <= tables
    finally:
        h.stop()
