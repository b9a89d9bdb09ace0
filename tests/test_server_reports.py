"""Reports routes (/api/v1/reports/...) against a real server, SQLite and PostgreSQL.

The arithmetic of every figure is pinned by tests/test_period_stats.py and the freeze rule by
tests/test_daily_reports.py; here: the routes' wiring through real requests (counts of a real
day's flows, pause time recorded by the console's 暂停, the freeze on demand and the correction
an offline batch or a late rating makes), hall isolation of every new route, and the CSV as a
spreadsheet reads it.
"""

from __future__ import annotations

import csv
import io
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import BACKENDS, TEST_HALL, db_url_for, enroll_terminal, start_server  # noqa: E402
from page_weight import sign_in_page  # noqa: E402

REASONS = """
[[rating_reasons]]
code = "attitude"
name = "服务态度差"
"""
REPORT_ROUTES = [("GET", "/api/v1/reports/period"), ("GET", "/api/v1/reports/period.csv"),
                 ("GET", "/api/v1/reports/daily"), ("GET", "/api/v1/reports/daily.csv"),
                 ("POST", "/api/v1/reports/daily/freeze"), ("GET", "/api/v1/reports/daily/halls")]


@pytest.fixture(scope="module", params=BACKENDS)
def hall(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"reports-{request.param}")
    db_url, drop = db_url_for(request.param, tmp)
    h = start_server(db_url, tmp, TEST_HALL + REASONS)
    request.addfinalizer(drop)
    request.addfinalizer(h.stop)
    enroll_terminal(h, "eval1", "evaluator", 1)
    # a name a spreadsheet would split if it were not quoted
    r = h.api("PATCH", "/api/v1/users/clerk", json={"display_name": '王芳, "小王"', "staff_no": "0012"})
    assert r.status_code == 200, r.text
    return h


def today(hall) -> str:
    return hall.api("GET", "/api/v1/tickets", params={"limit": 1}).json()["date"]


def issue(hall, service="labor"):
    r = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": service})
    assert r.status_code in (200, 201), r.text
    return r.json()


def act(hall, window, action, who="clerk", **kw):
    r = hall.api("POST", f"/api/v1/windows/{window}/{action}", token=who, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def report(h, token="sup", **params):
    r = h.api("GET", "/api/v1/reports/period", token=token, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def offline_batch(hall, n: int, day: str):
    series = hall.api("GET", "/api/v1/sync/terminal", token="terminal", params={"mode": "dispenser"}).json()["series"]
    base = 900 + int(time.time() * 1000) % 90
    events = [{"key": uuid.uuid4().hex, "kind": "ticket",
               "payload": {"id": uuid.uuid4().hex, "number": f"D{series}{base + i:03d}", "service": "spare",
                           "day": day, "seq": base + i, "series": series, "issued_at": time.time() - 600}}
              for i in range(n)]
    r = hall.api("POST", "/api/v1/sync/batch", token="terminal", json={"events": events})
    assert r.status_code == 200 and all(x["status"] == "applied" for x in r.json()["results"]), r.text


def test_a_days_flows_are_counted_and_pause_time_recorded(hall):
    day = today(hall)
    before = report(hall)["total"]
    a = [issue(hall) for _ in range(4)]
    assert act(hall, 1, "call-next")["ticket"]["id"] == a[0]["id"]
    act(hall, 1, "finish")
    act(hall, 1, "call-next")
    act(hall, 1, "no-show")
    act(hall, 1, "call-next")
    act(hall, 1, "transfer", json={"window": 2})  # a[2] goes on at window 2 and is served there
    act(hall, 2, "call-next", who="clerk2")
    act(hall, 2, "finish", who="clerk2")
    act(hall, 1, "pause")
    time.sleep(0.3)  # paused this long at least: the report counts it
    act(hall, 1, "resume")
    r = hall.api("POST", "/api/v1/ratings", token="eval1", json={"key": uuid.uuid4().hex, "ticket": a[0]["id"],
                                                                 "level": 4})
    assert r.status_code == 201, r.text
    rep = report(hall, **{"from": day, "to": day})
    t = rep["total"]
    assert t["issued"] - before["issued"] == 4  # the transfer is not a new ticket
    assert t["served"] - before["served"] == 2 and t["no_show"] - before["no_show"] == 1
    assert t["transferred"] - before["transferred"] == 1 and t["open"] - before["open"] == 1  # a[3] still waits
    assert t["rated"] - before["rated"] == 1
    clerk = next(s for s in rep["by_staff"] if s["key"] == "clerk")
    assert clerk["name"] == '王芳, "小王"' and clerk["staff_no"] == "0012"
    assert clerk["paused_s"] >= 0.3 and clerk["issued"] is None
    assert clerk["satisfaction_rate"] == 1.0
    w2 = next(w for w in rep["by_window"] if w["key"] == "2")
    assert w2["served"] >= 1 and w2["name"] == "2号 医疗保障"
    assert [d["key"] for d in rep["by_day"]] == [day]
    assert "满意率" in rep["definitions"]["satisfaction_rate"] and "评议率" in rep["definitions"]["rating_rate"]
    # period=month covers today
    month = report(hall, period="month", date=day)
    assert month["date_from"] == day[:8] + "01" and month["total"]["served"] == t["served"]


def test_csv_opens_as_a_spreadsheet_reads_it(hall):
    r = hall.api("GET", "/api/v1/reports/period.csv", token="sup", params={"period": "week"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    text = r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = next(i for i, row in enumerate(rows) if row and row[0] == "分组 group")
    cols = rows[header]
    table = [dict(zip(cols, row)) for row in rows[header + 1:]]
    assert all(len(row) == len(cols) for row in rows[header + 1:])
    staff = [row for row in table if row["分组 group"] == "staff" and row["键 key"] == "clerk"]
    assert staff and staff[0]["名称 name"] == '王芳, "小王"' and staff[0]["工号 staff_no"] == "0012"
    total = next(row for row in table if row["分组 group"] == "total")
    rep = report(hall, period="week")
    assert int(total["办结 served"]) == rep["total"]["served"]
    assert total["满意率 satisfaction_rate"] == ("" if rep["total"]["satisfaction_rate"] is None
                                               else f"{rep['total']['satisfaction_rate'] * 100:.1f}%")
    daily = hall.api("GET", "/api/v1/reports/daily.csv", token="sup")
    assert daily.status_code == 200 and daily.content.startswith(b"\xef\xbb\xbf")
    assert "临时数据 provisional" in daily.content.decode("utf-8-sig") or "已冻结" in daily.content.decode("utf-8-sig")


def test_freeze_on_demand_then_late_offline_tickets_and_ratings_make_corrections(hall):
    day = today(hall)
    live = hall.api("GET", "/api/v1/reports/daily", token="sup").json()
    assert live["provisional"] and live["status"] == "provisional" and live["date"] == day
    r = hall.api("POST", "/api/v1/reports/daily/freeze", token="sup")
    assert r.status_code == 200, r.text
    frozen = r.json()
    assert frozen["status"] == "frozen" and frozen["correction"] == 0 and frozen["frozen_at"]
    issued = frozen["report"]["total"]["issued"]
    issue(hall)  # an online ticket after the freeze: the stored report does not move
    again = hall.api("GET", "/api/v1/reports/daily", token="sup", params={"date": day}).json()
    assert again["report"]["total"]["issued"] == issued and again["correction"] == 0
    offline_batch(hall, 2, day)  # an offline dispenser's tickets of today arrive after the freeze
    fixed = hall.api("GET", "/api/v1/reports/daily", token="sup").json()
    assert fixed["correction"] == 1 and fixed["frozen_at"] == frozen["frozen_at"]
    assert fixed["report"]["total"]["issued"] == issued + 3  # the online one and the two late ones
    assert fixed["corrections"][0]["reason"] == "2 offline ticket(s) arrived late"
    t = issue(hall)
    while act(hall, 1, "call-next")["ticket"]["id"] != t["id"]:  # call-next finishes whoever was at the window
        pass
    act(hall, 1, "finish")
    r = hall.api("POST", "/api/v1/ratings", token="eval1",
                 json={"key": uuid.uuid4().hex, "ticket": t["id"], "level": 1, "reasons": ["attitude"]})
    assert r.status_code == 201, r.text
    fixed = hall.api("GET", "/api/v1/reports/daily", token="sup").json()
    assert fixed["correction"] == 2 and fixed["corrections"][1]["reason"] == "1 rating(s) arrived late"
    assert fixed["report"]["total"]["followups"]["open"] >= 1
    r = hall.api("POST", "/api/v1/reports/daily/freeze", token="sup")  # freezing again changes nothing
    assert r.json()["correction"] == 2 and r.json()["frozen_at"] == frozen["frozen_at"]
    listed = hall.api("GET", "/api/v1/reports/daily/halls", token="sup").json()
    assert listed == [{"hall": "testhall", "hall_name": "测试镇便民服务中心", "date": day, "reported": True,
                       "frozen_at": frozen["frozen_at"], "correction": 2, "served": fixed["report"]["total"]["served"],
                       "satisfaction_rate": fixed["report"]["total"]["satisfaction_rate"], "linked": False}]
    yesterday = hall.api("GET", "/api/v1/reports/daily/halls", token="sup", params={"date": "2020-01-01"}).json()
    assert [(x["hall"], x["reported"], x["served"]) for x in yesterday] == [("testhall", False, None)]


@pytest.mark.parametrize("method,path", REPORT_ROUTES)
def test_every_report_route_is_scoped_to_the_hall(hall, method, path):
    assert hall.api(method, path, token=None).status_code == 401
    assert hall.api(method, path, token="terminal").status_code == 403
    assert hall.api(method, path, token="clerk").status_code == 403  # window staff: not the hall's figures
    if path.endswith("/daily/halls"):  # no hall parameter: the halls the caller may see, i.e. its own
        assert [x["hall"] for x in hall.api(method, path, token="sup").json()] == ["testhall"]
        return
    assert hall.api(method, path, token="sup", params={"hall": "otherhall"}).status_code == 404
    assert hall.api(method, path, token="sup", params={"hall": "testhall"}).status_code == 200


def test_another_halls_rows_never_show(hall):
    from kiosk.storage.schema import tickets

    day = today(hall)
    before = report(hall)
    engine = hall.db()
    try:
        with engine.begin() as conn:
            conn.execute(tickets.insert().values(id=uuid.uuid4().hex, hall="otherhall", day=day, service="labor",
                                                 number="A999", seq=999, status="done", window=1, staff="clerk",
                                                 issued_at=time.time() - 60, called_at=time.time() - 30,
                                                 started_at=time.time() - 30, finished_at=time.time()))
    finally:
        engine.dispose()
    after = report(hall)
    assert after["total"] == before["total"] and after["by_staff"] == before["by_staff"]
    assert report(hall, **{"hall": "all"})["halls"] == ["testhall"]


@pytest.mark.parametrize("params,field", [({"from": "2026-02-30"}, "from"), ({"to": "x"}, "to"),
                                          ({"from": "2026-03-05", "to": "2026-03-01"}, "from"),
                                          ({"period": "decade"}, "period"),
                                          ({"period": "week", "from": "2026-03-01"}, "period"),
                                          ({"hall": "../x"}, "hall")])
def test_bad_queries_name_the_field(hall, params, field):
    r = hall.api("GET", "/api/v1/reports/period", token="sup", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["field"].endswith(field)


@pytest.mark.parametrize("method,path,params,field", [
    ("GET", "/api/v1/reports/daily", {"date": "9999-12-31"}, "date"),
    ("GET", "/api/v1/reports/daily.csv", {"date": "9999-12-31"}, "date"),
    ("GET", "/api/v1/reports/period", {"period": "year", "date": "9999-12-31"}, "date"),
    ("GET", "/api/v1/reports/period", {"from": "9999-12-30", "to": "9999-12-31"}, "from"),
    ("POST", "/api/v1/reports/daily/freeze", {"date": "0001-01-01"}, "date"),
    ("GET", "/api/v1/audit", {"from": "9999-12-31", "to": "9999-12-31"}, "from"),
])
def test_absurd_days_are_a_422_not_a_500(hall, method, path, params, field):
    r = hall.api(method, path, token="sup", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["field"].endswith(field)
    assert hall.api("GET", "/api/v1/reports/daily/halls", token="sup").status_code == 200


def test_openapi_documents_the_rates(hall):
    doc = hall.api("GET", "/openapi.json", token=None).json()
    for _, path in REPORT_ROUTES:
        assert path in doc["paths"], path
    row = doc["components"]["schemas"]["ReportRow"]["properties"]
    assert "非常满意 + 满意 + 基本满意" in row["satisfaction_rate"]["description"]
    assert "rated / served" in row["rating_rate"]["description"]


def test_closing_time_freezes_the_day(tmp_path):
    """A hall whose services close at 00:01: the server's freeze thread stores today's report at once."""
    hall_text = TEST_HALL.replace('average_minutes = 5', 'average_minutes = 5\nhours = "00:00-00:01"')
    hall_text = hall_text.replace('range = [1, 999]\n', 'range = [1, 999]\nhours = "00:00-00:01"\n')
    hall_text = hall_text.replace('range = [1, 99]\n', 'range = [1, 99]\nhours = "00:00-00:01"\n')
    import os

    os.environ["KIOSK_REPORT_CHECK_S"] = "0.2"
    try:
        h = start_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path, hall_text)
    finally:
        del os.environ["KIOSK_REPORT_CHECK_S"]
    try:
        deadline = time.time() + 20
        while True:
            d = h.api("GET", "/api/v1/reports/daily", token="sup").json()
            if d["status"] == "frozen" or time.time() > deadline:
                break
            time.sleep(0.2)
        assert d["status"] == "frozen" and d["correction"] == 0
        engine = h.db()
        try:
            with engine.connect() as conn:
                reason = conn.execute(sa.text("SELECT reason FROM daily_reports")).scalar()
        finally:
            engine.dispose()
        assert reason == "closing time"
        offline_batch(h, 1, d["date"])
        assert h.api("GET", "/api/v1/reports/daily", token="sup").json()["correction"] == 1
    finally:
        h.stop()


# -------------------------------------------------------------------- browser

def _seed_week(h, days: list[str]) -> None:
    """A week of one hall in the tables (the figures the page must show come back from the API)."""
    from datetime import datetime as dt
    from zoneinfo import ZoneInfo

    from kiosk.ratings.tables import ratings
    from kiosk.storage.schema import tickets

    tz = ZoneInfo("Asia/Shanghai")
    engine = h.db()
    try:
        with engine.begin() as conn:
            for i, day in enumerate(days):
                t0 = dt.fromisoformat(day + "T09:00").replace(tzinfo=tz).timestamp()
                for n in range(10 + 3 * i):
                    window = 1 + n % 3
                    status = "no_show" if n % 7 == 3 else "done"
                    tid = uuid.uuid4().hex
                    conn.execute(tickets.insert().values(
                        id=tid, hall="testhall", day=day, service="labor" if window != 2 else "medical",
                        number=f"Z{n:03d}", seq=n, status=status, window=window,
                        staff={1: "clerk", 2: "clerk2", 3: "sup"}[window], issued_at=t0 + 60 * n,
                        called_at=t0 + 60 * n + 120 + 30 * (n % 5), started_at=t0 + 60 * n + 150,
                        finished_at=t0 + 60 * n + 500))
                    if status == "done" and n % 3 != 2:
                        level = 1 if n % 11 == 5 else 5 - n % 3
                        conn.execute(ratings.insert().values(
                            id=uuid.uuid4().hex, hall="testhall", key=uuid.uuid4().hex, day=day, level=level,
                            reasons='["attitude"]' if level < 3 else "[]", ticket_id=tid, window=window,
                            staff={1: "clerk", 2: "clerk2", 3: "sup"}[window], service="labor",
                            walk_in=False, created_at=t0 + 60 * n + 510))
    finally:
        engine.dispose()


@pytest.mark.browser
def test_reports_page_shows_a_week_with_charts_and_freezes_the_day(browser, tmp_path):
    from datetime import date, timedelta

    from test_server_support import PASSWORD, ROOT

    h = start_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path, TEST_HALL + REASONS)
    try:
        end = date.fromisoformat(today(h))
        days = [(end - timedelta(days=6 - i)).isoformat() for i in range(7)]
        _seed_week(h, days)
        want = report(h, **{"from": days[0], "to": days[-1]})["total"]
        out = ROOT / "tmp" / "out"
        out.mkdir(parents=True, exist_ok=True)
        problems: list[str] = []
        page = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN").new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith(("/favicon.ico", "/api/v1/halls")) else None)
        sign_in_page(page, h.url, "sup", PASSWORD, "**/admin**")
        page.goto(f"{h.url}/reports?from={days[0]}&to={days[-1]}")
        page.wait_for_selector("#by-staff table")
        page.wait_for_selector("#daily-state")
        assert page.inner_text("#issued") == str(want["issued"]) and page.inner_text("#served") == str(want["served"])
        assert page.inner_text("#satisfaction-rate") == f"{want['satisfaction_rate'] * 100:.1f}%"
        assert page.inner_text("#rating-rate") == f"{want['rating_rate'] * 100:.1f}%"
        assert page.locator("#chart-days path[data-series='办结']").count() == 1
        assert page.locator("#chart-days circle").count() == 3 * 7  # three lines, a point a day
        assert page.locator("#chart-windows rect[data-series='办结']").count() == 4  # every window
        assert "王芳" in page.inner_text("#by-staff") and "1号 劳动保障" in page.inner_text("#by-window")
        assert "非常满意 + 满意 + 基本满意" in page.inner_text("#definitions")
        assert page.get_attribute("#csv", "href").startswith("/api/v1/reports/period.csv?")
        assert "临时数据" in page.inner_text("#daily-state")
        page.wait_for_selector("#halls-missing")
        assert page.inner_text("#halls-missing") == "1 个大厅尚未上报"
        assert "未上报" in page.inner_text("#daily-halls")
        page.screenshot(path=str(out / "reports-week.png"), full_page=True)
        page.click("#daily button:has-text('立即冻结日报')")
        page.wait_for_selector("#daily-state.frozen")
        assert "已冻结" in page.inner_text("#daily-state")
        page.wait_for_selector("#halls-missing:text-is('全部大厅已上报')")
        page.screenshot(path=str(out / "reports-frozen.png"))
        clerk = browser.new_context(locale="zh-CN").new_page()
        sign_in_page(clerk, h.url, "clerk", PASSWORD, "**/console")
        clerk.goto(h.url + "/reports")
        clerk.wait_for_url("**/login?denied=1")
        assert not problems, problems
        assert h.api("GET", "/api/v1/reports/daily", token="sup").json()["status"] == "frozen"
    finally:
        h.stop()


# --------------------------------------------------------------------- county

def _county(tmp_path):
    """A server with hall A (testhall) and hall B (beihall, added by kiosk admin add-hall), county users."""
    from test_server_support import PASSWORD, kiosk_cli

    h = start_server(f"sqlite:///{tmp_path / 'county.db'}", tmp_path)
    hall_b = (TEST_HALL.replace('code = "testhall"', 'code = "beihall"').replace("测试镇便民服务中心", "北村便民服务中心"))
    (tmp_path / "b.toml").write_text(hall_b, encoding="utf-8")
    out = kiosk_cli("admin", "add-hall", "--db", h.db_url, str(tmp_path / "b.toml"))
    assert out.returncode == 0, out.stderr
    users = (("bsup", "supervisor", ["--hall", "beihall"]), ("cadmin", "county-admin", []),
             ("cview", "county-viewer", []))
    for name, role, extra in users:  # in this process (add-hall above is the real `kiosk` run)
        out = kiosk_cli("admin", "add-user", name, "--role", role, "--password-stdin", "--db", h.db_url, *extra,
                        stdin=PASSWORD + "\n", inproc=True)
        assert out.returncode == 0, out.stderr
        h.tokens[name] = h.login(name)
    return h


def test_county_lists_every_halls_daily_report_and_who_has_not_reported(tmp_path):
    h = _county(tmp_path)
    try:
        day = today(h)
        issue(h)  # hall A's dispenser
        act(h, 1, "call-next")
        act(h, 1, "finish")
        assert h.api("POST", "/api/v1/reports/daily/freeze", token="sup").status_code == 200  # hall A reports
        listed = h.api("GET", "/api/v1/reports/daily/halls", token="cview").json()
        by = {x["hall"]: x for x in listed}
        assert len(listed) == 2 and by["testhall"]["reported"] and not by["beihall"]["reported"]
        assert by["testhall"]["served"] >= 1 and by["beihall"]["served"] is None and by["beihall"]["date"] == day
        # each hall's own staff see their own line only
        assert [x["hall"] for x in h.api("GET", "/api/v1/reports/daily/halls", token="bsup").json()] == ["beihall"]
        assert [x["hall"] for x in h.api("GET", "/api/v1/reports/daily/halls", token="sup").json()] == ["testhall"]
        # the viewer writes nothing; the county admin may freeze a hall's day, naming it
        assert h.api("POST", "/api/v1/reports/daily/freeze", token="cview",
                     params={"hall": "beihall"}).status_code == 403
        r = h.api("POST", "/api/v1/reports/daily/freeze", token="cadmin", params={"hall": "beihall"})
        assert r.status_code == 200 and r.json()["hall"] == "beihall" and r.json()["status"] == "frozen", r.text
        listed = h.api("GET", "/api/v1/reports/daily/halls", token="cview").json()
        assert all(x["reported"] for x in listed)
        # county-wide period figures: both halls, keys told apart by hall
        county = h.api("GET", "/api/v1/reports/period", token="cview", params={"hall": "all"}).json()
        assert sorted(r["key"] for r in county["by_hall"]) == ["beihall", "testhall"]
        assert county["total"]["served"] == sum(r["served"] for r in county["by_hall"])
        assert {r["key"].split("/")[0] for r in county["by_window"]} == {"testhall", "beihall"}
        named = h.api("GET", "/api/v1/halls/beihall/reports/daily", token="cview")
        assert named.status_code == 200 and named.json()["hall"] == "beihall", named.text
        assert h.api("GET", "/api/v1/halls/beihall/reports/daily", token="sup").status_code in (403, 404)
    finally:
        h.stop()


@pytest.mark.browser
def test_county_page_shows_the_daily_reports_of_every_hall(browser, tmp_path):
    from test_server_support import PASSWORD, ROOT, other_day_zone

    h = _county(tmp_path)
    try:
        day = today(h)
        assert h.api("POST", "/api/v1/reports/daily/freeze", token="sup").status_code == 200
        problems: list[str] = []
        # the browser machine on another date than the hall: every "today" on the pages is the hall's
        page = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN",
                                   timezone_id=other_day_zone()).new_page()
        # and the hall's zone (from /healthz) answers late, as on a loaded server: the pages wait for it
        page.route("**/healthz*", lambda route: (time.sleep(0.5), route.continue_()))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        sign_in_page(page, h.url, "cview", PASSWORD, "**/county**")
        page.fill("#daily-day", day)
        page.dispatch_event("#daily-day", "change")
        # the list for that day: hall A froze it (the page opens on yesterday, when neither hall reported)
        page.wait_for_selector("#daily-list tr[data-daily-hall='testhall']:not(.unreported)")
        page.wait_for_selector("#daily-list tr[data-daily-hall='beihall'].unreported")
        assert "1 个中心尚未上报：北村便民服务中心" in page.inner_text("#daily-missing")
        assert "已上报" in page.inner_text("#daily-list tr[data-daily-hall='testhall']")
        out = ROOT / "tmp" / "out"
        out.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out / "county-daily.png"), full_page=True)
        page.click("#daily-list tr[data-daily-hall='testhall'] a:has-text('查看')")
        page.wait_for_url("**/reports?of=testhall**")
        page.wait_for_selector("#daily-state.frozen")
        assert page.input_value("#hall") == "testhall"
        page.goto(f"{h.url}/reports?hall=beihall")  # the county page's per-hall link form
        page.wait_for_url("**/reports?of=beihall**")
        page.wait_for_selector("#daily-state.provisional")
        assert page.inner_text("#daily-date") == page.inner_text("#halls-date") == day
        page.select_option("#hall", "all")  # 全县合计
        page.wait_for_selector("#daily:has-text('请选择一个大厅')")
        assert page.locator("#daily-halls tr.unreported").count() == 1
        page.screenshot(path=str(out / "reports-county.png"), full_page=True)
        assert not problems, problems
    finally:
        h.stop()
