"""The daily report's freeze-and-correction rule (server/daily_reports.py) on a real SQLite file.

Time is injected (``now``): the hall closes at 17:30 local; before that a day
is provisional, at closing it is frozen, later arrivals make numbered
corrections and the frozen figures stay as they were.
"""

from __future__ import annotations

import sys
import uuid
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from kiosk.domain import Hall, Service, TimeRange, Window  # noqa: E402
from kiosk.ratings import RatingStore  # noqa: E402
from kiosk.storage.db import open_engine  # noqa: E402
from kiosk.storage.schema import tickets  # noqa: E402
from server import daily_reports, hall_store  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
MON, TUE = date(2026, 3, 2), date(2026, 3, 3)
HOURS = (TimeRange(time(8, 30), time(12, 0)), TimeRange(time(14, 0), time(17, 30)))
HALL = Hall(name="测试镇便民服务中心", code="h1", closed_weekdays=frozenset({6, 7}),
            services=(Service("labor", "劳动保障", "A", hours=HOURS),
                      Service("late", "晚间业务", "L", hours=(TimeRange(time(9, 0), time(16, 0)),))),
            windows=(Window(1, "劳动保障", ("labor", "late")),))


def local(day: date, hh: int, mm: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ).timestamp()


@pytest.fixture
def engine(tmp_path):
    eng = open_engine(f"sqlite:///{tmp_path / 'server.db'}")
    hall_store.prepare(eng)
    RatingStore(eng, "h1")
    yield eng
    eng.dispose()


def add_ticket(engine, day: date, status="done", hh=10, hall="h1"):
    n = uuid.uuid4().hex
    with engine.begin() as c:
        c.execute(tickets.insert().values(id=n, hall=hall, day=day.isoformat(), service="labor", number=n[:8],
                                          seq=1, status=status, window=1, staff="clerk",
                                          issued_at=local(day, hh), called_at=local(day, hh, 5),
                                          started_at=local(day, hh, 5), finished_at=local(day, hh, 15)))


def test_closing_time_is_the_latest_service_end_and_none_on_a_closed_day():
    assert daily_reports.closing_time(HALL, MON) == local(MON, 17, 30)
    assert daily_reports.closing_time(HALL, date(2026, 3, 7)) is None  # Saturday
    always = Hall(name="x", code="x", services=(Service("a", "A", "A"),))
    assert daily_reports.closing_time(always, MON) == local(TUE, 0, 0)


def test_provisional_until_closing_then_frozen(engine):
    add_ticket(engine, MON)
    assert daily_reports.freeze_due(engine, HALL, local(MON, 17, 29)) == []
    d = daily_reports.daily(engine, HALL, MON, local(MON, 17, 29))
    assert d.provisional and d.status == "provisional" and d.report.total.served == 1 and d.frozen_at is None
    assert daily_reports.freeze_due(engine, HALL, local(MON, 17, 30)) == [MON]
    assert daily_reports.freeze_due(engine, HALL, local(MON, 17, 31)) == []  # once
    d = daily_reports.daily(engine, HALL, MON, local(MON, 18))
    assert not d.provisional and d.status == "frozen" and d.frozen_at == local(MON, 17, 30)
    assert d.correction == 0 and d.corrections == [] and d.report.total.served == 1


def test_late_arrivals_make_numbered_corrections_and_the_freeze_stays(engine):
    add_ticket(engine, MON)
    assert daily_reports.freeze(engine, HALL, MON, local(MON, 17, 30))
    add_ticket(engine, MON, hh=11)  # an offline terminal's ticket of Monday, pushed on Tuesday
    assert daily_reports.note_late(engine, HALL, {MON.isoformat(): 1}, "offline ticket(s)", local(TUE, 9)) == [1]
    d = daily_reports.daily(engine, HALL, MON)
    assert d.correction == 1 and d.report.total.served == 2
    assert [(c.number, c.reason) for c in d.corrections] == [(1, "1 offline ticket(s) arrived late")]
    add_ticket(engine, MON, hh=12)
    add_ticket(engine, MON, hh=13)
    assert daily_reports.note_late(engine, HALL, {MON.isoformat(): 2}, "offline ticket(s)", local(TUE, 10)) == [2]
    d = daily_reports.daily(engine, HALL, MON)
    assert d.correction == 2 and d.report.total.served == 4 and d.frozen_at == local(MON, 17, 30)
    rows = daily_reports.stored(engine, "h1", MON)
    import json

    assert json.loads(rows[0].body)["total"]["served"] == 1  # the freeze itself never changes
    assert not daily_reports.freeze(engine, HALL, MON, local(TUE, 11))  # a second freeze changes nothing
    # a late arrival for a day not yet frozen is no correction: the day is still live
    assert daily_reports.note_late(engine, HALL, {TUE.isoformat(): 1}, "offline ticket(s)", local(TUE, 11)) == []


def test_a_server_down_at_closing_catches_up_days_with_data_only(engine):
    add_ticket(engine, MON)  # Monday had visitors; nothing on Tuesday; the server was down both evenings
    wed = date(2026, 3, 4)
    assert daily_reports.freeze_due(engine, HALL, local(wed, 9)) == [MON]
    assert daily_reports.daily(engine, HALL, TUE, local(wed, 9)).provisional
    assert daily_reports.stored(engine, "h1", MON)[0].reason == "closing time (caught up)"


def test_other_halls_rows_stay_out_of_the_report(engine):
    add_ticket(engine, MON)
    add_ticket(engine, MON, hall="h2")
    daily_reports.freeze(engine, HALL, MON, local(MON, 17, 30))
    assert daily_reports.daily(engine, HALL, MON).report.total.served == 1
