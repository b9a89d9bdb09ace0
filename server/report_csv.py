"""A period or daily report as CSV: UTF-8 with a BOM (Excel opens Chinese right), one row per group.

The ``csv`` module quotes every name holding a comma, quote or line break,
so a staff name such as ``李四, "老李"`` stays in its cell. Rates are
percentages with one decimal; times are seconds.
"""

from __future__ import annotations

import csv
import io

from .report_models import PeriodReport, ReportRow

STATES = ("open", "rectified", "called_back")
HEADERS = ["分组 group", "键 key", "名称 name", "大厅 hall", "工号 staff_no", "取号 issued", "办结 served",
           "过号 no_show", "取消 cancelled", "转出 transferred", "未完成 open", "平均等候秒 mean_wait_s",
           "P90等候秒 p90_wait_s", "平均办理秒 mean_service_s", "办理时长秒 serving_s", "暂停时长秒 paused_s",
           "非常满意 5", "满意 4", "基本满意 3", "不满意 2", "非常不满意 1", "已评价 rated", "未评价 unrated",
           "差评 bad", "评议率 rating_rate", "满意率 satisfaction_rate", "差评待整改 open", "已整改 rectified",
           "已回访 called_back", "逾期 overdue", "其他状态 other_states"]


def _n(x) -> str | int | float:
    return "" if x is None else x


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.1f}%"


def _line(group: str, r: ReportRow) -> list:
    other = {k: v for k, v in r.followups.items() if k not in (*STATES, "overdue") and v}
    return [group, r.key, r.name, _n(r.hall), _n(r.staff_no), _n(r.issued), r.served, r.no_show, r.cancelled,
            r.transferred, r.open, _n(r.mean_wait_s), _n(r.p90_wait_s), _n(r.mean_service_s), r.serving_s,
            _n(r.paused_s), *[r.levels[k] for k in ("5", "4", "3", "2", "1")], r.rated, r.unrated, r.bad,
            _pct(r.rating_rate), _pct(r.satisfaction_rate), *[r.followups.get(k, 0) for k in STATES],
            r.followups.get("overdue", 0), "; ".join(f"{k}={v}" for k, v in sorted(other.items()))]


def report_csv(rep: PeriodReport, title: str = "统计报表 period report", note: str = "") -> str:
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow([title, f"{rep.date_from} 至 {rep.date_to}", "、".join(rep.hall_names[h] for h in rep.halls)])
    if note:
        w.writerow([note])
    for text in rep.definitions.values():
        w.writerow([text])
    w.writerow(HEADERS)
    w.writerow(_line("total", rep.total))
    for group, rows in (("hall", rep.by_hall if len(rep.halls) > 1 else []), ("day", rep.by_day),
                        ("service", rep.by_service), ("window", rep.by_window), ("staff", rep.by_staff)):
        for r in rows:
            w.writerow(_line(group, r))
    return out.getvalue()
