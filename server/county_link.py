"""The hall side of a link to the county: the link itself, a durable outbox and the thread that pushes it.

``kiosk admin link-county --db URL --server COUNTY_URL --code CODE`` spends a
one-time code the county made for this hall (``link``) and keeps the county's
address and this hall's token in the hall server's database (table
``county_link``, migration component ``county_link``). From then on the
server's ``CountyPusher`` thread:

1. collects into ``county_outbox`` every rating not sent yet (key
   ``rating:<id>``), every follow-up change (a snapshot, key
   ``followup:<id>:<state>:<verdict>``, so each change is one event) and the
   daily reports the report source gives (key ``report:<day>:<revision>``).
   Collecting twice puts nothing twice (the key is unique), so a crash between
   collecting and noting anything loses and repeats nothing;
2. pushes pending events in order, in batches, to the county's
   ``POST /api/v1/county/batch`` and marks each one as the county answers
   (``applied`` and ``duplicate`` are both delivered). The county applies each
   key once, so "at least once" from here is exactly once there;
3. waits with exponential backoff (``BACKOFF_S``, up to ``BACKOFF_MAX_S``)
   while the county is away or refuses the token; when idle it sends an empty
   push every ``HEARTBEAT_S`` so the county sees the hall is there.

Several server processes on one database (``kiosk serve --workers N``) each
run a pusher; a lease in ``county_link`` lets one of them push at a time.

The report payload is pluggable (``CountyPusher.report_source``): a callable
``(engine, hall, since) -> [(day, revision, payload)]``. The default,
``frozen_daily_reports``, sends the frozen 日报 of ``server/daily_reports.py``
and each of its numbered corrections once.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kiosk.ratings import RatingStore
from kiosk.ratings.tables import followups, ratings
from kiosk.ratings.verification import verdicts, verifications
from kiosk.storage.db import reader
from kiosk.storage.schema import migrate

from .rating_export import Names, record

log = logging.getLogger(__name__)

BATCH = 200
COLLECT_LIMIT = 2000
# The pace below can be quickened through the environment (tests that kill and restart servers:
# tests/test_county_link.py); the defaults are the product's.
BACKOFF_S = 1.0
BACKOFF_MAX_S = float(os.environ.get("KIOSK_COUNTY_BACKOFF_MAX_S", "60"))
IDLE_S = float(os.environ.get("KIOSK_COUNTY_IDLE_S", "5"))  # between rounds when everything was delivered
HEARTBEAT_S = 60.0  # with nothing to send, an empty push this often: the county sees the hall is there
# a pusher that stops renewing (a killed process) is replaced after this long
LEASE_S = float(os.environ.get("KIOSK_COUNTY_LEASE_S", "15"))
REPORT_CATCH_UP_DAYS = 31  # daily reports frozen this far back are sent (a hall linked mid-month sends the month)

metadata = sa.MetaData()

county_link = sa.Table(
    "county_link", metadata,
    sa.Column("name", sa.String(16), primary_key=True),  # always "county": one link per hall server
    sa.Column("url", sa.String(300), nullable=False),
    sa.Column("token", sa.String(200), nullable=False),  # this hall's token at the county (kept, like a terminal's)
    sa.Column("hall", sa.String(32), nullable=False),  # the county's code for this hall
    sa.Column("hall_name", sa.String(100), nullable=False),
    sa.Column("linked_at", sa.Float, nullable=False),
    # component version 2: the server process pushing now (``kiosk serve --workers N`` runs several)
    sa.Column("lease_owner", sa.String(80)),
    sa.Column("lease_until", sa.Float),
)

county_outbox = sa.Table(
    "county_outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(80), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # rating | followup | report
    sa.Column("payload", sa.Text, nullable=False),  # JSON
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("state", sa.String(10), nullable=False, server_default="pending"),  # pending | sent | rejected
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("done_at", sa.Float),
    sa.Index("ix_county_outbox_state", "state", "id"),
)


def _v1(conn: sa.Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


def _v2(conn: sa.Connection) -> None:
    """The lease columns, on a table version 1 made before they existed (a fresh one has them)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns("county_link")}
    for name, kind in (("lease_owner", "VARCHAR(80)"), ("lease_until", "FLOAT")):
        if name not in have:
            conn.execute(sa.text(f"ALTER TABLE county_link ADD COLUMN {name} {kind}"))


MIGRATIONS = [_v1, _v2]


def prepare(engine: sa.Engine) -> None:
    RatingStore(engine, "")  # rating and verification tables exist
    migrate(engine, "county_link", MIGRATIONS)


class LinkFailed(Exception):
    """One line for the person linking the hall."""


class CountyAway(Exception):
    """No useful answer from the county (unreachable, 5xx, junk, token refused): try again later."""


class CountyRefused(Exception):
    """A 4xx with the API's error body: the request itself is wrong."""

    def __init__(self, status: int, field: str | None, message: str):
        super().__init__(f"HTTP {status}: {field + ': ' if field else ''}{message}")
        self.status, self.field, self.message = status, field, message


def _post(url: str, path: str, body: dict, token: str = "", timeout=(3.0, 30.0)) -> dict:
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    import requests  # only a linked hall's pusher talks to a county: not loaded at every server start

    try:
        with requests.Session() as s:
            s.trust_env = False  # straight to the county's address, no proxy from the environment
            r = s.post(url + path, json=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise CountyAway(f"{path}: {type(exc).__name__}: {str(exc)[:160]}") from None
    if r.status_code >= 500:
        raise CountyAway(f"{path}: HTTP {r.status_code}")
    try:
        answer = r.json()
    except ValueError:
        raise CountyAway(f"{path}: HTTP {r.status_code}, not JSON: {r.text[:80]!r}") from None
    if r.status_code == 401:
        raise CountyAway(f"{path}: the county refused this hall's token ({answer.get('message')}); link again")
    if r.status_code >= 400:
        raise CountyRefused(r.status_code, answer.get("field"), str(answer.get("message", "")))
    if not isinstance(answer, dict):
        raise CountyAway(f"{path}: unexpected answer {str(answer)[:80]}")
    return answer


@dataclass(frozen=True)
class Link:
    url: str
    token: str
    hall: str
    hall_name: str
    linked_at: float


def current(engine: sa.Engine) -> Link | None:
    with reader(engine) as conn:
        row = conn.execute(sa.select(county_link).where(county_link.c.name == "county")).first()
    return Link(row.url, row.token, row.hall, row.hall_name, row.linked_at) if row else None


def link(engine: sa.Engine, server_url: str, code: str, own_hall: str, timeout_s: float = 10.0) -> Link:
    """Spend the county's one-time code; keep the county's address and this hall's token."""
    import re

    url = (server_url or "").strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", url):
        raise LinkFailed(f"--server {server_url}: not a county server address (http://HOST:PORT)")
    try:
        body = _post(url, "/api/v1/county/link", {"code": (code or "").strip(), "hall": own_hall},
                     timeout=(3.0, timeout_s))
        found = Link(url, str(body["token"]), str(body["hall"]), str(body["name"]), time.time())
    except CountyRefused as exc:
        raise LinkFailed(f"--{exc.field or 'code'}: the county refused it: {exc.message}") from None
    except CountyAway as exc:
        raise LinkFailed(f"--server {url}: cannot reach the county server: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise LinkFailed(f"--server {url}: does not answer like a county server ({exc})") from None
    prepare(engine)
    values = dict(url=found.url, token=found.token, hall=found.hall, hall_name=found.hall_name,
                  linked_at=found.linked_at)
    with engine.begin() as conn:
        if not conn.execute(county_link.update().where(county_link.c.name == "county").values(**values)).rowcount:
            conn.execute(county_link.insert().values(name="county", **values))
    return found


# ------------------------------------------------------------------ outbox

def _put(engine: sa.Engine, events: list[tuple[str, str, dict]], now: float) -> int:
    """Store events whose key is new; returns how many were new."""
    added = 0
    for key, kind, payload in events:
        try:
            with engine.begin() as conn:
                conn.execute(county_outbox.insert().values(key=key, kind=kind, created_at=now,
                                                           payload=json.dumps(payload, ensure_ascii=False)))
            added += 1
        except IntegrityError:
            pass  # collected before: nothing changes
    return added


def _unsent(key_expr) -> sa.ColumnElement:
    return ~sa.exists().where(county_outbox.c.key == key_expr)


def rating_payload(row, names: Names) -> dict:
    """A rating as the county takes it: the export record (docs/haochaping-export.md) and the stored fields."""
    from kiosk.ratings.tables import rating_from_row

    r = rating_from_row(row._mapping)
    rec = record(r, None, None, names, ZoneInfo(names.hall.timezone), date.today())
    return {"id": r.id, "key": r.key, "day": row.day, "level": r.level, "reasons": list(r.reasons),
            "ticket_id": r.ticket_id, "ticket_number": r.ticket_number, "window": r.window, "staff": r.staff,
            "service": r.service, "walk_in": r.walk_in, "terminal": r.terminal, "created_at": r.created_at,
            **{k: rec[k] for k in ("window_name", "staff_name", "staff_no", "service_name", "item_code", "channel")}}


def collect(engine: sa.Engine, names: Names, report_source: Callable | None, today: date,
            now: float | None = None) -> int:
    """Put what the county has not been sent yet into the outbox; returns the number of new events."""
    now = time.time() if now is None else now
    hall = names.hall.code
    with reader(engine) as conn:
        rows = conn.execute(sa.select(ratings).where(ratings.c.hall == hall, ratings.c.level.is_not(None),
                                                     _unsent(sa.literal("rating:") + ratings.c.id))
                            .order_by(ratings.c.created_at, ratings.c.id).limit(COLLECT_LIMIT)).all()
        cases = conn.execute(sa.select(followups, verifications.c.verdict)
                             .outerjoin(verifications, verifications.c.rating_id == followups.c.rating_id)
                             .where(followups.c.hall == hall)).all()
    events = [(f"rating:{r.id}", "rating", rating_payload(r, names)) for r in rows]
    judged = verdicts(engine, [c.rating_id for c in cases if c.verdict])
    for c in cases:
        key = f"followup:{c.id}:{c.state}:{c.verdict or '-'}"
        payload = {f: getattr(c, f) for f in ("id", "rating_id", "state", "due_date", "created_at", "rectified_at",
                                              "rectified_by", "rectify_note", "called_back_at", "called_back_by",
                                              "callback_note", "callback_satisfied")}
        payload["callback_satisfied"] = None if c.callback_satisfied is None else bool(c.callback_satisfied)
        v = judged.get(c.rating_id)
        payload["verification"] = v.to_dict() if v else None
        events.append((key, "followup", payload))
    if report_source is not None:
        for day, revision, payload in report_source(engine, hall, today - timedelta(days=REPORT_CATCH_UP_DAYS)):
            events.append((f"report:{day}:{revision}", "report", dict(payload, day=str(day), revision=revision)))
    with reader(engine) as conn:  # skip what is stored already without a write per event
        known = {k for (k,) in conn.execute(sa.select(county_outbox.c.key).where(
            county_outbox.c.key.in_([k for k, _, _ in events if not k.startswith("rating:")])))} if events else set()
    return _put(engine, [e for e in events if e[0] not in known], now)


def frozen_daily_reports(engine: sa.Engine, hall: str, since: date) -> list[tuple[str, int, dict]]:
    """The report source: the hall's frozen 日报 (``server/daily_reports.py``) from ``since`` on, not sent yet.

    Correction 0 is the report frozen at closing time; 1, 2 ... the numbered corrections late records made.
    """
    from . import daily_reports

    daily_reports.prepare(engine)
    t = daily_reports.daily_reports
    with reader(engine) as conn:
        rows = conn.execute(sa.select(t).where(
            t.c.hall == hall, t.c.day >= since.isoformat(),
            _unsent(sa.literal("report:") + t.c.day + sa.literal(":") + sa.cast(t.c.number, sa.String)))
            .order_by(t.c.day, t.c.number).limit(COLLECT_LIMIT)).all()
    return [(r.day, r.number, {"made_at": r.made_at, "reason": r.reason, "report": json.loads(r.body)})
            for r in rows]


def pending(engine: sa.Engine, limit: int = BATCH) -> list[tuple[str, str, dict]]:
    with reader(engine) as conn:
        return [(r.key, r.kind, json.loads(r.payload)) for r in conn.execute(
            sa.select(county_outbox.c.key, county_outbox.c.kind, county_outbox.c.payload)
            .where(county_outbox.c.state == "pending").order_by(county_outbox.c.id).limit(limit))]


def counts(engine: sa.Engine) -> dict[str, int]:
    with reader(engine) as conn:
        return dict(conn.execute(sa.select(county_outbox.c.state, sa.func.count()).group_by(county_outbox.c.state)).all())


def _finish(engine: sa.Engine, outcomes: list[tuple[str, str, str | None]], now: float) -> None:
    stmt = (county_outbox.update().where(county_outbox.c.key == sa.bindparam("k"))
            .values(state=sa.bindparam("s"), error=sa.bindparam("e"), done_at=now,
                    attempts=county_outbox.c.attempts + 1))
    with engine.begin() as conn:
        conn.execute(stmt, [{"k": k, "s": s, "e": e} for k, s, e in outcomes])


def push_once(engine: sa.Engine, found: Link) -> int:
    """Send one batch; returns how many events it settled (0: nothing pending). Raises on a failed round."""
    batch = pending(engine)
    if not batch:
        return 0
    body = _post(found.url, "/api/v1/county/batch", {
        "events": [{"key": k, "kind": kind, "payload": p} for k, kind, p in batch]}, found.token)
    outcomes = []
    for r in body["results"]:
        state = "sent" if r["outcome"] in ("applied", "duplicate") else "rejected"
        if state == "rejected":
            log.error("the county refused %s: %s %s", r["key"], r.get("field"), r.get("error"))
        outcomes.append((r["key"], state, r.get("error")))
    _finish(engine, outcomes, time.time())
    return len(outcomes)


class CountyPusher(threading.Thread):
    """The hall server's thread: collect, push, back off while the county is away."""

    def __init__(self, engine: sa.Engine, names: Callable[[], Names], report_source: Callable | None = frozen_daily_reports,
                 clock: Callable[[], float] = time.time):
        super().__init__(name="county-pusher", daemon=True)
        self.engine = engine
        self.names = names  # () -> Names now (the hall, staff and their 工号, terminals' modes, 事项)
        self.report_source = report_source
        self.clock = clock
        self.delay = 0.0
        self.last_error = ""
        self.last_contact = 0.0
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"[:80]
        self._halt = threading.Event()  # not _stop: threading.Thread has a _stop() of its own, which join() calls
        self._wake = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()
        if self.is_alive() and threading.current_thread() is not self:
            # a round under way ends (and gives back its connection) before the server closes the
            # database: a SQLite connection still open at exit leaves server.db-wal behind
            # (test_server_stops_on_signal_with_an_event_stream_open failed so now and then under load)
            self.join(2)

    def run(self) -> None:
        prepare(self.engine)
        while not self._halt.is_set():
            wait = self.round()
            self._wake.wait(wait)
            self._wake.clear()

    def lease(self) -> bool:
        """Hold (or renew) the right to push; False while another server process holds it."""
        now = self.clock()
        with self.engine.begin() as conn:
            return bool(conn.execute(county_link.update().where(
                county_link.c.name == "county",
                sa.or_(county_link.c.lease_owner.is_(None), county_link.c.lease_owner == self.owner,
                       county_link.c.lease_until < now))
                .values(lease_owner=self.owner, lease_until=now + LEASE_S)).rowcount)

    def round(self) -> float:
        """One round; returns the seconds to wait before the next."""
        found = current(self.engine)
        if found is None or not self.lease():
            return IDLE_S
        try:
            names = self.names()
            hall = names.hall
            today = datetime.fromtimestamp(self.clock(), ZoneInfo(hall.timezone)).date()
            collect(self.engine, names, self.report_source, today)
            pushed = False
            while push_once(self.engine, found):
                pushed = True
                if self._halt.is_set() or not self.lease():
                    return 0
            if pushed or self.clock() - self.last_contact > HEARTBEAT_S:
                if not pushed:
                    _post(found.url, "/api/v1/county/batch", {"events": []}, found.token)
                self.last_contact = self.clock()
        except (CountyAway, CountyRefused, KeyError, TypeError) as exc:
            self.last_error = str(exc)
            self.delay = min(BACKOFF_MAX_S, max(BACKOFF_S, self.delay * 2))
            log.warning("county %s: %s; next try in %.0f s", found.url, exc, self.delay)
            return self.delay * random.uniform(0.8, 1.2)
        self.delay, self.last_error = 0.0, ""
        return IDLE_S
