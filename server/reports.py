"""A period report with names: ``period_figures`` (SQL) laid out per hall, day, service, window and staff.

Rows come in the hall's order (services and windows as configured, then any
code the data holds that the hall no longer has); staff by name. A report of
several halls (county-wide) prefixes keys with ``HALL/`` and names with the
hall's name. Short ranges (up to ``EVERY_DAY_UP_TO`` days) list every day so
a chart shows the gaps; longer ones only the days with data.
"""

from __future__ import annotations

import time as _time
from datetime import date, timedelta

import sqlalchemy as sa

from kiosk.domain import Hall
from kiosk.ratings import LEVELS
from kiosk.storage.db import reader

from .period_stats import RATING_RATE, SATISFACTION_RATE, empty_row, period_figures
from .report_models import PeriodReport, ReportRow
from .schema import users

EVERY_DAY_UP_TO = 400  # a year's daily line has every day

DEFINITIONS = {
    "rating_rate": RATING_RATE,
    "satisfaction_rate": SATISFACTION_RATE,
    "wait": "等候 = 首次叫号时间 − 取号时间 (first call minus issue time); p90 = nearest rank",
    "service_time": "办理时长 = 办结时间 − 开始办理时间 (finish minus start; the call when 开始办理 was skipped)",
    "issued": "取号 = 群众取得的号 (a transfer keeps its number and is not a new ticket)",
    "overdue": "逾期 = 未回访且已过整改期限 (not called back and past the due day)",
}


def staff_names(engine: sa.Engine) -> dict[str, tuple[str, str]]:
    """{username: (display name, 工号)}."""
    with reader(engine) as conn:
        return {u.username: (u.display_name or u.username, u.staff_no or "")
                for u in conn.execute(sa.select(users.c.username, users.c.display_name, users.c.staff_no))}


def _row(key: str, name: str, hall: str | None, figures: dict, staff_no: str | None = None) -> ReportRow:
    return ReportRow(key=key, name=name, hall=hall, staff_no=staff_no, **figures)


def period_report(engine: sa.Engine, halls: list[Hall], start: date, end: date, *, today: date,
                  now: float | None = None, names: dict | None = None) -> PeriodReport:
    now = _time.time() if now is None else now
    names = staff_names(engine) if names is None else names
    codes = [h.code for h in halls]
    by_code = {h.code: h for h in halls}
    many = len(halls) > 1
    dims = ("total", "hall", "day", "service", "window", "staff") + (("alldays",) if many else ())
    fig = period_figures(engine, codes, start, end, today=today, now=now, timezone=halls[0].timezone,
                         dimensions=dims)

    def label(hall: str, key, name: str) -> tuple[str, str]:
        if not many:
            return str(key), name
        return f"{hall}/{key}", f"{by_code[hall].name if hall in by_code else hall} {name}"

    def ordered(dim: str, configured) -> list[ReportRow]:
        """configured(hall) -> [(value, name)]; then values the data holds beyond them."""
        got = fig[dim]
        out = []
        for h in halls:
            seen = set()
            for value, name in configured(h):
                seen.add(value)
                figures = got.get((h.code, value))
                if figures is None:
                    figures = dict(empty_row(), **({"issued": None, "paused_s": 0.0} if dim == "window" else {}))
                out.append(_row(*label(h.code, value, name), h.code, figures))
            for (hc, value) in sorted((k for k in got if k[0] == h.code and k[1] not in seen),
                                      key=lambda k: (k[1] is None, str(k[1]))):
                out.append(_row(*label(h.code, value, _unknown(dim, value)), h.code, got[(hc, value)]))
        return out

    by_service = ordered("service", lambda h: [(s.code, s.name) for s in h.services])
    by_window = ordered("window", lambda h: [(w.number, f"{w.number}号 {w.name}") for w in h.windows])

    by_staff = []
    for (hc, user), f in sorted(fig["staff"].items(),
                                key=lambda kv: (kv[0][0], kv[0][1] is None, names.get(kv[0][1], (kv[0][1] or "",))[0])):
        name, no = names.get(user, (user or "未记录人员", ""))
        by_staff.append(_row(*label(hc, user or "", name), hc, f, no or None))

    days = fig["alldays"] if many else {d: f for (_, d), f in fig["day"].items()}
    if (end - start).days < EVERY_DAY_UP_TO:
        wanted = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    else:
        wanted = sorted(d[0] if many else d for d in days)
    by_day = [_row(d, d, None if many else codes[0], days.get((d,) if many else d, empty_row())) for d in wanted]

    by_hall = [_row(h.code, h.name, h.code, fig["hall"].get((h.code,), empty_row())) for h in halls]
    return PeriodReport(halls=codes, hall_names={h.code: h.name for h in halls}, date_from=start.isoformat(),
                        date_to=end.isoformat(), as_of=today.isoformat(), generated_at=now,
                        definitions=DEFINITIONS, level_names={str(k): v for k, v in LEVELS.items()},
                        total=_row("all", "合计", None, fig["total"][()]), by_hall=by_hall, by_day=by_day,
                        by_service=by_service, by_window=by_window, by_staff=by_staff)


def _unknown(dim: str, value) -> str:
    if dim == "window":
        return f"{value}号 (已删除)"
    return f"{value} (已删除)"
