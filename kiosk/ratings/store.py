"""Ratings and follow-up cases on SQLAlchemy Core: exactly-once storage, queries, statistics, steps.

Exactly once: a rating carries an idempotency ``key``; the same key again
returns the stored rating and stores nothing. A ticket has at most one
rating: a second rating for the same ticket (another key) returns the first.
Dates (``day``, statistics ranges, due dates) are local days in the hall's
timezone, given to ``RatingStore`` when it is made. Whether a rating opens a
follow-up is decided by ``kiosk/ratings/followup.py``, not here.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import date, datetime
from typing import Iterable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..storage.db import reader
from ..storage.schema import migrate
from .model import (BAD_LEVELS, CLOSED_STATES, DEFAULT_FOLLOWUP_DAYS, FOLLOWUP_STATE_NAMES, FOLLOWUP_STATES, MAX_NOTE, FollowUp,
                    Rating, RatingError)
from .stats import stats_from_counts
from .verification import counted, rejected_only
from .verification import prepare as prepare_verification
from .tables import (DIMENSIONS, RATING_FIELDS, RATING_MIGRATIONS, followup_from_row, followups, rating_from_row,
                     rating_settings, ratings)


def _as_date(value: date | str | None, field: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise RatingError(field, f"'{value}' is not a calendar date (YYYY-MM-DD)") from None


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
        prepare_verification(engine)

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
                    **{f: getattr(rating, f) for f in RATING_FIELDS}))
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
        return rating_from_row(row._mapping) if row else None

    def get(self, rating_id: str) -> Rating | None:
        with reader(self.engine) as conn:
            row = conn.execute(sa.select(ratings).where(ratings.c.id == rating_id,
                                                        ratings.c.hall == self.hall)).first()
        return rating_from_row(row._mapping) if row else None

    def by_key(self, key: str) -> Rating | None:
        with reader(self.engine) as conn:
            row = conn.execute(sa.select(ratings).where(ratings.c.key == key)).first()
        return rating_from_row(row._mapping) if row else None

    def by_ticket(self, ticket_id: str) -> Rating | None:
        with reader(self.engine) as conn:
            row = conn.execute(sa.select(ratings).where(ratings.c.hall == self.hall,
                                                        ratings.c.ticket_id == ticket_id)).first()
        return rating_from_row(row._mapping) if row else None

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
            return [rating_from_row(r._mapping) for r in conn.execute(q)]

    def stats(self, date_from: date | str, date_to: date | str, window: int | None = None,
              staff: str | None = None, service: str | None = None) -> dict:
        """Counts per level (``levels`` {1..5: n}), ``unrated``, ``total`` (rated only), ``satisfied``,
        ``bad`` and ``satisfaction_rate`` (levels 3-5 / total, None when nothing was rated);
        days inclusive, local to the hall. Bad ratings rejected on 核实 are left out of all of these and
        counted in ``rejected``."""
        q = self._filtered(sa.select(ratings.c.level, sa.func.count()), date_from, date_to, window, staff,
                           service).where(counted(ratings.c.id)).group_by(ratings.c.level)
        left_out = self._filtered(sa.select(sa.func.count()).select_from(ratings), date_from, date_to, window, staff,
                                  service).where(rejected_only(ratings.c.id))
        with reader(self.engine) as conn:
            out = stats_from_counts({level: n for level, n in conn.execute(q)})
            out["rejected"] = conn.execute(left_out).scalar_one()
        return out

    def breakdown(self, by: str, date_from: date | str, date_to: date | str, window: int | None = None,
                  staff: str | None = None, service: str | None = None) -> dict:
        """``stats`` per day, window, staff or service: {key: stats} for keys that have ratings."""
        column = DIMENSIONS.get(by)
        if column is None:
            raise RatingError("by", f"must be one of {', '.join(DIMENSIONS)}")
        q = self._filtered(sa.select(column, ratings.c.level, sa.func.count()), date_from, date_to, window, staff,
                           service).where(counted(ratings.c.id)).group_by(column, ratings.c.level)
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
            q = q.where(followups.c.state.not_in(CLOSED_STATES), followups.c.due_date < today.isoformat())
        elif overdue is False:
            q = q.where(sa.or_(followups.c.state.in_(CLOSED_STATES), followups.c.due_date >= today.isoformat()))
        q = q.order_by(followups.c.due_date, followups.c.created_at, followups.c.id).limit(limit)
        with reader(self.engine) as conn:
            return [self._followup_row(r._mapping) for r in conn.execute(q)]

    @staticmethod
    def _followup_row(m) -> FollowUp:
        rating = rating_from_row({c.name: m[f"r_{c.name}"] for c in ratings.c})
        return followup_from_row(m, rating)

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
