"""The hall's appointments on SQLAlchemy Core (the server's database)."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kiosk.domain import Hall
from kiosk.idcard import mask_name, new_secret, person_key, valid_id_number
from kiosk.storage.db import reader
from kiosk.storage.schema import migrate

from .rules import AppointmentError, AppointmentSettings, Slot, parse_slot, slots_for
from .tables import APPOINTMENT_MIGRATIONS, appointment_settings, appointments

_PHONE_CHARS = set("0123456789-+ ")


@dataclass(frozen=True)
class Booking:
    """What a clerk (or a CSV row) asks for. ``id_number`` is hashed at once and never stored."""

    service: str
    day: date
    slot: Slot
    name: str = ""
    phone: str = ""
    id_number: str = ""
    ref: str = ""


def clean_booking(hall: Hall, settings: AppointmentSettings, service: str, day: str | date, slot: str,
                  name: str = "", phone: str = "", id_number: str = "", ref: str = "",
                  today: date | None = None, now: datetime | None = None) -> Booking:
    """Check every field; raise AppointmentError naming the first bad one (``today``: refuse past days;
    ``now``, the hall's local time: refuse past days and a slot of today that has already ended; a CSV
    import of a day's list passes only ``today``, so today's earlier slots still come in)."""
    if now is not None:
        today = now.date() if today is None else today
    svc = hall.service((service or "").strip())
    if svc is None:
        raise AppointmentError("service", f"unknown service '{service}'")
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip())
        except ValueError:
            raise AppointmentError("day", f"'{day}' is not a date like 2026-03-02") from None
    if today is not None and day < today:
        raise AppointmentError("day", f"{day} is in the past")
    the_slot = parse_slot(slot)
    offered = slots_for(hall, svc, settings, day)
    if not offered:
        why = "takes no appointments" if settings.slots_of(svc.code) is None else "is closed that day"
        raise AppointmentError("day" if settings.slots_of(svc.code) else "service", f"{svc.name} {why}")
    if now is not None and day == now.date() and the_slot.end <= now.time().replace(tzinfo=None):
        raise AppointmentError("slot", f"{the_slot.label} has already ended today (now {now:%H:%M})")
    if the_slot not in offered:
        raise AppointmentError("slot", f"{the_slot.label} is not a slot of {svc.name} "
                                       f"(slots: {', '.join(s.label for s in offered[:4])} ...)")
    name = (name or "").strip()
    if len(name) > 40:
        raise AppointmentError("name", "at most 40 characters")
    phone = (phone or "").strip()
    if phone and (not set(phone) <= _PHONE_CHARS or sum(c.isdigit() for c in phone) < 7 or len(phone) > 20):
        raise AppointmentError("phone", "a phone number: digits, 7-20 characters")
    number = (id_number or "").strip().upper()
    if number and not valid_id_number(number):
        raise AppointmentError("id_number", "not a valid 18-digit ID number (check digit)")
    ref = (ref or "").strip()
    if len(ref) > 64:
        raise AppointmentError("ref", "at most 64 characters")
    if not (name or phone or number):
        raise AppointmentError("name", "give at least a name, a phone number or an ID number")
    return Booking(svc.code, day, the_slot, name, phone, number, ref)


class AppointmentStore:
    def __init__(self, engine: sa.Engine, hall_code: str, timezone: str = "Asia/Shanghai", clock=time.time):
        self.engine = engine
        self.hall = hall_code
        self.tz = ZoneInfo(timezone)
        self.clock = clock
        migrate(engine, "appointments", APPOINTMENT_MIGRATIONS)
        try:
            with engine.begin() as conn:
                if conn.execute(sa.select(appointment_settings.c.hall)
                                .where(appointment_settings.c.hall == hall_code)).first() is None:
                    conn.execute(appointment_settings.insert().values(
                        hall=hall_code, settings=json.dumps(AppointmentSettings().to_dict()), secret=new_secret()))
        except IntegrityError:
            pass  # another server process made this hall's row between our read and insert: keep theirs

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), self.tz)

    # ------------------------------------------------------------ settings
    def settings(self) -> AppointmentSettings:
        with reader(self.engine) as conn:
            raw = conn.execute(sa.select(appointment_settings.c.settings)
                               .where(appointment_settings.c.hall == self.hall)).scalar_one()
        return AppointmentSettings.from_dict(json.loads(raw))

    def save_settings(self, settings: AppointmentSettings, hall: Hall) -> AppointmentSettings:
        settings.validate(hall)
        with self.engine.begin() as conn:
            conn.execute(appointment_settings.update().where(appointment_settings.c.hall == self.hall)
                         .values(settings=json.dumps(settings.to_dict())))
        return settings

    def secret(self) -> str:
        with reader(self.engine) as conn:
            return conn.execute(sa.select(appointment_settings.c.secret)
                                .where(appointment_settings.c.hall == self.hall)).scalar_one()

    def key_of(self, id_number: str) -> str:
        return person_key(self.secret(), id_number)

    # ------------------------------------------------------------ booking
    def booked_counts(self, conn, day: date, service: str) -> dict[str, int]:
        rows = conn.execute(sa.select(appointments.c.slot_start, sa.func.count())
                            .where(appointments.c.hall == self.hall, appointments.c.day == day.isoformat(),
                                   appointments.c.service == service, appointments.c.status != "cancelled")
                            .group_by(appointments.c.slot_start))
        return {r[0]: r[1] for r in rows}

    def slots(self, hall: Hall, service: str, day: date) -> list[dict]:
        svc = hall.service(service)
        if svc is None:
            raise AppointmentError("service", f"unknown service '{service}'")
        settings = self.settings()
        conf = settings.slots_of(service)
        with reader(self.engine) as conn:
            counts = self.booked_counts(conn, day, service)
        now = self.now()
        return [{"slot": s.label, "start": f"{s.start:%H:%M}", "end": f"{s.end:%H:%M}", "capacity": conf.capacity,
                 "booked": counts.get(f"{s.start:%H:%M}", 0),
                 "free": max(0, conf.capacity - counts.get(f"{s.start:%H:%M}", 0)),
                 "ended": day < now.date() or (day == now.date() and s.end <= now.time().replace(tzinfo=None))}
                for s in slots_for(hall, svc, settings, day)]

    def book(self, bookings: list[Booking], settings: AppointmentSettings, by: str = "", source: str = "staff",
             lines: list[int] | None = None) -> list[dict]:
        """Insert all or nothing, each within its slot's capacity. A refusal names the booking
        (``lines[i]`` when given: the CSV line) and leaves the database as it was."""
        secret = self.secret()
        now = self.clock()
        for _ in range(5):  # a code collision with a concurrent booking: draw the codes again
            try:
                with self.engine.begin() as conn:
                    self._lock(conn)
                    return [self._insert(conn, b, settings, secret, now, by, source,
                                         lines[i] if lines else None) for i, b in enumerate(bookings)]
            except IntegrityError:
                continue
        raise AppointmentError("code", "could not draw a free check-in code, try again", "busy", 503)

    def _lock(self, conn) -> None:
        """Serialise bookings of this hall (capacity and code checks): a row lock on PostgreSQL; SQLite
        transactions are already serial (BEGIN IMMEDIATE)."""
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(appointment_settings.c.hall).where(appointment_settings.c.hall == self.hall)
                         .with_for_update())

    def _insert(self, conn, b: Booking, settings: AppointmentSettings, secret: str, now: float, by: str,
                source: str, line: int | None) -> dict:
        where = f"line {line}: " if line else ""
        capacity = settings.slots_of(b.service).capacity
        start = f"{b.slot.start:%H:%M}"
        taken = self.booked_counts(conn, b.day, b.service).get(start, 0)
        if taken >= capacity:
            raise AppointmentError("slot", f"{where}{b.day} {b.slot.label} is full ({capacity} places)", "full", 409)
        key = person_key(secret, b.id_number) if b.id_number else None
        if key and conn.execute(sa.select(appointments.c.id).where(
                appointments.c.hall == self.hall, appointments.c.day == b.day.isoformat(),
                appointments.c.service == b.service, appointments.c.person_key == key,
                appointments.c.status != "cancelled")).first():
            raise AppointmentError("id_number", f"{where}this person already has a booking for this service "
                                                f"on {b.day}", "duplicate", 409)
        used = {r[0] for r in conn.execute(sa.select(appointments.c.code).where(
            appointments.c.hall == self.hall, appointments.c.day == b.day.isoformat()))}
        if len(used) > 900_000:
            raise AppointmentError("day", f"{where}no check-in codes left for {b.day}", "full", 409)
        code = f"{secrets.randbelow(900_000) + 100_000}"
        while code in used:
            code = f"{secrets.randbelow(900_000) + 100_000}"
        row = dict(id=uuid.uuid4().hex, hall=self.hall, day=b.day.isoformat(), service=b.service,
                   slot_start=start, slot_end=f"{b.slot.end:%H:%M}", code=code,
                   name_masked=mask_name(b.name) if b.name else "", phone=b.phone, person_key=key, ref=b.ref,
                   source=source, status="booked", created_at=now, created_by=by)
        conn.execute(appointments.insert().values(**row))
        return self._out(row)

    def move(self, appointment_id: str, hall: Hall, day: str | None, slot: str | None, service: str | None,
             by: str = "") -> dict:
        settings = self.settings()
        for _ in range(5):
            try:
                with self.engine.begin() as conn:
                    self._lock(conn)
                    old = self._get(conn, appointment_id)
                    if old["status"] != "booked":
                        raise AppointmentError("id", f"a {old['status']} appointment cannot be moved", "wrong_state",
                                               409)
                    b = clean_booking(hall, settings, service or old["service"], day or old["day"],
                                      slot or f"{old['slot_start']}-{old['slot_end']}", name="-",
                                      now=self.now())
                    same_day = b.day.isoformat() == old["day"]
                    conn.execute(appointments.update().where(appointments.c.id == appointment_id)
                                 .values(status="cancelled"))  # frees its place for the capacity check
                    taken = self.booked_counts(conn, b.day, b.service).get(f"{b.slot.start:%H:%M}", 0)
                    if taken >= settings.slots_of(b.service).capacity:
                        raise AppointmentError("slot", f"{b.day} {b.slot.label} is full", "full", 409)
                    values = dict(status="booked", day=b.day.isoformat(), service=b.service,
                                  slot_start=f"{b.slot.start:%H:%M}", slot_end=f"{b.slot.end:%H:%M}")
                    if not same_day:  # a code is unique per day: draw one for the new day
                        used = {r[0] for r in conn.execute(sa.select(appointments.c.code).where(
                            appointments.c.hall == self.hall, appointments.c.day == b.day.isoformat()))}
                        code = f"{secrets.randbelow(900_000) + 100_000}"
                        while code in used:
                            code = f"{secrets.randbelow(900_000) + 100_000}"
                        values["code"] = code
                    conn.execute(appointments.update().where(appointments.c.id == appointment_id).values(**values))
                    return self._out(self._get(conn, appointment_id))
            except IntegrityError:
                continue
        raise AppointmentError("code", "could not draw a free check-in code, try again", "busy", 503)

    def cancel(self, appointment_id: str) -> dict:
        with self.engine.begin() as conn:
            row = self._get(conn, appointment_id)
            if row["status"] == "checked_in":
                raise AppointmentError("id", "this appointment has already checked in", "wrong_state", 409)
            conn.execute(appointments.update().where(appointments.c.id == appointment_id)
                         .values(status="cancelled"))
            return self._out(self._get(conn, appointment_id))

    def get(self, appointment_id: str) -> dict:
        with reader(self.engine) as conn:
            return self._out(self._get(conn, appointment_id))

    def _get(self, conn, appointment_id: str) -> dict:
        row = conn.execute(sa.select(appointments).where(appointments.c.id == appointment_id,
                                                         appointments.c.hall == self.hall)).mappings().first()
        if row is None:
            raise AppointmentError("id", f"no appointment {appointment_id}", "not_found", 404)
        return dict(row)

    def list(self, day: date, service: str | None = None, include_cancelled: bool = True) -> list[dict]:
        q = sa.select(appointments).where(appointments.c.hall == self.hall, appointments.c.day == day.isoformat())
        if service:
            q = q.where(appointments.c.service == service)
        if not include_cancelled:
            q = q.where(appointments.c.status != "cancelled")
        with reader(self.engine) as conn:
            rows = conn.execute(q.order_by(appointments.c.slot_start, appointments.c.created_at)).mappings().all()
        return [self._out(dict(r)) for r in rows]

    def _out(self, row: dict) -> dict:
        out = {k: row.get(k) for k in ("id", "day", "service", "slot_start", "slot_end", "code", "name_masked", "phone",
                                   "ref", "source", "status", "created_at", "created_by", "checked_in_at",
                                   "ticket_number")}
        out["late"] = bool(row.get("late"))
        out["slot"] = f"{row['slot_start']}-{row['slot_end']}"
        out["has_id"] = bool(row.get("person_key"))
        return out
