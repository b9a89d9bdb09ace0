"""Period statistics of one or more halls for any range of local days, aggregated in SQL.

One job: count and sum on the database, never a Python loop over the tickets
or ratings of the period: one grouped scan of the tickets (and one of the
ratings) per report at the finest grain (hall, day, service, window, staff),
whose groups are then added up per dimension; the p90 from one grouped
histogram of the waits (``_p90``). The
result is plain dicts (``period_figures``); routes, CSV and the daily report
build on it.

Definitions (also in the API documentation and on the page):

- issued (取号): tickets taken by visitors (a transfer's continuation is not a new ticket);
  cancelled ones included. Counted per day, service and hall; not per window or staff.
- served (办结), no_show (过号), cancelled (取消), transferred (转出): tickets in that state; a
  transferred visitor is counted ``transferred`` where they left and ``served`` where they finished.
  ``open``: still waiting or at a window.
- wait (等候): first call minus issue time, for every ticket that was called (no-shows included);
  mean and p90 (nearest rank, rounded down to the second; to 10 s for ranges over ``P90_DAYS_UP_TO``
  days, which also have no p90 per day). service time (办理时长): finish minus start (the call when 开始办理 was
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

import operator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from kiosk.ratings.model import BAD_LEVELS, CLOSED_STATES
from kiosk.ratings.tables import followups, ratings
from kiosk.ratings.verification import counted
from kiosk.storage.schema import migrate, tickets

from .pause_log import window_pauses

T, R, F, P = tickets, ratings, followups, window_pauses

# The reports' scans read these alone (covering), in GROUP BY order: no table lookups, no sort.
tickets_report_index = sa.Index("ix_tickets_report", T.c.hall, T.c.day, T.c.service, T.c.window, T.c.staff,
                                T.c.status, T.c.transferred_from, T.c.issued_at, T.c.called_at, T.c.started_at,
                                T.c.finished_at)
ratings_report_index = sa.Index("ix_ratings_report", R.c.hall, R.c.day, R.c.level, R.c.service, R.c.window,
                                R.c.staff, R.c.id)


def _indexes_v1(conn: sa.Connection) -> None:
    tickets_report_index.create(conn, checkfirst=True)
    ratings_report_index.create(conn, checkfirst=True)


# Who called last at a window today (the evaluator's staff on duty, ``server/api_staff.py::duty_staff``): the newest
# entry of (hall, day, window) read from the index alone, instead of every ticket of the day through
# ix_tickets_report and a sort. Partial: a ticket enters it when called, so issuing a ticket never writes it.
_called = T.c.called_at.is_not(None)
tickets_called_index = sa.Index("ix_tickets_called", T.c.hall, T.c.day, T.c.window, T.c.called_at, T.c.staff,
                                sqlite_where=_called, postgresql_where=_called)


def _indexes_v2(conn: sa.Connection) -> None:
    tickets_called_index.create(conn, checkfirst=True)


REPORT_MIGRATIONS = [_indexes_v1, _indexes_v2]


def prepare(engine: sa.Engine) -> None:
    """The reports' indexes (migration component ``reports``; after the queue's and the ratings' tables)."""
    migrate(engine, "reports", REPORT_MIGRATIONS)
DIMENSIONS = ("total", "hall", "day", "service", "window", "staff")
# also: "alldays", key (day,): every hall's day together (a county-wide day-by-day line)
LEVEL_KEYS = ("5", "4", "3", "2", "1")
P90_DAYS_UP_TO = 62  # the p90 of each day (a sort per day) only for ranges this short; means always
RATING_RATE = "评议率 = 已评价 ÷ 办结 (rated / served)"
SATISFACTION_RATE = "满意率 = (非常满意 + 满意 + 基本满意) ÷ 已评价 (levels 5+4+3 over rated; national 好差评 definition)"


def _sum(cond) -> sa.ColumnElement:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


KEY_AT = {"day": 1, "service": 2, "window": 3, "staff": 4}  # in (hall, day, service, window, staff)


def _add(groups: dict, key: tuple, values) -> None:
    a = groups.get(key)
    groups[key] = list(values) if a is None else list(map(operator.add, a, values))


def _roll_up(dims, groups, called_groups=None) -> dict:
    """{dim: {key: summed values}} from ((hall, day, service, window, staff), values) groups.

    ``called_groups`` (if given) feed the window and staff dimensions instead. Total and hall are
    summed from the (few) day rows, not from the groups again."""
    acc: dict = {d: {} for d in dims}
    by_day: dict = {}
    fine = [(acc[d], KEY_AT[d]) for d in dims if d in ("day", "service") or (d in KEY_AT and called_groups is None)]
    for head, values in groups:
        _add(by_day, (head[0], head[1]), values)
        for target, at in fine:
            if at != 1:
                _add(target, (head[0], head[at]), values)
    if called_groups is not None:
        mine = [(acc[d], KEY_AT[d]) for d in dims if d in ("window", "staff")]
        for head, values in called_groups:
            for target, at in mine:
                _add(target, (head[0], head[at]), values)
    if "day" in acc:
        acc["day"] = by_day
    for (hall, day), values in by_day.items():
        if "hall" in acc:
            _add(acc["hall"], (hall,), values)
        if "total" in acc:
            _add(acc["total"], (), values)
        if "alldays" in acc:
            _add(acc["alldays"], (day,), values)
    return acc


def _key(dim: str, hall, day, service, window, staff) -> tuple:
    return {"total": (), "hall": (hall,), "day": (hall, day), "service": (hall, service), "window": (hall, window),
            "staff": (hall, staff), "alldays": (day,)}[dim]


FIRST_CALL = sa.and_(T.c.transferred_from.is_(None), T.c.called_at.is_not(None))
WAIT = T.c.called_at - T.c.issued_at
WORK = T.c.finished_at - sa.func.coalesce(T.c.started_at, T.c.called_at)
SERVED = sa.and_(T.c.status == "done", T.c.finished_at.is_not(None))
WORKED = sa.and_(T.c.status.in_(("done", "transferred")), T.c.finished_at.is_not(None))
TICKET_SUMS = ("issued", "served", "no_show", "cancelled", "transferred", "open", "wait_n", "wait_sum", "svc_n",
               "svc_sum", "serving")


def _tickets_in(halls, start, end) -> list:
    return [T.c.hall.in_(halls), T.c.day >= start.isoformat(), T.c.day <= end.isoformat()]


def _ticket_counts(conn, halls, start, end, dims) -> dict:
    """One scan: sums per (hall, day, service, window, staff), in the order of ``ix_tickets_report`` (no sort);
    rolled up per dimension (groups, not rows). Per window and staff only what they called counts."""
    called = T.c.called_at.is_not(None)
    keys = [T.c.hall, T.c.day, T.c.service, T.c.window, T.c.staff]
    pending = T.c.status.in_(("waiting", "called", "serving"))
    q = sa.select(*keys,
                  _sum(T.c.transferred_from.is_(None)).label("issued"),
                  _sum(T.c.status == "done").label("served"),
                  _sum(T.c.status == "no_show").label("no_show"),
                  _sum(T.c.status == "cancelled").label("cancelled"),
                  _sum(T.c.status == "transferred").label("transferred"),
                  _sum(pending).label("open"),
                  _sum(FIRST_CALL).label("wait_n"),
                  sa.func.coalesce(sa.func.sum(sa.case((FIRST_CALL, WAIT))), 0).label("wait_sum"),
                  _sum(SERVED).label("svc_n"),
                  sa.func.coalesce(sa.func.sum(sa.case((SERVED, WORK))), 0).label("svc_sum"),
                  sa.func.coalesce(sa.func.sum(sa.case((WORKED, WORK))), 0).label("serving"),
                  _sum(called).label("called_n"),
                  _sum(sa.and_(called, T.c.status == "cancelled")).label("cancelled_called"),
                  _sum(sa.and_(called, pending)).label("open_called"),
                  ).where(*_tickets_in(halls, start, end)).group_by(*keys)
    n = len(TICKET_SUMS)
    i_cancelled, i_open = TICKET_SUMS.index("cancelled"), TICKET_SUMS.index("open")
    rows = []
    for row in conn.execute(q):
        values = row[5:5 + n]
        called_n, cancelled_called, open_called = row[5 + n:]
        mine = None
        if called_n:  # per window and staff: the tickets they called
            mine = list(values)
            mine[i_cancelled], mine[i_open] = cancelled_called, open_called
        rows.append((row[:5], values, mine))
    acc = _roll_up(dims, ((head, values) for head, values, _ in rows),
                   ((head, mine) for head, _, mine in rows if mine is not None))
    out: dict = {}
    for dim, groups in acc.items():
        out[dim] = {}
        for k, a in groups.items():
            m = dict(zip(TICKET_SUMS, a))
            out[dim][k] = {"issued": int(m["issued"]), "served": int(m["served"]), "no_show": int(m["no_show"]),
                           "cancelled": int(m["cancelled"]), "transferred": int(m["transferred"]),
                           "open": int(m["open"]),
                           "mean_wait_s": _r(m["wait_sum"] / m["wait_n"]) if m["wait_n"] else None,
                           "mean_service_s": _r(m["svc_sum"] / m["svc_n"]) if m["svc_n"] else None,
                           "serving_s": _r(m["serving"]) or 0.0}
    return out


def _p90(conn, halls, start, end, dims) -> dict:
    """Nearest-rank 90th percentile of the first-call waits (the ceil(0.9 n)-th smallest), per dimension.

    One grouped scan makes a histogram of whole ``step`` seconds per (hall, service, window, staff[, day]);
    rounding down keeps the order, so the rank read from it is the exact p90 rounded down to the step:
    1 s for ranges up to ``P90_DAYS_UP_TO`` days (which also get a p90 per day), 10 s beyond.
    """
    short = (end - start).days < P90_DAYS_UP_TO
    step = 1 if short else 10
    bucket = sa.cast(sa.func.floor(WAIT / step), sa.Integer).label("b")
    keys = [T.c.hall] + ([T.c.day] if short else []) + [T.c.service, T.c.window, T.c.staff]
    q = (sa.select(*keys, bucket, sa.func.count()).where(*_tickets_in(halls, start, end), FIRST_CALL)
         .group_by(*keys, bucket))
    hist: dict = {d: {} for d in dims if d not in ("day", "alldays") or short}
    for row in conn.execute(q):
        hall, service, window, staff = row[0], row[-5], row[-4], row[-3]
        day = row[1] if short else None
        b, n = row[-2], row[-1]
        for dim, keyed in hist.items():
            h = keyed.setdefault(_key(dim, hall, day, service, window, staff), {})
            h[b] = h.get(b, 0) + n
    out: dict = {}
    for dim, keyed in hist.items():
        out[dim] = {}
        for k, h in keyed.items():
            rank, seen = (9 * sum(h.values()) + 9) // 10, 0
            for b in sorted(h):
                seen += h[b]
                if seen >= rank:
                    out[dim][k] = float(b * step)
                    break
    return out


def _rating_counts(conn, halls, start, end, dims) -> dict:
    """Counts per level: one scan per (hall, day) in index order (day, hall, total), one per (hall, service,
    window, staff) (the other dimensions); a few hundred groups either way, added up per dimension."""
    where = [R.c.hall.in_(halls), R.c.day >= start.isoformat(), R.c.day <= end.isoformat(),
             sa.or_(R.c.level.is_(None), R.c.level.not_in(sorted(BAD_LEVELS)),  # only a bad rating can be
                    counted(R.c.id))]  # rejected on 核实: then it is kept but left out of every figure
    at = {lv: i for i, lv in enumerate(LEVEL_KEYS)}
    width = len(LEVEL_KEYS) + 1  # the five levels, then unrated

    def counts(level, n):
        if level is not None and str(level) not in at:
            return None  # not a level of the scale: counted nowhere
        values = [0] * width
        values[width - 1 if level is None else at[str(level)]] = n
        return values

    acc: dict = {d: {} for d in dims}
    if {"day", "hall", "total", "alldays"} & set(dims):
        q = sa.select(R.c.hall, R.c.day, R.c.level, sa.func.count()).where(*where).group_by(R.c.hall, R.c.day,
                                                                                            R.c.level)
        for hall, day, level, n in conn.execute(q):
            if (values := counts(level, n)) is None:
                continue
            for dim, key in (("day", (hall, day)), ("hall", (hall,)), ("total", ()), ("alldays", (day,))):
                if dim in acc:
                    _add(acc[dim], key, values)
    if {"service", "window", "staff"} & set(dims):
        keys = [R.c.hall, R.c.service, R.c.window, R.c.staff, R.c.level]
        for hall, service, window, staff, level, n in conn.execute(
                sa.select(*keys, sa.func.count()).where(*where).group_by(*keys)):
            if (values := counts(level, n)) is None:
                continue
            for dim, key in (("service", (hall, service)), ("window", (hall, window)), ("staff", (hall, staff))):
                if dim in acc:
                    _add(acc[dim], key, values)
    return {dim: {k: {"levels": dict(zip(LEVEL_KEYS, v[:width - 1])), "unrated": v[-1]} for k, v in keyed.items()}
            for dim, keyed in acc.items()}


def _followup_counts(conn, halls, start, end, dims, today: date) -> dict:
    keys = [R.c.hall, R.c.day, R.c.service, R.c.window, R.c.staff, F.c.state]
    overdue = sa.and_(F.c.state.not_in(CLOSED_STATES), F.c.due_date < today.isoformat())
    q = (sa.select(*keys, sa.func.count(), _sum(overdue))
         .select_from(F.join(R, R.c.id == F.c.rating_id))
         .where(R.c.hall.in_(halls), R.c.day >= start.isoformat(), R.c.day <= end.isoformat())
         .group_by(*keys))
    out: dict = {d: {} for d in dims}
    for hall, day, service, window, staff, state, n, late in conn.execute(q):
        for dim in dims:
            f = out[dim].setdefault(_key(dim, hall, day, service, window, staff),
                                    {"open": 0, "rectified": 0, "called_back": 0, "overdue": 0})
            f[state] = f.get(state, 0) + int(n)
            f["overdue"] += int(late)
    return out


def _pauses(conn, halls, lo: float, hi: float, now: float, dim: str) -> dict:
    if dim not in ("total", "hall", "window", "staff"):  # not per day, service or county day
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
    dims = tuple(dimensions)
    out = {}
    with engine.connect() as conn:
        counts = _ticket_counts(conn, halls, start, end, dims)
        rated = _rating_counts(conn, halls, start, end, dims)
        follow = _followup_counts(conn, halls, start, end, dims, today)
        p90 = _p90(conn, halls, start, end, dims)
        for dim in dims:
            rows: dict = {}

            def row(k):
                return rows.setdefault(k, empty_row())

            for k, v in counts[dim].items():
                row(k).update(v)
            for k, v in p90.get(dim, {}).items():
                row(k)["p90_wait_s"] = v
            for k, v in rated[dim].items():
                row(k).update(v)
            for k, v in follow[dim].items():
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
