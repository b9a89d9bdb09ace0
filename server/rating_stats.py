"""Rating statistics for a range of local days: totals and per day, window, staff and service; CSV.

满意率 (satisfaction_rate) = levels 3-5 over all rated visits; unrated visits
(no answer before the timeout) are counted apart and never as satisfied.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime, timedelta, tzinfo

from kiosk.domain import Hall
from kiosk.ratings.model import LEVELS
from kiosk.ratings.stats import empty_stats
from kiosk.ratings.store import RatingStore

from .rating_models import RatingOut, RatingStatsOut, RatingStatsRow

EVERY_DAY_UP_TO = 62  # ranges this long list every day (a chart needs the gaps); longer ones only rated days


def _rate(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _row(key, name: str, s: dict) -> RatingStatsRow:
    return RatingStatsRow(key="" if key is None else str(key), name=name,
                          levels={str(k): v for k, v in s["levels"].items()}, total=s["total"],
                          unrated=s["unrated"], satisfied=s["satisfied"], bad=s["bad"],
                          satisfaction_rate=_rate(s["satisfaction_rate"]))


def satisfaction_note(rejected: int) -> str:
    note = "满意率 = (非常满意+满意+基本满意) / 已评价，未评价不计入"
    if rejected:
        note += f"；经核实不属实的差评 {rejected} 条不计入（保留在评价明细中）"
    return note


def rating_stats(rs: RatingStore, hall: Hall, names: dict, start: date, end: date, window: int | None = None,
                 staff: str | None = None, service: str | None = None) -> RatingStatsOut:
    f = dict(window=window, staff=staff, service=service)
    total = rs.stats(start, end, **f)

    days = rs.breakdown("day", start, end, **f)
    if (end - start).days < EVERY_DAY_UP_TO:
        keys = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    else:
        keys = sorted(days)
    by_day = [_row(d, d, days.get(d, empty_stats())) for d in keys]

    wins = rs.breakdown("window", start, end, **f)
    by_window = [_row(w.number, f"{w.number}号 {w.name}", wins.get(w.number, empty_stats()))
                 for w in hall.windows if window is None or w.number == window]
    known = {w.number for w in hall.windows}
    by_window += [_row(n, f"{n}号", wins[n]) for n in sorted(set(wins) - known)]

    people = rs.breakdown("staff", start, end, **f)
    by_staff = [_row(u, names[u][0] if u in names else (u or "未记录人员"), people[u])
                for u in sorted(people, key=lambda u: (u is None, u or ""))]

    svcs = rs.breakdown("service", start, end, **f)
    by_service = [_row(s.code, s.name, svcs.get(s.code, empty_stats()))
                  for s in hall.services if service is None or s.code == service]
    codes = {s.code for s in hall.services}
    by_service += [_row(c, c, svcs[c]) for c in sorted(c for c in svcs if c is not None and c not in codes)]
    if None in svcs:
        by_service.append(_row(None, "未关联业务 (窗口评价)", svcs[None]))

    reason_names = dict(hall.rating_reasons)
    counts = Counter(code for r in rs.list(start, end, bad_only=True, limit=1_000_000, **f) for code in r.reasons)
    reasons = [{"code": c, "name": reason_names.get(c, c), "count": n} for c, n in counts.most_common()]

    return RatingStatsOut(date_from=start.isoformat(), date_to=end.isoformat(), window=window, staff=staff,
                          service=service, levels={str(k): v for k, v in total["levels"].items()},
                          level_names={str(k): v for k, v in LEVELS.items()}, total=total["total"],
                          unrated=total["unrated"], satisfied=total["satisfied"], bad=total["bad"],
                          satisfaction_rate=_rate(total["satisfaction_rate"]), rejected=total.get("rejected", 0),
                          note=satisfaction_note(total.get("rejected", 0)), by_day=by_day, by_window=by_window,
                          by_staff=by_staff, by_service=by_service, reasons=reasons)


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.1f}%"


def stats_csv(stats: RatingStatsOut, bad: list[RatingOut], tz: tzinfo | None = None) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 Chinese correctly only with the BOM
    w = csv.writer(out)
    w.writerow(["评价统计 ratings", f"{stats.date_from} 至 {stats.date_to}"])
    w.writerow(["分组 group", "键 key", "名称 name"] + [f"{LEVELS[k]} {k}" for k in sorted(LEVELS, reverse=True)]
               + ["已评价 total", "未评价 unrated", "满意 satisfied", "差评 bad", "满意率 satisfaction_rate"])
    total = RatingStatsRow(key="all", name="合计", levels=stats.levels, total=stats.total, unrated=stats.unrated,
                           satisfied=stats.satisfied, bad=stats.bad, satisfaction_rate=stats.satisfaction_rate)
    for group, rows in (("total", [total]), ("day", stats.by_day), ("window", stats.by_window),
                        ("staff", stats.by_staff), ("service", stats.by_service)):
        for r in rows:
            w.writerow([group, r.key, r.name] + [r.levels[str(k)] for k in sorted(LEVELS, reverse=True)]
                       + [r.total, r.unrated, r.satisfied, r.bad, _pct(r.satisfaction_rate)])
    w.writerow([])
    w.writerow(["差评明细 bad ratings (手机号不导出 / phone numbers are not exported)"])
    w.writerow(["日期 day", "时间 time", "评价 level", "原因 reasons", "窗口 window", "人员 staff", "业务 service",
                "号码 ticket"])
    for r in bad:
        w.writerow([r.day, datetime.fromtimestamp(r.created_at, tz).strftime("%H:%M"), r.level_name,
                    "、".join(r.reason_names), f"{r.window}号 {r.window_name}", r.staff_name or "",
                    r.service_name or "", r.ticket_number or ""])
    return out.getvalue()
