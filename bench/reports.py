"""A year report of a busy hall: 100,000 tickets and 60,000 ratings, on SQLite and PostgreSQL.

Builds one year (2025, 250 working days, 400 tickets a day, 11 services, 14
windows, 20 staff; 5% no-shows, 3% cancelled, 4% transferred and served at a
second window, ratings on 70% of served tickets with 3% bad and their
follow-ups, two pauses per window a day) straight into the tables, then times
``server/reports.py::period_report`` for the whole year (what
``GET /api/v1/reports/period?period=year`` runs), a month and a day, best of
``--runs``.

``year_report_client_cpu_s`` is this process's CPU time of that run: on SQLite all of the work, on
PostgreSQL the client's share only; on a loaded machine it says what the wall time cannot.

Baseline (measured in the same run, same data): today's per-day statistics
code asked for the same year, i.e. ``server/stats.py``'s Python aggregation
over the year's fetched tickets (per service, window and staff) plus
``server/rating_stats.py::rating_stats`` for the year's ratings. Target
(issue 18): the year report under 1 s on both backends.
PostgreSQL comes from $KIOSK_TEST_PG_URL, else a throwaway cluster from
scripts/ci_postgres.sh; reported as null when neither works. Prints ONE JSON line.

    .venv/bin/python bench/reports.py [--tickets 100000] [--ratings 60000] [--runs 3] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import sqlalchemy as sa  # noqa: E402

from kiosk.domain import Hall, Service, Window  # noqa: E402
from kiosk.ratings import RatingStore  # noqa: E402
from kiosk.ratings.tables import followups, ratings  # noqa: E402
from kiosk.storage.db import open_engine  # noqa: E402
from kiosk.storage.schema import tickets  # noqa: E402
from server import hall_store  # noqa: E402
from server.pause_log import window_pauses  # noqa: E402
from server.reports import period_report  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
SERVICES = [("labor", "劳动保障"), ("medical", "医疗保障"), ("family", "计生服务"), ("civil", "社会救助"),
            ("land", "土地流转"), ("legal", "法律援助"), ("subsidy", "惠农补贴"), ("build", "城建规划"),
            ("petition", "信访接待"), ("general", "综合受理"), ("housing", "住房公积金")]
HALL = Hall(name="基准镇便民服务中心", code="bench", timezone="Asia/Shanghai",
            services=tuple(Service(c, n, chr(65 + i)) for i, (c, n) in enumerate(SERVICES)),
            windows=tuple(Window(i + 1, SERVICES[i % 11][1], (SERVICES[i % 11][0],)) for i in range(14)))


def working_days(year: int, n: int) -> list[date]:
    d, out = date(year, 1, 1), []
    while len(out) < n:
        if d.isoweekday() < 6:
            out.append(d)
        d += timedelta(days=1)
    return out


def build(engine, n_tickets: int, n_ratings: int, seed: int = 18) -> tuple[date, date]:
    rnd = random.Random(seed)
    days = working_days(2025, 250)
    per_day = n_tickets // len(days)
    staff = [f"staff{i:02d}" for i in range(20)]
    t_rows, r_rows, f_rows, p_rows = [], [], [], []
    done = []
    for day in days:
        open_at = datetime(day.year, day.month, day.day, 8, 30, tzinfo=TZ).timestamp()
        for i in range(per_day):
            svc = rnd.randrange(11)
            window = svc + 1 if svc < 3 or rnd.random() < 0.8 else 12 + rnd.randrange(3)
            issued = open_at + i * (8 * 3600 / per_day)
            called = issued + rnd.expovariate(1 / 600)
            started = called + 30
            finished = started + rnd.expovariate(1 / 420)
            u = rnd.random()
            status = "done" if u < 0.88 else "no_show" if u < 0.93 else "cancelled" if u < 0.96 else "transferred"
            tid = uuid.uuid4().hex
            who = staff[window % 20]
            row = dict(id=tid, hall="bench", day=day.isoformat(), service=SERVICES[svc][0],
                       number=f"{chr(65 + svc)}{i:04d}", seq=i, generation=0, status=status, window=window,
                       staff=who, issued_at=issued, called_at=called, started_at=started, finished_at=finished,
                       transferred_from=None)
            if status == "cancelled":
                row.update(window=None, staff=None, called_at=None, started_at=None, finished_at=None)
            if status == "no_show":
                row.update(started_at=None)
            t_rows.append(row)
            if status == "transferred":
                t_rows.append(dict(row, id=uuid.uuid4().hex, status="done", generation=1, service="general",
                                   window=10, staff=staff[10], transferred_from=tid, called_at=finished + 300,
                                   started_at=finished + 330, finished_at=finished + 900))
                done.append(t_rows[-1])
            elif status == "done":
                done.append(row)
        for w in range(1, 15):
            for start_h in (10, 15):
                s = open_at + (start_h - 8.5) * 3600 + rnd.randrange(600)
                p_rows.append(dict(hall="bench", window=w, staff=staff[w % 20], started_at=s,
                                   ended_at=s + rnd.randrange(300, 1200)))
    for t in rnd.sample(done, min(n_ratings, len(done))):
        u = rnd.random()
        level = None if u < 0.05 else 1 if u < 0.065 else 2 if u < 0.08 else 3 if u < 0.2 else 4 if u < 0.45 else 5
        rid = uuid.uuid4().hex
        r_rows.append(dict(id=rid, hall="bench", key=rid, day=t["day"], level=level,
                           reasons='["attitude"]' if level in (1, 2) else "[]", ticket_id=t["id"],
                           ticket_number=t["number"], window=t["window"], staff=t["staff"], service=t["service"],
                           walk_in=False, created_at=t["finished_at"] + 5))
        if level in (1, 2):
            due = date.fromisoformat(t["day"]) + timedelta(days=21)
            f_rows.append(dict(id=uuid.uuid4().hex, hall="bench", rating_id=rid,
                               state=rnd.choice(("open", "rectified", "called_back")), due_date=due.isoformat(),
                               created_at=t["finished_at"] + 5))
    with engine.begin() as conn:
        for table, rows in ((tickets, t_rows), (ratings, r_rows), (followups, f_rows), (window_pauses, p_rows)):
            for i in range(0, len(rows), 5000):
                conn.execute(table.insert(), rows[i:i + 5000])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return days[0], days[-1]


def baseline_year(engine, start: date, end: date) -> None:
    """Today's code for the same figures: server/stats.py over the year's tickets, rating_stats for the ratings."""
    from server import stats
    from server.rating_stats import rating_stats

    with engine.connect() as conn:
        rows = conn.execute(sa.select(tickets.c.service, tickets.c.window, tickets.c.staff, tickets.c.status,
                                      tickets.c.issued_at, tickets.c.called_at, tickets.c.started_at,
                                      tickets.c.finished_at)
                            .where(tickets.c.hall == "bench", tickets.c.day >= start.isoformat(),
                                   tickets.c.day <= end.isoformat())).all()
    stats._row("all", "all", rows)
    for s in HALL.services:
        stats._row(s.code, s.name, [r for r in rows if r.service == s.code])
    for w in HALL.windows:
        stats._row(str(w.number), w.name, [r for r in rows if r.window == w.number])
    for who in {r.staff for r in rows if r.staff}:
        stats._row(who, who, [r for r in rows if r.staff == who])
    rating_stats(RatingStore(engine, "bench"), HALL, {}, start, end)


def best(fn, runs: int, cpu: list | None = None) -> float:
    """Best wall time of ``runs``; ``cpu`` gets this process's CPU seconds of that run (SQLite works in-process)."""
    times = []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    wall, used = min(times)
    if cpu is not None:
        cpu.append(round(used, 3))
    return round(wall, 3)


def measure(url: str, n_tickets: int, n_ratings: int, runs: int) -> dict:
    engine = open_engine(url)
    try:
        hall_store.prepare(engine)
        RatingStore(engine, "bench")
        t0 = time.perf_counter()
        start, end = build(engine, n_tickets, n_ratings)
        built = time.perf_counter() - t0
        with engine.connect() as conn:
            n_t = conn.execute(sa.select(sa.func.count()).select_from(tickets)).scalar()
            n_r = conn.execute(sa.select(sa.func.count()).select_from(ratings)).scalar()
        year = date(2025, 1, 1), date(2025, 12, 31)
        names = {f"staff{i:02d}": (f"职员{i}", f"{i:04d}") for i in range(20)}

        def report(a, b):
            return lambda: period_report(engine, [HALL], a, b, today=date(2026, 1, 5), names=names)

        rep = period_report(engine, [HALL], *year, today=date(2026, 1, 5), names=names)
        cpu: list = []
        year_s = best(report(*year), runs, cpu)
        return {"tickets": n_t, "ratings": n_r, "build_s": round(built, 1),
                "year_report_s": year_s, "year_report_client_cpu_s": cpu[0],
                "month_report_s": best(report(date(2025, 6, 1), date(2025, 6, 30)), runs),
                "day_report_s": best(report(start, start), runs),
                "baseline_year_s": best(lambda: baseline_year(engine, *year), max(1, runs - 1)),
                "check": {"issued": rep.total.issued, "served": rep.total.served, "rated": rep.total.rated,
                          "satisfaction_rate": rep.total.satisfaction_rate, "rating_rate": rep.total.rating_rate}}
    finally:
        engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--ratings", type=int, default=60_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-postgres", action="store_true")
    a = ap.parse_args()
    out = {"bench": "reports", "target_year_report_s": 1.0,
           "baseline": "server/stats.py Python aggregation over the year's tickets + server/rating_stats.py "
                       "rating_stats for the year (today's code asked for the same year)"}
    out["loadavg_1m_at_start"] = round(os.getloadavg()[0], 1)
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = measure(f"sqlite:///{tmp}/bench.db", a.tickets, a.ratings, a.runs)
    out["postgres"] = None
    if not a.no_postgres:
        from test_server_support import fresh_pg_database, pg_base_url

        base = pg_base_url()
        if base:
            url, drop = fresh_pg_database(base)
            try:
                out["postgres"] = measure(url, a.tickets, a.ratings, a.runs)
            finally:
                drop()
    out["loadavg_1m_at_end"] = round(os.getloadavg()[0], 1)  # the machine is shared: read figures with this
    out["cpus"] = os.cpu_count()
    for backend in ("sqlite", "postgres"):
        if out[backend]:
            out[backend]["meets_target"] = out[backend]["year_report_s"] < out["target_year_report_s"]
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
