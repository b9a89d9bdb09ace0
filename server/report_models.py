"""Response bodies of the report routes (``/api/v1/reports/...``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .period_stats import RATING_RATE, SATISFACTION_RATE


class ReportRow(BaseModel):
    key: str = Field(description="day, service code, window number, username or hall code "
                                 "(prefixed 'HALL/' when the report covers several halls)")
    name: str
    hall: str | None = Field(None, description="the hall code of this row (none for the total)")
    staff_no: str | None = Field(None, description="工号 (staff rows)")
    issued: int | None = Field(description="tickets taken (transfers are not new tickets); null per window/staff")
    served: int = Field(description="办结")
    no_show: int = Field(description="过号")
    cancelled: int = Field(description="取消")
    transferred: int = Field(description="转出: left this service/window for another")
    open: int = Field(description="still waiting or at a window")
    mean_wait_s: float | None = Field(description="mean of first call minus issue time")
    p90_wait_s: float | None = Field(description="90th percentile wait (nearest rank)")
    mean_service_s: float | None = Field(description="mean of finish minus start, served tickets")
    serving_s: float = Field(description="time serving: served plus transferred visitors")
    paused_s: float | None = Field(description="time paused (暂停), windows and staff only")
    levels: dict[str, int] = Field(description="ratings per level, '5' 非常满意 ... '1' 非常不满意")
    rated: int
    unrated: int = Field(description="no answer before the timeout: neither rated nor satisfied")
    satisfied: int = Field(description="levels 5, 4 and 3")
    bad: int = Field(description="levels 2 and 1 (差评)")
    rating_rate: float | None = Field(description=RATING_RATE)
    satisfaction_rate: float | None = Field(description=SATISFACTION_RATE)
    followups: dict[str, int] = Field(description="bad ratings' follow-ups by state (open, rectified, "
                                                  "called_back, ...) and overdue")


class PeriodReport(BaseModel):
    halls: list[str]
    hall_names: dict[str, str]
    date_from: str
    date_to: str
    as_of: str = Field(description="the day overdue follow-ups are counted against")
    generated_at: float
    definitions: dict[str, str]
    level_names: dict[str, str]
    total: ReportRow
    by_hall: list[ReportRow]
    by_day: list[ReportRow]
    by_service: list[ReportRow]
    by_window: list[ReportRow]
    by_staff: list[ReportRow]


class Correction(BaseModel):
    number: int = Field(description="1, 2, ...: corrections after the freeze (0 is the freeze itself)")
    made_at: float
    reason: str


class DailyReport(BaseModel):
    hall: str
    hall_name: str
    date: str
    status: str = Field(description="frozen (stored at closing time or on demand) or provisional (live)")
    provisional: bool
    frozen_at: float | None
    correction: int = Field(description="0: as frozen; n: the n-th correction after late arrivals")
    corrections: list[Correction]
    report: PeriodReport


class DailyListItem(BaseModel):
    hall: str
    hall_name: str
    date: str
    reported: bool
    frozen_at: float | None
    correction: int | None
    served: int | None
    satisfaction_rate: float | None
    linked: bool = Field(False, description="a hall with its own hall server, reporting through its link "
                                            "(server/county_inbox.py)")
