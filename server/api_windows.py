"""Windows and the window staff's actions (the call console's buttons)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request

from kiosk.domain import TicketStatus
from kiosk.storage.schema import tickets

from . import pause_log
from .halls import hall_runtime
from .audit import Act, audited
from .auth import STAFF, TERMINAL, VIEWERS, requires
from .models import ActionOut, CallNumberIn, TransferIn, WindowCounts, WindowOut, WindowQueueOut
from .views import ticket_out, window_out

router = APIRouter(prefix="/api/v1/windows", tags=["windows"])

Number = Annotated[int, Path(ge=1, le=999, description="window number")]
staff_only = requires(*STAFF)


def console(action: str):
    """A console button: window staff on their own window, supervisors on any; recorded in the audit log."""
    return audited(f"window.{action}", *STAFF, window="number")


@router.get("", response_model=list[WindowOut], summary="Windows, their services, pause state and current call")
def windows(request: Request, principal=Depends(requires(*STAFF, *TERMINAL, *VIEWERS))) -> list[WindowOut]:
    queue = hall_runtime(request).queue()
    return [window_out(queue, w.number) for w in queue.hall.windows]


@router.get("/{number}/queue", response_model=WindowQueueOut,
            summary="The window's waiting list, in the order it will call, and today's counts")
def window_queue(number: Number, request: Request, principal=Depends(staff_only)) -> WindowQueueOut:
    queue = hall_runtime(request).queue()
    view = window_out(queue, number)
    waiting = queue.waiting_for(number)
    q = (sa.select(tickets.c.status, sa.func.count())
         .where(tickets.c.hall == queue.hall.code, tickets.c.day == queue.today(), tickets.c.window == number)
         .group_by(tickets.c.status))
    with queue.store.engine.connect() as conn:
        counts = {s: n for s, n in conn.execute(q)}
    called = sum(n for s, n in counts.items() if s != TicketStatus.WAITING.value)
    return WindowQueueOut(window=view, waiting=[ticket_out(queue, t) for t in waiting[:200]],
                          today=WindowCounts(called=called, done=counts.get("done", 0),
                                             no_show=counts.get("no_show", 0),
                                             transferred=counts.get("transferred", 0), waiting=len(waiting)))


def _done(request: Request, number: int, ticket) -> ActionOut:
    queue = hall_runtime(request).engine
    return ActionOut(ticket=ticket_out(queue, ticket) if ticket else None, window=window_out(queue, number))


@router.post("/{number}/call-next", response_model=ActionOut,
             summary="叫号: finish the current visitor (if any) and call the next; ticket is null when nobody waits")
def call_next(number: Number, request: Request, act: Act = console("call_next")) -> ActionOut:
    rt = hall_runtime(request)
    ticket = rt.queue().call_next(number, staff=act.principal.name)  # stamped with the staff in the call itself
    act.note(ticket=ticket.number if ticket else None)
    return _done(request, number, ticket)


@router.post("/{number}/call", response_model=ActionOut, summary="Call a specific number (also a no-show's return)")
def call_number(number: Number, body: CallNumberIn, request: Request, act: Act = console("call")) -> ActionOut:
    rt = hall_runtime(request)
    act.note(ticket=body.number)
    ticket = rt.queue().call_number(number, body.number, staff=act.principal.name)
    return _done(request, number, ticket)


@router.post("/{number}/recall", response_model=ActionOut, summary="重呼: call the current number again")
def recall(number: Number, request: Request, act: Act = console("recall")) -> ActionOut:
    ticket = hall_runtime(request).queue().recall(number)
    act.note(ticket=ticket.number if ticket else None)
    return _done(request, number, ticket)


@router.post("/{number}/no-show", response_model=ActionOut, summary="过号: the called visitor did not come")
def no_show(number: Number, request: Request, act: Act = console("no_show")) -> ActionOut:
    ticket = hall_runtime(request).queue().no_show(number)
    act.note(ticket=ticket.number if ticket else None)
    return _done(request, number, ticket)


@router.post("/{number}/start", response_model=ActionOut, summary="开始办理")
def start(number: Number, request: Request, act: Act = console("start")) -> ActionOut:
    ticket = hall_runtime(request).queue().start(number)
    act.note(ticket=ticket.number if ticket else None)
    return _done(request, number, ticket)


@router.post("/{number}/finish", response_model=ActionOut, summary="办结")
def finish(number: Number, request: Request, act: Act = console("finish")) -> ActionOut:
    ticket = hall_runtime(request).queue().finish(number)
    act.note(ticket=ticket.number if ticket else None)
    return _done(request, number, ticket)


@router.post("/{number}/transfer", response_model=ActionOut,
             summary="转移: send the current visitor to another service or window, keeping the number")
def transfer(number: Number, body: TransferIn, request: Request, act: Act = console("transfer")) -> ActionOut:
    act.note(to_service=body.service, to_window=body.window)
    ticket = hall_runtime(request).queue().transfer(number, body.service, body.window)
    act.note(ticket=ticket.number if ticket else None)
    return _done(request, number, ticket)


@router.post("/{number}/pause", response_model=ActionOut, summary="暂停: stop calling at this window")
def pause(number: Number, request: Request, act: Act = console("pause")) -> ActionOut:
    rt = hall_runtime(request)
    rt.queue().set_paused(number, True)
    pause_log.paused(rt.db, rt.code, number, act.principal.name)  # the staff's time paused (reports)
    return _done(request, number, None)


@router.post("/{number}/resume", response_model=ActionOut, summary="Resume calling at this window")
def resume(number: Number, request: Request, act: Act = console("resume")) -> ActionOut:
    rt = hall_runtime(request)
    rt.queue().set_paused(number, False)
    pause_log.resumed(rt.db, rt.code, number)
    return _done(request, number, None)
