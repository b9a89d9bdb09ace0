"""The county side of a linked hall: link codes, linked halls and what they push (migration component ``county_inbox``).

A township that runs its own hall server links it to the county server with a
one-time code the county made for that hall (``make_code``, the command
``kiosk admin county-link-code``). Spending the code (``link``) gives the hall
server its own token; the county knows the hall by the code it chose, whatever
the hall server calls itself, and every event the token pushes belongs to that
hall (a payload never names the hall it lands in).

Exactly once: every pushed event has an idempotency key. ``apply`` records the
key (``county_received``) and applies the event in one transaction, so a key
already recorded is a ``duplicate`` and changes nothing, and a county killed in
the middle of a batch keeps either both or neither.

What lands where: ratings go into the county's ``ratings`` table and follow-ups
into ``rating_followups`` (``hall`` = the linked hall's code), so statistics and
exports read a linked hall like a hosted one; the names only the hall server
knows (window, staff and 工号, service, channel) go into ``county_rating_meta``;
daily reports into ``county_reports`` (one row per hall, day and revision).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kiosk.ratings.tables import followups as followup_table
from kiosk.ratings.tables import ratings as rating_table
from kiosk.storage.db import reader
from kiosk.storage.schema import migrate

from .models import HALL_CODE_PATTERN
from .schema import hall_settings

CODE_TTL_S = 7 * 86400
HALL_CODE_RE = re.compile(HALL_CODE_PATTERN)
KINDS = ("rating", "followup", "report")
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# follow-up states in the order a case moves; a snapshot never moves a stored case back
FOLLOWUP_RANK = {"open": 0, "rectified": 1, "called_back": 2, "rejected": 3}

metadata = sa.MetaData()

linked_halls = sa.Table(
    "county_linked_halls", metadata,
    sa.Column("code", sa.String(32), primary_key=True),  # the county's code for the hall
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), unique=True),
    sa.Column("remote_code", sa.String(32)),  # what the hall server calls itself
    sa.Column("linked_at", sa.Float),
    sa.Column("last_push_at", sa.Float),
    sa.Column("last_report_at", sa.Float),
    sa.Column("last_report_day", sa.String(10)),
)

link_codes = sa.Table(
    "county_link_codes", metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float),
)

received = sa.Table(
    "county_received", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
)

reports = sa.Table(
    "county_reports", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),  # 0: the report; 1, 2 ...: numbered corrections
    sa.Column("payload", sa.Text, nullable=False),  # JSON, as the hall server sent it
    sa.Column("received_at", sa.Float, nullable=False),
)

rating_meta = sa.Table(
    "county_rating_meta", metadata,
    sa.Column("rating_id", sa.String(32), primary_key=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("meta", sa.Text, nullable=False),  # JSON: window_name, staff_name, staff_no, service_name, channel ...
)


def _v1(conn: sa.Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


MIGRATIONS = [_v1]


def prepare(engine: sa.Engine) -> None:
    from kiosk.ratings import RatingStore

    RatingStore(engine, "")  # the rating tables exist (migration component "ratings")
    migrate(engine, "county_inbox", MIGRATIONS)


class LinkError(Exception):
    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message)
        self.field, self.status = field, status


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _normalise(code: str) -> str:
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


# ------------------------------------------------------------------ linking

def make_code(engine: sa.Engine, hall: str, name: str, now: float | None = None) -> tuple[str, float]:
    """A one-time code for the hall server of ``hall`` (the county's code for it), valid ``CODE_TTL_S``."""
    if not HALL_CODE_RE.match(hall or ""):
        raise LinkError("hall", f"'{hall}': use 1-32 lowercase letters, digits, '_' or '-'")
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise LinkError("name", "give the hall's name (1-100 characters), e.g. 某某镇便民服务中心")
    with reader(engine) as conn:
        if conn.execute(sa.select(hall_settings.c.code).where(hall_settings.c.code == hall)).first():
            raise LinkError("hall", f"'{hall}' is a hall this server hosts; a linked hall needs a code of its own",
                            409)
    now = time.time() if now is None else now
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    code = _normalise(raw)
    with engine.begin() as conn:
        conn.execute(link_codes.insert().values(code_hash=digest(code), hall=hall, name=name, created_at=now,
                                                expires_at=now + CODE_TTL_S))
    return code, now + CODE_TTL_S


def link(engine: sa.Engine, code: str, remote_code: str = "", now: float | None = None) -> tuple[str, str, str]:
    """Spend a one-time code; returns (hall code, hall name, token). A hall linked before gets a new token."""
    now = time.time() if now is None else now
    h, token = digest(_normalise(code)), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        spent = conn.execute(link_codes.update().where(link_codes.c.code_hash == h, link_codes.c.used_at.is_(None),
                                                       link_codes.c.expires_at > now).values(used_at=now)).rowcount
        if not spent:  # the conditional update is the one-time guarantee
            raise LinkError("code", "unknown, used or expired county link code", 403)
        row = conn.execute(sa.select(link_codes.c.hall, link_codes.c.name).where(link_codes.c.code_hash == h)).one()
        values = dict(name=row.name, token_hash=digest(token), remote_code=(remote_code or "")[:32], linked_at=now)
        if not conn.execute(linked_halls.update().where(linked_halls.c.code == row.hall).values(**values)).rowcount:
            conn.execute(linked_halls.insert().values(code=row.hall, **values))
    return row.hall, row.name, token


def hall_of(engine: sa.Engine, token: str) -> str | None:
    """The linked hall a token pushes for, if any."""
    if not token or len(token) > 200:
        return None
    with reader(engine) as conn:
        return conn.execute(sa.select(linked_halls.c.code).where(linked_halls.c.token_hash == digest(token))).scalar()


@dataclass(frozen=True)
class Outcome:
    key: str
    outcome: str  # applied | duplicate | rejected
    field: str | None = None
    error: str | None = None


# ------------------------------------------------------------------ applying

def apply(engine: sa.Engine, hall: str, events: list[dict], now: float | None = None) -> list[Outcome]:
    """Apply a batch from the hall server of ``hall``, each event exactly once, in order.

    One transaction for the batch (one durable commit), a savepoint per event: a
    refused event leaves the others applied, and a county killed before the
    commit has applied none of them (the hall server sends them again).
    """
    out = []
    at = time.time() if now is None else now
    with engine.begin() as conn:
        for i, event in enumerate(events):
            key, kind, payload = event.get("key"), event.get("kind"), event.get("payload")
            try:
                with conn.begin_nested():
                    conn.execute(received.insert().values(hall=hall, key=key, kind=kind, received_at=at))
                    _APPLY[kind](conn, hall, payload, at)
                out.append(Outcome(key, "applied"))
            except IntegrityError:
                seen = conn.execute(sa.select(received.c.key).where(received.c.hall == hall,
                                                                    received.c.key == key)).first()
                out.append(Outcome(key, "duplicate") if seen is not None else
                           Outcome(key, "rejected", f"events[{i}].payload", "conflicts with a stored row"))
            except (KeyError, TypeError, ValueError) as exc:
                out.append(Outcome(key, "rejected", f"events[{i}].payload", f"unreadable {kind}: {exc}"))
        conn.execute(linked_halls.update().where(linked_halls.c.code == hall).values(last_push_at=at))
    return out


def _rating(conn: sa.Connection, hall: str, p: dict, at: float) -> None:
    level = p["level"]
    if level is not None and level not in (1, 2, 3, 4, 5):
        raise ValueError("level must be 1-5 or null")
    if conn.execute(sa.select(rating_table.c.id).where(rating_table.c.id == p["id"])).first():
        return  # sent again under another key (a rebuilt hall-side outbox): kept once
    conn.execute(rating_table.insert().values(
        id=p["id"], hall=hall, key=_stored_key(hall, str(p["key"])), day=p["day"], level=level,
        reasons=json.dumps(list(p.get("reasons") or []), ensure_ascii=False), phone=None,
        ticket_id=p.get("ticket_id"), ticket_number=p.get("ticket_number"), window=int(p["window"]),
        staff=p.get("staff"), service=p.get("service"), walk_in=bool(p.get("walk_in")), terminal=p.get("terminal"),
        created_at=float(p["created_at"])))
    meta = {k: p.get(k) for k in ("window_name", "staff_name", "staff_no", "service_name", "item_code", "channel")}
    conn.execute(rating_meta.insert().values(rating_id=p["id"], hall=hall, meta=json.dumps(meta, ensure_ascii=False)))


def _stored_key(hall: str, key: str) -> str:
    """The hall's key, prefixed with the hall so it never meets a hosted hall's key in the unique column."""
    full = f"{hall}:{key}"
    return full if len(full) <= 64 else f"{hall}:#{hashlib.sha256(key.encode()).hexdigest()[:40]}"


_FOLLOWUP_FIELDS = ("state", "due_date", "created_at", "rectified_at", "rectified_by", "rectify_note",
                    "called_back_at", "called_back_by", "callback_note", "callback_satisfied")


def _followup(conn: sa.Connection, hall: str, p: dict, at: float) -> None:
    if p["state"] not in FOLLOWUP_RANK:
        raise ValueError(f"unknown state '{p['state']}'")
    values = {f: p.get(f) for f in _FOLLOWUP_FIELDS}
    stored = conn.execute(sa.select(followup_table.c.state, followup_table.c.hall)
                          .where(followup_table.c.id == p["id"])).first()
    if stored is None:
        conn.execute(followup_table.insert().values(id=p["id"], hall=hall, rating_id=p["rating_id"], **values))
    elif stored.hall != hall:
        raise ValueError("a follow-up of another hall")
    elif FOLLOWUP_RANK[p["state"]] >= FOLLOWUP_RANK.get(stored.state, 0):
        conn.execute(followup_table.update().where(followup_table.c.id == p["id"]).values(**values))
    if p.get("verification"):
        from kiosk.ratings.verification import store_verdict

        store_verdict(conn, hall, p["rating_id"], p["verification"])


def _report(conn: sa.Connection, hall: str, p: dict, at: float) -> None:
    day, revision = str(p["day"]), int(p.get("revision", 0))
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", day):
        raise ValueError("day must be YYYY-MM-DD")
    conn.execute(reports.insert().values(hall=hall, day=day, revision=revision,
                                         payload=json.dumps(p, ensure_ascii=False), received_at=at))
    conn.execute(linked_halls.update().where(linked_halls.c.code == hall)
                 .values(last_report_at=at, last_report_day=sa.func.coalesce(
                     sa.func.max(linked_halls.c.last_report_day, day) if conn.dialect.name == "sqlite"
                     else sa.func.greatest(linked_halls.c.last_report_day, day), day)))


_APPLY = {"rating": _rating, "followup": _followup, "report": _report}


# ------------------------------------------------------------------ reading

def linked(engine: sa.Engine) -> list[dict]:
    """Every linked hall: code, name, linked_at, last_push_at, last_report_at, last_report_day, ratings."""
    counts = (sa.select(rating_table.c.hall, sa.func.count().label("n")).group_by(rating_table.c.hall).subquery())
    q = (sa.select(linked_halls.c.code, linked_halls.c.name, linked_halls.c.remote_code, linked_halls.c.linked_at,
                   linked_halls.c.last_push_at, linked_halls.c.last_report_at, linked_halls.c.last_report_day,
                   sa.func.coalesce(counts.c.n, 0).label("ratings"))
         .outerjoin(counts, counts.c.hall == linked_halls.c.code).order_by(linked_halls.c.code))
    with reader(engine) as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def today_figures(engine: sa.Engine, hall: str, timezone: str) -> dict:
    """The linked hall's ratings of today as pushed so far: ``rated_today``, ``satisfaction_rate`` (核实 applied)."""
    from kiosk.ratings import RatingStore

    rs = RatingStore(engine, hall, timezone)
    s = rs.stats(rs.today(), rs.today())
    return {"rated_today": s["total"], "satisfaction_rate": s["satisfaction_rate"]}


def daily_item(engine: sa.Engine, hall: str, name: str, day: str) -> dict:
    """A linked hall's line in the county's list of 日报 for ``day`` (the fields of the hosted halls' lines)."""
    found = day_reports(engine, hall, day)
    if not found:
        return dict(hall=hall, hall_name=name, date=day, reported=False, frozen_at=None, correction=None,
                    served=None, satisfaction_rate=None, linked=True)
    total = (found[-1].get("report") or {}).get("total") or {}
    return dict(hall=hall, hall_name=name, date=day, reported=True, frozen_at=found[0].get("made_at"),
                correction=found[-1].get("revision"), served=total.get("served"),
                satisfaction_rate=total.get("satisfaction_rate"), linked=True)


def day_reports(engine: sa.Engine, hall: str, day: str) -> list[dict]:
    """A linked hall's report for ``day`` and its corrections, oldest first."""
    with reader(engine) as conn:
        return [dict(json.loads(r.payload), received_at=r.received_at) for r in conn.execute(
            sa.select(reports.c.payload, reports.c.received_at).where(reports.c.hall == hall, reports.c.day == day)
            .order_by(reports.c.revision))]
