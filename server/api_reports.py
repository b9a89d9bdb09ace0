"""Reports upward: period statistics and the daily report (日报), JSON and CSV (``/api/v1/reports/...``).

Who: hall supervisors and admins, for their own hall. ``hall`` defaults to
the caller's hall; any other hall code is a 404 (a hall you may not see does
not exist for you); ``hall=all`` is every hall the caller may see (the
county-wide report). The figures are defined in ``server/period_stats.py``.
"""

from __future__ import annotations

import calendar
import time
from datetime import date as Date
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kiosk.domain import Hall

from . import daily_reports
from .audit import Act, audited
from .auth import SUPERVISORS, VIEWERS, requires
from .errors import ApiError
from .halls import hall_runtime
from .halls import visible_halls as halls_for
from .models import Day
from .period_stats import RATING_RATE, SATISFACTION_RATE
from .report_csv import report_csv
from .report_models import DailyListItem, DailyReport, PeriodReport
from .reports import period_report

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
readers = requires(*SUPERVISORS, *VIEWERS)  # the county viewer reads every hall's reports
MAX_RANGE_DAYS = 3660
RATES = f"{RATING_RATE}; {SATISFACTION_RATE}"

HallQ = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$",
                                    description="hall code (default: yours); 'all': every hall you may see")]
FromQ = Annotated[Day | None, Query(alias="from", description="first local day (default: to)")]
ToQ = Annotated[Day | None, Query(alias="to", description="last local day, inclusive (default: today)")]
PeriodQ = Annotated[Literal["day", "week", "month", "year"] | None,
                    Query(description="instead of from/to: the day, week (Monday-Sunday), month or year "
                                      "holding 'date'")]
DateQ = Annotated[Day | None, Query(description="a local day (default: today)")]


def visible_halls(request: Request, principal) -> list[Hall]:
    """The halls a caller may read: every hall for county users, else its own (``server/halls.py``)."""
    county = request.app.state.county
    return [county.hall(c).queue().hall for c in halls_for(county, principal)]


def pick_halls(request: Request, principal, hall: str | None) -> list[Hall]:
    halls = visible_halls(request, principal)
    if hall is None:  # the request's hall (its own, or the one named in the path); a county user: all
        try:
            return [hall_runtime(request).queue().hall]
        except ApiError:
            return halls
    if hall == "all":
        return halls
    found = [h for h in halls if h.code == hall]
    if not found:
        raise ApiError(404, "hall", f"unknown hall '{hall}'", "not_found")
    return found


def _date(value: str | None, field: str) -> Date | None:
    if value is None:
        return None
    try:
        return Date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, field, f"'{value}' is not a calendar date (YYYY-MM-DD)", "invalid_input") from None


def today_of(request: Request) -> Date:
    county = request.app.state.county
    rt = getattr(request.state, "hall_rt", None) or county.only() or county.first
    return Date.fromisoformat(rt.queue().today())


def date_range(request: Request, date_from: str | None, date_to: str | None, period: str | None,
               anchor: str | None) -> tuple[Date, Date]:
    today = today_of(request)
    if period is not None:
        if date_from or date_to:
            raise ApiError(422, "period", "give either period (with date) or from/to, not both", "invalid_input")
        d = _date(anchor, "date") or today
        if period == "day":
            return d, d
        if period == "week":
            start = d - timedelta(days=d.weekday())
            return start, start + timedelta(days=6)
        if period == "month":
            return d.replace(day=1), d.replace(day=calendar.monthrange(d.year, d.month)[1])
        return d.replace(month=1, day=1), d.replace(month=12, day=31)
    start, end = _date(date_from, "from"), _date(date_to, "to")
    end = end or (start if start and start > today else today)
    start = start or end
    if start > end:
        raise ApiError(422, "from", "must not be after 'to'", "invalid_input")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ApiError(422, "from", f"a range of at most {MAX_RANGE_DAYS} days", "invalid_input")
    return start, end


def _period(request, principal, hall, date_from, date_to, period, anchor) -> PeriodReport:
    halls = pick_halls(request, principal, hall)
    start, end = date_range(request, date_from, date_to, period, anchor)
    return period_report(request.app.state.county.db, halls, start, end, today=today_of(request))


def _csv(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/period", response_model=PeriodReport,
            summary="Period statistics: tickets, waits, service time, ratings, 评议率, 满意率, follow-ups, "
                    "pauses; per day, service, window and staff",
            description="Any range of local days (from/to, or period=day|week|month|year with date). " + RATES +
                        ". Unrated visits count in neither rate. Definitions of every figure: the response's "
                        "`definitions` and the ReportRow schema.")
def period(request: Request, hall: HallQ = None, date_from: FromQ = None, date_to: ToQ = None,
           period: PeriodQ = None, date: DateQ = None, principal=Depends(readers)) -> PeriodReport:
    return _period(request, principal, hall, date_from, date_to, period, date)


@router.get("/period.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}},
            summary="The period statistics as CSV (UTF-8 with BOM, opens in Excel)", description=RATES)
def period_csv(request: Request, hall: HallQ = None, date_from: FromQ = None, date_to: ToQ = None,
               period: PeriodQ = None, date: DateQ = None, principal=Depends(readers)) -> Response:
    rep = _period(request, principal, hall, date_from, date_to, period, date)
    return _csv(report_csv(rep), f"report-{'-'.join(rep.halls) if len(rep.halls) < 4 else 'county'}-"
                                 f"{rep.date_from}-{rep.date_to}.csv")


def _daily(request: Request, principal, hall: str | None, date: str | None) -> DailyReport:
    halls = pick_halls(request, principal, hall)
    if len(halls) != 1:
        raise ApiError(422, "hall", "a daily report is one hall's: give its code", "invalid_input")
    day = _date(date, "date") or today_of(request)
    return daily_reports.daily(request.app.state.county.db, halls[0], day)


@router.get("/daily", response_model=DailyReport,
            summary="日报: a hall's day as frozen at closing time (with its latest numbered correction), "
                    "or today's live figures marked provisional",
            description="date defaults to today, hall to yours. A frozen report never changes; tickets or "
                        "ratings of that day that arrive later make correction 1, 2, ... " + RATES)
def daily(request: Request, hall: HallQ = None, date: DateQ = None, principal=Depends(readers)) -> DailyReport:
    return _daily(request, principal, hall, date)


@router.get("/daily.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}},
            summary="The daily report as CSV (UTF-8 with BOM)")
def daily_csv(request: Request, hall: HallQ = None, date: DateQ = None, principal=Depends(readers)) -> Response:
    d = _daily(request, principal, hall, date)
    note = ("临时数据 provisional (not yet frozen)" if d.provisional else
            f"已冻结 frozen {time.strftime('%Y-%m-%d %H:%M', time.gmtime(d.frozen_at))} UTC"
            + (f"; 更正 correction {d.correction}" if d.correction else ""))
    return _csv(report_csv(d.report, f"日报 daily report {d.hall_name}", note), f"daily-{d.hall}-{d.date}.csv")


@router.post("/daily/freeze", response_model=DailyReport,
             summary="Freeze a day's report now (on demand, before closing time); a frozen day stays as it is")
def freeze(request: Request, hall: HallQ = None, date: DateQ = None,
           act: Act = audited("report.freeze", *SUPERVISORS)) -> DailyReport:
    halls = pick_halls(request, act.principal, hall)
    if len(halls) != 1:
        raise ApiError(422, "hall", "a daily report is one hall's: give its code", "invalid_input")
    day = _date(date, "date") or today_of(request)
    if day > today_of(request):
        raise ApiError(422, "date", "a day that has not begun cannot be frozen", "invalid_input")
    act.note(f"{halls[0].code} {day}")
    daily_reports.freeze(request.app.state.county.db, halls[0], day, reason="on demand")
    return daily_reports.daily(request.app.state.county.db, halls[0], day)


@router.get("/daily/halls", response_model=list[DailyListItem],
            summary="Every hall's 日报 for a day (the county's list): reported (frozen) or not yet",
            description="One item per hall the caller may see (a hall's own staff: their hall; county users: "
                        "every hall), in hall order; served and 满意率 from the frozen report (its latest "
                        "correction), null for a hall that has not reported. date defaults to today.")
def daily_halls(request: Request, date: DateQ = None, principal=Depends(readers)) -> list[DailyListItem]:
    day = _date(date, "date") or today_of(request)
    engine = request.app.state.county.db
    items = [daily_reports.list_item(engine, h, day) for h in visible_halls(request, principal)]
    if principal.county:  # and the halls that report from their own hall server (server/county_inbox.py)
        from . import county_inbox

        items += [DailyListItem(**county_inbox.daily_item(engine, h["code"], h["name"], day.isoformat()))
                  for h in county_inbox.linked(engine)]
    return items
