"""Tables of the server's access rules (component "security" in ``schema_versions``).

- ``enrollment_scopes`` / ``terminal_scopes``: the mode (and window, for an
  evaluator) a terminal was enrolled for; its token can do only what that mode
  does. Set by whoever made the enrollment code, never by the terminal's
  heartbeat.
- ``audit_log``: every console and admin action (who, what, when, from where).
- ``login_throttle`` / ``known_devices``: failed sign-ins per account and per
  address, and the browsers or clients a user has signed in from before.
"""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from kiosk.storage.schema import metadata, migrate

enrollment_scopes = sa.Table(
    "enrollment_scopes", metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("mode", sa.String(16)),
    sa.Column("window", sa.Integer),
)

terminal_scopes = sa.Table(
    "terminal_scopes", metadata,
    sa.Column("terminal_id", sa.String(32), primary_key=True),
    sa.Column("mode", sa.String(16), nullable=False),  # dispenser | evaluator | inquiry | combined
    sa.Column("window", sa.Integer),  # an evaluator's window
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),  # username, or terminal id
    sa.Column("actor_kind", sa.String(16), nullable=False),  # staff | terminal
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),  # e.g. window.call_next, service.update
    sa.Column("target", sa.String(200), nullable=False, server_default=""),  # e.g. window 2, user clerk
    sa.Column("detail", sa.Text, nullable=False, server_default=""),  # JSON: the change, the ticket
    sa.Column("outcome", sa.String(16), nullable=False),  # ok | refused | denied
    sa.Column("status", sa.Integer, nullable=False),  # the HTTP status answered
    sa.Column("address", sa.String(64), nullable=False, server_default=""),
    sa.Column("hall", sa.String(32)),  # the hall acted on; NULL: county-wide (component "county")
    sa.Index("ix_audit_at", "at"),
)

login_throttle = sa.Table(
    "login_throttle", metadata,
    sa.Column("key", sa.String(200), primary_key=True),  # user:NAME | addr:IP | dev:HASH
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),
    sa.Column("until", sa.Float, nullable=False),  # no try before this (epoch seconds)
)

known_devices = sa.Table(
    "known_devices", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_used", sa.Float, nullable=False),
)


def _v1(conn: sa.Connection) -> None:
    for table in (enrollment_scopes, terminal_scopes, audit_log, login_throttle, known_devices):
        table.create(conn, checkfirst=True)
    # Terminals enrolled before scopes existed keep the mode and window they last reported.
    from .schema import terminals

    for row in conn.execute(sa.select(terminals.c.id, terminals.c.mode, terminals.c.window)):
        mode = row.mode if row.mode in ("dispenser", "evaluator", "inquiry", "combined") else "dispenser"
        conn.execute(terminal_scopes.insert().values(terminal_id=row.id, mode=mode,
                                                     window=row.window if mode == "evaluator" else None))


SECURITY_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_v1]


def prepare(engine: sa.Engine) -> None:
    migrate(engine, "security", SECURITY_MIGRATIONS)
