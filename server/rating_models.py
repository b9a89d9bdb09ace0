"""Request and response bodies of the rating, follow-up and duty routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from .models import PLAIN, Strict, WindowNumber

ReasonCode = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
Level = Annotated[int, Field(strict=True, ge=1, le=5, description="5 非常满意 ... 1 非常不满意")]
Note = Annotated[str, StringConstraints(min_length=1, max_length=1000, strip_whitespace=True,
                                        pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]


class RatingIn(Strict):
    key: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")] = Field(
        description="idempotency key: the same key returns the same rating and stores nothing new")
    ticket: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")] | None = Field(
        None, description="id of the finished ticket (from the ticket_finished event); window, staff and "
                          "service then come from the ticket")
    window: WindowNumber | None = Field(None, description="required without a ticket (a walk-in rating); "
                                                          "with a ticket it must be the ticket's window")
    level: Level | None = Field(description="1-5, or null: no answer before the timeout (unrated)")
    reasons: Annotated[list[ReasonCode], Field(max_length=20)] = Field(
        [], description="codes from GET /api/v1/rating-reasons; required for levels 1-2, refused otherwise")
    phone: Annotated[str, StringConstraints(max_length=20, pattern=PLAIN)] | None = Field(
        None, description="mobile number for a call back (11 digits, 13-19...)")
    created_at: Annotated[float, Field(ge=1.5e9, le=1e11)] | None = Field(
        None, description="epoch seconds the visitor answered (an offline terminal's time); default: now")


class ReasonOut(BaseModel):
    code: str
    name: str


class RatingOut(BaseModel):
    id: str
    key: str
    level: int | None
    level_name: str
    reasons: list[str]
    reason_names: list[str]
    phone: str | None
    ticket_id: str | None
    ticket_number: str | None
    window: int
    window_name: str
    staff: str | None
    staff_name: str | None
    service: str | None
    service_name: str | None
    walk_in: bool
    terminal: str | None
    created_at: float
    day: str
    followup_id: str | None = None
    followup_state: str | None = Field(None, description="its follow-up's state (bad ratings in lists)")
    overdue: bool = Field(False, description="its follow-up is past the due date and not closed")
    verdict: str | None = Field(None, description="核实: confirmed | rejected (a rejected one leaves 满意率)")


class RatingStatsRow(BaseModel):
    key: str
    name: str
    levels: dict[str, int] = Field(description='counts per level, "1".."5"')
    total: int = Field(description="rated (unrated excluded)")
    unrated: int
    satisfied: int = Field(description="levels 3-5")
    bad: int = Field(description="levels 1-2 (差评)")
    satisfaction_rate: float | None = Field(description="satisfied / total, 0-1; null when nothing was rated")


class RatingStatsOut(BaseModel):
    date_from: str = Field(serialization_alias="from")
    date_to: str = Field(serialization_alias="to")
    window: int | None
    staff: str | None
    service: str | None
    levels: dict[str, int]
    level_names: dict[str, str]
    total: int
    unrated: int
    satisfied: int
    bad: int
    satisfaction_rate: float | None
    rejected: int = Field(0, description="bad ratings rejected on 核实: kept, but left out of every figure here")
    note: str = Field("", description="满意率 = (非常满意+满意+基本满意) / rated, the national definition; what was "
                                      "left out")
    by_day: list[RatingStatsRow]
    by_window: list[RatingStatsRow]
    by_staff: list[RatingStatsRow]
    by_service: list[RatingStatsRow]
    reasons: list[dict] = Field(description="bad-rating reasons with their counts, most frequent first")


class VerificationOut(BaseModel):
    verdict: str = Field(description="confirmed (核实属实) | rejected (核实不属实)")
    verdict_name: str
    reason: str
    by: str | None
    at: float


class VerifyIn(Strict):
    verdict: Literal["confirmed", "rejected"] = Field(
        description="confirmed: the bad rating stands; rejected: untrue, it leaves 满意率 and the case closes")
    reason: Note = Field(description="what was checked and found")


class FollowUpOut(BaseModel):
    id: str
    state: str
    state_name: str
    due_date: str
    overdue: bool
    days_left: int = Field(description="calendar days until the due date (negative: overdue)")
    created_at: float
    rectified_at: float | None
    rectified_by: str | None
    rectify_note: str | None
    called_back_at: float | None
    called_back_by: str | None
    callback_note: str | None
    callback_satisfied: bool | None
    verification: VerificationOut | None = Field(None, description="核实: the supervisor's verdict, if given")
    rating: RatingOut


class RectifyIn(Strict):
    note: Note = Field(description="整改: what was done")


class CallbackIn(Strict):
    note: Note = Field(description="回访: what the visitor said")
    satisfied: bool | None = Field(None, description="the visitor is satisfied with the rectification")


class RatingSettingsOut(BaseModel):
    followup_days: int = Field(description="working days from a bad rating to its follow-up's due date")
    walk_in_ratings: bool
    reasons: list[ReasonOut]


class RatingSettingsIn(Strict):
    followup_days: Annotated[int, Field(strict=True, ge=1, le=90)]


class DutyStaff(BaseModel):
    name: str
    staff_no: str | None = Field(description="工号")
    photo_url: str | None


class DutyService(BaseModel):
    code: str
    name: str


class DutyOut(BaseModel):
    window: int
    name: str
    services: list[DutyService]
    staff: DutyStaff | None = Field(description="who is on duty: the last caller at this window today, "
                                                "else the staff member whose usual window it is")
    walk_in_ratings: bool
