"""Appointments (预约): slots, booking, moving, cancelling, a day's CSV import, statistics.

Who: any staff member books, moves, cancels and imports (the 综合受理 desk does it on
the phone); supervisors and admins change the settings and read the statistics.

Privacy: a name is stored masked (王*明) and an ID number only as its keyed hash
(HMAC-SHA256 under this hall's own secret), so neither ever sits in the database.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import date as Date
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from kiosk.appointments import AppointmentError, AppointmentSettings
from kiosk.appointments.csvimport import MAX_BYTES
from kiosk.appointments.csvimport import parse as parse_csv
from kiosk.appointments.stats import appointment_stats
from kiosk.appointments.store import AppointmentStore, clean_booking
from kiosk.storage.db import reader

from .halls import hall_runtime
from .accounts import Principal
from .appointment_models import (AppointmentIn, AppointmentOut, ImportOut, MoveIn, SettingsIO, SlotOut,
                                 StatsRow)
from .audit import Act, audited
from .auth import STAFF, SUPERVISORS, requires
from .errors import ApiError

router = APIRouter(prefix="/api/v1/appointments", tags=["appointments"])
# ids are uuid4 hex; anything else (a NUL byte included) is a 422, never a database error
AppointmentId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
staff = requires(*STAFF)
supervisor = requires(*SUPERVISORS)
_lock = threading.Lock()
MAX_RANGE_DAYS = 366


def store(request: Request) -> AppointmentStore:
    return store_for(hall_runtime(request))


def store_for(rt) -> AppointmentStore:
    """The hall's appointment store (kept on its ``HallRuntime``), made on first use."""
    found = getattr(rt, "appointment_store", None)
    if found is None:
        with _lock:
            found = getattr(rt, "appointment_store", None)
            if found is None:
                queue = rt.queue()
                found = AppointmentStore(rt.db, rt.code, queue.hall.timezone, clock=lambda: queue.clock())
                rt.appointment_store = found
    return found


@contextlib.contextmanager
def refusals():
    try:
        yield
    except AppointmentError as exc:
        code = "invalid_input" if exc.code == "invalid" else exc.code
        raise ApiError(exc.status, exc.field, str(exc), code) from None


def _out(request: Request, row: dict) -> AppointmentOut:
    svc = hall_runtime(request).queue().hall.service(row["service"])
    return AppointmentOut(service_name=svc.name if svc else row["service"], **row)


def _day(text: str | None, field: str, default: Date) -> Date:
    if text is None:
        return default
    try:
        return Date.fromisoformat(text)
    except ValueError:
        raise ApiError(422, field, f"'{text}' is not a date like 2026-03-02", "invalid_input") from None


# ------------------------------------------------------------------ settings
@router.get("/settings", response_model=SettingsIO, summary="Check-in window, call-ahead mode, slots per service")
def get_settings(request: Request, principal: Principal = Depends(staff)) -> SettingsIO:
    return SettingsIO(**store(request).settings().to_dict())


@router.put("/settings", response_model=SettingsIO, summary="Change the appointment settings (supervisors)",
            responses={422: {"description": "a value out of range or an unknown service, named in `field`"}})
def put_settings(body: SettingsIO, request: Request,
                 act: Act = audited("appointment.settings", *SUPERVISORS)) -> SettingsIO:
    act.note("appointment settings", **body.model_dump())
    hall = hall_runtime(request).queue().hall
    with refusals():
        saved = store(request).save_settings(AppointmentSettings.from_dict(body.model_dump()), hall)
    hall_runtime(request).forget_appointment_rule()  # the calling order follows the new mode at once
    return SettingsIO(**saved.to_dict())


@router.get("/slots", response_model=list[SlotOut], summary="A service's slots on a day, with places booked and free")
def get_slots(request: Request, service: str = Query(min_length=1, max_length=32),
              day: str | None = Query(None, description="YYYY-MM-DD, default today"),
              principal: Principal = Depends(staff)) -> list[SlotOut]:
    rs = store(request)
    with refusals():
        return [SlotOut(**s) for s in rs.slots(hall_runtime(request).queue().hall, service,
                                                _day(day, "day", rs.now().date()))]


# ------------------------------------------------------------------ bookings
@router.get("", response_model=list[AppointmentOut], summary="A day's appointments (cancelled ones too)")
def list_appointments(request: Request, day: str | None = Query(None, description="YYYY-MM-DD, default today"),
                      service: str | None = Query(None, max_length=32),
                      principal: Principal = Depends(staff)) -> list[AppointmentOut]:
    rs = store(request)
    return [_out(request, r) for r in rs.list(_day(day, "day", rs.now().date()), service)]


@router.post("", response_model=AppointmentOut, status_code=201,
             summary="Book a visitor into a slot; the answer carries the 6-digit check-in code",
             responses={409: {"description": "the slot is full, or this ID number already has a booking"},
                        422: {"description": "unknown service, a day without slots, a slot not offered, a bad "
                                             "phone or ID number; `field` names it"}})
def create(body: AppointmentIn, request: Request, act: Act = audited("appointment.add", *STAFF)) -> AppointmentOut:
    principal = act.principal
    rs = store(request)
    hall = hall_runtime(request).queue().hall
    settings = rs.settings()
    with refusals():
        booking = clean_booking(hall, settings, body.service, body.day, body.slot, body.name, body.phone,
                                body.id_number, body.ref, now=rs.now())
        row = rs.book([booking], settings, by=principal.name)[0]
    act.note(f"appointment {row['id']}", day=row["day"], service=row["service"], slot=row["slot"])
    return _out(request, row)


@router.get("/stats", response_model=list[StatsRow],
            summary="Booked, checked in, late, no-show and cancelled per day and service (supervisors)")
def stats(request: Request, date_from: str | None = Query(None, alias="from"),
          date_to: str | None = Query(None, alias="to"), principal: Principal = Depends(supervisor)) -> list[StatsRow]:
    rs = store(request)
    today = rs.now().date()
    end = _day(date_to, "to", today)
    start = _day(date_from, "from", end - timedelta(days=30))
    if start > end:
        raise ApiError(422, "from", "from is after to", "invalid_input")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ApiError(422, "from", f"at most {MAX_RANGE_DAYS} days at once", "invalid_input")
    hall = hall_runtime(request).queue().hall
    rows = appointment_stats(rs.engine, rs.hall, start, end, rs.now(), rs.settings())
    return [StatsRow(service_name=(hall.service(r["service"]).name if hall.service(r["service"]) else r["service"]),
                     **r) for r in rows]


@router.post("/import", response_model=ImportOut, status_code=201,
             summary="Import a day's bookings from CSV (raw body, UTF-8 or GB18030; see docs/appointments-csv.md)",
             description="All or nothing: one bad row refuses the file, and the answer lists every bad row as "
                         "`line N: field: message` in `errors`. `day` (optional) requires every row to be that day.",
             openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
             responses={422: {"description": "bad rows, each named by line in `errors`"},
                        413: {"description": "larger than 2 MB"}})
async def import_csv(request: Request, day: str | None = Query(None, description="YYYY-MM-DD"),
                     act: Act = audited("appointment.import", *STAFF)) -> ImportOut:
    principal = act.principal
    data = await request.body()
    if len(data) > MAX_BYTES:
        raise ApiError(413, "body", "the file is larger than 2 MB", "too_large")
    rs = store(request)
    only = _day(day, "day", None) if day else None
    hall = hall_runtime(request).queue().hall
    settings = rs.settings()
    def booked(day: Date, service: str) -> dict[str, int]:
        with reader(rs.engine) as conn:
            return rs.booked_counts(conn, day, service)

    bookings, lines, errors = parse_csv(data, hall, settings, only, booked, today=rs.now().date())
    if errors:
        act.note("appointments csv", bad_rows=len(errors))
        return JSONResponse({"error": "invalid_input", "field": errors[0].field,
                             "message": f"{len(errors)} bad row(s), nothing imported; first: {errors[0]}",
                             "errors": [{"line": e.line, "field": e.field, "message": e.message, "text": str(e)}
                                        for e in errors]}, status_code=422)
    with refusals():
        rows = rs.book(bookings, settings, by=principal.name, source="csv", lines=lines)
    act.note("appointments csv", imported=len(rows))
    return ImportOut(imported=len(rows), appointments=[_out(request, r) for r in rows])


@router.get("/{appointment_id}", response_model=AppointmentOut, summary="One appointment")
def get_one(appointment_id: AppointmentId, request: Request, principal: Principal = Depends(staff)) -> AppointmentOut:
    with refusals():
        return _out(request, store(request).get(appointment_id))


@router.patch("/{appointment_id}", response_model=AppointmentOut,
              summary="Move a booking to another slot, day or service (a new day gets a new code)",
              responses={404: {"description": "unknown appointment"},
                         409: {"description": "the new slot is full, or the booking is cancelled or checked in"}})
def move(appointment_id: AppointmentId, body: MoveIn, request: Request,
         act: Act = audited("appointment.move", *STAFF)) -> AppointmentOut:
    principal = act.principal
    act.note(f"appointment {appointment_id}", **body.model_dump())
    hall = hall_runtime(request).queue().hall
    with refusals():
        return _out(request, store(request).move(appointment_id, hall, body.day, body.slot, body.service,
                                                 by=principal.name))


@router.post("/{appointment_id}/cancel", response_model=AppointmentOut, summary="Cancel a booking (frees its place)",
             responses={404: {"description": "unknown appointment"}, 409: {"description": "already checked in"}})
def cancel(appointment_id: AppointmentId, request: Request,
           act: Act = audited("appointment.cancel", *STAFF)) -> AppointmentOut:
    act.note(f"appointment {appointment_id}")
    with refusals():
        return _out(request, store(request).cancel(appointment_id))
