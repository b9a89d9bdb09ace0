"""Appointment statistics per day and service: booked, checked in (on time), late, no-show, cancelled."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from kiosk.storage.db import reader

from .rules import AppointmentSettings
from .tables import appointments


def appointment_stats(engine: sa.Engine, hall: str, date_from: date, date_to: date, now: datetime,
                      settings: AppointmentSettings) -> list[dict]:
    """One row per (day, service) with any booking. A booking still 'booked' counts as a no-show once its
    check-in window has closed (slot start + after_min), on its day or any later one."""
    q = (sa.select(appointments.c.day, appointments.c.service, appointments.c.status, appointments.c.late,
                   appointments.c.slot_start)
         .where(appointments.c.hall == hall, appointments.c.day >= date_from.isoformat(),
                appointments.c.day <= date_to.isoformat()))
    with reader(engine) as conn:
        rows = conn.execute(q).all()
    out: dict[tuple[str, str], dict] = {}
    naive_now = now.replace(tzinfo=None)
    for day, service, status, late, start in rows:
        r = out.setdefault((day, service), {"day": day, "service": service, "booked": 0, "checked_in": 0,
                                            "late": 0, "no_show": 0, "cancelled": 0, "pending": 0})
        if status == "cancelled":
            r["cancelled"] += 1
            continue
        r["booked"] += 1
        if status == "checked_in":
            r["late" if late else "checked_in"] += 1
            continue
        closes = datetime.combine(date.fromisoformat(day), time.fromisoformat(start)) + \
            timedelta(minutes=settings.after_min)
        r["no_show" if naive_now > closes else "pending"] += 1
    return [out[k] for k in sorted(out)]
