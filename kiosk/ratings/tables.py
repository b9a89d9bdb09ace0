"""The rating tables (migration component ``ratings``) and their rows as model objects."""

from __future__ import annotations

import json
from datetime import date
from typing import Callable

import sqlalchemy as sa

from .model import FollowUp, Rating

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

RATING_FIELDS = ("id", "key", "level", "phone", "ticket_id", "ticket_number", "window", "staff", "service", "terminal",
                 "created_at")
DIMENSIONS = {"day": ratings.c.day, "window": ratings.c.window, "staff": ratings.c.staff,
              "service": ratings.c.service}


def rating_from_row(m) -> Rating:
    return Rating(reasons=tuple(json.loads(m["reasons"] or "[]")), walk_in=bool(m["walk_in"]),
                  **{f: m[f] for f in RATING_FIELDS})


def followup_from_row(m, rating: Rating | None = None) -> FollowUp:
    return FollowUp(id=m["id"], rating_id=m["rating_id"], state=m["state"],
                    due_date=date.fromisoformat(m["due_date"]), created_at=m["created_at"],
                    rectified_at=m["rectified_at"], rectified_by=m["rectified_by"], rectify_note=m["rectify_note"],
                    called_back_at=m["called_back_at"], called_back_by=m["called_back_by"],
                    callback_note=m["callback_note"],
                    callback_satisfied=None if m["callback_satisfied"] is None else bool(m["callback_satisfied"]),
                    rating=rating)
