"""Services, tickets and the public hall display snapshot."""

from __future__ import annotations

from datetime import date as Date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kiosk.domain import TicketStatus

from .halls import hall_runtime
from .audit import Act, audited
from .auth import STAFF, TERMINAL, VIEWERS, identify, requires
from .errors import ApiError
from .lean_route import LeanRoute
from .models import Code, Day, DisplayCall, DisplayOut, PublicTicketOut, ServiceOut, TicketIn, TicketList, TicketOut
from .views import services_out, ticket_out

router = APIRouter(prefix="/api/v1", tags=["queue"])

READERS = (*STAFF, *TERMINAL)


@router.get("/services", response_model=list[ServiceOut], summary="Services with waiting counts and availability")
def services(request: Request, principal=Depends(requires(*READERS, *VIEWERS))) -> list[ServiceOut]:
    return services_out(hall_runtime(request).queue())


async def issue(body: TicketIn, request: Request, act: Act = audited("ticket.issue", *READERS)) -> Response:
    # On the event loop: the ticket's commit is shared with the others asked for meanwhile (group commit)
    # without a worker thread per request; what reads the database runs in one (kiosk.queue.issue_async).
    principal = act.principal
    act.note(f"service {body.service}", priority=body.priority)
    rt = hall_runtime(request)
    # the hall as checked within the last second: no read per ticket
    queue = await run_in_threadpool(rt.queue, False) if rt.check_due() else rt.engine
    terminal = principal.name if principal.kind == "terminal" else f"staff:{principal.name}"
    if body.person_key:
        issued = await run_in_threadpool(_issue_once_per_person, request, queue, body, terminal)
    else:
        issued = await queue.issue_async(body.service, body.priority, body.key, terminal)
    # A repeated idempotency key returns the ticket it already made, with 200 rather than 201.
    repeated = not issued.created
    out = ticket_out(queue, issued.ticket)
    out.people_ahead, out.estimated_wait_s = issued.people_ahead, issued.estimated_wait_s
    out.windows = list(issued.windows)
    return Response(out.model_dump_json(), status_code=200 if repeated else 201, media_type="application/json")


# The busiest route: its common request skips FastAPI's generic handler (server/lean_route.py).
router.add_api_route("/tickets", issue, methods=["POST"], response_model=TicketOut, status_code=201,
                     summary="Issue a ticket", route_class_override=LeanRoute,
                     responses={409: {"description": "the service is closed or sold out, or (one_ticket_per_person) "
                                                     "this card already holds a waiting ticket for it; nothing was "
                                                     "consumed"},
                                422: {"description": "unknown service or priority group"}})


def _issue_once_per_person(request: Request, queue, body: TicketIn, terminal: str):
    """The hall's one-ticket-per-person rule across dispensers (``server.person_tickets``)."""
    from . import api_appointments, person_tickets
    from .process_lock import exclusive

    if not api_appointments.store_for(hall_runtime(request)).settings().one_ticket_per_person:
        return queue.issue(body.service, body.priority, body.key, terminal)
    db, hall, day = queue.store.engine, queue.store.hall, queue.today()
    with exclusive(db, f"person:{hall}:{body.person_key}:{body.service}"):  # every server process
        had = person_tickets.held(db, hall, day, body.person_key, body.service)
        old = queue.store.get(had[0]) if had else None
        if old is not None and old.status in person_tickets.OPEN and not (body.key and old.key == body.key):
            svc = queue.hall.service(body.service)
            raise ApiError(409, "person_key", f"您已取过{svc.name if svc else body.service}的号：{old.number}",
                           "one_ticket_per_person")
        issued = queue.issue(body.service, body.priority, body.key, terminal)
        person_tickets.remember(db, hall, day, body.person_key, body.service, issued.ticket.id, issued.ticket.number)
    return issued


@router.get("/tickets", response_model=TicketList, summary="A day's tickets (today by default), in issue order")
def list_tickets(request: Request, principal=Depends(requires(*READERS)),
                 service: Annotated[Code | None, Query()] = None,
                 date: Annotated[Day | None, Query(description="YYYY-MM-DD, the hall's local day")] = None,
                 status: Annotated[TicketStatus | None, Query()] = None,
                 limit: Annotated[int, Query(ge=1, le=5000)] = 500,
                 newest_first: bool = False) -> TicketList:
    queue = hall_runtime(request).queue()
    day = date or queue.today()
    try:
        Date.fromisoformat(day)
    except ValueError:
        raise ApiError(422, "date", f"'{day}' is not a calendar date (YYYY-MM-DD)", "invalid_input") from None
    found = queue.store.find(day, services=[service] if service else None,
                             statuses=[status] if status else None, limit=limit, newest_first=newest_first)
    return TicketList(date=day, tickets=[ticket_out(queue, t) for t in found])


@router.get("/tickets/{ticket_id}", response_model=PublicTicketOut,
            summary="Follow one ticket (public: the id is on the printed QR code)")
def follow_ticket(request: Request, ticket_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
                  principal=Depends(identify)) -> PublicTicketOut:  # a credential binds its own hall
    queue = hall_runtime(request).queue()
    t = queue.store.get(ticket_id)
    if t is None:
        raise ApiError(404, "ticket_id", "no such ticket", "not_found")
    out = ticket_out(queue, t, with_wait=True)
    return PublicTicketOut(number=t.number, service=t.service, service_name=out.service_name, status=out.status,
                           window=t.window, people_ahead=out.people_ahead, estimated_wait_s=out.estimated_wait_s,
                           windows=out.windows)


@router.post("/tickets/{ticket_id}/cancel", response_model=TicketOut,
             summary="Cancel a waiting ticket (staff, or the terminal that issued it)")
def cancel(request: Request, ticket_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
           act: Act = audited("ticket.cancel", *READERS)) -> TicketOut:
    queue = hall_runtime(request).queue()
    principal = act.principal
    if principal.kind == "terminal":
        t = queue.store.get(ticket_id)
        if t is not None and t.terminal != principal.name:
            raise ApiError(403, "ticket_id", "a terminal cancels only the tickets it issued", "forbidden")
    ticket = queue.cancel(ticket_id)
    act.note(f"ticket {ticket.number}")
    return ticket_out(queue, ticket)


@router.get("/display", response_model=DisplayOut, tags=["display"],
            summary="What the hall TV shows (public: numbers and windows only)")
def display(request: Request, principal=Depends(identify)) -> DisplayOut:  # signed in: its own hall
    rt = hall_runtime(request)
    queue = rt.queue()
    hall = queue.hall
    names = {s.code: s.name for s in hall.services}
    window_names = {w.number: w.name for w in hall.windows}
    called = [t for t in queue.store.find(queue.today(), statuses=[TicketStatus.CALLED, TicketStatus.SERVING,
                                                                   TicketStatus.DONE, TicketStatus.NO_SHOW,
                                                                   TicketStatus.TRANSFERRED])
              if t.called_at and t.window]
    called.sort(key=lambda t: t.called_at, reverse=True)

    def call(t) -> DisplayCall:
        return DisplayCall(number=t.number, window=t.window, window_name=window_names.get(t.window, ""),
                           service_name=names.get(t.service, t.service), called_at=t.called_at,
                           status=t.status.value)

    per_window = []
    for w in hall.windows:
        current = queue.current(w.number)
        per_window.append(call(current) if current and current.status in
                          (TicketStatus.CALLED, TicketStatus.SERVING) else None)
    counts = queue.store.waiting_counts(queue.today())
    return DisplayOut(hall=hall.name, timezone=hall.timezone, now=queue.clock(), windows=per_window,
                      window_numbers=[w.number for w in hall.windows], window_names=[w.name for w in hall.windows],
                      recent=[call(t) for t in called[:5]],
                      waiting=[{"code": s.code, "name": s.name, "prefix": s.prefix, "waiting": counts.get(s.code, 0)}
                               for s in hall.services if s.enabled])
