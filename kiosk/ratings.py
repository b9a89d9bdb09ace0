"""Satisfaction ratings (好差评) and the follow-up of bad ones (整改/回访).

No Kivy, no web framework: the evaluator terminal uses this in embedded mode
(its own SQLite file) and the hall server uses it on its database.

Levels follow the national good/bad rating scale: 5 非常满意 ... 1 非常不满意;
1 and 2 are bad ratings (差评) and need at least one reason from the hall's
list. ``level=None`` is an *unrated* visit (no answer before the timeout):
stored, counted as ``unrated``, never counted as satisfied nor in ``total``.

Exactly once: a rating carries an idempotency ``key``; the same key again
returns the stored rating and stores nothing. A ticket has at most one
rating: a second rating for the same ticket (another key) returns the first.

Tables belong to the migration component ``ratings`` (``RATING_MIGRATIONS``).
Dates (``day``, statistics ranges, due dates) are local days in the hall's
timezone, given to ``RatingStore`` when it is made.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .domain import Hall
from .storage.db import reader
from .storage.schema import migrate

LEVELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_LEVELS = frozenset({1, 2})
SATISFIED_LEVELS = frozenset({3, 4, 5})
UNRATED_NAME = "未评价"
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")  # mainland mobile number
MAX_REASONS = 20
MAX_NOTE = 1000

DEFAULT_FOLLOWUP_DAYS = 15  # working days from the rating's day to the follow-up's due date
FOLLOWUP_STATES = ("open", "rectified", "called_back")  # 待整改 -> 已整改 -> 已回访
FOLLOWUP_STATE_NAMES = {"open": "待整改", "rectified": "已整改待回访", "called_back": "已回访"}


class RatingError(ValueError):
    """A refused rating or follow-up action; ``field`` names the input at fault.

    ``code``: ``invalid`` (bad input), ``not_found`` (unknown follow-up),
    ``wrong_state`` (follow-up steps out of order).
    """

    def __init__(self, field: str, message: str, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass
class Rating:
    id: str
    key: str
    level: int | None  # 1-5; None: unrated (no answer before the timeout), never counted as satisfied
    reasons: tuple[str, ...]
    phone: str | None
    ticket_id: str | None
    ticket_number: str | None
    window: int
    staff: str | None  # username of the staff member who served (on duty, for a walk-in)
    service: str | None
    walk_in: bool  # rated at the window without a ticket
    terminal: str | None
    created_at: float  # epoch seconds

    @property
    def bad(self) -> bool:
        return self.level in BAD_LEVELS

    @property
    def level_name(self) -> str:
        return LEVELS.get(self.level, UNRATED_NAME) if self.level is not None else UNRATED_NAME

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["reasons"] = list(self.reasons)
        return d


@dataclass
class FollowUp:
    id: str
    rating_id: str
    state: str  # open | rectified | called_back
    due_date: date
    created_at: float
    rectified_at: float | None = None
    rectified_by: str | None = None
    rectify_note: str | None = None
    called_back_at: float | None = None
    called_back_by: str | None = None
    callback_note: str | None = None
    callback_satisfied: bool | None = None  # what the visitor said when called back, if asked
    rating: Rating | None = None

    def overdue(self, today: date) -> bool:
        """Not closed (called back) and the due day has passed."""
        return self.state != "called_back" and today > self.due_date


# ------------------------------------------------------------- validation

def validate_rating(hall: Hall, *, level: int | None, reasons: Iterable[str] = (), phone: str | None = None,
                    window: int | None) -> None:
    """Raise ``RatingError`` naming the field if the rating cannot be stored."""
    if level is not None and (isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS):
        raise RatingError("level", "must be 1-5 (5 = 非常满意, 1 = 非常不满意) or null for unrated")
    if window is None or isinstance(window, bool) or not isinstance(window, int) or hall.window(window) is None:
        raise RatingError("window", f"unknown window {window}")
    reasons = list(reasons or ())
    known = {code for code, _ in hall.rating_reasons}
    if level in BAD_LEVELS:
        if not reasons:
            raise RatingError("reasons", "a bad rating (不满意/非常不满意) needs at least one reason")
    elif reasons:
        raise RatingError("reasons", "reasons are only given with a bad rating (level 1 or 2)")
    if len(reasons) > MAX_REASONS:
        raise RatingError("reasons", f"at most {MAX_REASONS} reasons")
    for i, code in enumerate(reasons):
        if code not in known:
            raise RatingError(f"reasons[{i}]", f"unknown reason '{code}'; the hall's reasons: {', '.join(sorted(known))}")
    if len(set(reasons)) != len(reasons):
        raise RatingError("reasons", "a reason is given twice")
    if phone is not None and (not isinstance(phone, str) or not PHONE_RE.fullmatch(phone)):
        raise RatingError("phone", "must be a mainland mobile number: 11 digits starting 13-19")


def make_rating(hall: Hall, *, key: str, level: int | None, window: int, reasons: Iterable[str] = (),
                phone: str | None = None, ticket_id: str | None = None, ticket_number: str | None = None,
                staff: str | None = None, service: str | None = None, walk_in: bool | None = None,
                terminal: str | None = None, created_at: float | None = None) -> Rating:
    """A validated new ``Rating`` (fresh id; ``walk_in`` defaults to "no ticket")."""
    if not key or not isinstance(key, str) or len(key) > 64:
        raise RatingError("key", "an idempotency key of 1-64 characters is required")
    reasons = tuple(reasons or ())
    phone = phone or None
    validate_rating(hall, level=level, reasons=reasons, phone=phone, window=window)
    return Rating(id=uuid.uuid4().hex, key=key, level=level, reasons=reasons, phone=phone, ticket_id=ticket_id,
                  ticket_number=ticket_number, window=window, staff=staff, service=service,
                  walk_in=(ticket_id is None) if walk_in is None else walk_in, terminal=terminal,
                  created_at=time.time() if created_at is None else created_at)


def api_body(rating: Rating) -> dict:
    """The JSON body of ``POST /api/v1/ratings`` for a rating made on a terminal (e.g. an outbox payload).

    With a ticket the window is left out: the server takes window, staff and
    service from the ticket, so a mis-set evaluator window cannot get the
    rating refused. The server refuses unknown fields, so send exactly this.
    """
    body: dict = {"key": rating.key, "level": rating.level, "reasons": list(rating.reasons),
                  "created_at": rating.created_at}
    if rating.ticket_id:
        body["ticket"] = rating.ticket_id
    else:
        body["window"] = rating.window
    if rating.phone:
        body["phone"] = rating.phone
    return body


def add_working_days(start_date: date, n: int, hall: Hall) -> date:
    """The ``n``-th working day after ``start_date`` (which itself does not count).

    Working days follow ``hall.is_working_day``: closed weekdays, closed
    dates (holidays) and open dates (调休 working weekends). ``n = 0``
    returns ``start_date``.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    day, left = start_date, n
    for _ in range(3660 + 7 * n):
        if left == 0:
            return day
        day += timedelta(days=1)
        if hall.is_working_day(day):
            left -= 1
    raise ValueError("the hall calendar has no working days")


def _as_date(value: date | str | None, field: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise RatingError(field, f"'{value}' is not a calendar date (YYYY-MM-DD)") from None


def empty_stats() -> dict:
    return {"levels": {lv: 0 for lv in sorted(LEVELS)}, "unrated": 0, "total": 0, "satisfied": 0, "bad": 0,
            "satisfaction_rate": None}


def stats_from_counts(counts: dict[int | None, int]) -> dict:
    """Statistics from {level or None: count}: 满意率 = levels 3-5 over all rated (unrated excluded)."""
    out = empty_stats()
    for level, n in counts.items():
        if level is None:
            out["unrated"] += n
        elif level in out["levels"]:
            out["levels"][level] += n
    out["total"] = sum(out["levels"].values())
    out["satisfied"] = sum(out["levels"][lv] for lv in SATISFIED_LEVELS)
    out["bad"] = sum(out["levels"][lv] for lv in BAD_LEVELS)
    out["satisfaction_rate"] = out["satisfied"] / out["total"] if out["total"] else None
    return out


# ----------------------------------------------------------------- tables

metadata = sa.MetaData()

ratings = sa.Table(
    "ratings", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("day", sa.String(10), nullable=False),  # local day of created_at
    sa.Column("level", sa.Integer),  # NULL: unrated
    sa.Column("reasons", sa.Text, nullable=False, server_default="[]"),  # JSON list of reason codes
    sa.Column("phone", sa.String(16)),
    sa.Column("ticket_id", sa.String(32)),
    sa.Column("ticket_number", sa.String(12)),
    sa.Column("window", sa.Integer, nullable=False),
    sa.Column("staff", sa.String(64)),
    sa.Column("service", sa.String(32)),
    sa.Column("walk_in", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("terminal", sa.String(64)),
    sa.Column("created_at", sa.Float, nullable=False),
    # one rating per ticket (NULL tickets, walk-ins, are distinct on both backends)
    sa.UniqueConstraint("hall", "ticket_id", name="uq_rating_ticket"),
    sa.Index("ix_ratings_day", "hall", "day"),
)

followups = sa.Table(
    "rating_followups", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("rating_id", sa.String(32), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("due_date", sa.String(10), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("rectified_at", sa.Float),
    sa.Column("rectified_by", sa.String(64)),
    sa.Column("rectify_note", sa.Text),
    sa.Column("called_back_at", sa.Float),
    sa.Column("called_back_by", sa.String(64)),
    sa.Column("callback_note", sa.Text),
    sa.Column("callback_satisfied", sa.Boolean),
    sa.Index("ix_followups_state", "hall", "state", "due_date"),
)

rating_settings = sa.Table(
    "rating_settings", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("followup_days", sa.Integer, nullable=False),
)


def _ratings_v1(conn: sa.Connection) -> None:
    for table in (ratings, followups, rating_settings):
        table.create(conn, checkfirst=True)


RATING_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_ratings_v1]

_FIELDS = ("id", "key", "level", "phone", "ticket_id", "ticket_number", "window", "staff", "service", "terminal",
           "created_at")
DIMENSIONS = {"day": ratings.c.day, "window": ratings.c.window, "staff": ratings.c.staff,
              "service": ratings.c.service}


def _rating(m) -> Rating:
    return Rating(reasons=tuple(json.loads(m["reasons"] or "[]")), walk_in=bool(m["walk_in"]),
                  **{f: m[f] for f in _FIELDS})


def _followup(m, rating: Rating | None = None) -> FollowUp:
    return FollowUp(id=m["id"], rating_id=m["rating_id"], state=m["state"],
                    due_date=date.fromisoformat(m["due_date"]), created_at=m["created_at"],
                    rectified_at=m["rectified_at"], rectified_by=m["rectified_by"], rectify_note=m["rectify_note"],
                    called_back_at=m["called_back_at"], called_back_by=m["called_back_by"],
                    callback_note=m["callback_note"],
                    callback_satisfied=None if m["callback_satisfied"] is None else bool(m["callback_satisfied"]),
                    rating=rating)


def _note(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise RatingError("note", "write what was done (a note is required)")
    if len(note) > MAX_NOTE:
        raise RatingError("note", f"at most {MAX_NOTE} characters")
    return note


class RatingStore:
    def __init__(self, engine: sa.Engine, hall_code: str, timezone: str = "Asia/Shanghai"):
        self.engine = engine
        self.hall = hall_code
        self.tz = ZoneInfo(timezone)
        migrate(engine, "ratings", RATING_MIGRATIONS)

    def local_day(self, ts: float) -> date:
        return datetime.fromtimestamp(ts, self.tz).date()

    def today(self) -> date:
        return self.local_day(time.time())

    # ------------------------------------------------------------ ratings
    def add(self, rating: Rating, *, followup_due: date | None = None) -> tuple[Rating, bool]:
        """Store ``rating``; returns (stored rating, created).

        Idempotent: a known ``key`` returns the stored rating; a ticket that
        already has a rating returns that one (created False, nothing new
        stored). A new bad rating with ``followup_due`` also opens its
        follow-up case, in the same transaction.
        """
        try:
            with self.engine.begin() as conn:
                existing = self._existing(conn, rating)
                if existing is not None:
                    return existing, False
                conn.execute(ratings.insert().values(
                    hall=self.hall, day=self.local_day(rating.created_at).isoformat(),
                    reasons=json.dumps(list(rating.reasons)), walk_in=bool(rating.walk_in),
                    **{f: getattr(rating, f) for f in _FIELDS}))
                if followup_due is not None and rating.bad:
                    conn.execute(followups.insert().values(
                        id=uuid.uuid4().hex, hall=self.hall, rating_id=rating.id, state="open",
                        due_date=followup_due.isoformat(), created_at=time.time()))
        except IntegrityError:
            with reader(self.engine) as conn:  # the same key or ticket raced in from another writer
                existing = self._existing(conn, rating)
            if existing is None:
                raise
            return existing, False
        return rating, True

    def _existing(self, conn: sa.Connection, rating: Rating) -> Rating | None:
        row = conn.execute(sa.select(ratings).where(ratings.c.key == rating.key)).first()
        if row is None and rating.ticket_id:
            row = conn.execute(sa.select(ratings).where(ratings.c.hall == self.hall,
                                                        ratings.c.ticket_id == rating.ticket_id)).first()
        return _rating(row._mapping) if row else None

    def get(self, rating_id: str) -> Rating | None:
        with reader(self.engine) as conn:
            row = conn.execute(sa.select(ratings).where(ratings.c.id == rating_id,
                                                        ratings.c.hall == self.hall)).first()
        return _rating(row._mapping) if row else None

    def by_key(self, key: str) -> Rating | None:
        with reader(self.engine) as conn:
            row = conn.execute(sa.select(ratings).where(ratings.c.key == key)).first()
        return _rating(row._mapping) if row else None

    def by_ticket(self, ticket_id: str) -> Rating | None:
        with reader(self.engine) as conn:
            row = conn.execute(sa.select(ratings).where(ratings.c.hall == self.hall,
                                                        ratings.c.ticket_id == ticket_id)).first()
        return _rating(row._mapping) if row else None

    def _filtered(self, q, date_from, date_to, window, staff, service):
        q = q.where(ratings.c.hall == self.hall)
        if (d := _as_date(date_from, "from")) is not None:
            q = q.where(ratings.c.day >= d.isoformat())
        if (d := _as_date(date_to, "to")) is not None:
            q = q.where(ratings.c.day <= d.isoformat())
        if window is not None:
            q = q.where(ratings.c.window == window)
        if staff is not None:
            q = q.where(ratings.c.staff == staff)
        if service is not None:
            q = q.where(ratings.c.service == service)
        return q

    def list(self, date_from: date | str | None = None, date_to: date | str | None = None, *,
             window: int | None = None, staff: str | None = None, service: str | None = None,
             bad_only: bool = False, limit: int = 500, newest_first: bool = True) -> list[Rating]:
        q = self._filtered(sa.select(ratings), date_from, date_to, window, staff, service)
        if bad_only:
            q = q.where(ratings.c.level.in_(sorted(BAD_LEVELS)))
        order = ratings.c.created_at.desc() if newest_first else ratings.c.created_at
        q = q.order_by(order, ratings.c.id).limit(limit)
        with reader(self.engine) as conn:
            return [_rating(r._mapping) for r in conn.execute(q)]

    def stats(self, date_from: date | str, date_to: date | str, window: int | None = None,
              staff: str | None = None, service: str | None = None) -> dict:
        """Counts per level (``levels`` {1..5: n}), ``unrated``, ``total`` (rated only), ``satisfied``,
        ``bad`` and ``satisfaction_rate`` (levels 3-5 / total, None when nothing was rated);
        days inclusive, local to the hall."""
        q = self._filtered(sa.select(ratings.c.level, sa.func.count()), date_from, date_to, window, staff,
                           service).group_by(ratings.c.level)
        with reader(self.engine) as conn:
            return stats_from_counts({level: n for level, n in conn.execute(q)})

    def breakdown(self, by: str, date_from: date | str, date_to: date | str, window: int | None = None,
                  staff: str | None = None, service: str | None = None) -> dict:
        """``stats`` per day, window, staff or service: {key: stats} for keys that have ratings."""
        column = DIMENSIONS.get(by)
        if column is None:
            raise RatingError("by", f"must be one of {', '.join(DIMENSIONS)}")
        q = self._filtered(sa.select(column, ratings.c.level, sa.func.count()), date_from, date_to, window, staff,
                           service).group_by(column, ratings.c.level)
        counts: dict = {}
        with reader(self.engine) as conn:
            for key, level, n in conn.execute(q):
                counts.setdefault(key, {})[level] = n
        return {key: stats_from_counts(c) for key, c in counts.items()}

    # ---------------------------------------------------------- follow-ups
    def followup_days(self) -> int:
        with reader(self.engine) as conn:
            n = conn.execute(sa.select(rating_settings.c.followup_days)
                             .where(rating_settings.c.hall == self.hall)).scalar()
        return DEFAULT_FOLLOWUP_DAYS if n is None else n

    def set_followup_days(self, n: int) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 90:
            raise RatingError("followup_days", "must be 1-90 working days")
        with self.engine.begin() as conn:
            if not conn.execute(rating_settings.update().where(rating_settings.c.hall == self.hall)
                                .values(followup_days=n)).rowcount:
                conn.execute(rating_settings.insert().values(hall=self.hall, followup_days=n))

    def followups(self, state: str | None = None, overdue: bool | None = None, today: date | None = None,
                  limit: int = 500) -> list[FollowUp]:
        """Cases with their ratings, earliest due first; ``overdue`` filters on ``FollowUp.overdue(today)``."""
        if state is not None and state not in FOLLOWUP_STATES:
            raise RatingError("state", f"must be one of {', '.join(FOLLOWUP_STATES)}")
        today = today or self.today()
        q = (sa.select(followups, *[c.label(f"r_{c.name}") for c in ratings.c])
             .join(ratings, ratings.c.id == followups.c.rating_id)
             .where(followups.c.hall == self.hall))
        if state is not None:
            q = q.where(followups.c.state == state)
        if overdue is True:
            q = q.where(followups.c.state != "called_back", followups.c.due_date < today.isoformat())
        elif overdue is False:
            q = q.where(sa.or_(followups.c.state == "called_back", followups.c.due_date >= today.isoformat()))
        q = q.order_by(followups.c.due_date, followups.c.created_at, followups.c.id).limit(limit)
        with reader(self.engine) as conn:
            return [self._followup_row(r._mapping) for r in conn.execute(q)]

    @staticmethod
    def _followup_row(m) -> FollowUp:
        rating = _rating({c.name: m[f"r_{c.name}"] for c in ratings.c})
        return _followup(m, rating)

    def followup(self, followup_id: str) -> FollowUp | None:
        q = (sa.select(followups, *[c.label(f"r_{c.name}") for c in ratings.c])
             .join(ratings, ratings.c.id == followups.c.rating_id)
             .where(followups.c.hall == self.hall, followups.c.id == followup_id))
        with reader(self.engine) as conn:
            row = conn.execute(q).first()
        return self._followup_row(row._mapping) if row else None

    def followup_for(self, rating_id: str) -> FollowUp | None:
        with reader(self.engine) as conn:
            fid = conn.execute(sa.select(followups.c.id).where(followups.c.rating_id == rating_id)).scalar()
        return self.followup(fid) if fid else None

    def followup_ids(self, rating_ids: Iterable[str]) -> dict[str, str]:
        """{rating id: follow-up id} for those of ``rating_ids`` that have a case."""
        ids = list(rating_ids)
        out: dict[str, str] = {}
        with reader(self.engine) as conn:
            for i in range(0, len(ids), 500):
                out.update(conn.execute(sa.select(followups.c.rating_id, followups.c.id)
                                        .where(followups.c.rating_id.in_(ids[i:i + 500]))).all())
        return out

    def _step(self, followup_id: str, expected: str, values: dict) -> FollowUp:
        with self.engine.begin() as conn:
            changed = conn.execute(followups.update()
                                   .where(followups.c.hall == self.hall, followups.c.id == followup_id,
                                          followups.c.state == expected).values(**values)).rowcount
        found = self.followup(followup_id)
        if found is None:
            raise RatingError("id", f"unknown follow-up '{followup_id}'", "not_found")
        if not changed:
            raise RatingError("state", f"the case is '{found.state}' ({FOLLOWUP_STATE_NAMES[found.state]}); "
                                       f"this step needs '{expected}' ({FOLLOWUP_STATE_NAMES[expected]})",
                              "wrong_state")
        return found

    def rectify(self, followup_id: str, note: str, who: str, at: float | None = None) -> FollowUp:
        """整改: open -> rectified, with what was done."""
        return self._step(followup_id, "open", dict(state="rectified", rectify_note=_note(note), rectified_by=who,
                                                    rectified_at=time.time() if at is None else at))

    def call_back(self, followup_id: str, note: str, who: str, satisfied: bool | None = None,
                  at: float | None = None) -> FollowUp:
        """回访: rectified -> called_back, with what the visitor said."""
        return self._step(followup_id, "rectified",
                          dict(state="called_back", callback_note=_note(note), called_back_by=who,
                               callback_satisfied=satisfied, called_back_at=time.time() if at is None else at))


__all__ = ["LEVELS", "BAD_LEVELS", "SATISFIED_LEVELS", "UNRATED_NAME", "DEFAULT_FOLLOWUP_DAYS", "FOLLOWUP_STATES",
           "FOLLOWUP_STATE_NAMES", "Rating", "FollowUp", "RatingError", "RatingStore", "RATING_MIGRATIONS",
           "validate_rating", "make_rating", "api_body", "add_working_days", "stats_from_counts", "empty_stats"]
