"""Appointment tables (migration component ``appointments``)."""

from __future__ import annotations

from typing import Callable

import sqlalchemy as sa

from kiosk.storage.schema import metadata

appointment_settings = sa.Table(
    "appointment_settings", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("settings", sa.Text, nullable=False),  # JSON: AppointmentSettings.to_dict()
    sa.Column("secret", sa.String(128), nullable=False),  # the hall's key for person_key (HMAC)
)

appointments = sa.Table(
    "appointments", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),
    sa.Column("service", sa.String(32), nullable=False),
    sa.Column("slot_start", sa.String(5), nullable=False),
    sa.Column("slot_end", sa.String(5), nullable=False),
    sa.Column("code", sa.String(6), nullable=False),
    sa.Column("name_masked", sa.String(40), nullable=False, server_default=""),
    sa.Column("phone", sa.String(20), nullable=False, server_default=""),
    sa.Column("person_key", sa.String(64)),  # HMAC of the ID number; never the number itself
    sa.Column("ref", sa.String(64), nullable=False, server_default=""),  # the booking platform's own number
    sa.Column("source", sa.String(8), nullable=False, server_default="staff"),  # staff | csv
    sa.Column("status", sa.String(12), nullable=False),  # booked | cancelled | checked_in
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False, server_default=""),
    sa.Column("checked_in_at", sa.Float),
    sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("ticket_id", sa.String(32)),
    sa.Column("ticket_number", sa.String(12)),
    sa.Column("checkin_key", sa.String(64), unique=True),  # idempotency key of the check-in
    sa.Column("terminal", sa.String(64)),
    # never given out twice in a day, not even after a cancellation: an old slip must not fit a new booking
    sa.UniqueConstraint("hall", "day", "code", name="uq_appointment_code"),
    sa.Index("ix_appointments_day", "hall", "day", "service", "slot_start"),
    sa.Index("ix_appointments_person", "hall", "day", "person_key"),
)


def _v1(conn: sa.Connection) -> None:
    for table in (appointment_settings, appointments):
        table.create(conn, checkfirst=True)


APPOINTMENT_MIGRATIONS: list[Callable[[sa.Connection], None]] = [_v1]
