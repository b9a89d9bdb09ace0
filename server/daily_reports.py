"""The daily report (日报): a hall's day frozen at closing time, and its numbered corrections.

At the hall's closing time (the latest end of its services' hours that day;
midnight when a service is open all day) the ``DailyFreezer`` thread stores
the day's figures (``server/reports.py::period_report`` of that one day,
follow-ups counted as of that day) as correction 0. A supervisor may freeze
a day earlier on demand. The stored report never changes: tickets or ratings
of a frozen day that arrive later (an offline terminal's outbox) make
correction 1, 2, ... with the recomputed figures and the reason; visitors
still being served at the freeze stay ``open`` in it. Before the freeze a
day is answered live and marked provisional.

Several server processes may freeze at once: the primary key (hall, day,
number) lets exactly one win. Migration component ``daily_reports``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kiosk.domain import Hall
from kiosk.ratings.tables import ratings
from kiosk.storage.db import reader
from kiosk.storage.schema import migrate, tickets

from .periodic import Periodic
from .report_models import Correction, DailyListItem, DailyReport, PeriodReport
from .reports import period_report

log = logging.getLogger(__name__)
metadata = sa.MetaData()

daily_reports = sa.Table(
    "daily_reports", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),  # 0: the freeze; 1, 2, ...: corrections
    sa.Column("made_at", sa.Float, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the PeriodReport of the day, JSON
)


def _v1(conn: sa.Connection) -> None:
    daily_reports.create(conn, checkfirst=True)


DAILY_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_v1]
CATCH_UP_DAYS = 7  # a server down at closing time freezes the days it missed, this far back


def prepare(engine: sa.Engine) -> None:
    migrate(engine, "daily_reports", DAILY_MIGRATIONS)


def closing_time(hall: Hall, day: date) -> float | None:
    """Epoch seconds the hall closes on ``day``; None when no service is open that day."""
    tz = ZoneInfo(hall.timezone)
    ends = []
    for s in hall.services:
        if not s.enabled or not hall.is_working_day(day, s):
            continue
        if not s.hours:
            return datetime.combine(day + timedelta(days=1), dtime(), tz).timestamp()
        ends += [r.end for r in s.hours]
    return datetime.combine(day, max(ends), tz).timestamp() if ends else None


def _figures(engine: sa.Engine, hall: Hall, day: date, now: float) -> PeriodReport:
    return period_report(engine, [hall], day, day, today=day, now=now)


def stored(engine: sa.Engine, hall: str, day: date) -> list:
    """The rows of a day, freeze first, then corrections in order."""
    with reader(engine) as conn:
        return conn.execute(sa.select(daily_reports).where(daily_reports.c.hall == hall,
                                                           daily_reports.c.day == day.isoformat())
                            .order_by(daily_reports.c.number)).all()


def freeze(engine: sa.Engine, hall: Hall, day: date, now: float | None = None, reason: str = "closing time") -> bool:
    """Store the day's report as correction 0; False when it was frozen already (nothing changes)."""
    now = time.time() if now is None else now
    if stored(engine, hall.code, day):
        return False
    body = _figures(engine, hall, day, now).model_dump_json()
    try:
        with engine.begin() as conn:
            conn.execute(daily_reports.insert().values(hall=hall.code, day=day.isoformat(), number=0, made_at=now,
                                                       reason=reason, body=body))
    except IntegrityError:  # another process froze it first
        return False
    log.info("daily report of %s for %s frozen (%s)", hall.code, day, reason)
    return True


def note_late(engine: sa.Engine, hall: Hall, days: dict[str, int], what: str, now: float | None = None) -> list[int]:
    """Records of ``days`` ({day: count}) arrived; each frozen one gets a numbered correction. Returns them."""
    made = []
    for day, count in sorted(days.items()):
        rows = stored(engine, hall.code, date.fromisoformat(day))
        if not rows:
            continue
        at = time.time() if now is None else now
        body = _figures(engine, hall, date.fromisoformat(day), at).model_dump_json()
        for _ in range(5):  # a concurrent correction took the number: take the next
            number = stored(engine, hall.code, date.fromisoformat(day))[-1].number + 1
            try:
                with engine.begin() as conn:
                    conn.execute(daily_reports.insert().values(
                        hall=hall.code, day=day, number=number, made_at=at, reason=f"{count} {what} arrived late",
                        body=body))
                made.append(number)
                log.info("daily report of %s for %s: correction %d (%d %s)", hall.code, day, number, count, what)
                break
            except IntegrityError:
                continue
    return made


def daily(engine: sa.Engine, hall: Hall, day: date, now: float | None = None) -> DailyReport:
    """The stored report (its latest correction) or, before the freeze, the live figures marked provisional."""
    now = time.time() if now is None else now
    rows = stored(engine, hall.code, day)
    if not rows:
        return DailyReport(hall=hall.code, hall_name=hall.name, date=day.isoformat(), status="provisional",
                           provisional=True, frozen_at=None, correction=0, corrections=[],
                           report=_figures(engine, hall, day, now))
    last = rows[-1]
    return DailyReport(hall=hall.code, hall_name=hall.name, date=day.isoformat(), status="frozen", provisional=False,
                       frozen_at=rows[0].made_at, correction=last.number,
                       corrections=[Correction(number=r.number, made_at=r.made_at, reason=r.reason) for r in rows[1:]],
                       report=PeriodReport.model_validate(json.loads(last.body)))


def list_item(engine: sa.Engine, hall: Hall, day: date) -> DailyListItem:
    """One line of the county's list: whether ``hall`` has reported ``day``, with its headline figures."""
    rows = stored(engine, hall.code, day)
    if not rows:
        return DailyListItem(hall=hall.code, hall_name=hall.name, date=day.isoformat(), reported=False,
                             frozen_at=None, correction=None, served=None, satisfaction_rate=None)
    total = json.loads(rows[-1].body)["total"]
    return DailyListItem(hall=hall.code, hall_name=hall.name, date=day.isoformat(), reported=True,
                         frozen_at=rows[0].made_at, correction=rows[-1].number, served=total["served"],
                         satisfaction_rate=total["satisfaction_rate"])


def _has_data(engine: sa.Engine, hall: str, day: date) -> bool:
    with reader(engine) as conn:
        for table in (tickets, ratings):
            if conn.execute(sa.select(table.c.id).where(table.c.hall == hall, table.c.day == day.isoformat())
                            .limit(1)).first():
                return True
    return False


def freeze_due(engine: sa.Engine, hall: Hall, now: float | None = None) -> list[date]:
    """Freeze every day whose closing time has passed (today and the last ``CATCH_UP_DAYS``) not yet frozen.

    Past days are frozen only when they hold tickets or ratings (a closed day with nothing stays unreported).
    """
    now = time.time() if now is None else now
    today = datetime.fromtimestamp(now, ZoneInfo(hall.timezone)).date()
    done = []
    for back in range(CATCH_UP_DAYS, -1, -1):
        day = today - timedelta(days=back)
        if back == 0:
            closes = closing_time(hall, day)
            if closes is None or closes > now:
                continue  # today: only once the hall has closed (and not on a closed day)
        elif not _has_data(engine, hall.code, day):
            continue  # a past day the server missed: only if something happened that day
        if not stored(engine, hall.code, day) and freeze(
                engine, hall, day, now, "closing time" if back == 0 else "closing time (caught up)"):
            done.append(day)
    return done


class DailyFreezer(Periodic):
    """The server's thread that freezes each hall's day at its closing time (checks every ``check_s``)."""

    thread_name = "daily-reports"

    def __init__(self, engine: sa.Engine, halls: Callable[[], list[Hall]], check_s: float | None = None):
        super().__init__()
        self.engine, self.halls = engine, halls
        self.check_s = check_s if check_s is not None else float(os.environ.get("KIOSK_REPORT_CHECK_S", "30"))

    def run_once(self) -> None:
        for hall in self.halls():
            freeze_due(self.engine, hall)
