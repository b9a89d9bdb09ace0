"""Checking an appointment in: find it (code or card), judge the time, claim it once, issue its ticket.

Used by the hall server (``POST /api/v1/appointments/checkin``) and by an embedded terminal on its own
database. The ticket of an on-time check-in carries the key ``apt:<appointment id>``; the ``appointment``
front lane (``LANE``; ``kiosk/appointments/rule.py::AppointmentRule`` follows the hall's rule) admits exactly those, so every
window calls them before walk-ins, or interleaved with them (see kiosk/ordering.py). A late check-in gets a normal ticket (key ``apt-late:<id>``).
Each appointment checks in once: the claim is a compare-and-set on its status, and a repeated request
with the same idempotency key answers what the first one got.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

import sqlalchemy as sa

from kiosk.ordering import Lane

from .rules import AppointmentError, AppointmentSettings, Slot, judge
from .tables import appointments

AHEAD_PREFIX = "apt:"
LATE_PREFIX = "apt-late:"
# Keys of these forms are made only here (``ticket_key``) and by a terminal's offline check-in
# (``ticket_key(...) + ":<random>"``); a client's idempotency key of these forms is refused (the queue
# engine's ``issue`` and the server's sync batch, ``offline_ticket_refusal``), else a terminal could put any
# ticket in the appointment lane, or take the key a check-in's ticket will need.
RESERVED_PREFIXES = (AHEAD_PREFIX, LATE_PREFIX)


def reserved(key: str | None) -> bool:
    """Whether ``key`` has a form only a check-in makes."""
    return bool(key) and key.startswith(RESERVED_PREFIXES)


LANE = Lane("appointment", lambda t, now: bool(t.key) and t.key.startswith(AHEAD_PREFIX),
            lambda c: c.key.startswith(AHEAD_PREFIX, autoescape=True))  # the same test in SQL (counting)


@dataclass(frozen=True)
class IssuedTicket:
    id: str
    number: str


# issue(service, key) -> the ticket; raises (e.g. ServiceUnavailable) to refuse, nothing claimed then
Issue = Callable[[str, str], IssuedTicket]


def ticket_key(appointment_id: str, on_time: bool) -> str:
    return (AHEAD_PREFIX if on_time else LATE_PREFIX) + appointment_id


def find(conn, hall: str, day: date, code: str | None = None, person: str | None = None,
         now: datetime | None = None, settings: AppointmentSettings | None = None) -> dict | None:
    """Today's appointment for a code, or for a person (keyed hash of the ID number). A person with
    several: the first still booked whose window is open or ahead, else the first booked, else any."""
    q = sa.select(appointments).where(appointments.c.hall == hall, appointments.c.day == day.isoformat())
    if code is not None:
        q = q.where(appointments.c.code == code)
    elif person is not None:
        q = q.where(appointments.c.person_key == person)
    else:
        return None
    rows = [dict(r) for r in conn.execute(q.order_by(appointments.c.slot_start)).mappings()]
    if not rows or code is not None:
        return rows[0] if rows else None
    booked = [r for r in rows if r["status"] == "booked"]
    if booked and now is not None and settings is not None:
        for r in booked:
            if judge(day, _slot(r), now, settings).outcome != "late":
                return r
    return (booked or rows)[0]


def _slot(row: dict) -> Slot:
    from datetime import time

    return Slot(time.fromisoformat(row["slot_start"]), time.fromisoformat(row["slot_end"]))


def check_in(engine: sa.Engine, hall: str, settings: AppointmentSettings, *, key: str, now: datetime,
             issue: Issue, code: str | None = None, person: str | None = None,
             service_name: Callable[[str], str] = str, terminal: str | None = None) -> dict:
    """-> {"outcome": on_time | late, "message", "appointment": row, "ticket_id", "ticket_number",
    "repeated": bool}. Refusals are AppointmentError with a message for the visitor (Chinese)."""
    with engine.begin() as conn:
        done = conn.execute(sa.select(appointments).where(appointments.c.checkin_key == key)).mappings().first()
        if done is not None:
            return _answer(dict(done), repeated=True)
        row = find(conn, hall, now.date(), code=code, person=person, now=now, settings=settings)
        if row is None:
            if code is not None:
                raise AppointmentError("code", "没有找到这个签到码的今日预约，请核对后重新输入", "not_found", 404)
            raise AppointmentError("person_key", "没有找到您今天的预约", "not_found", 404)
        if row["status"] == "cancelled":
            raise AppointmentError("code", "这个预约已经取消，请取普通号或联系工作人员", "cancelled", 409)
        if row["status"] == "checked_in":
            number = f"，号码 {row['ticket_number']}" if row["ticket_number"] else ""
            raise AppointmentError("code", f"这个预约已经签到过了{number}", "already_checked_in", 409)
        verdict = judge(date.fromisoformat(row["day"]), _slot(row), now, settings)
        if not verdict.issues_ticket:
            raise AppointmentError("code", verdict.message, verdict.outcome, 409)
        late = verdict.outcome == "late"
        claimed = conn.execute(appointments.update()
                               .where(appointments.c.id == row["id"], appointments.c.status == "booked")
                               .values(status="checked_in", checkin_key=key, checked_in_at=now.timestamp(),
                                       late=late, terminal=terminal)).rowcount
        if claimed != 1:
            raise AppointmentError("code", "这个预约已经签到过了", "already_checked_in", 409)
    try:
        ticket = issue(row["service"], ticket_key(row["id"], not late))
    except BaseException:
        with engine.begin() as conn:  # no ticket: the appointment is free again
            conn.execute(appointments.update().where(appointments.c.id == row["id"], appointments.c.checkin_key == key)
                         .values(status="booked", checkin_key=None, checked_in_at=None, late=False, terminal=None))
        raise
    with engine.begin() as conn:
        conn.execute(appointments.update().where(appointments.c.id == row["id"])
                     .values(ticket_id=ticket.id, ticket_number=ticket.number))
        row = dict(conn.execute(sa.select(appointments).where(appointments.c.id == row["id"])).mappings().one())
    return _answer(row, repeated=False, message=verdict.message)


def record_offline(engine: sa.Engine, hall: str, *, appointment_id: str, key: str, at: float, late: bool,
                   ticket_id: str, ticket_number: str, terminal: str | None) -> str:
    """A check-in a terminal made while offline (its ticket arrives through the ticket sync).
    -> applied | duplicate | conflict (checked in elsewhere meanwhile: both tickets stand)."""
    with engine.begin() as conn:
        if conn.execute(sa.select(appointments.c.id).where(appointments.c.checkin_key == key)).first():
            return "duplicate"
        row = conn.execute(sa.select(appointments.c.status).where(appointments.c.id == appointment_id,
                                                                  appointments.c.hall == hall)).first()
        if row is None:
            raise AppointmentError("appointment_id", f"no appointment {appointment_id}", "not_found", 404)
        n = conn.execute(appointments.update()
                         .where(appointments.c.id == appointment_id, appointments.c.status == "booked")
                         .values(status="checked_in", checkin_key=key, checked_in_at=at, late=late,
                                 ticket_id=ticket_id, ticket_number=ticket_number, terminal=terminal)).rowcount
        return "applied" if n == 1 else "conflict"


def offline_ticket_refusal(conn: sa.Connection, hall: str, key: str, service: str, day: str) -> str | None:
    """Why a terminal's offline ticket keyed with a check-in's form (``apt:<id>:<random>``, or ``apt-late:``) may
    not stand, or None: it must name an appointment of this hall, that day and service, and be the only offline
    ticket of that appointment (its own resend aside: the sync answers that as a duplicate). The check-in record
    itself (``record_offline``) may come before or after it."""
    from kiosk.storage.schema import tickets

    prefix = next(p for p in RESERVED_PREFIXES if key.startswith(p))
    appointment_id, sep, rest = key[len(prefix):].partition(":")
    if not (appointment_id and sep and rest):
        return f"'{prefix}' keys are made only by appointment check-ins ('{prefix}<appointment id>:<random>' offline)"
    row = conn.execute(sa.select(appointments.c.day, appointments.c.service)
                       .where(appointments.c.id == appointment_id, appointments.c.hall == hall)).first()
    if row is None:
        return f"no appointment '{appointment_id}' in this hall: '{prefix}' keys belong to appointment check-ins"
    if (row.day, row.service) != (day, service):
        return f"appointment '{appointment_id}' is for {row.service} on {row.day}, not {service} on {day}"
    # another offline ticket of the appointment: same hall, day and service (found through the day's index of
    # the service, whatever the database's collation), keyed <prefix><id>:...
    mine = sa.or_(*[tickets.c.key.startswith(f"{p}{appointment_id}:", autoescape=True) for p in RESERVED_PREFIXES])
    other = conn.execute(sa.select(tickets.c.number).where(tickets.c.hall == hall, tickets.c.day == day,
                                                           tickets.c.service == service, mine, tickets.c.key != key)
                         .limit(1)).first()
    if other is not None:
        return f"appointment '{appointment_id}' already has an offline ticket ({other.number})"
    return None


def _answer(row: dict, repeated: bool, message: str | None = None) -> dict:
    outcome = "late" if row["late"] else "on_time"
    if message is None:
        message = ("您已超过预约时间，已为您取普通号，请按顺序等候" if row["late"]
                   else "预约签到成功，将优先为您叫号")
    return {"outcome": outcome, "message": message, "appointment": row, "ticket_id": row["ticket_id"],
            "ticket_number": row["ticket_number"], "repeated": repeated}
