"""Turning engine objects into API bodies."""

from __future__ import annotations

from kiosk.domain import Ticket, TicketStatus
from kiosk.queue import QueueEngine

from .models import ServiceOut, TicketOut, WindowOut


def ticket_out(queue: QueueEngine, t: Ticket, *, with_wait: bool = False) -> TicketOut:
    svc = queue.hall.service(t.service)
    ahead = wait = 0
    if with_wait and t.status is TicketStatus.WAITING and svc is not None:
        ahead = queue.people_ahead(t)
        wait = queue.estimate_wait_s(svc, ahead)
    return TicketOut(
        id=t.id, number=t.number, service=t.service, service_name=svc.name if svc else t.service,
        day=t.day, status=t.status.value, priority=t.priority, window=t.window, issued_at=t.issued_at,
        called_at=t.called_at, started_at=t.started_at, finished_at=t.finished_at, call_count=t.call_count,
        terminal=t.terminal, people_ahead=ahead, estimated_wait_s=wait, token=t.token,
        windows=[w.number for w in queue.hall.windows_for(t.service)])


def window_out(queue: QueueEngine, number: int) -> WindowOut:
    w = queue.window(number)
    state = queue.store.window_state(number)
    current = queue.store.get(state.current_ticket) if state.current_ticket else None
    if current is not None and current.status not in (TicketStatus.CALLED, TicketStatus.SERVING):
        current = None  # finished, no-show or moved on: the window is free
    return WindowOut(number=w.number, name=w.name, services=list(w.services), green_channel=w.green_channel,
                     paused=state.paused, staff=state.staff,
                     current=ticket_out(queue, current) if current else None)


def services_out(queue: QueueEngine) -> list[ServiceOut]:
    return [ServiceOut(code=s.service.code, name=s.service.name, prefix=s.service.prefix, icon=s.service.icon,
                       description=s.service.description, waiting=s.waiting, estimated_wait_s=s.estimated_wait_s,
                       open=s.availability.open, closed_reason=s.availability.reason,
                       closed_code=s.availability.reason_code, windows=list(s.windows),
                       hours=s.service.hours_text(), range_start=s.service.range_start,
                       range_end=s.service.range_end, daily_cap=s.service.daily_cap, enabled=s.service.enabled)
            for s in queue.services()]
