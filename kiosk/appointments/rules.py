"""Slots, settings and the check-in rule, shared by the server and the terminal."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from kiosk.domain import Hall, Service

MODES = ("strict", "interleave")  # call-ahead rule: before every walk-in, or max_in_a_row then one walk-in
DEFAULT_HOURS = ((time(9, 0), time(12, 0)), (time(14, 0), time(17, 0)))
_SLOT = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class AppointmentError(Exception):
    """A refused request; ``field`` names the input at fault, ``code`` is stable for APIs."""

    def __init__(self, field: str, message: str, code: str = "invalid", status: int = 422):
        super().__init__(message)
        self.field, self.code, self.status = field, code, status


@dataclass(frozen=True)
class ServiceSlots:
    service: str
    slot_minutes: int = 30
    capacity: int = 4  # places per slot


@dataclass(frozen=True)
class AppointmentSettings:
    """Per hall. ``before_min``/``after_min``: the window around the slot's start in which a check-in
    is called ahead; later is a normal ticket. ``mode``: strict (appointments before every walk-in) or
    interleave (at most ``max_in_a_row`` appointment calls in a row at a window, then a walk-in: like the
    green channel; see ``kiosk.ordering``)."""

    before_min: int = 15
    after_min: int = 15
    mode: str = "strict"
    max_in_a_row: int = 2
    elderly_age: int = 65  # a swiped card at or above this age preselects the green channel
    one_ticket_per_person: bool = False  # one waiting ticket per person and service (by card)
    services: tuple[ServiceSlots, ...] = field(default_factory=tuple)

    @property
    def in_a_row(self) -> int | None:
        """The appointment lane's ``Lane.in_a_row``: N when interleaved, None when strict."""
        return self.max_in_a_row if self.mode == "interleave" else None

    def slots_of(self, service: str) -> ServiceSlots | None:
        return next((s for s in self.services if s.service == service), None)

    def to_dict(self) -> dict:
        return {"before_min": self.before_min, "after_min": self.after_min, "mode": self.mode,
                "max_in_a_row": self.max_in_a_row, "elderly_age": self.elderly_age,
                "one_ticket_per_person": self.one_ticket_per_person,
                "services": [{"service": s.service, "slot_minutes": s.slot_minutes, "capacity": s.capacity}
                             for s in self.services]}

    @classmethod
    def from_dict(cls, d: dict) -> "AppointmentSettings":
        return cls(before_min=int(d.get("before_min", 15)), after_min=int(d.get("after_min", 15)),
                   mode=d.get("mode", "strict"), max_in_a_row=int(d.get("max_in_a_row", 2)),
                   elderly_age=int(d.get("elderly_age", 65)),
                   one_ticket_per_person=bool(d.get("one_ticket_per_person", False)),
                   services=tuple(ServiceSlots(s["service"], int(s["slot_minutes"]), int(s["capacity"]))
                                  for s in d.get("services", [])))

    def validate(self, hall: Hall) -> None:
        if not 0 <= self.before_min <= 240:
            raise AppointmentError("before_min", "0-240 minutes")
        if not 0 <= self.after_min <= 240:
            raise AppointmentError("after_min", "0-240 minutes")
        if self.mode not in MODES:
            raise AppointmentError("mode", f"one of {', '.join(MODES)}")
        if not 1 <= self.max_in_a_row <= 20:
            raise AppointmentError("max_in_a_row", "1-20")
        if not 1 <= self.elderly_age <= 120:
            raise AppointmentError("elderly_age", "1-120")
        seen = set()
        for i, s in enumerate(self.services):
            if hall.service(s.service) is None:
                raise AppointmentError(f"services.{i}.service", f"unknown service '{s.service}'")
            if s.service in seen:
                raise AppointmentError(f"services.{i}.service", f"'{s.service}' is listed twice")
            seen.add(s.service)
            if not 5 <= s.slot_minutes <= 240:
                raise AppointmentError(f"services.{i}.slot_minutes", "5-240 minutes")
            if not 1 <= s.capacity <= 500:
                raise AppointmentError(f"services.{i}.capacity", "1-500 places")


@dataclass(frozen=True)
class Slot:
    start: time
    end: time

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_slot(text: str) -> Slot:
    m = _SLOT.match((text or "").strip())
    if not m:
        raise AppointmentError("slot", f"'{text}' is not a time slot like 09:00-09:30")
    try:
        start, end = time(int(m[1]), int(m[2])), time(int(m[3]), int(m[4]))
    except ValueError:
        raise AppointmentError("slot", f"'{text}' has an impossible time") from None
    if end <= start:
        raise AppointmentError("slot", f"'{text}' ends before it starts")
    return Slot(start, end)


def slots_for(hall: Hall, service: Service, settings: AppointmentSettings, day: date) -> list[Slot]:
    """The bookable slots of a service on a day: its opening hours cut into slot_minutes pieces;
    none on a day the hall (or the service) is closed, none when the service takes no bookings."""
    conf = settings.slots_of(service.code)
    if conf is None or not service.enabled or not hall.is_working_day(day, service):
        return []
    hours = [(r.start, r.end) for r in service.hours] or list(DEFAULT_HOURS)
    out = []
    step = timedelta(minutes=conf.slot_minutes)
    for start, end in hours:
        at = datetime.combine(day, start)
        stop = datetime.combine(day, end)
        while at + step <= stop:
            out.append(Slot(at.time(), (at + step).time()))
            at += step
    return out


@dataclass(frozen=True)
class CheckinVerdict:
    """What a check-in at ``now`` gets: ``on_time`` (called ahead), ``late`` (a normal ticket),
    or a refusal (``too_early``, ``not_today``) with the visitor's message."""

    outcome: str
    message: str

    @property
    def issues_ticket(self) -> bool:
        return self.outcome in ("on_time", "late")


def judge(day: date, slot: Slot, now: datetime, settings: AppointmentSettings) -> CheckinVerdict:
    start = datetime.combine(day, slot.start, tzinfo=now.tzinfo)
    if now.date() != day:
        when = f"{day.month}月{day.day}日 {slot.start:%H:%M}"
        return CheckinVerdict("not_today", f"您的预约时间是{when}，请在预约当天来签到")
    opens = start - timedelta(minutes=settings.before_min)
    closes = start + timedelta(minutes=settings.after_min)
    if now < opens:
        return CheckinVerdict("too_early", f"您预约的是{slot.start:%H:%M}，请于{opens:%H:%M}以后再来签到，"
                                           "或直接取普通号")
    if now > closes:
        return CheckinVerdict("late", f"您已超过预约时间（{slot.start:%H:%M}），已为您取普通号，请按顺序等候")
    return CheckinVerdict("on_time", "预约签到成功，将优先为您叫号")
