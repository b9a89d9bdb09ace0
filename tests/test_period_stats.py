"""Period statistics (server/period_stats.py, server/reports.py) against hand-computed fixtures.

Rows go straight into a real database (SQLite file, and PostgreSQL) the way the queue, the
rating store and the pause log write them; every figure below is worked out by hand in the
comments. A second hall's rows sit in the same tables and must never show.
"""

from __future__ import annotations

import sys
import uuid
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import BACKENDS, db_url_for  # noqa: E402

from kiosk.domain import Hall, Service, Window  # noqa: E402
from kiosk.ratings import RatingStore  # noqa: E402
from kiosk.ratings.tables import followups, ratings  # noqa: E402
from kiosk.storage.db import open_engine  # noqa: E402
from kiosk.storage.schema import tickets  # noqa: E402
from server import hall_store  # noqa: E402
from server.pause_log import window_pauses  # noqa: E402
from server.period_stats import period_figures  # noqa: E402
from server.reports import period_report  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
D1, D2 = date(2026, 3, 2), date(2026, 3, 3)  # a Monday and a Tuesday
HALL = Hall(name="测试镇便民服务中心", code="h1",
            services=(Service("labor", "劳动保障", "A"), Service("medical", "医疗保障", "B")),
            windows=(Window(1, "劳动保障", ("labor",)), Window(2, "医疗保障", ("medical",))))


def at(day: date, seconds: float) -> float:
    """``seconds`` after 09:00 local on ``day``."""
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=TZ).timestamp() + seconds


def ticket(conn, day, service, status, issued, called=None, started=None, finished=None, window=None, staff=None,
           transferred_from=None, hall="h1", tid=None, seq=[0]):
    seq[0] += 1
    tid = tid or uuid.uuid4().hex
    conn.execute(tickets.insert().values(
        id=tid, hall=hall, day=day.isoformat(), service=service, number=f"X{seq[0]:03d}", seq=seq[0],
        generation=1 if transferred_from else 0, status=status, window=window, staff=staff,
        issued_at=at(day, issued), called_at=None if called is None else at(day, called),
        started_at=None if started is None else at(day, started),
        finished_at=None if finished is None else at(day, finished), transferred_from=transferred_from))
    return tid


def rating(conn, day, level, window, staff, service, ticket_id=None, hall="h1", followup=None):
    rid = uuid.uuid4().hex
    conn.execute(ratings.insert().values(id=rid, hall=hall, key=uuid.uuid4().hex, day=day.isoformat(), level=level,
                                         reasons='["attitude"]' if level in (1, 2) else "[]", ticket_id=ticket_id,
                                         window=window, staff=staff, service=service, walk_in=ticket_id is None,
                                         created_at=at(day, 2000)))
    if followup:
        state, due = followup
        conn.execute(followups.insert().values(id=uuid.uuid4().hex, hall=hall, rating_id=rid, state=state,
                                               due_date=due.isoformat(), created_at=at(day, 2000)))


def fill(engine):
    with engine.begin() as c:
        # D1, hall h1 (seconds after 09:00)
        t1 = ticket(c, D1, "labor", "done", 0, 60, 90, 390, 1, "clerk")          # wait 60, service 300
        t2 = ticket(c, D1, "labor", "done", 30, 400, None, 700, 1, "clerk")      # wait 370, service 300 (from call)
        ticket(c, D1, "labor", "no_show", 40, 710, None, 715, 1, "clerk")        # wait 670, not served
        t4 = ticket(c, D1, "labor", "transferred", 50, 720, 730, 800, 1, "clerk")  # wait 670, worked 70
        t4b = ticket(c, D1, "medical", "done", 50, 900, 900, 1500, 2, "clerk2", transferred_from=t4)  # service 600
        ticket(c, D1, "medical", "cancelled", 100)
        ticket(c, D1, "medical", "waiting", 200)
        # D2
        t8 = ticket(c, D2, "medical", "done", 0, 30, 30, 330, 2, "clerk2")       # wait 30, service 300
        # ratings: D1 5 (t1), 1 (t2, rectified), 3 (t4b), one unrated; D2 2 (t8, open, due D2+1)
        rating(c, D1, 5, 1, "clerk", "labor", t1)
        rating(c, D1, 1, 1, "clerk", "labor", t2, followup=("rectified", date(2026, 3, 23)))
        rating(c, D1, 3, 2, "clerk2", "medical", t4b)
        rating(c, D1, None, 2, "clerk2", "medical")
        rating(c, D2, 2, 2, "clerk2", "medical", t8, followup=("open", date(2026, 3, 4)))
        # pauses: window 1 09:30-09:40 on D1; window 2 from 23:50 on D1 to 00:20 on D2
        c.execute(window_pauses.insert().values(hall="h1", window=1, staff="clerk", started_at=at(D1, 1800),
                                                ended_at=at(D1, 2400)))
        c.execute(window_pauses.insert().values(hall="h1", window=2, staff="clerk2", started_at=at(D1, 53400),
                                                ended_at=at(D1, 55200)))
        # another hall in the same tables: must never show
        other = ticket(c, D1, "labor", "done", 0, 10, 10, 20, 1, "clerk", hall="h2")
        rating(c, D1, 1, 1, "clerk", "labor", other, hall="h2", followup=("open", date(2026, 3, 1)))
        c.execute(window_pauses.insert().values(hall="h2", window=1, staff="clerk", started_at=at(D1, 0),
                                                ended_at=at(D1, 5000)))


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request, tmp_path_factory):
    db_url, drop = db_url_for(request.param, tmp_path_factory.mktemp(f"period-{request.param}"))
    eng = open_engine(db_url)
    hall_store.prepare(eng)
    RatingStore(eng, "h1")
    fill(eng)
    yield eng
    eng.dispose()
    drop()


def figures(engine, start, end, today=date(2026, 3, 5)):
    return period_figures(engine, ["h1"], start, end, today=today, now=at(D2, 36000))


def test_one_day_totals(engine):
    t = figures(engine, D1, D1)["total"][()]
    assert (t["issued"], t["served"], t["no_show"], t["cancelled"], t["transferred"], t["open"]) == (6, 3, 1, 1, 1, 1)
    assert t["mean_wait_s"] == 442.5  # (60 + 370 + 670 + 670) / 4: first calls only, the continuation has none
    assert t["p90_wait_s"] == 670.0  # nearest rank ceil(0.9 * 4) = 4th of 60, 370, 670, 670
    assert t["mean_service_s"] == 400.0  # (300 + 300 + 600) / 3
    assert t["serving_s"] == 1270.0  # 300 + 300 + 70 (before the transfer) + 600
    assert t["levels"] == {"5": 1, "4": 0, "3": 1, "2": 0, "1": 1}
    assert (t["rated"], t["unrated"], t["satisfied"], t["bad"]) == (3, 1, 2, 1)
    assert t["rating_rate"] == 1.0  # 3 rated / 3 served; the unrated one is in neither
    assert t["satisfaction_rate"] == 0.6667  # (1 + 0 + 1) / 3
    assert t["followups"] == {"open": 0, "rectified": 1, "called_back": 0, "overdue": 0}
    assert t["paused_s"] == 600 + 600  # window 1's 10 min, window 2's last 10 min before midnight


def test_one_day_per_window_staff_and_service(engine):
    f = figures(engine, D1, D1)
    w1, w2 = f["window"][("h1", 1)], f["window"][("h1", 2)]
    assert (w1["issued"], w1["served"], w1["no_show"], w1["transferred"]) == (None, 2, 1, 1)
    assert (w1["mean_wait_s"], w1["p90_wait_s"], w1["mean_service_s"], w1["serving_s"]) == (442.5, 670.0, 300.0, 670.0)
    assert (w1["rated"], w1["satisfaction_rate"], w1["rating_rate"], w1["paused_s"]) == (2, 0.5, 1.0, 600.0)
    assert (w2["served"], w2["mean_wait_s"], w2["mean_service_s"], w2["serving_s"]) == (1, None, 600.0, 600.0)
    assert (w2["rated"], w2["unrated"], w2["satisfaction_rate"], w2["paused_s"]) == (1, 1, 1.0, 600.0)
    assert f["staff"][("h1", "clerk")]["serving_s"] == 670.0 and f["staff"][("h1", "clerk")]["paused_s"] == 600.0
    assert f["staff"][("h1", "clerk2")]["served"] == 1
    labor, medical = f["service"][("h1", "labor")], f["service"][("h1", "medical")]
    assert (labor["issued"], labor["served"], labor["no_show"], labor["transferred"]) == (4, 2, 1, 1)
    assert (medical["issued"], medical["served"], medical["cancelled"], medical["open"]) == (2, 1, 1, 1)
    assert medical["mean_wait_s"] is None  # its only call was a transfer's continuation


def test_two_days_and_overdue(engine):
    t = figures(engine, D1, D2)["total"][()]
    assert (t["issued"], t["served"]) == (7, 4)
    assert t["mean_wait_s"] == 360.0 and t["p90_wait_s"] == 670.0  # 30 60 370 670 670: rank ceil(4.5) = 5
    assert t["mean_service_s"] == 375.0  # (300 + 300 + 600 + 300) / 4
    assert (t["rated"], t["bad"], t["satisfaction_rate"], t["rating_rate"]) == (4, 2, 0.5, 1.0)
    assert t["followups"] == {"open": 1, "rectified": 1, "called_back": 0, "overdue": 1}  # due 03-04, today 03-05
    assert t["paused_s"] == 600 + 1800  # the pause across midnight counts whole over both days
    d2 = figures(engine, D2, D2)
    assert d2["total"][()]["paused_s"] == 1200.0  # 00:00-00:20
    assert figures(engine, D1, D2, today=date(2026, 3, 4))["total"][()]["followups"]["overdue"] == 0
    year = figures(engine, date(2026, 1, 1), date(2026, 12, 31))  # long ranges: p90 to 10 s, none per day
    assert year["total"][()]["p90_wait_s"] == 670.0 and year["total"][()]["served"] == 4
    assert year["day"][("h1", D1.isoformat())]["p90_wait_s"] is None
    assert year["day"][("h1", D1.isoformat())]["mean_wait_s"] == 442.5
    days = figures(engine, D1, D2)["day"]
    assert days[("h1", D1.isoformat())]["served"] == 3 and days[("h1", D2.isoformat())]["served"] == 1


def test_named_report_lists_the_hall_in_order(engine):
    rep = period_report(engine, [HALL], D1, D2, today=date(2026, 3, 5), now=at(D2, 36000),
                        names={"clerk": ("王芳", "0012"), "clerk2": ("李四, \"老李\"", "0013")})
    assert [r.key for r in rep.by_service] == ["labor", "medical"]
    assert [r.name for r in rep.by_window] == ["1号 劳动保障", "2号 医疗保障"]
    assert [(r.key, r.name, r.staff_no) for r in rep.by_staff] == [("clerk2", "李四, \"老李\"", "0013"),
                                                                  ("clerk", "王芳", "0012")]
    assert [r.key for r in rep.by_day] == ["2026-03-02", "2026-03-03"]
    assert rep.total.served == 4 and rep.by_hall[0].served == 4
    assert "满意率" in rep.definitions["satisfaction_rate"] and "评议率" in rep.definitions["rating_rate"]
    empty = period_report(engine, [HALL], date(2026, 1, 1), date(2026, 1, 3), today=D2, now=at(D2, 0), names={})
    assert empty.total.served == 0 and empty.total.satisfaction_rate is None and empty.total.rating_rate is None
    assert len(empty.by_day) == 3 and all(d.issued == 0 for d in empty.by_day)


def test_county_wide_report_adds_halls_up_and_keeps_them_apart(engine):
    h2 = Hall(name="二号镇便民服务中心", code="h2", services=(Service("labor", "劳动保障", "A"),),
              windows=(Window(1, "综合", ("labor",)),))
    rep = period_report(engine, [HALL, h2], D1, D1, today=date(2026, 3, 5), now=at(D2, 36000), names={})
    t = rep.total
    assert (t.issued, t.served) == (7, 4)  # h1's 6 and 3, h2's 1 and 1
    assert t.mean_wait_s == 356.0  # (60 + 370 + 670 + 670 + 10) / 5
    assert t.p90_wait_s == 670.0  # rank ceil(4.5) = 5th of 10, 60, 370, 670, 670
    assert (t.rated, t.bad, t.satisfaction_rate) == (4, 2, 0.5)
    assert t.followups["overdue"] == 1  # h2's case was due 03-01
    assert t.paused_s == 600 + 600 + 5000
    assert [(r.key, r.served) for r in rep.by_hall] == [("h1", 3), ("h2", 1)]
    assert [r.key for r in rep.by_window] == ["h1/1", "h1/2", "h2/1"]
    assert rep.by_window[2].name == "二号镇便民服务中心 1号 综合" and rep.by_window[2].served == 1
    assert [(d.key, d.served, d.p90_wait_s) for d in rep.by_day] == [("2026-03-02", 4, 670.0)]
    alone = period_report(engine, [h2], D1, D1, today=date(2026, 3, 5), now=at(D2, 36000), names={})
    assert alone.total.served == 1 and alone.by_window[0].key == "1"  # one hall: plain keys
