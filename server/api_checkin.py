"""Check-in at a dispenser: ``POST /api/v1/appointments/checkin`` (online), the day's list a terminal keeps
for offline check-in (``GET /api/v1/appointments/today``) and the offline check-ins it sends later
(``POST /api/v1/appointments/checkins``, exactly once by key).

An on-time check-in's ticket carries the key ``apt:<appointment id>``, which the ``appointment`` front lane
of the queue order admits: windows call it before walk-ins (kiosk/appointments/checkin.py).
"""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from kiosk.appointments.checkin import IssuedTicket, check_in, record_offline
from kiosk.appointments.tables import appointments
from kiosk.storage.db import reader

from .halls import hall_runtime
from .accounts import Principal
from .api_appointments import refusals, store
from .appointment_models import CheckinIn, CheckinOut, OfflineCheckinIn, SettingsIO, TodayItem, TodayOut
from .audit import Act, audited
from .auth import STAFF, TERMINAL, requires
from .errors import ApiError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/appointments", tags=["appointments"])


@router.get("/today", response_model=TodayOut,
            summary="Today's appointments for a terminal's offline check-in, with the settings and the hall's key")
def today(request: Request, principal: Principal = Depends(requires(*TERMINAL))) -> TodayOut:
    rs = store(request)
    day = rs.now().date()
    import sqlalchemy as sa

    with reader(rs.engine) as conn:
        rows = conn.execute(sa.select(appointments).where(appointments.c.hall == rs.hall,
                                                          appointments.c.day == day.isoformat())
                            .order_by(appointments.c.slot_start)).mappings().all()
    return TodayOut(day=day.isoformat(), settings=SettingsIO(**rs.settings().to_dict()), secret=rs.secret(),
                    appointments=[TodayItem(id=r["id"], service=r["service"], slot=f"{r['slot_start']}-{r['slot_end']}",
                                            code=r["code"], person_key=r["person_key"], status=r["status"],
                                            ticket_number=r["ticket_number"]) for r in rows])


@router.post("/checkin", response_model=CheckinOut, status_code=201,
             summary="Check a visitor in by code or swiped card: issues the ticket (called ahead when on time)",
             responses={200: {"description": "the same key again: what the first request got"},
                        404: {"description": "no appointment today for this code or card"},
                        409: {"description": "cancelled, already checked in, too early (`error` too_early), or "
                                             "the service cannot issue now; `message` is for the visitor"},
                        422: {"description": "neither or both of code and person_key"}})
def checkin(body: CheckinIn, request: Request,
            act: Act = audited("appointment.checkin", *TERMINAL, *STAFF)) -> JSONResponse:
    principal = act.principal
    if (body.code is None) == (body.person_key is None):
        raise ApiError(422, "code", "give exactly one of code and person_key", "invalid_input")
    rt = hall_runtime(request)
    queue = rt.queue()
    rs = store(request)
    terminal = principal.name if principal.kind == "terminal" else f"staff:{principal.name}"
    issued = {}

    def issue(service: str, key: str) -> IssuedTicket:
        got = queue.issue(service, None, key, terminal, check_in=True)  # the check-in's own key
        issued["it"] = got
        return IssuedTicket(got.ticket.id, got.ticket.number)

    now = datetime.fromtimestamp(queue.clock(), rs.tz)
    with refusals():
        result = check_in(rs.engine, rs.hall, rs.settings(), key=body.key, now=now, issue=issue, code=body.code,
                          person=body.person_key, terminal=terminal)
    row = result["appointment"]
    svc = queue.hall.service(row["service"])
    out = CheckinOut(outcome=result["outcome"], message=result["message"], repeated=result["repeated"],
                     appointment_id=row["id"], service=row["service"], service_name=svc.name if svc else row["service"],
                     slot=f"{row['slot_start']}-{row['slot_end']}", ticket_id=row["ticket_id"],
                     ticket_number=row["ticket_number"])
    got = issued.get("it")
    if got is None and row["ticket_id"]:
        ticket = queue.get_ticket(row["ticket_id"])
        got = queue._issued(ticket) if ticket else None
    if got is not None:
        out.people_ahead, out.estimated_wait_s, out.windows = got.people_ahead, got.estimated_wait_s, list(got.windows)
    log.info("appointment %s checked in (%s) -> %s", row["id"], result["outcome"], row["ticket_number"])
    act.note(f"appointment {row['id']}", outcome=result["outcome"], ticket=row["ticket_number"],
             repeated=result["repeated"])
    return JSONResponse(out.model_dump(), status_code=200 if result["repeated"] else 201)


@router.post("/checkins", status_code=201, summary="A check-in a terminal made offline (exactly once by key)",
             description="201 `{\"status\": \"applied\"}` when stored now; 200 with `duplicate` (that key was "
                         "applied before) or `conflict` (checked in elsewhere meanwhile: the first stays).",
             responses={200: {"description": "duplicate or conflict: nothing changed"},
                        404: {"description": "unknown appointment"}})
def offline_checkin(body: OfflineCheckinIn, request: Request,
                    principal: Principal = Depends(requires(*TERMINAL))) -> JSONResponse:
    rs = store(request)
    with refusals():
        status = record_offline(rs.engine, rs.hall, appointment_id=body.appointment_id, key=body.key, at=body.at,
                                late=body.late, ticket_id=body.ticket_id, ticket_number=body.ticket_number,
                                terminal=principal.name)
    if status == "conflict":
        log.warning("offline check-in %s of appointment %s: it was checked in elsewhere meanwhile (ticket %s "
                    "stands too)", body.key, body.appointment_id, body.ticket_number)
    return JSONResponse({"status": status}, status_code=201 if status == "applied" else 200)
