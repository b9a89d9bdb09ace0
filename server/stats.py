"""A day's statistics per service, window and staff member.

Wait = first call minus issue time (a transferred visitor's continuation keeps
the original issue time, so its wait includes the first window's service).
Service time = finish minus start (start is the call when 开始办理 was skipped).
"""

from __future__ import annotations

import csv
import io
import math
from statistics import mean

import sqlalchemy as sa

from kiosk.domain import Hall
from kiosk.storage.schema import tickets

from .models import StatRow, StatsOut
from .schema import users


def p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank


def _row(key: str, name: str, rows: list) -> StatRow:
    waits = [r.called_at - r.issued_at for r in rows if r.called_at is not None]
    services = [r.finished_at - r.started_at for r in rows
                if r.status == "done" and r.finished_at is not None and r.started_at is not None]
    return StatRow(key=key, name=name, tickets=len(rows), served=sum(r.status == "done" for r in rows),
                   no_show=sum(r.status == "no_show" for r in rows), waiting=sum(r.status == "waiting" for r in rows),
                   mean_wait_s=round(mean(waits), 1) if waits else None,
                   p90_wait_s=round(p90(waits), 1) if waits else None,
                   mean_service_s=round(mean(services), 1) if services else None)


def day_stats(engine: sa.Engine, hall: Hall, day: str) -> StatsOut:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(tickets.c.service, tickets.c.window, tickets.c.staff, tickets.c.status,
                                      tickets.c.issued_at, tickets.c.called_at, tickets.c.started_at,
                                      tickets.c.finished_at)
                            .where(tickets.c.hall == hall.code, tickets.c.day == day,
                                   tickets.c.status != "cancelled")).all()
        names = {u.username: u.display_name or u.username
                 for u in conn.execute(sa.select(users.c.username, users.c.display_name))}
    by_service = [_row(s.code, s.name, [r for r in rows if r.service == s.code]) for s in hall.services]
    known = {s.code for s in hall.services}
    by_service += [_row(code, code, [r for r in rows if r.service == code])
                   for code in sorted({r.service for r in rows} - known)]
    called = [r for r in rows if r.window is not None and r.called_at is not None]
    by_window = [_row(str(w.number), f"{w.number}号 {w.name}", [r for r in called if r.window == w.number])
                 for w in hall.windows]
    by_staff = [_row(name, names.get(name, name), [r for r in called if r.staff == name])
                for name in sorted({r.staff for r in called if r.staff})]
    return StatsOut(date=day, totals=_row("all", "合计", rows), by_service=by_service, by_window=by_window,
                    by_staff=by_staff)


HEADERS = ["分组 group", "键 key", "名称 name", "取号 tickets", "办结 served", "过号 no_show", "等候中 waiting",
           "平均等候秒 mean_wait_s", "P90等候秒 p90_wait_s", "平均办理秒 mean_service_s"]


def to_csv(stats: StatsOut) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 Chinese correctly only with the BOM
    writer = csv.writer(out)
    writer.writerow(["日期 date", stats.date])
    writer.writerow(HEADERS)
    for group, rows in (("service", stats.by_service), ("window", stats.by_window), ("staff", stats.by_staff),
                        ("total", [stats.totals])):
        for r in rows:
            writer.writerow([group, r.key, r.name, r.tickets, r.served, r.no_show, r.waiting,
                             "" if r.mean_wait_s is None else r.mean_wait_s,
                             "" if r.p90_wait_s is None else r.p90_wait_s,
                             "" if r.mean_service_s is None else r.mean_service_s])
    return out.getvalue()
