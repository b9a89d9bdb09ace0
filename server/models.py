"""Request and response bodies of the JSON API (they become the OpenAPI document).

Strings are bounded and free of control characters: PostgreSQL refuses NUL
bytes and bounded columns refuse long values, and both must be a 4xx here,
never a database error.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kiosk import hall_model

PLAIN = r"^[^\x00-\x1f\x7f]*$"
# a hall's code wherever a request names one (path, query, a linked hall's push)
HALL_CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$"),
                 Field(description="lowercase code, e.g. labor", examples=["labor"])]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=PLAIN, strip_whitespace=True)]
ShortText = Annotated[str, StringConstraints(max_length=64, pattern=PLAIN)]
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=200)]
TicketNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,3}[0-9]{1,5}$"),
                         Field(examples=["A001"])]
WindowNumber = Annotated[int, Field(ge=1, le=999)]
# years 1900-2099 only: a day near 9999-12-31 overflows the date arithmetic of every report (one day after it)
Day = Annotated[str, StringConstraints(pattern=r"^(19|20)\d{2}-\d{2}-\d{2}$"),
                Field(description="a local day YYYY-MM-DD, years 1900-2099", examples=["2026-03-02"])]


class Strict(BaseModel):
    """Every request body: unknown fields refused, and no coercion ("1" is not 1, 0 is not false)."""

    model_config = ConfigDict(extra="forbid", strict=True)


# ------------------------------------------------------------------ auth

class LoginIn(Strict):
    username: Username
    password: Password
    cookie: bool = Field(False, description="also set the session cookie (browser pages)")
    device: Annotated[str, StringConstraints(max_length=200, pattern=r"^[A-Za-z0-9_-]*$")] | None = Field(
        None, description="the device token from an earlier sign-in: a known device is not slowed down by "
                          "other people's wrong passwords (browsers keep it as a cookie)")


class LoginOut(BaseModel):
    token: str
    expires_at: float
    username: str
    role: str
    csrf: str = Field(description="send as X-CSRF-Token with cookie-authenticated writes")
    device: str = Field("", description="this device's token for this account: send it as `device` next time")


class MeOut(BaseModel):
    kind: str
    name: str
    display_name: str
    role: str
    window: int | None
    csrf: str
    expires_at: float
    hall: str | None = Field(None, description="the hall of a terminal or hall staff member; null: a county user")


# ------------------------------------------------------------- terminals

TerminalMode = Literal["dispenser", "evaluator", "inquiry", "combined"]


class EnrollIn(Strict):
    code: Annotated[str, StringConstraints(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9 -]+$")]
    name: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PLAIN, strip_whitespace=True)]
    mode: TerminalMode | None = Field(None, description="what the terminal does; its token can do only that "
                                                        "(default dispenser, or the code's mode)")
    window: WindowNumber | None = Field(None, description="an evaluator's window (or the code's window)")


class EnrollOut(BaseModel):
    token: str
    terminal_id: str
    expires_at: float
    mode: str = "dispenser"
    window: int | None = None
    name: str = Field("", description="the terminal's name on the server: the code's name if it was made for one "
                                      "(the terminal writes it into its file)")
    hall: str | None = Field(None, description="the hall the terminal belongs to")


class HeartbeatIn(Strict):
    mode: Literal["dispenser", "evaluator", "inquiry", "combined"] | None = None
    version: ShortText | None = None
    window: WindowNumber | None = None
    printer_state: Literal["ready", "paper_near_end", "paper_out", "cover_open", "offline", "no_answer",
                           "none", "unknown"] | None = None
    paper: Literal["ok", "near_end", "out", "unknown"] | None = None
    last_sync: Annotated[float, Field(ge=0, le=1e11)] | None = None
    outbox: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    # crash record (kiosk.crash.CrashLog.health) and the terminal's own view of its link
    crash_loop: bool | None = None
    crashes_10min: Annotated[int, Field(ge=0, le=100_000)] | None = None
    last_error: Annotated[str, StringConstraints(max_length=200, pattern=PLAIN)] | None = None
    last_crash_at: Annotated[float, Field(ge=0, le=1e11)] | None = None
    online: bool | None = Field(None, description="the terminal's view: false while it is catching up after an outage")
    idcard: Literal["ok", "unplugged", "no_answer", "garbled", "checksum", "bad_data", "card_error"] | None = \
        Field(None, description="the ID card reader's state; absent when the terminal has none")


class HeartbeatOut(BaseModel):
    ok: bool
    server_time: float
    token_expires_at: float
    hall_version: int


class HelpOut(BaseModel):
    """A visitor's 呼叫工作人员 from a terminal, open until staff dismiss it."""
    id: str
    terminal_id: str
    terminal: str = Field(description="the terminal's name, e.g. 1号取号机")
    mode: str
    window: int | None
    at: float = Field(description="when it was asked (epoch seconds)")
    repeated: bool = Field(False, description="a press within a minute of the last: no new alert")


class EnrollmentCodeIn(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=PLAIN)] | None = None
    mode: TerminalMode | None = Field(None, description="the code enrolls only a terminal of this mode")
    window: WindowNumber | None = Field(None, description="for an evaluator: the window it rates")


class EnrollmentCodeOut(BaseModel):
    code: str
    expires_at: float
    name: str | None
    mode: str | None = None
    window: int | None = None


class TerminalOut(BaseModel):
    id: str
    name: str
    enrolled_at: float
    revoked: bool
    online: bool
    last_seen: float | None
    mode: str | None
    version: str | None
    window: int | None
    printer_state: str | None
    paper: str | None
    last_sync: float | None
    outbox: int | None
    address: str | None
    series: str | None = Field(None, description="offline series letter of a dispensing terminal")
    crash_loop: bool | None = None
    crashes_10min: int | None = None
    last_error: str | None = None
    idcard: str | None = Field(None, description="the ID card reader's state (ok, unplugged, ...); null: none")
    enrolled_mode: str | None = Field(None, description="what its token may do (mode at enrollment)")
    enrolled_window: int | None = Field(None, description="an evaluator's window at enrollment")


# ---------------------------------------------------------------- queue

class ServiceOut(BaseModel):
    code: str
    name: str
    prefix: str
    icon: str
    description: str
    waiting: int
    estimated_wait_s: int
    open: bool
    closed_reason: str = Field(description="why it is closed, in the visitor's words (empty when open)")
    closed_code: str = Field(description="closed_day | outside_hours | sold_out | disabled")
    windows: list[int]
    hours: str
    range_start: int
    range_end: int
    daily_cap: int | None
    enabled: bool


class TicketIn(Strict):
    service: Code
    priority: Code | None = Field(None, description="green-channel group code, e.g. elderly")
    key: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")] | None = \
        Field(None, description="idempotency key: the same key returns the same ticket")
    person_key: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = \
        Field(None, description="keyed hash of a swiped ID card (never the number): with the appointment "
                                "setting one_ticket_per_person, a second waiting ticket for the same service "
                                "is refused (409)")


class TicketOut(BaseModel):
    id: str
    number: str
    service: str
    service_name: str
    day: str
    status: str
    priority: str | None
    window: int | None
    issued_at: float = Field(description="epoch seconds")
    called_at: float | None
    started_at: float | None
    finished_at: float | None
    call_count: int
    terminal: str | None = None
    people_ahead: int = 0
    estimated_wait_s: int = 0
    windows: list[int] = []
    token: str | None = Field(None, description="public token: the ticket's phone page is {public_url}/q/{token}")


class TicketList(BaseModel):
    date: str
    tickets: list[TicketOut]


class PublicTicketOut(BaseModel):
    number: str
    service: str
    service_name: str
    status: str
    window: int | None
    people_ahead: int
    estimated_wait_s: int
    windows: list[int]


# --------------------------------------------------------------- windows

class WindowOut(BaseModel):
    number: int
    name: str
    services: list[str]
    green_channel: bool
    paused: bool
    staff: str | None
    current: TicketOut | None


class WindowCounts(BaseModel):
    called: int
    done: int
    no_show: int
    transferred: int
    waiting: int


class WindowQueueOut(BaseModel):
    window: WindowOut
    waiting: list[TicketOut]
    today: WindowCounts


class CallNumberIn(Strict):
    number: TicketNumber


class TransferIn(Strict):
    service: Code | None = None
    window: WindowNumber | None = None


class ActionOut(BaseModel):
    ticket: TicketOut | None
    window: WindowOut


# ----------------------------------------------------------------- admin

class ServiceIn(hall_model.ServiceFields):
    """A service over the API: the hall model's fields (``kiosk/hall_model.py``), with the API's
    own bounds on text and its own shape for the number range, cap and average."""

    name: Name
    hours: Annotated[hall_model.Hours, StringConstraints(max_length=200)] = ""
    range_start: Annotated[int, Field(ge=0, le=99999)] = 1
    range_end: Annotated[int, Field(ge=0, le=99999)] = 999
    daily_cap: Annotated[int, Field(ge=1, le=99999)] | None = None
    icon: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")] = "general"
    average_minutes: Annotated[float, Field(gt=0, le=240)] | None = None
    description: Annotated[str, StringConstraints(max_length=500, pattern=PLAIN)] = ""
    windows: list[WindowNumber] = Field([], max_length=50, description="windows that will serve it")


class WindowIn(hall_model.WindowSpec):
    """A window over the API: the hall model's window with the API's bounds on its text and list."""

    name: Name
    services: Annotated[list[Code], Field(min_length=1, max_length=50)]
    green_channel: bool = False


class UserIn(Strict):
    username: Username
    role: Literal["window", "supervisor", "admin"]
    password: Password
    display_name: Annotated[str, StringConstraints(max_length=100, pattern=PLAIN)] = ""
    staff_no: Annotated[str, StringConstraints(max_length=32, pattern=PLAIN)] = ""
    window: WindowNumber | None = None


class UserPatch(Strict):
    role: Literal["window", "supervisor", "admin"] | None = None
    password: Password | None = None
    display_name: Annotated[str, StringConstraints(max_length=100, pattern=PLAIN)] | None = None
    staff_no: Annotated[str, StringConstraints(max_length=32, pattern=PLAIN)] | None = None
    window: WindowNumber | None = None
    active: bool | None = None


class UserOut(BaseModel):
    username: str
    display_name: str
    staff_no: str
    role: str
    active: bool
    window: int | None


# ----------------------------------------------------------------- stats

class StatRow(BaseModel):
    key: str
    name: str
    tickets: int
    served: int
    no_show: int
    waiting: int
    mean_wait_s: float | None
    p90_wait_s: float | None
    mean_service_s: float | None


class StatsOut(BaseModel):
    date: str
    totals: StatRow
    by_service: list[StatRow]
    by_window: list[StatRow]
    by_staff: list[StatRow]


class DisplayCall(BaseModel):
    number: str
    window: int
    window_name: str
    service_name: str
    called_at: float
    status: str


class DisplayOut(BaseModel):
    hall: str
    timezone: str = Field("", description="the hall's IANA time zone: the TV's clock uses it")
    now: float
    windows: list[DisplayCall | None] = Field(description="per window in hall order: its current call")
    window_numbers: list[int]
    window_names: list[str]
    recent: list[DisplayCall]
    waiting: list[dict]
