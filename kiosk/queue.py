"""The queue engine: numbering, availability, ordering and the ticket lifecycle.

One engine serves the terminal's embedded queue and the hall server. Time is
injected (``clock``) so tests can cross midnight and opening hours.
"""

from __future__ import annotations

import statistics
import time as _time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from .domain import Hall, Service, Ticket, TicketStatus, Window
from .ordering import TRANSFERRED, Lane, Ordering
from .ordering import serves as ordering_serves
from .storage.queue_store import KeyTaken, NumbersExhausted, NumberTaken, QueueStore, WindowState


class QueueError(Exception):
    """A refused request; ``code`` is stable for APIs, the message is for people."""

    code = "queue_error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class UnknownService(QueueError):
    code = "unknown_service"


class ServiceUnavailable(QueueError):
    code = "service_unavailable"


class WindowError(QueueError):
    code = "window_error"


@dataclass(frozen=True)
class Availability:
    open: bool
    reason_code: str = ""  # closed_day | outside_hours | sold_out | disabled
    reason: str = ""  # what a visitor reads


@dataclass(frozen=True)
class ServiceState:
    service: Service
    waiting: int
    estimated_wait_s: int
    availability: Availability
    windows: tuple[int, ...]


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    people_ahead: int
    estimated_wait_s: int
    windows: tuple[int, ...]
    created: bool = True  # False: the key had already made this ticket


Listener = Callable[[str, dict], None]


@dataclass(repr=False)
class QueueEngine:
    hall: Hall
    store: QueueStore
    clock: Callable[[], float] = _time.time
    listeners: list[Listener] = field(default_factory=list)
    lanes: tuple[Lane, ...] = (TRANSFERRED,)  # front lanes of the calling order (kiosk.ordering)
    # Makes a ticket's public token for its day (kiosk.public_link); None: tickets get none.
    token_maker: Callable[[str], str] | None = None

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.hall.timezone)

    # ------------------------------------------------------------------ time
    def local(self, ts: float | None = None) -> datetime:
        return datetime.fromtimestamp(self.clock() if ts is None else ts, self.tz)

    def today(self) -> str:
        return self.local().date().isoformat()

    def _emit(self, kind: str, **data) -> None:
        for listener in list(self.listeners):
            listener(kind, data)

    # ---------------------------------------------------------- availability
    def service(self, code: str) -> Service:
        svc = self.hall.service(code)
        if svc is None:
            raise UnknownService(f"unknown service '{code}'")
        return svc

    def availability(self, svc: Service, issued_today: int | None = None) -> Availability:
        now = self.local()
        if not svc.enabled:
            return Availability(False, "disabled", "暂停办理")
        if not self.hall.is_working_day(now.date(), svc):
            return Availability(False, "closed_day", "今日不办公")
        if svc.hours and not any(r.start <= now.time() < r.end for r in svc.hours):
            return Availability(False, "outside_hours", f"办理时间 {svc.hours_text()}")
        if issued_today is None:
            issued_today = self._issued_today(svc)
        if issued_today >= svc.range_end - svc.range_start + 1 or (
                svc.daily_cap is not None and issued_today >= svc.daily_cap):
            return Availability(False, "sold_out", "今日号已取完")
        return Availability(True)

    def _issued_today(self, svc: Service) -> int:
        last = self.store.last_number(self.today(), svc.code)
        return 0 if last is None else last - svc.range_start + 1

    def open_windows(self, service_code: str, paused: set[int] | None = None) -> list[Window]:
        paused = self.store.paused_windows() if paused is None else paused
        return [w for w in self.hall.windows_for(service_code) if w.number not in paused]

    def average_service_s(self, svc: Service) -> float:
        durations = [d for d in self.store.recent_durations(svc.code) if d > 0]
        if durations:
            return statistics.mean(durations)
        minutes = svc.average_minutes or self.hall.default_service_minutes
        return minutes * 60.0

    def estimate_wait_s(self, svc: Service, people_ahead: int, paused: set[int] | None = None) -> int:
        windows = max(1, len(self.open_windows(svc.code, paused)))
        return int(round(people_ahead * self.average_service_s(svc) / windows))

    def services(self) -> list[ServiceState]:
        """What the dispenser's grid shows, one entry per service in hall order."""
        counts = self.store.waiting_counts(self.today())
        paused = self.store.paused_windows()
        out = []
        for svc in self.hall.services:
            waiting = counts.get(svc.code, 0)
            out.append(ServiceState(svc, waiting, self.estimate_wait_s(svc, waiting, paused),
                                    self.availability(svc),
                                    tuple(w.number for w in self.hall.windows_for(svc.code))))
        return out

    # --------------------------------------------------------------- issuing
    def issue(self, service_code: str, priority: str | None = None, key: str | None = None,
              terminal: str | None = None, series: str = "") -> Issued:
        """Issue the next number, or raise ``ServiceUnavailable`` consuming nothing.

        ``key`` makes the call idempotent: the same key returns the same ticket.
        """
        if key:
            existing = self.store.by_key(key)
            if existing:
                return self._issued(existing, created=False)
        svc = self.service(service_code)
        if priority is not None:
            if not self.hall.green_channel:
                raise QueueError("this hall has no green channel", "no_green_channel")
            if priority not in {g.code for g in self.hall.priority_groups}:
                raise QueueError(f"unknown priority group '{priority}'", "unknown_priority")
        state = self.availability(svc, issued_today=0)  # the day's numbers are checked as one is taken
        if not state.open:
            raise ServiceUnavailable(state.reason, state.reason_code)
        now = self.clock()
        day = self.today()

        def build(seq: int) -> Ticket:
            return Ticket(id=uuid.uuid4().hex, number=f"{svc.prefix}{series}{seq:0{svc.number_width}d}",
                          service=svc.code, day=day, seq=seq, issued_at=now, priority=priority,
                          terminal=terminal, key=key, token=token)

        token = self.token_maker(day) if self.token_maker else None
        try:
            ticket = self.store.insert_numbered(svc.code, day, series, svc.range_start, svc.range_end,
                                                svc.daily_cap, build)
        except NumbersExhausted:
            raise ServiceUnavailable("今日号已取完", "sold_out") from None
        except NumberTaken as exc:
            raise QueueError(f"numbers of service '{svc.code}' are held by other tickets: {exc}",
                             "number_taken") from None
        except KeyTaken:
            existing = self.store.by_key(key)  # the same key raced in meanwhile
            if existing is None:  # held by a ticket of another hall on the same database
                raise QueueError("this idempotency key belongs to another ticket", "key_taken") from None
            return self._issued(existing, created=False)
        issued = self._issued(ticket)
        self._emit("ticket_issued", ticket=ticket.to_dict(), people_ahead=issued.people_ahead)
        return issued

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self.store.get(ticket_id)

    def status_marker(self) -> str:
        """What the terminal header shows about the queue's source: nothing when embedded."""
        return ""

    def _issued(self, ticket: Ticket, created: bool = True) -> Issued:
        svc = self.service(ticket.service)
        with self.store.snapshot():  # the figures in one read transaction
            ahead, paused = self._people_ahead(ticket)
            wait = self.estimate_wait_s(svc, ahead, paused)
        return Issued(ticket, ahead, wait, tuple(w.number for w in self.hall.windows_for(svc.code)), created)

    # --------------------------------------------------------------- order
    @property
    def ordering(self) -> Ordering:
        """The calling order (one module for calling and people ahead: ``kiosk.ordering``)."""
        return Ordering(self.hall.priority_rule, self.lanes)

    def add_lane(self, lane: Lane, after: str | None = "transferred") -> None:
        """Plug a front lane into the calling order (e.g. appointments around their slot)."""
        self.lanes = self.ordering.with_lane(lane, after).lanes

    def people_ahead(self, ticket: Ticket) -> int:
        """Its position in the calling order of the open windows that serve it (the smallest)."""
        with self.store.snapshot():
            return self._people_ahead(ticket)[0]

    def _people_ahead(self, ticket: Ticket) -> tuple[int, set[int]]:
        """(people ahead, the paused windows read on the way)."""
        states = self.store.window_states()
        paused = {n for n, st in states.items() if st.paused}
        if ticket.status is not TicketStatus.WAITING:
            return 0, paused
        ordering, now = self.ordering, self.clock()
        serving = [w for w in self.hall.windows if ordering_serves(w, ticket)]
        streaks = {n: st.priority_streak for n, st in states.items()}
        lane_streaks = {n: st.lane_streak for n, st in states.items()}
        open_ = [w for w in serving if w.number not in paused] or serving
        if open_ and all(lane.sql is not None for lane in ordering.lanes):
            # counted in SQL: a busy day has thousands of waiting tickets
            my_lane = ordering.lane_of(ticket, now)
            counts = self.store.ahead_counts(ticket, open_, ordering, my_lane)
            return min(ordering.position_from(w, ticket, c, streaks.get(w.number, 0), my_lane,
                                              lane_streaks.get(w.number, 0))
                       for w, c in zip(open_, counts)), paused
        services = {s for w in serving for s in w.services} | {ticket.service}
        waiting = self.store.waiting(ticket.day, services=services, windows=[w.number for w in serving])
        return ordering.people_ahead(ticket, serving, waiting, streaks=streaks, paused=paused, now=now,
                                     lane_streaks=lane_streaks), paused

    # --------------------------------------------------------------- windows
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
        if not self.store.compare_and_set(moved, (TicketStatus.CALLED, TicketStatus.SERVING)):
            raise WindowError("the ticket changed meanwhile, refresh", "conflict")
        continuation = Ticket(
            id=uuid.uuid4().hex, number=ticket.number,
            service=to_service if to_service is not None else to_service_code,
            day=ticket.day, seq=ticket.seq, issued_at=ticket.issued_at, priority=ticket.priority,
            window=to_window, terminal=ticket.terminal, transferred_from=ticket.id,
            token=ticket.token)  # the visitor's phone page follows the number on
        self.store.insert(continuation, generation=self.store.generation_of(ticket.id) + 1)
        state.current_ticket = None
        self.store.save_window_state(state)
        self._emit("ticket_transferred", ticket=continuation.to_dict(), window=number)
        return continuation

    def set_paused(self, number: int, paused: bool) -> WindowState:
        self.window(number)
        state = self.store.window_state(number)
        state.paused = paused
        self.store.save_window_state(state)
        self._emit("window_paused" if paused else "window_resumed", window=number)
        return state
