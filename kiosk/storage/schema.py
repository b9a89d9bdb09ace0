"""Queue tables and their migrations.

Migrations are numbered steps per component (``queue`` here; the server adds
its own). Each step runs once, in order, inside a transaction holding the
migration lock (``migrate``, ``MIGRATION_LOCK``: one migrating process at a time), and the
component's version is recorded in ``schema_versions``.
"""

from __future__ import annotations

import hashlib
from typing import Callable

import sqlalchemy as sa

from .db import reader

metadata = sa.MetaData()

schema_versions = sa.Table(
    "schema_versions", metadata,
    sa.Column("component", sa.String(32), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

tickets = sa.Table(
    "tickets", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("service", sa.String(32), nullable=False),
    sa.Column("number", sa.String(12), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("series", sa.String(4), nullable=False, server_default=""),
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(32)),
    sa.Column("window", sa.Integer),
    sa.Column("issued_at", sa.Float, nullable=False),
    sa.Column("called_at", sa.Float),
    sa.Column("started_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("call_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("terminal", sa.String(64)),
    sa.Column("key", sa.String(64), unique=True),
    sa.Column("transferred_from", sa.String(32)),
    sa.Column("staff", sa.String(64)),
    sa.Column("token", sa.String(32)),  # public link (migration component "ticket_token")
    sa.Column("qv", sa.Integer, nullable=False, server_default="0"),  # queue version that wrote it ("queue_version")
    # A transferred ticket keeps its number; the generation tells the copies apart.
    sa.UniqueConstraint("hall", "day", "number", "generation", name="uq_ticket_number"),
    # Indexes: each one is written by every ticket inserted, so only those a query needs (queue step 3 dropped
    # ix_tickets_queue, the first columns of ix_tickets_waiting). Which query uses which: tests/test_ticket_indexes.py.
)

counters = sa.Table(
    "counters", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("series", sa.String(4), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

window_states = sa.Table(
    "window_states", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("current_ticket", sa.String(32)),
    sa.Column("staff", sa.String(64)),
    sa.Column("priority_streak", sa.Integer, nullable=False, server_default="0"),
    sa.Column("lane_streak", sa.Integer, nullable=False, server_default="0"),  # component "lane_streak"
    sa.Column("qv", sa.Integer, nullable=False, server_default="0"),  # queue version that wrote it ("queue_version")
)


# The hall's queue version: every write to its tickets or window states bumps it first, in the same
# transaction, and stamps the rows it writes with the new value (``qv``). A process that holds the queue
# in memory (``kiosk.storage.queue_cache``) knows from it whether it missed a change, and which rows to
# read again. Migration component "queue_version".
queue_versions = sa.Table(
    "queue_versions", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)


def _queue_v1(conn: sa.Connection) -> None:
    for table in (tickets, counters, window_states):
        table.create(conn, checkfirst=True)


# Covers what placing a ticket in its windows' order reads (kiosk.ordering, QueueStore.ahead_counts):
# the count runs from the index alone, in index order, with no table lookups.
waiting_index = sa.Index("ix_tickets_waiting", tickets.c.hall, tickets.c.day, tickets.c.status, tickets.c.service,
                         tickets.c.window, tickets.c.priority, tickets.c.transferred_from, tickets.c.issued_at,
                         tickets.c.seq, tickets.c.id, tickets.c.key)


# ... and the tickets sent to a window (a transfer to a window), found without scanning the rest. Partial: only
# tickets with a window (sent, or called) are in it, so a new ticket (no window yet) does not write it; a query
# naming windows (``window IN (...)``) implies ``window IS NOT NULL`` and may use it (SQLite and PostgreSQL).
_has_window = tickets.c.window.is_not(None)
sent_index = sa.Index("ix_tickets_sent", tickets.c.hall, tickets.c.day, tickets.c.status, tickets.c.window,
                      tickets.c.service, tickets.c.priority, tickets.c.transferred_from, tickets.c.issued_at,
                      tickets.c.seq, tickets.c.id, tickets.c.key,
                      sqlite_where=_has_window, postgresql_where=_has_window)


def _queue_v2(conn: sa.Connection) -> None:
    waiting_index.create(conn, checkfirst=True)
    sent_index.create(conn, checkfirst=True)


# The latest service times of a service (``kiosk.storage.queue_cache.DURATIONS``: every wait estimate of the grid),
# newest first, read from the index alone; partial: a ticket is in it once finished, so issuing never writes it.
_finished = tickets.c.finished_at.is_not(None)
finished_index = sa.Index("ix_tickets_finished", tickets.c.hall, tickets.c.service, tickets.c.status,
                          tickets.c.finished_at, tickets.c.started_at, tickets.c.id,
                          sqlite_where=_finished, postgresql_where=_finished)


def _queue_v3(conn: sa.Connection) -> None:
    """Fewer B-trees written per ticket: ``ix_tickets_queue`` (hall, day, status, service) goes, the first columns
    of ``ix_tickets_waiting`` serve every query it served; ``ix_tickets_sent`` is made again as a partial index of
    the tickets with a window (an existing file's copy held every ticket); ``ix_tickets_finished`` comes, so the
    latest service times stop scanning every ticket of the hall (once per service on each refresh of the grid)."""
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_tickets_queue"))
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_tickets_sent"))
    sent_index.create(conn)
    finished_index.create(conn, checkfirst=True)


QUEUE_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_queue_v1, _queue_v2, _queue_v3]


def _token_v1(conn: sa.Connection) -> None:
    """The ticket's public token (kiosk.public_link), looked up by the phone page."""
    if "token" not in {c["name"] for c in sa.inspect(conn).get_columns("tickets")}:
        conn.execute(sa.text("ALTER TABLE tickets ADD COLUMN token VARCHAR(32)"))
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_tickets_token ON tickets (token)"))


def _token_v2(conn: sa.Connection) -> None:
    """The phone page's query (``server/public_links.py::ticket_by_token``: token and hall, the latest generation)
    answered by the token's index alone: with the token only, SQLite preferred ``ix_tickets_qv`` (hall) and read
    every ticket of the hall for each page load."""
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_tickets_token"))
    conn.execute(sa.text("CREATE INDEX ix_tickets_token ON tickets (token, hall, generation)"))


# Its own component, so it numbers independently of the queue's steps.
TOKEN_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_token_v1, _token_v2]


def _lane_streak_v1(conn: sa.Connection) -> None:
    """A window's calls of the interleaved front lane in a row (appointments interleaved with walk-ins)."""
    if "lane_streak" not in {c["name"] for c in sa.inspect(conn).get_columns("window_states")}:
        conn.execute(sa.text("ALTER TABLE window_states ADD COLUMN lane_streak INTEGER NOT NULL DEFAULT 0"))


LANE_STREAK_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_lane_streak_v1]


def _queue_version_v1(conn: sa.Connection) -> None:
    """The queue version table, and the version that last wrote each ticket and window state."""
    queue_versions.create(conn, checkfirst=True)
    inspector = sa.inspect(conn)
    for table in ("tickets", "window_states"):
        if "qv" not in {c["name"] for c in inspector.get_columns(table)}:
            conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN qv INTEGER NOT NULL DEFAULT 0"))
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_tickets_qv ON tickets (hall, qv)"))


QUEUE_VERSION_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_queue_version_v1]


# Every migration step runs under this lock (``migrate``): server processes starting at once on one PostgreSQL
# (a county), `kiosk admin` beside a running server, a terminal opening its file. PostgreSQL: a transaction-level
# advisory lock taken first in the migrating transaction (released by its commit or rollback, or when the
# connection drops); SQLite: the transaction's BEGIN IMMEDIATE holds the file's write lock, which every other
# writer (process or thread) waits for.
MIGRATION_LOCK = "kiosk-migrate"


def lock_key(name: str) -> int:
    """The signed 64-bit advisory lock key of ``name`` (PostgreSQL; ``server/process_lock.py`` uses the same)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def hold_migration_lock(conn: sa.Connection) -> None:
    """Take the migration lock in ``conn``'s write transaction, until it ends (PostgreSQL: waits for the holder)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(MIGRATION_LOCK)})


def _version(conn: sa.Connection, component: str) -> int:
    if not sa.inspect(conn).has_table("schema_versions"):
        return 0
    row = conn.execute(sa.select(schema_versions.c.version).where(schema_versions.c.component == component)).first()
    return row[0] if row else 0


def _check_not_newer(component: str, current: int, steps: list) -> None:
    if current > len(steps):
        raise RuntimeError(f"database schema '{component}' is version {current}, "
                           f"newer than this program ({len(steps)}): upgrade the program")


def migrate(engine: sa.Engine, component: str, steps: list[Callable[[sa.Connection], None]]) -> int:
    """Bring ``component`` up to ``len(steps)``; returns the version reached.

    Up to date (the usual case): one read, no lock. Else one write transaction under the migration lock
    (``hold_migration_lock``): the version read again there (another process may have migrated meanwhile),
    the missing steps run, the version recorded; a failure rolls all of it back.
    """
    with reader(engine) as conn:
        current = _version(conn, component)
    _check_not_newer(component, current, steps)
    if current == len(steps):
        return current
    with engine.begin() as conn:
        hold_migration_lock(conn)
        schema_versions.create(conn, checkfirst=True)
        row = conn.execute(sa.select(schema_versions.c.version)
                           .where(schema_versions.c.component == component)).first()
        current = row[0] if row else 0
        _check_not_newer(component, current, steps)
        for step in steps[current:]:
            step(conn)
        if current < len(steps):
            if row:
                conn.execute(schema_versions.update().where(schema_versions.c.component == component)
                             .values(version=len(steps)))
            else:
                conn.execute(schema_versions.insert().values(component=component, version=len(steps)))
    return len(steps)
