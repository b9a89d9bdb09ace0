"""The 好差评 export: ratings with their follow-up, one flat record per rating (docs/haochaping-export.md).

The format is written down field by field in ``docs/haochaping-export.md``
(``FIELDS`` here is the same list, in the same order; a test reads the
document's table and checks the export against it). CSV is UTF-8 with a BOM;
JSON carries the same records with typed values.

Unrated visits (no answer before the timeout) are not ratings and are not
exported; phone numbers never leave the hall.
"""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from kiosk.domain import Hall
from kiosk.ratings import FOLLOWUP_STATE_NAMES, LEVELS, FollowUp, Rating, RatingStore
from kiosk.ratings.verification import VERDICT_NAMES, Verdict, verdicts
from kiosk.storage.db import reader

from .schema import users
from .security_schema import terminal_scopes

FORMAT = "hall-kiosk-haochaping/1"
CHANNELS = {"pad": "窗口评价器", "kiosk": "自助终端", "qr": "扫码", "staff": "工作人员代录"}
LIST_SEPARATOR = "|"

# (field, type) in export order; the meaning of each is in docs/haochaping-export.md
FIELDS: tuple[tuple[str, str], ...] = (
    ("rating_id", "text"), ("hall_code", "text"), ("hall_name", "text"),
    ("window", "integer"), ("window_name", "text"), ("staff_no", "text"), ("staff_name", "text"),
    ("service_code", "text"), ("service_name", "text"), ("item_code", "text"), ("ticket_number", "text"),
    ("channel", "text"), ("channel_name", "text"), ("level", "integer"), ("level_name", "text"),
    ("rated_at", "datetime"), ("reasons", "list"), ("reason_names", "list"), ("bad", "boolean"),
    ("followup_state", "text"), ("followup_state_name", "text"), ("due_date", "date"), ("overdue", "boolean"),
    ("verified", "boolean"), ("verify_result", "text"), ("verify_reason", "text"), ("verified_at", "datetime"),
    ("counted", "boolean"), ("rectify_note", "text"), ("rectified_at", "datetime"),
    ("callback_note", "text"), ("callback_satisfied", "boolean"), ("called_back_at", "datetime"),
)


@dataclass(frozen=True)
class Names:
    """What turns codes into the names a province reads: the hall, staff (name, 工号), terminals' modes, guides."""

    hall: Hall
    staff: dict[str, tuple[str, str]]  # username -> (display name, 工号)
    terminal_modes: dict[str, str]  # terminal id -> enrolled mode
    items: dict[str, str]  # service code -> its one guide's id (事项), when the service has exactly one


def names_for(engine: sa.Engine, hall: Hall, guide_files: dict[str, str] | None = None) -> Names:
    with reader(engine) as conn:
        staff = {u.username: (u.display_name or u.username, u.staff_no or "")
                 for u in conn.execute(sa.select(users.c.username, users.c.display_name, users.c.staff_no))}
        modes = dict(conn.execute(sa.select(terminal_scopes.c.terminal_id, terminal_scopes.c.mode)).all())
    return Names(hall, staff, modes, service_items(guide_files or {}))


def service_items(files: dict[str, str]) -> dict[str, str]:
    """{service: guide id} for services that exactly one guide leads to (then the 事项 is known)."""
    found: dict[str, list[str]] = {}
    for path, text in files.items():
        if not path.endswith(".toml") or path.rsplit("/", 1)[-1] == "catalogue.toml":
            continue
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue
        if isinstance(data.get("id"), str) and isinstance(data.get("service"), str):
            found.setdefault(data["service"], []).append(data["id"])
    return {service: ids[0] for service, ids in found.items() if len(ids) == 1}


def channel_of(terminal: str | None, modes: dict[str, str]) -> str:
    """pad: a window's evaluator; kiosk: another terminal; staff: typed in by staff (a paper card); qr: a phone."""
    if not terminal:
        return "pad"
    if terminal.startswith("staff:"):
        return "staff"
    if terminal.startswith("qr:"):
        return "qr"
    mode = modes.get(terminal, "evaluator")
    return "pad" if mode == "evaluator" else "kiosk"


def _when(ts: float | None, tz: ZoneInfo) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def record(r: Rating, f: FollowUp | None, v: Verdict | None, names: Names, tz: ZoneInfo, today: date) -> dict:
    """One rating as an export record: {field: typed value} in ``FIELDS`` order."""
    hall = names.hall
    w = hall.window(r.window)
    svc = hall.service(r.service) if r.service else None
    reason_names = dict(hall.rating_reasons)
    staff_name, staff_no = names.staff.get(r.staff or "", (r.staff or "", ""))
    channel = channel_of(r.terminal, names.terminal_modes)
    out = {
        "rating_id": r.id, "hall_code": hall.code, "hall_name": hall.name,
        "window": r.window, "window_name": w.name if w else "", "staff_no": staff_no, "staff_name": staff_name,
        "service_code": r.service or "", "service_name": (svc.name if svc else r.service) or "",
        "item_code": names.items.get(r.service or "", ""), "ticket_number": r.ticket_number or "",
        "channel": channel, "channel_name": CHANNELS[channel], "level": r.level, "level_name": LEVELS[r.level],
        "rated_at": _when(r.created_at, tz), "reasons": list(r.reasons),
        "reason_names": [reason_names.get(c, c) for c in r.reasons], "bad": r.bad,
        "followup_state": f.state if f else "", "followup_state_name": FOLLOWUP_STATE_NAMES[f.state] if f else "",
        "due_date": f.due_date.isoformat() if f else None, "overdue": f.overdue(today) if f else False,
        "verified": v is not None, "verify_result": v.verdict if v else "",
        "verify_reason": v.reason if v else "", "verified_at": _when(v.at, tz) if v else None,
        "counted": not (v is not None and v.verdict == "rejected"),
        "rectify_note": (f.rectify_note or "") if f else "", "rectified_at": _when(f.rectified_at, tz) if f else None,
        "callback_note": (f.callback_note or "") if f else "",
        "callback_satisfied": f.callback_satisfied if f else None,
        "called_back_at": _when(f.called_back_at, tz) if f else None,
    }
    return {name: out[name] for name, _ in FIELDS}


def export_records(rs: RatingStore, names: Names, start: date, end: date) -> list[dict]:
    """Every rating (rated visits only) of the hall from ``start`` to ``end`` (local days), oldest first."""
    found = [r for r in rs.list(start, end, limit=10_000_000, newest_first=False) if r.level is not None]
    cases = {f.rating_id: f for f in rs.followups(limit=10_000_000)} if any(r.bad for r in found) else {}
    judged = verdicts(rs.engine, [r.id for r in found if r.bad])
    today = rs.today()
    return [record(r, cases.get(r.id), judged.get(r.id), names, rs.tz, today) for r in found]


def csv_text(records: list[dict]) -> str:
    """UTF-8 CSV text with a BOM (Excel), header = the field names; lists joined by ``|``, booleans true/false."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([name for name, _ in FIELDS])
    for rec in records:
        w.writerow([_cell(rec[name], kind) for name, kind in FIELDS])
    return out.getvalue()


def _cell(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "list":
        return LIST_SEPARATOR.join(value)
    return str(value)


def json_body(records: list[dict], hall: Hall, start: date, end: date) -> dict:
    return {"format": FORMAT, "hall_code": hall.code, "hall_name": hall.name, "from": start.isoformat(),
            "to": end.isoformat(), "count": len(records), "records": records}
