"""The hall server's own tables (component "server" in ``schema_versions``).

The queue tables belong to ``kiosk.storage.schema``; these hold what only the
server has: the editable hall (services, windows, a config version), staff,
their sessions, terminals and their enrollment codes.
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from kiosk.storage.schema import metadata

hall_settings = sa.Table(
    "hall_settings", metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),  # JSON: timezone, calendars, priority rules
    # Bumped by every change to the hall, its services or windows: a running
    # server compares it per request and rebuilds its Hall when it moved.
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)

hall_services = sa.Table(
    "hall_services", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("prefix", sa.String(2), nullable=False),
    sa.Column("range_start", sa.Integer, nullable=False),
    sa.Column("range_end", sa.Integer, nullable=False),
    sa.Column("daily_cap", sa.Integer),
    sa.Column("hours", sa.String(200), nullable=False, server_default=""),
    sa.Column("icon", sa.String(32), nullable=False, server_default="general"),
    sa.Column("average_minutes", sa.Float),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("closed_weekdays", sa.String(40)),  # JSON list, NULL: the hall's
    sa.Column("observe_holidays", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.UniqueConstraint("hall", "prefix", name="uq_service_prefix"),
)

hall_windows = sa.Table(
    "hall_windows", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("services", sa.Text, nullable=False),  # JSON list of service codes, in priority order
    sa.Column("green_channel", sa.Boolean, nullable=False, server_default=sa.false()),
)

users = sa.Table(
    "users", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(100), nullable=False, server_default=""),
    sa.Column("staff_no", sa.String(32), nullable=False, server_default=""),  # 工号
    sa.Column("role", sa.String(16), nullable=False),  # window | supervisor | admin
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("window", sa.Integer),  # the window they usually sit at
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("hall", sa.String(32)),  # the hall they work in; NULL for county roles (component "county")
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 hex; the token itself is never stored
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Index("ix_sessions_expiry", "expires_at"),
)

enrollment_codes = sa.Table(
    "enrollment_codes", metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64)),  # the terminal name it was made for, if any
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float),
    sa.Column("terminal_id", sa.String(32)),
    sa.Column("hall", sa.String(32)),  # the hall the terminal will belong to (component "county")
)

terminals = sa.Table(
    "terminals", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("token_expires_at", sa.Float, nullable=False),
    sa.Column("enrolled_at", sa.Float, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    # health, reported by the terminal's heartbeat
    sa.Column("last_seen", sa.Float),
    sa.Column("mode", sa.String(16)),
    sa.Column("version", sa.String(32)),
    sa.Column("window", sa.Integer),
    sa.Column("printer_state", sa.String(32)),  # ready | paper_near_end | paper_out | cover_open | offline | ...
    sa.Column("paper", sa.String(16)),  # ok | near_end | out | unknown
    sa.Column("last_sync", sa.Float),
    sa.Column("outbox", sa.Integer),  # events waiting to be sent
    sa.Column("address", sa.String(64)),
    sa.Column("hall", sa.String(32)),  # the hall it belongs to, from its enrollment code (component "county")
)


def _server_v1(conn: sa.Connection) -> None:
    for table in (hall_settings, hall_services, hall_windows, users, sessions, enrollment_codes,
                  terminals):
        table.create(conn, checkfirst=True)


SERVER_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_server_v1]

# Rows that belong to one hall but were made before a server held several (component "county").
HALL_OWNED = ("users", "enrollment_codes", "terminals", "audit_log")
COUNTY_ROLES = ("county-admin", "county-viewer")


def _county_v1(conn: sa.Connection) -> None:
    """Staff, terminals, enrollment codes and audit lines get their hall.

    A one-hall database keeps working unchanged: every existing row is given
    that hall (``adopt_orphans``). Indexes make the per-hall lists cheap.
    """
    inspector = sa.inspect(conn)
    for table in HALL_OWNED:
        if "hall" not in {c["name"] for c in inspector.get_columns(table)}:
            conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN hall VARCHAR(32)"))
        conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS ix_{table}_hall ON {table} (hall)"))
    codes = conn.execute(sa.select(hall_settings.c.code)).scalars().all()
    if len(codes) == 1:
        adopt_orphans(conn, codes[0])


def adopt_orphans(conn: sa.Connection, code: str) -> None:
    """Give rows without a hall (made before the hall was loaded, or before halls existed) to ``code``."""
    for table in HALL_OWNED:
        t = metadata.tables[table]
        where = [t.c.hall.is_(None)]
        if table == "users":
            where.append(t.c.role.not_in(COUNTY_ROLES))
        conn.execute(t.update().where(*where).values(hall=code))


COUNTY_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_county_v1]
