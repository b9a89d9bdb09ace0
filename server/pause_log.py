"""When each window was paused (暂停) and by whom: the staff's "time paused" in the period reports.

A pause opens a row (hall, window, staff, started_at); resuming closes it
(ended_at). Pausing an already paused window, or resuming a running one,
changes nothing. Migration component ``pause_log``.
"""

from __future__ import annotations

import time
from typing import Callable

import sqlalchemy as sa

from kiosk.storage.schema import migrate

metadata = sa.MetaData()

window_pauses = sa.Table(
    "window_pauses", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("window", sa.Integer, nullable=False),
    sa.Column("staff", sa.String(64)),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),  # NULL: still paused
    sa.Index("ix_window_pauses", "hall", "started_at"),
)


def _v1(conn: sa.Connection) -> None:
    window_pauses.create(conn, checkfirst=True)


PAUSE_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_v1]


def prepare(engine: sa.Engine) -> None:
    migrate(engine, "pause_log", PAUSE_MIGRATIONS)


def _open(hall: str, window: int):
    return sa.and_(window_pauses.c.hall == hall, window_pauses.c.window == window, window_pauses.c.ended_at.is_(None))


def paused(engine: sa.Engine, hall: str, window: int, staff: str | None, at: float | None = None) -> None:
    """The window stopped calling: open an interval unless one is open."""
    with engine.begin() as conn:
        if conn.execute(sa.select(window_pauses.c.id).where(_open(hall, window))).first() is None:
            conn.execute(window_pauses.insert().values(hall=hall, window=window, staff=staff,
                                                       started_at=time.time() if at is None else at))


def resumed(engine: sa.Engine, hall: str, window: int, at: float | None = None) -> None:
    """The window calls again: close its open interval, if any."""
    with engine.begin() as conn:
        conn.execute(window_pauses.update().where(_open(hall, window))
                     .values(ended_at=time.time() if at is None else at))
