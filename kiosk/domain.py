"""The hall's vocabulary: services, windows, tickets and their lifecycle."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, time


class TicketStatus(str, enum.Enum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    TRANSFERRED = "transferred"


OPEN_STATUSES = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING)


@dataclass(frozen=True)
class TimeRange:
    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    prefix: str
    range_start: int = 1
    range_end: int = 999
    daily_cap: int | None = None
    hours: tuple[TimeRange, ...] = ()  # empty: open at all times
    icon: str = "general"
    average_minutes: float | None = None  # configured default before real durations exist
    enabled: bool = True
    description: str = ""
    # None: the hall's closed weekdays. A 周末不打烊 service sets its own (often none).
    closed_weekdays: frozenset[int] | None = None
    observe_holidays: bool = True  # False: open on the hall's closed dates too

    @property
    def number_width(self) -> int:
        return max(3, len(str(self.range_end)))

    def format_number(self, seq: int) -> str:
        return f"{self.prefix}{seq:0{self.number_width}d}"

    def hours_text(self) -> str:
        return " ".join(str(r) for r in self.hours)


@dataclass(frozen=True)
class Window:
    number: int
    name: str
    services: tuple[str, ...]
    green_channel: bool = False


@dataclass(frozen=True)
class PriorityGroup:
    code: str
    name: str
    icon: str = "priority"


@dataclass(frozen=True)
class PriorityRule:
    """How green-channel tickets are ordered at windows that serve them.

    ``strict``: every waiting priority ticket before any normal one.
    ``interleave``: at most ``max_in_a_row`` priority calls before a normal
    ticket gets its turn, so a steady stream of priority visitors cannot
    starve the normal queue.
    ``none``: issue order only (priority is recorded, not used).
    """

    mode: str = "strict"
    max_in_a_row: int = 2


@dataclass(frozen=True)
class Hall:
    name: str
    code: str = "hall"
    timezone: str = "Asia/Shanghai"
    services: tuple[Service, ...] = ()
    windows: tuple[Window, ...] = ()
    closed_weekdays: frozenset[int] = frozenset()  # ISO weekdays, 6 = Saturday
    closed_dates: frozenset[date] = frozenset()
    open_dates: frozenset[date] = frozenset()  # working weekends (调休)
    default_service_minutes: float = 8.0
    green_channel: bool = True
    priority_groups: tuple[PriorityGroup, ...] = ()
    priority_rule: PriorityRule = field(default_factory=PriorityRule)
    walk_in_ratings: bool = True
    rating_reasons: tuple[tuple[str, str], ...] = ()
    public_url: str = ""  # where phones reach the hall server (ticket and guide QR codes); "" = no QR

    def service(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)

    def window(self, number: int) -> Window | None:
        return next((w for w in self.windows if w.number == number), None)

    def windows_for(self, service_code: str) -> list[Window]:
        return [w for w in self.windows if service_code in w.services]

    def is_working_day(self, day: date, service: Service | None = None) -> bool:
        if day in self.open_dates:
            return True
        if day in self.closed_dates and (service is None or service.observe_holidays):
            return False
        weekdays = self.closed_weekdays
        if service is not None and service.closed_weekdays is not None:
            weekdays = service.closed_weekdays
        return day.isoweekday() not in weekdays


@dataclass
class Ticket:
    id: str
    number: str
    service: str
    day: str  # local date, YYYY-MM-DD: numbers restart each day
    seq: int
    issued_at: float  # epoch seconds
    status: TicketStatus = TicketStatus.WAITING
    priority: str | None = None  # green-channel group code
    window: int | None = None  # window that called it, or a window it was transferred to
    called_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    call_count: int = 0
    terminal: str | None = None
    key: str | None = None
    transferred_from: str | None = None  # ticket id this one continues
    token: str | None = None  # the public link on the ticket's QR (kiosk.public_link); shows, never changes

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["status"] = self.status.value
        return d
