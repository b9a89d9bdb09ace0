"""Period statistics of one or more halls for any range of local days, aggregated in SQL.

One job: count and average on the database (GROUP BY, window functions for
the p90), never a Python loop over the tickets or ratings of the period. The
result is plain dicts (``period_figures``); routes, CSV and the daily report
build on it.

Definitions (also in the API documentation and on the page):

- issued (取号): tickets taken by visitors (a transfer's continuation is not a new ticket);
  cancelled ones included. Counted per day, service and hall; not per window or staff.
- served (办结), no_show (过号), cancelled (取消), transferred (转出): tickets in that state; a
  transferred visitor is counted ``transferred`` where they left and ``served`` where they finished.
  ``open``: still waiting or at a window.
- wait (等候): first call minus issue time, for every ticket that was called (no-shows included);
  mean and p90 (nearest rank). service time (办理时长): finish minus start (the call when 开始办理 was
  skipped), over served tickets. serving_s: the sum of those plus the time spent on visitors later
  transferred (a window's or staff member's time serving).
- per window / per staff member: the tickets that window or person called.
- ratings: ``levels`` {5..1}, ``rated`` (levels 1-5), ``unrated`` (no answer before the timeout).
  评议率 ``rating_rate`` = rated / served. 满意率 ``satisfaction_rate`` = (非常满意 + 满意 + 基本满意)
  / rated, the national 好差评 definition; unrated visits are in neither, nor are bad ratings rejected on
  核实 (``kiosk/ratings/verification.py``).
- follow-ups of bad ratings by state (open 待整改, rectified 已整改, called_back 已回访, any state
  added later: rejected 核实不属实), and ``overdue``: not closed (called back or rejected) and past its due
  day as of ``today``.
- paused_s (暂停时长): time the window was paused (``server/pause_log.py``), clipped to the period;
  per window and per staff member who pressed 暂停.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from kiosk.ratings.model import CLOSED_STATES
from kiosk.ratings.tables import followups, ratings
from kiosk.ratings.verification import counted
from kiosk.storage.schema import tickets

from .pause_log import window_pauses

T, R, F, P = tickets, ratings, followups, window_pauses
DIMENSIONS = ("total", "hall", "day", "service", "window", "staff")
LEVEL_KEYS = ("5", "4", "3", "2", "1")
RATING_RATE = "评议率 = 已评价 ÷ 办结 (rated / served)"
SATISFACTION_RATE = "满意率 = (非常满意 + 满意 + 基本满意) ÷ 已评价 (levels 5+4+3 over rated; national 好差评 definition)"


def _sum(cond) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _key_columns(dim: str, table) -> list:
    if dim == "total":
        return []
    if dim == "hall":
        return [table.c.hall]
    col = {"day": table.c.day, "service": table.c.service, "window": table.c.window, "staff": table.c.staff}[dim]
    return [table.c.hall, col]


def _tickets_where(halls: list[str], start: date, end: date, dim: str):
    cond = [T.c.hall.in_(halls), T.c.day >= start.isoformat(), T.c.day <= end.isoformat()]
    if dim in ("window", "staff"):
        cond.append(T.c.called_at.is_not(None))
    return cond


FIRST_CALL = sa.and_(T.c.transferred_from.is_(None), T.c.called_at.is_not(None))
WAIT = T.c.called_at - T.c.issued_at
WORK = T.c.finished_at - sa.func.coalesce(T.c.started_at, T.c.called_at)
SERVED = sa.and_(T.c.status == "done", T.c.finished_at.is_not(None))
WORKED = sa.and_(T.c.status.in_(("done", "transferred")), T.c.finished_at.is_not(None))


def _ticket_counts(conn, halls, start, end, dim) -> dict:
    keys = _key_columns(dim, T)
    q = sa.select(*keys,
                  _sum(T.c.transferred_from.is_(None)).label("issued"),
                  _sum(T.c.status == "done").label("served"),
                  _sum(T.c.status == "no_show").label("no_show"),
                  _sum(T.c.status == "cancelled").label("cancelled"),
                  _sum(T.c.status == "transferred").label("transferred"),
                  _sum(T.c.status.in_(("waiting", "called", "serving"))).label("open"),
                  sa.func.avg(sa.case((FIRST_CALL, WAIT))).label("mean_wait"),
                  sa.func.avg(sa.case((SERVED, WORK))).label("mean_service"),
                  sa.func.coalesce(sa.func.sum(sa.case((WORKED, WORK))), 0).label("serving")
                  ).where(*_tickets_where(halls, start, end, dim))
    if keys:
        q = q.group_by(*keys)
    out = {}
    for row in conn.execute(q):
        m = row._mapping
        k = tuple(m[c.name] for c in keys)
        out[k] = {"issued": int(m["issued"]), "served": int(m["served"]), "no_show": int(m["no_show"]),
                  "cancelled": int(m["cancelled"]), "transferred": int(m["transferred"]), "open": int(m["open"]),
                  "mean_wait_s": _r(m["mean_wait"]), "mean_service_s": _r(m["mean_service"]),
                  "serving_s": _r(m["serving"]) or 0.0}
    return out


def _p90(conn, halls, start, end, dim) -> dict:
    keys = _key_columns(dim, T)
    inner = sa.select(*keys, WAIT.label("w"),
                      sa.func.row_number().over(partition_by=keys or None, order_by=WAIT).label("rn"),
                      sa.func.count().over(partition_by=keys or None).label("n")
                      ).where(*_tickets_where(halls, start, end, dim), FIRST_CALL).subquery()
    ks = [inner.c[c.name] for c in keys]
    q = sa.select(*ks, inner.c.w).where(inner.c.rn == (inner.c.n * 9 + 9) // 10)  # nearest rank: ceil(0.9 n)
    return {tuple(row[:-1]): _r(row[-1]) for row in conn.execute(q)}


def _rating_counts(conn, halls, start, end, dim) -> dict:
    keys = _key_columns(dim, R)
    q = sa.select(*keys, *[_sum(R.c.level == int(lv)).label(f"l{lv}") for lv in LEVEL_KEYS],
                  _sum(R.c.level.is_(None)).label("unrated")
                  ).where(R.c.hall.in_(halls), R.c.day >= start.isoformat(), R.c.day <= end.isoformat(),
                          counted(R.c.id))  # a bad rating rejected on 核实 is kept but left out of every figure
    if keys:
        q = q.group_by(*keys)
    out = {}
    for row in conn.execute(q):
        m = row._mapping
        out[tuple(m[c.name] for c in keys)] = {"levels": {lv: int(m[f"l{lv}"]) for lv in LEVEL_KEYS},
                                               "unrated": int(m["unrated"])}
    return out


def _followup_counts(conn, halls, start, end, dim, today: date) -> dict:
    keys = _key_columns(dim, R)
    overdue = sa.and_(F.c.state.not_in(CLOSED_STATES), F.c.due_date < today.isoformat())
    q = (sa.select(*keys, F.c.state, sa.func.count().label("n"), _sum(overdue).label("overdue"))
         .select_from(F.join(R, R.c.id == F.c.rating_id))
         .where(R.c.hall.in_(halls), R.c.day >= start.isoformat(), R.c.day <= end.isoformat())
         .group_by(*keys, F.c.state))
    out: dict = {}
    for row in conn.execute(q):
        m = row._mapping
        f = out.setdefault(tuple(m[c.name] for c in keys), {"open": 0, "rectified": 0, "called_back": 0,
                                                             "overdue": 0})
        f[m["state"]] = f.get(m["state"], 0) + int(m["n"])
        f["overdue"] += int(m["overdue"])
    return out


def _pauses(conn, halls, lo: float, hi: float, now: float, dim: str) -> dict:
    if dim not in ("total", "hall", "window", "staff"):
        return {}
    end = sa.func.coalesce(P.c.ended_at, now)
    a = sa.case((P.c.started_at > lo, P.c.started_at), else_=lo)
    b = sa.case((end < hi, end), else_=hi)
    keys = {"total": [], "hall": [P.c.hall], "window": [P.c.hall, P.c.window], "staff": [P.c.hall, P.c.staff]}[dim]
    q = sa.select(*keys, sa.func.sum(b - a)).where(P.c.hall.in_(halls), P.c.started_at < hi, end > lo)
    if keys:
        q = q.group_by(*keys)
    return {tuple(row[:-1]): _r(row[-1]) or 0.0 for row in conn.execute(q)}


def _r(x) -> float | None:
    return None if x is None else round(float(x), 1)


def empty_row() -> dict:
    return {"issued": 0, "served": 0, "no_show": 0, "cancelled": 0, "transferred": 0, "open": 0,
            "mean_wait_s": None, "p90_wait_s": None, "mean_service_s": None, "serving_s": 0.0,
            "levels": {lv: 0 for lv in LEVEL_KEYS}, "rated": 0, "unrated": 0, "satisfied": 0, "bad": 0,
            "rating_rate": None, "satisfaction_rate": None,
            "followups": {"open": 0, "rectified": 0, "called_back": 0, "overdue": 0}, "paused_s": None}


def _finish(row: dict) -> dict:
    lv = row["levels"]
    row["rated"] = sum(lv.values())
    row["satisfied"] = lv["5"] + lv["4"] + lv["3"]
    row["bad"] = lv["2"] + lv["1"]
    row["rating_rate"] = round(row["rated"] / row["served"], 4) if row["served"] else None
    row["satisfaction_rate"] = round(row["satisfied"] / row["rated"], 4) if row["rated"] else None
    return row


def day_bounds(start: date, end: date, tz: str) -> tuple[float, float]:
    """Epoch seconds of the first instant of ``start`` and of the day after ``end``, local to ``tz``."""
    z = ZoneInfo(tz)
    return (datetime.combine(start, time(), z).timestamp(),
            datetime.combine(end + timedelta(days=1), time(), z).timestamp())


def period_figures(engine: sa.Engine, halls: list[str], start: date, end: date, *, today: date, now: float,
                   timezone: str = "Asia/Shanghai", dimensions=DIMENSIONS) -> dict:
    """{dimension: {key tuple: row}}; key tuples are () for total, (hall,) for hall, (hall, value) otherwise.

    Rows have every figure of ``empty_row``; a key appears when it has tickets, ratings or pauses.
    ``today`` decides which follow-ups are overdue; ``now`` closes a pause still running.
    """
    lo, hi = day_bounds(start, end, timezone)
    out = {}
    with engine.connect() as conn:
        for dim in dimensions:
            rows: dict = {}

            def row(k):
                return rows.setdefault(k, empty_row())

            for k, v in _ticket_counts(conn, halls, start, end, dim).items():
                row(k).update(v)
            for k, v in _p90(conn, halls, start, end, dim).items():
                row(k)["p90_wait_s"] = v
            for k, v in _rating_counts(conn, halls, start, end, dim).items():
                row(k).update(v)
            for k, v in _followup_counts(conn, halls, start, end, dim, today).items():
                row(k)["followups"] = v
            for k, v in _pauses(conn, halls, lo, hi, now, dim).items():
                row(k)["paused_s"] = v
            if dim == "total" and () not in rows:
                row(())
            if dim in ("window", "staff", "hall", "total"):
                for r in rows.values():
                    r["paused_s"] = r["paused_s"] or 0.0
            if dim in ("window", "staff"):
                for r in rows.values():
                    r["issued"] = None  # a window calls tickets; it does not issue them
            out[dim] = {k: _finish(r) for k, r in rows.items()}
    return out
