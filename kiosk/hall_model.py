"""The one model of a hall's settings (pydantic): what a hall file, a hall pulled from the server
and the server's admin API (``server/models.py`` derives ``ServiceIn``/``WindowIn`` from the field
types here) all accept. The shape is the hall file's; ``HallFile.to_hall`` makes the domain ``Hall``.

Messages are the installer's: ``kiosk/configfile.py::problems_of`` turns each error into one
``file:line: field: message`` line.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, time
from typing import Annotated, Any

from pydantic import Field, model_validator

from .configfile import FieldProblems, Table, between, one_of, rule
from .domain import Hall, PriorityGroup, PriorityRule, Service, TimeRange, Window
from .public_link import check_public_url

PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")  # a third letter is kept for offline series
CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
HOURS_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
# what the evaluator offers after a bad rating when the hall file lists no [[rating_reasons]]:
# without reasons a bad rating could never be stored
DEFAULT_RATING_REASONS = (("attitude", "服务态度差"), ("slow", "办事效率低"), ("unskilled", "业务不熟练"),
                          ("not-told-once", "未一次性告知/多次跑"), ("absent", "窗口无人/离岗"),
                          ("fees", "收费不规范"), ("other", "其他"))


def parse_hours(value: str) -> tuple[TimeRange, ...]:
    """ "08:30-12:00 14:00-17:30" -> time ranges; ValueError naming the bad part."""
    ranges = []
    for part in value.split():
        m = HOURS_RE.match(part)
        if not m:
            raise ValueError(f"'{part}' is not HH:MM-HH:MM")
        h1, m1, h2, m2 = map(int, m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"'{part}' is not a time of day")
        start, end = time(h1, m1), time(min(h2, 23), m2 if h2 < 24 else 59)
        if end <= start:
            raise ValueError(f"'{part}' ends before it starts")
        if ranges and start < ranges[-1].end:
            raise ValueError(f"'{part}' overlaps the range before it")
        ranges.append(TimeRange(start, end))
    return tuple(ranges)


def _hours_check(value: str) -> str | None:
    try:
        parse_hours(value)
    except ValueError as exc:
        return f"{exc} (example: \"08:30-12:00 14:00-17:30\")"
    return None


def _date_check(value: list) -> str | None:
    for item in value:
        if isinstance(item, date):
            continue
        try:
            date.fromisoformat(str(item))
        except ValueError:
            return f"'{item}' is not a date (YYYY-MM-DD)"
    return None


def _range_check(value: list) -> str | None:
    if len(value) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return "must be two integers [first, last]"
    if not 0 <= value[0] <= value[1] <= 99999:
        return "must satisfy 0 <= first <= last <= 99999"
    return None


def _timezone_check(value: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(value)
    except Exception:
        return f"unknown time zone '{value}' (e.g. Asia/Shanghai)"
    return None


# the field types, shared with the API (server/models.py); the pattern also goes into the OpenAPI document
Code = Annotated[str, rule(lambda v: None if CODE_RE.match(v) else
                           "must be lowercase letters, digits, '-' or '_' (start with a letter)"),
                 Field(json_schema_extra={"pattern": CODE_RE.pattern}, examples=["labor"])]
Prefix = Annotated[str, rule(lambda v: None if PREFIX_RE.match(v) else
                             "must be 1 or 2 capital letters (A, B, ... or AB)"),
                   Field(json_schema_extra={"pattern": PREFIX_RE.pattern})]
NonEmpty = Annotated[str, rule(lambda v: None if v.strip() else "must not be empty")]
Hours = Annotated[str, rule(_hours_check),
                  Field(description='opening hours, e.g. "08:30-12:00 14:00-17:30"; empty: always open')]
WindowNumber = Annotated[int, between(1, 999), Field(json_schema_extra={"minimum": 1, "maximum": 999})]
Weekdays = Annotated[list[int], rule(lambda v: None if all(1 <= d <= 7 for d in v) else
                                     "days are 1 (Monday) to 7 (Sunday)")]
Dates = Annotated[list[Any], rule(_date_check)]


class HallSection(Table):
    name: NonEmpty
    code: Code = "hall"
    timezone: Annotated[str, rule(_timezone_check)] = "Asia/Shanghai"
    closed_weekdays: Weekdays = []
    closed_dates: Dates = []
    open_dates: Dates = []
    default_service_minutes: Annotated[float, between(0.5, 240)] = 8.0
    green_channel: bool = True
    walk_in_ratings: bool = True
    public_url: Annotated[str, rule(check_public_url)] = ""


class PrioritySection(Table):
    rule: Annotated[str, one_of("strict", "interleave", "none")] = "strict"
    max_in_a_row: Annotated[int, between(1, 20)] = 2


class ServiceFields(Table):
    """What a service is, in the hall file and in the API's ``ServiceIn`` alike."""

    code: Code
    name: NonEmpty
    prefix: Prefix
    hours: Hours = ""
    icon: str = "general"
    enabled: bool = True
    description: str = ""


class ServiceSpec(ServiceFields):
    """A hall file's [[services]] entry: number range as [first, last], 0 for "no cap" / "no average"."""

    range: Annotated[list[Any], rule(_range_check)] = [1, 999]
    daily_cap: Annotated[int, between(0, 99999)] = 0
    average_minutes: Annotated[float, between(0, 240)] = 0.0
    closed_weekdays: Weekdays | None = None
    observe_holidays: bool = True

    def to_service(self) -> Service:
        return Service(code=self.code, name=self.name, prefix=self.prefix, range_start=self.range[0],
                       range_end=self.range[1], daily_cap=self.daily_cap or None,
                       hours=parse_hours(self.hours) if self.hours else (), icon=self.icon,
                       average_minutes=self.average_minutes or None, enabled=self.enabled,
                       description=self.description,
                       closed_weekdays=None if self.closed_weekdays is None else frozenset(self.closed_weekdays),
                       observe_holidays=self.observe_holidays)


class WindowSpec(Table):
    number: WindowNumber
    name: str
    services: list[str]
    green_channel: bool = False


class PriorityGroupSpec(Table):
    code: Code
    name: str
    icon: str = "priority"


class RatingReasonSpec(Table):
    code: Code
    name: str


def _some_services(value: list) -> str | None:
    return None if value else "at least one [[services]] entry is required"


class HallFile(Table):
    """A whole hall file (or the same shape as JSON from the server)."""

    hall: HallSection
    priority: PrioritySection = PrioritySection()
    services: Annotated[list[ServiceSpec], rule(_some_services)] = Field([], validate_default=True)
    windows: list[WindowSpec] = []
    priority_groups: list[PriorityGroupSpec] = []
    rating_reasons: list[RatingReasonSpec] = []

    @model_validator(mode="after")
    def _consistent(self) -> "HallFile":
        problems = []
        codes: dict[str, int] = {}
        prefixes: dict[str, int] = {}
        for i, s in enumerate(self.services):
            if s.code in codes:
                problems.append((f"services[{i}].code", f"duplicate code '{s.code}' (also services[{codes[s.code]}])"))
            else:
                codes[s.code] = i
            if s.prefix in prefixes:
                problems.append((f"services[{i}].prefix",
                                 f"duplicate prefix '{s.prefix}' (also services[{prefixes[s.prefix]}])"))
            else:
                prefixes[s.prefix] = i
        numbers: set[int] = set()
        for i, w in enumerate(self.windows):
            if w.number in numbers:
                problems.append((f"windows[{i}].number", f"duplicate window number {w.number}"))
            numbers.add(w.number)
            for j, code in enumerate(w.services):
                if code not in codes:
                    problems.append((f"windows[{i}].services[{j}]", f"unknown service '{code}'"))
        for i, g in enumerate(self.priority_groups):
            if g.code in [x.code for x in self.priority_groups[:i]]:
                problems.append((f"priority_groups[{i}].code", f"duplicate code '{g.code}'"))
        if problems:
            raise FieldProblems(problems)
        return self

    def to_hall(self) -> Hall:
        h = self.hall

        def dates(values: list) -> frozenset[date]:
            return frozenset(v if isinstance(v, date) else date.fromisoformat(str(v)) for v in values)

        return Hall(
            name=h.name, code=h.code, timezone=h.timezone,
            services=tuple(s.to_service() for s in self.services),
            windows=tuple(Window(number=w.number, name=w.name, services=tuple(w.services),
                                 green_channel=w.green_channel) for w in self.windows),
            closed_weekdays=frozenset(h.closed_weekdays),
            closed_dates=dates(h.closed_dates), open_dates=dates(h.open_dates),
            default_service_minutes=h.default_service_minutes,
            green_channel=h.green_channel, walk_in_ratings=h.walk_in_ratings,
            priority_groups=tuple(PriorityGroup(g.code, g.name, g.icon) for g in self.priority_groups),
            priority_rule=PriorityRule(self.priority.rule, self.priority.max_in_a_row),
            rating_reasons=tuple((r.code, r.name) for r in self.rating_reasons) or DEFAULT_RATING_REASONS,
            public_url=h.public_url.rstrip("/"),
        )
