"""The queue engine: numbering, availability, waiting figures and people ahead.

One engine serves the terminal's embedded queue and the hall server. Time is
injected (``clock``) so tests can cross midnight and opening hours. What a window
does with the queue (叫号, recall, finish, transfer, pause) is ``kiosk.calling``, a
base class of the engine; its refusals are ``kiosk.queue_errors``; the calling order
is ``kiosk.ordering``.
"""

from __future__ import annotations

import asyncio
import statistics
import time as _time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from .calling import WindowCalls
from .domain import Hall, Service, Ticket, TicketStatus, Window
from .ordering import TRANSFERRED, Lane, Ordering
from .ordering import serves as ordering_serves
from .appointments.checkin import reserved as reserved_key
from .queue_errors import QueueError, ReservedKey, ServiceUnavailable, UnknownService, WindowError
from .random_pool import uuid_hex
from .storage.ahead_counts import window_counts
from .storage.queue_cache import Placement
from .storage.queue_store import KeyTaken, NumbersExhausted, NumberTaken, QueueStore, WindowState

__all__ = ["Availability", "Issued", "QueueEngine", "QueueError", "ServiceState", "ServiceUnavailable",
           "UnknownService", "WindowError"]


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
class QueueEngine(WindowCalls):
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

    def availability(self, svc: Service, issued_today: int | None = None, now: datetime | None = None) -> Availability:
        """Whether ``svc`` issues now (``now``: the hall's local time, read from the clock when None)."""
        now = self.local() if now is None else now
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
        return self._mean_service_s(svc, self.store.recent_durations(svc.code))

    def _mean_service_s(self, svc: Service, recent: list[float]) -> float:
        durations = [d for d in recent if d > 0]
        if durations:
            return statistics.mean(durations)
        minutes = svc.average_minutes or self.hall.default_service_minutes
        return minutes * 60.0

    def estimate_wait_s(self, svc: Service, people_ahead: int, paused: set[int] | None = None) -> int:
        return self._wait_s(svc, people_ahead, self.average_service_s(svc), paused)

    def _wait_s(self, svc: Service, people_ahead: int, mean_s: float, paused: set[int] | None) -> int:
        windows = max(1, len(self.open_windows(svc.code, paused)))
        return int(round(people_ahead * mean_s / windows))

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
              terminal: str | None = None, series: str = "", *, check_in: bool = False) -> Issued:
        """Issue the next number, or raise ``ServiceUnavailable`` consuming nothing.

        ``key`` makes the call idempotent: the same key returns the same ticket (found when its
        insert meets the key, or when a repeated request is refused: closed since, sold out).
        One write transaction per new ticket; its figures come from the same transaction.
        A key of a check-in's form (``apt:``, ``apt-late:``, ``kiosk.appointments.checkin.RESERVED_PREFIXES``)
        makes a new ticket only with ``check_in`` (the check-in's own path); else it returns the ticket the
        check-in made, or raises ``ReservedKey``.
        """
        if not check_in and reserved_key(key):
            return self._reserved(key)
        try:
            return self._issue_new(service_code, priority, key, terminal, series)
        except QueueError as exc:
            if not key:
                raise
            return self._repeated(key, exc)

    async def issue_async(self, service_code: str, priority: str | None = None, key: str | None = None,
                          terminal: str | None = None, series: str = "") -> Issued:
        """``issue`` for an event loop (the hall server): the checks and the figures run here, the commit on
        the store's group-commit leader (``QueueStore.issue_placed_async``), sharing it with the tickets
        asked for meanwhile; what needs a database read (a repeated key, a calling order that cannot be
        placed from the queue held in memory) runs in a worker thread. A client's call: a check-in's key
        form makes no ticket (``issue``)."""
        if reserved_key(key):
            return await asyncio.to_thread(self._reserved, key)
        try:
            svc, args, ordering, now = self._request(service_code, priority, key, terminal, series)
            if not self._lanes_have_sql(ordering):
                return await asyncio.to_thread(self._issue_new, service_code, priority, key, terminal, series)
            try:
                ticket, placement = await self.store.issue_placed_async(*args, ordering.lanes, now)
            except KeyTaken as exc:
                return await asyncio.to_thread(self._refused, exc, svc, key)
            except (NumbersExhausted, NumberTaken) as exc:
                return self._refused(exc, svc, key)  # raises: sold out, numbers held
            issued = self._placed(ticket, placement, ordering, now) or await asyncio.to_thread(self._issued, ticket)
        except QueueError as exc:
            if not key:
                raise
            return await asyncio.to_thread(self._repeated, key, exc)
        self._emit("ticket_issued", ticket=ticket.to_dict(), people_ahead=issued.people_ahead)
        return issued

    def _reserved(self, key: str) -> Issued:
        """A key of a check-in's form from a client: the ticket the check-in made with it, never a new one."""
        existing = self.store.by_key(key)
        if existing is None:
            raise ReservedKey(f"key '{key[:64]}': keys beginning with 'apt:' or 'apt-late:' belong to appointment "
                              "check-ins (POST /api/v1/appointments/checkin); use another idempotency key")
        return self._issued(existing, created=False)

    def _repeated(self, key: str, refusal: QueueError) -> Issued:
        """A refused request whose ``key`` already made a ticket gets that ticket; else the refusal."""
        existing = self.store.by_key(key)
        if existing is None:
            raise refusal
        return self._issued(existing, created=False)

    def _request(self, service_code: str, priority: str | None, key: str | None, terminal: str | None,
                 series: str) -> tuple[Service, tuple, Ordering, float]:
        """The checks of a new ticket (raising its refusal) and the store's arguments for it:
        (service, ``insert_numbered``'s arguments, the calling order, now)."""
        svc = self.service(service_code)
        if priority is not None:
            if not self.hall.green_channel:
                raise QueueError("this hall has no green channel", "no_green_channel")
            if priority not in {g.code for g in self.hall.priority_groups}:
                raise QueueError(f"unknown priority group '{priority}'", "unknown_priority")
        now = self.clock()
        local = self.local(now)
        state = self.availability(svc, 0, local)  # the day's numbers are checked as one is taken
        if not state.open:
            raise ServiceUnavailable(state.reason, state.reason_code)
        day = local.date().isoformat()
        token = self.token_maker(day) if self.token_maker else None

        def build(seq: int) -> Ticket:
            return Ticket(id=uuid_hex(), number=f"{svc.prefix}{series}{seq:0{svc.number_width}d}",
                          service=svc.code, day=day, seq=seq, issued_at=now, priority=priority,
                          terminal=terminal, key=key, token=token)

        return svc, (svc.code, day, series, svc.range_start, svc.range_end, svc.daily_cap, build), self.ordering, now

    @staticmethod
    def _lanes_have_sql(ordering: Ordering) -> bool:
        """Every lane has its SQL form: a new ticket is placed from the queue held in memory, and a waiting
        ticket's people ahead are counted in SQL."""
        return all(lane.sql is not None for lane in ordering.lanes)

    def _issue_new(self, service_code: str, priority: str | None, key: str | None, terminal: str | None,
                   series: str) -> Issued:
        svc, args, ordering, now = self._request(service_code, priority, key, terminal, series)
        placement = None
        try:
            if self._lanes_have_sql(ordering):
                ticket, placement = self.store.issue_placed(*args, ordering.lanes, now)
            else:
                ticket = self.store.insert_numbered(*args)
        except (NumbersExhausted, NumberTaken, KeyTaken) as exc:
            return self._refused(exc, svc, key)
        issued = (placement and self._placed(ticket, placement, ordering, now)) or self._issued(ticket)
        self._emit("ticket_issued", ticket=ticket.to_dict(), people_ahead=issued.people_ahead)
        return issued

    def _refused(self, exc: Exception, svc: Service, key: str | None) -> Issued:
        """The store's refusal as the engine's; a key used before returns the ticket it made."""
        if isinstance(exc, NumbersExhausted):
            raise ServiceUnavailable("今日号已取完", "sold_out") from None
        if isinstance(exc, NumberTaken):
            raise QueueError(f"numbers of service '{svc.code}' are held by other tickets: {exc}",
                             "number_taken") from None
        existing = self.store.by_key(key)  # the key made a ticket before (a retry) or just now (a race)
        if existing is None:  # held by a ticket of another hall on the same database
            raise QueueError("this idempotency key belongs to another ticket", "key_taken") from None
        return self._issued(existing, created=False)

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

    def _placed(self, ticket: Ticket, placement: Placement, ordering: Ordering, now: float) -> Issued | None:
        """A new ticket's figures from its own transaction's ``Placement``: the same count as
        ``_people_ahead``'s SQL, over the queue held in memory (None: no window serves it)."""
        svc = self.service(ticket.service)
        states = placement.states
        paused = {n for n, st in states.items() if st.paused}
        serving, open_ = self._serving(ticket, paused)
        if not open_:  # no window serves it: counted as ``Ordering.people_ahead`` does (``_issued``)
            return None
        my_lane = ordering.lane_of(ticket, now)
        counts = window_counts(placement.groups, open_, ordering, my_lane)
        ahead = self._position(ordering, ticket, open_, counts, states, my_lane)
        wait = self._wait_s(svc, ahead, self._mean_service_s(svc, placement.durations), paused)
        return Issued(ticket, ahead, wait, tuple(w.number for w in self.hall.windows_for(svc.code)))

    def _serving(self, ticket: Ticket, paused: set[int]) -> tuple[list[Window], list[Window]]:
        """The windows that serve ``ticket``, and of them the open ones (all of them if every one is paused)."""
        serving = [w for w in self.hall.windows if ordering_serves(w, ticket)]
        return serving, [w for w in serving if w.number not in paused] or serving

    @staticmethod
    def _position(ordering: Ordering, ticket: Ticket, windows: list[Window], counts: list, states: dict,
                  my_lane: int | None) -> int:
        """The smallest calling position of ``ticket`` over ``windows`` (each one's ``Counts`` and state)."""
        idle = WindowState(0)
        return min(ordering.position_from(w, ticket, c, states.get(w.number, idle).priority_streak, my_lane,
                                          states.get(w.number, idle).lane_streak)
                   for w, c in zip(windows, counts))

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
        serving, open_ = self._serving(ticket, paused)
        if open_ and self._lanes_have_sql(ordering):
            # counted in SQL: a busy day has thousands of waiting tickets
            my_lane = ordering.lane_of(ticket, now)
            counts = self.store.ahead_counts(ticket, open_, ordering, my_lane)
            return self._position(ordering, ticket, open_, counts, states, my_lane), paused
        services = {s for w in serving for s in w.services} | {ticket.service}
        waiting = self.store.waiting(ticket.day, services=services, windows=[w.number for w in serving])
        return ordering.people_ahead(ticket, serving, waiting, paused=paused, now=now,
                                     streaks={n: st.priority_streak for n, st in states.items()},
                                     lane_streaks={n: st.lane_streak for n, st in states.items()}), paused

    # --------------------------------------------------------------- windows
