"""The window side of the queue engine: calling (叫号), recall, no-show, start, finish, transfer,
cancel and pausing a window.

``WindowCalls`` is a part of ``kiosk.queue.QueueEngine`` (its base class); it uses the engine's
hall, store, clock, calling order and events. Issuing and the figures a visitor sees are in
``kiosk.queue``; the calling order itself is ``kiosk.ordering``.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from .domain import Ticket, TicketStatus, Window
from .queue_errors import QueueError, WindowError
from .storage.queue_store import WindowState


class WindowCalls:
    """What a window does with the queue (mixed into ``QueueEngine``)."""

    def window(self, number: int) -> Window:
        w = self.hall.window(number)
        if w is None:
            raise WindowError(f"unknown window {number}", "unknown_window")
        return w

    def waiting_for(self, number: int) -> list[Ticket]:
        """The window's waiting list in the order it will call them."""
        w = self.window(number)
        waiting = self.store.waiting(self.today(), services=w.services, windows=[number])
        state = self.store.window_state(number)
        return self.ordering.order(w, waiting, state.priority_streak, self.clock(), state.lane_streak)

    def current(self, number: int) -> Ticket | None:
        state = self.store.window_state(number)
        return self.store.get(state.current_ticket) if state.current_ticket else None

    def _close_current(self, state: WindowState, now: float) -> None:
        """Pressing 叫号 while a ticket is still open at the window finishes it."""
        current = self.store.get(state.current_ticket) if state.current_ticket else None
        if current and current.status in (TicketStatus.CALLED, TicketStatus.SERVING):
            done = replace(current, status=TicketStatus.DONE, finished_at=now,
                           started_at=current.started_at or current.called_at)
            if self.store.compare_and_set(done, [current.status]):
                self._emit("ticket_finished", ticket=done.to_dict(), window=state.number)

    def call_next(self, number: int, staff: str | None = None) -> Ticket | None:
        self.window(number)
        state = self.store.window_state(number)
        if state.paused:
            raise WindowError(f"window {number} is paused", "window_paused")
        now = self.clock()
        self._close_current(state, now)
        for _ in range(20):  # another window may claim the same ticket; pick again
            candidates = self.waiting_for(number)
            if not candidates:
                state.current_ticket = None
                self.store.save_window_state(state)
                return None
            return_ticket = self._claim(candidates[0], number, now, staff, state)
            if return_ticket:
                return return_ticket
        raise WindowError("the queue is too busy, try again", "busy")

    def call_number(self, number: int, ticket_number: str, staff: str | None = None) -> Ticket:
        w = self.window(number)
        state = self.store.window_state(number)
        matches = [t for t in self.store.find(self.today(), number=ticket_number,
                                              statuses=[TicketStatus.WAITING, TicketStatus.NO_SHOW])
                   if t.service in w.services or t.window == number]
        if not matches:
            raise WindowError(f"no waiting ticket {ticket_number} for window {number}", "not_found")
        now = self.clock()
        self._close_current(state, now)
        ticket = self._claim(matches[-1], number, now, staff, state, allow_no_show=True)
        if not ticket:
            raise WindowError(f"ticket {ticket_number} was just called elsewhere", "conflict")
        return ticket

    def _claim(self, ticket: Ticket, number: int, now: float, staff: str | None, state: WindowState,
               allow_no_show: bool = False) -> Ticket | None:
        called = replace(ticket, status=TicketStatus.CALLED, window=number, called_at=now,
                         call_count=ticket.call_count + 1)
        expected = [TicketStatus.WAITING] + ([TicketStatus.NO_SHOW] if allow_no_show else [])
        claimed = replace(state, current_ticket=called.id, staff=staff or state.staff)
        ordering = self.ordering
        lane = ordering.lane_of(ticket, now)
        if lane is None:  # front lanes (transfers, appointments) are outside the green-channel rule
            claimed.priority_streak = state.priority_streak + 1 if called.priority else 0
            claimed.lane_streak = 0  # one of the rest: an interleaved lane's run ends
        elif lane == ordering.mixed:
            claimed.lane_streak = state.lane_streak + 1  # (a strict lane's call leaves it as it is)
        # the ticket, who called it and the window's state change together or not at all
        if not self.store.claim(called, expected, claimed, staff):
            return None
        state.current_ticket, state.staff, state.priority_streak, state.lane_streak = (
            claimed.current_ticket, claimed.staff, claimed.priority_streak, claimed.lane_streak)
        self._emit("ticket_called", ticket=called.to_dict(), window=number)
        return called

    def _current_or_fail(self, number: int, allowed: tuple[TicketStatus, ...]) -> tuple[Ticket, WindowState]:
        self.window(number)
        state = self.store.window_state(number)
        ticket = self.store.get(state.current_ticket) if state.current_ticket else None
        if ticket is None or ticket.status not in allowed:
            raise WindowError(f"window {number} has no ticket to act on", "no_current_ticket")
        return ticket, state

    def _move(self, number: int, allowed: tuple[TicketStatus, ...], event: str, **changes) -> Ticket:
        ticket, _ = self._current_or_fail(number, allowed)
        changed = replace(ticket, **changes)
        if not self.store.compare_and_set(changed, allowed):
            raise WindowError("the ticket changed meanwhile, refresh", "conflict")
        self._emit(event, ticket=changed.to_dict(), window=number)
        return changed

    def recall(self, number: int) -> Ticket:
        ticket, _ = self._current_or_fail(number, (TicketStatus.CALLED,))
        return self._move(number, (TicketStatus.CALLED,), "ticket_called",
                          called_at=self.clock(), call_count=ticket.call_count + 1)

    def no_show(self, number: int) -> Ticket:
        return self._move(number, (TicketStatus.CALLED,), "ticket_no_show", status=TicketStatus.NO_SHOW)

    def start(self, number: int) -> Ticket:
        return self._move(number, (TicketStatus.CALLED,), "ticket_started",
                          status=TicketStatus.SERVING, started_at=self.clock())

    def finish(self, number: int) -> Ticket:
        ticket, _ = self._current_or_fail(number, (TicketStatus.CALLED, TicketStatus.SERVING))
        now = self.clock()
        return self._move(number, (TicketStatus.CALLED, TicketStatus.SERVING), "ticket_finished",
                          status=TicketStatus.DONE, finished_at=now,
                          started_at=ticket.started_at or ticket.called_at)

    def cancel(self, ticket_id: str) -> Ticket:
        ticket = self.store.get(ticket_id)
        if ticket is None:
            raise QueueError(f"unknown ticket {ticket_id}", "not_found")
        cancelled = replace(ticket, status=TicketStatus.CANCELLED)
        if not self.store.compare_and_set(cancelled, [TicketStatus.WAITING]):
            raise QueueError("only a waiting ticket can be cancelled", "conflict")
        self._emit("ticket_cancelled", ticket=cancelled.to_dict())
        return cancelled

    def transfer(self, number: int, to_service: str | None = None, to_window: int | None = None) -> Ticket:
        """Send the window's current visitor on; the number stays the same.

        The visitor goes to the front of the target queue (the continuation keeps
        the original issue time), so being transferred never means waiting again.
        """
        if (to_service is None) == (to_window is None):
            raise WindowError("transfer needs exactly one of service or window", "bad_transfer")
        if to_service is not None:
            self.service(to_service)
        if to_window is not None:
            target = self.window(to_window)
            if to_window == number:
                raise WindowError("cannot transfer to the same window", "bad_transfer")
            to_service_code = target.services[0]
        ticket, state = self._current_or_fail(number, (TicketStatus.CALLED, TicketStatus.SERVING))
        now = self.clock()
        moved = replace(ticket, status=TicketStatus.TRANSFERRED, finished_at=now,
                        started_at=ticket.started_at or ticket.called_at)
        continuation = Ticket(
            id=uuid.uuid4().hex, number=ticket.number,
            service=to_service if to_service is not None else to_service_code,
            day=ticket.day, seq=ticket.seq, issued_at=ticket.issued_at, priority=ticket.priority,
            window=to_window, terminal=ticket.terminal, transferred_from=ticket.id,
            token=ticket.token)  # the visitor's phone page follows the number on
        state = replace(state, current_ticket=None)
        # one transaction: a crash between the three writes used to leave the ticket transferred with no
        # continuation (the visitor in no queue) or the window still holding a transferred ticket
        if not self.store.transfer(moved, (TicketStatus.CALLED, TicketStatus.SERVING), continuation, state):
            raise WindowError("the ticket changed meanwhile, refresh", "conflict")
        self._emit("ticket_transferred", ticket=continuation.to_dict(), window=number)
        return continuation

    def set_paused(self, number: int, paused: bool) -> WindowState:
        self.window(number)
        state = self.store.window_state(number)
        state.paused = paused
        self.store.save_window_state(state)
        self._emit("window_paused" if paused else "window_resumed", window=number)
        return state
