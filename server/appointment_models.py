"""Request and response bodies of /api/v1/appointments."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from .models import PLAIN, Day, Strict

Code = Annotated[str, StringConstraints(pattern=r"^\d{6}$"), Field(examples=["483920"])]
SlotText = Annotated[str, StringConstraints(pattern=r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$"), Field(examples=["09:00-09:30"])]


class ServiceSlotsIO(Strict):
    service: str = Field(min_length=1, max_length=32)
    slot_minutes: int = Field(30, ge=5, le=240)
    capacity: int = Field(4, ge=1, le=500, description="places per slot")


class SettingsIO(Strict):
    before_min: int = Field(15, ge=0, le=240, description="check-in opens this long before the slot starts")
    after_min: int = Field(15, ge=0, le=240, description="after this long past the start a check-in is late")
    mode: Literal["strict", "interleave"] = Field("strict", description="strict: on-time appointments are called "
                                                  "before every walk-in; interleave: at most max_in_a_row "
                                                  "appointment calls in a row at a window, then a walk-in")
    max_in_a_row: int = Field(2, ge=1, le=20, description="interleave: appointment calls in a row before a walk-in")
    elderly_age: int = Field(65, ge=1, le=120, description="a swiped card at this age preselects the green channel")
    one_ticket_per_person: bool = Field(False, description="one waiting ticket per person and service (by ID card)")
    services: list[ServiceSlotsIO] = Field(default_factory=list, max_length=100,
                                           description="services that take bookings, with their slots")


class SlotOut(BaseModel):
    slot: str
    start: str
    end: str
    capacity: int
    booked: int
    free: int
    ended: bool = Field(False, description="the slot is over (a booking into it is refused)")


class AppointmentIn(Strict):
    service: str = Field(min_length=1, max_length=32)
    day: Day
    slot: SlotText
    name: str = Field("", max_length=40, description="stored masked (王*明)")
    phone: str = Field("", max_length=20)
    id_number: str = Field("", max_length=18, description="optional; only its keyed hash is stored")
    ref: str = Field("", max_length=64, description="the booking platform's own number")


class MoveIn(Strict):
    day: Day | None = None
    slot: SlotText | None = None
    service: str | None = Field(None, min_length=1, max_length=32)


class AppointmentOut(BaseModel):
    id: str
    day: str
    service: str
    service_name: str = ""
    slot: str
    slot_start: str
    slot_end: str
    code: str = Field(description="6-digit check-in code, unique in the hall that day")
    name_masked: str
    phone: str
    ref: str
    source: str
    status: Literal["booked", "cancelled", "checked_in"]
    late: bool
    has_id: bool
    created_at: float
    created_by: str
    checked_in_at: float | None = None
    ticket_number: str | None = None


class ImportOut(BaseModel):
    imported: int
    appointments: list[AppointmentOut]


class StatsRow(BaseModel):
    day: str
    service: str
    service_name: str
    booked: int = Field(description="not cancelled = checked_in + late + no_show + pending")
    checked_in: int = Field(description="checked in within the window: called ahead")
    late: int = Field(description="checked in after the window: a normal ticket")
    no_show: int = Field(description="never checked in, window closed")
    pending: int = Field(description="window not closed yet")
    cancelled: int


Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
PersonKey = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class CheckinIn(Strict):
    key: Key = Field(description="idempotency key: the same key answers what the first request got")
    code: Code | None = Field(None, description="the 6-digit check-in code")
    person_key: PersonKey | None = Field(None, description="keyed hash of a swiped ID card (never the number)")


class CheckinOut(BaseModel):
    outcome: Literal["on_time", "late"]
    message: str = Field(description="for the visitor, in Chinese")
    repeated: bool
    appointment_id: str
    service: str
    service_name: str
    slot: str
    ticket_id: str | None
    ticket_number: str | None
    people_ahead: int = 0
    estimated_wait_s: int = 0
    windows: list[int] = []


class OfflineCheckinIn(Strict):
    key: Key
    appointment_id: str = Field(min_length=1, max_length=32, pattern=PLAIN)
    at: float = Field(description="when the visitor checked in (epoch seconds, terminal clock)")
    late: bool
    ticket_id: str = Field(min_length=1, max_length=32, pattern=PLAIN)
    ticket_number: str = Field(min_length=1, max_length=12, pattern=PLAIN)


class TodayItem(BaseModel):
    id: str
    service: str
    slot: str
    code: str
    person_key: str | None
    status: str
    ticket_number: str | None


class TodayOut(BaseModel):
    day: str
    settings: SettingsIO
    secret: str = Field(description="the hall's key for person_key: a terminal hashes a swiped card with it")
    appointments: list[TodayItem]
