"""Terminal and hall configuration files (TOML): load, validate, report.

Every error names the file, the line and the field, and all errors in a file
are reported at once, so an installer can fix a file in one pass.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from . import paths
from .domain import Hall, PriorityGroup, PriorityRule, Service, TimeRange, Window
from .public_link import check_public_url
from .schema import Field, Problems, between, check_table, one_of
from .tomlpos import key_lines, line_of

MODES = ("dispenser", "evaluator", "inquiry", "combined")
BAUDS = (9600, 19200, 38400, 57600, 115200)
PREFIX_RE = re.compile(r"^[A-Z]{1,2}$")  # a third letter is kept for offline series
CODE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# what the evaluator offers after a bad rating when the hall file lists no [[rating_reasons]]:
# without reasons a bad rating could never be stored
DEFAULT_RATING_REASONS = (("attitude", "服务态度差"), ("slow", "办事效率低"), ("unskilled", "业务不熟练"),
                          ("not-told-once", "未一次性告知/多次跑"), ("absent", "窗口无人/离岗"),
                          ("fees", "收费不规范"), ("other", "其他"))
HOURS_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class ConfigError:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ConfigInvalid(Exception):
    def __init__(self, errors: list[ConfigError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


# ---------------------------------------------------------------- terminal file

@dataclass
class PrinterSettings:
    kind: str = "preview"  # preview | serial | network | usb | none
    port: str = ""
    baud: int = 9600
    flow_control: str = "none"  # none | rtscts | xonxoff
    paper_width_mm: int = 80
    encoding: str = "gb18030"  # gb18030 | gbk
    chinese_mode: bool = True  # send FS & so Chinese-capable firmware takes double-byte text
    cutter: bool = True
    host: str = ""
    tcp_port: int = 9100
    usb_vendor: int = 0
    usb_product: int = 0
    status_timeout_s: float = 0.2
    write_timeout_s: float = 5.0
    preview_dir: str = ""  # empty: <data_dir>/tickets


@dataclass
class Timeouts:
    ticket_screen_s: float = 15.0  # ticket screen back to attract
    idle_s: float = 30.0  # grid or other visitor screen with no touch
    warn_before_s: float = 5.0  # countdown shown before returning home
    rating_s: float = 30.0  # evaluator: no answer -> unrated
    inquiry_idle_s: float = 90.0


@dataclass
class TerminalConfig:
    mode: str = "dispenser"
    name: str = "terminal"
    data_dir: Path = field(default_factory=paths.default_data_dir)
    hall_file: Path = paths.SAMPLE_HALL
    window: int = 0
    font_scale: str = "normal"  # normal | large
    language: str = "zh"
    server_url: str = ""
    server_token: str = ""
    server_timeout_s: float = 3.0
    server_series: str = ""  # offline series letter, assigned by the server at enrollment
    printer: PrinterSettings = field(default_factory=PrinterSettings)
    timeouts: Timeouts = field(default_factory=Timeouts)
    voice_enabled: bool = True
    voice_volume: int = 80
    pin_hash: str = ""
    idcard_port: str = ""  # the ID card reader's serial port; empty: no reader
    idcard_baud: int = 115200
    source: Path | None = None  # the file this came from


def _url(value: str) -> str | None:
    if value and not re.match(r"^https?://[^\s/]+", value):
        return "must be an http:// or https:// address, or empty for the embedded queue"
    return None


TERMINAL_SPEC = {
    "terminal": {
        "mode": Field(str, "dispenser", check=one_of(*MODES)),
        "name": Field(str, "terminal"),
        "data_dir": Field(str, ""),
        "hall_file": Field(str, ""),
        "window": Field(int, 0, check=between(0, 999)),
        "font_scale": Field(str, "normal", check=one_of("normal", "large")),
        "language": Field(str, "zh", check=one_of("zh", "en")),
    },
    "server": {
        "url": Field(str, "", check=_url),
        "token": Field(str, ""),
        "timeout_s": Field(float, 3.0, check=between(0.2, 60)),
        "series": Field(str, "", check=lambda v: None if re.match(r"^[A-HJ-NP-Z]?$", v) else
                        "must be one capital letter (not I or O), or empty; set by `kiosk terminal enroll`"),
    },
    "printer": {
        "kind": Field(str, "preview", check=one_of("preview", "serial", "network", "usb", "none")),
        "port": Field(str, ""),
        "baud": Field(int, 9600, check=one_of(*BAUDS)),
        "flow_control": Field(str, "none", check=one_of("none", "rtscts", "xonxoff")),
        "paper_width_mm": Field(int, 80, check=one_of(58, 80)),
        "encoding": Field(str, "gb18030", check=one_of("gb18030", "gbk")),
        "chinese_mode": Field(bool, True),
        "cutter": Field(bool, True),
        "host": Field(str, ""),
        "tcp_port": Field(int, 9100, check=between(1, 65535)),
        "usb_vendor": Field(int, 0, check=between(0, 0xFFFF)),
        "usb_product": Field(int, 0, check=between(0, 0xFFFF)),
        "status_timeout_s": Field(float, 0.2, check=between(0.01, 5)),
        "write_timeout_s": Field(float, 5.0, check=between(0.5, 10)),
        "preview_dir": Field(str, ""),
    },
    "timeouts": {
        "ticket_screen_s": Field(float, 15.0, check=between(3, 600)),
        "idle_s": Field(float, 30.0, check=between(5, 3600)),
        "warn_before_s": Field(float, 5.0, check=between(0, 60)),
        "rating_s": Field(float, 30.0, check=between(5, 600)),
        "inquiry_idle_s": Field(float, 90.0, check=between(10, 3600)),
    },
    "voice": {
        "enabled": Field(bool, True),
        "volume": Field(int, 80, check=between(0, 100)),
    },
    "security": {
        "pin_hash": Field(str, ""),
    },
    "idcard": {
        "port": Field(str, ""),
        "baud": Field(int, 115200, check=one_of(*BAUDS)),
    },
}


# -------------------------------------------------------------------- hall file

def _parse_hours(value: str) -> tuple[TimeRange, ...]:
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
        _parse_hours(value)
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


def _code_check(value: str) -> str | None:
    return None if CODE_RE.match(value) else "must be lowercase letters, digits, '-' or '_' (start with a letter)"


def _prefix_check(value: str) -> str | None:
    return None if PREFIX_RE.match(value) else "must be 1 or 2 capital letters (A, B, ... or AB)"


HALL_SPEC = {
    "hall": {
        "name": Field(str, required=True, check=lambda v: None if v.strip() else "must not be empty"),
        "code": Field(str, "hall", check=_code_check),
        "timezone": Field(str, "Asia/Shanghai"),
        "closed_weekdays": Field(list, [], items=int,
                                 check=lambda v: None if all(1 <= d <= 7 for d in v) else "days are 1 (Monday) to 7 (Sunday)"),
        "closed_dates": Field(list, [], check=_date_check),
        "open_dates": Field(list, [], check=_date_check),
        "default_service_minutes": Field(float, 8.0, check=between(0.5, 240)),
        "green_channel": Field(bool, True),
        "walk_in_ratings": Field(bool, True),
        "public_url": Field(str, "", check=check_public_url),
    },
    "priority": {
        "rule": Field(str, "strict", check=one_of("strict", "interleave", "none")),
        "max_in_a_row": Field(int, 2, check=between(1, 20)),
    },
}
SERVICE_SPEC = {
    "code": Field(str, required=True, check=_code_check),
    "name": Field(str, required=True, check=lambda v: None if v.strip() else "must not be empty"),
    "prefix": Field(str, required=True, check=_prefix_check),
    "range": Field(list, [1, 999], check=_range_check),
    "daily_cap": Field(int, 0, check=between(0, 99999)),
    "hours": Field(str, "", check=_hours_check),
    "icon": Field(str, "general"),
    "average_minutes": Field(float, 0.0, check=between(0, 240)),
    "enabled": Field(bool, True),
    "description": Field(str, ""),
    "closed_weekdays": Field(list, None, items=int,
                             check=lambda v: None if all(1 <= d <= 7 for d in v) else "days are 1 (Monday) to 7 (Sunday)"),
    "observe_holidays": Field(bool, True),
}
WINDOW_SPEC = {
    "number": Field(int, required=True, check=between(1, 999)),
    "name": Field(str, required=True),
    "services": Field(list, required=True, items=str),
    "green_channel": Field(bool, False),
}
GROUP_SPEC = {
    "code": Field(str, required=True, check=_code_check),
    "name": Field(str, required=True),
    "icon": Field(str, "priority"),
}
REASON_SPEC = {
    "code": Field(str, required=True, check=_code_check),
    "name": Field(str, required=True),
}


# ---------------------------------------------------------------------- loading

def _read(path: Path) -> tuple[dict | None, dict[str, int], list[ConfigError]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, {}, [ConfigError(name, 0, "-", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, {}, [ConfigError(name, 0, "-", f"cannot read: {exc}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        return None, {}, [ConfigError(name, int(m.group(1)) if m else 1, "-", f"TOML syntax error: {exc}")]
    return data, key_lines(text), []


def _errors(path: Path, lines: dict[str, int], problems: Problems) -> list[ConfigError]:
    return [ConfigError(str(path), line_of(lines, p), p, msg) for p, msg in problems]


def detect_kind(data: dict) -> str:
    if "hall" in data or "services" in data or "windows" in data:
        return "hall"
    return "terminal"


def _terminal_from(data: dict, problems: Problems, source: Path | None) -> TerminalConfig:
    sections = {}
    for name in data:
        if name not in TERMINAL_SPEC:
            problems.append((name, "unknown section (known: " + ", ".join(TERMINAL_SPEC) + ")"))
    for name, spec in TERMINAL_SPEC.items():
        sections[name] = check_table(data.get(name, {}), spec, name, problems)
    t, s, v = sections["terminal"], sections["server"], sections["voice"]
    base = source.parent if source else Path.cwd()
    cfg = TerminalConfig(
        mode=t["mode"], name=t["name"], window=t["window"], font_scale=t["font_scale"],
        language=t["language"], server_url=s["url"].rstrip("/"), server_token=s["token"],
        server_timeout_s=s["timeout_s"], server_series=s["series"], printer=PrinterSettings(**sections["printer"]),
        timeouts=Timeouts(**sections["timeouts"]), voice_enabled=v["enabled"],
        voice_volume=v["volume"], pin_hash=sections["security"]["pin_hash"],
        idcard_port=sections["idcard"]["port"], idcard_baud=sections["idcard"]["baud"], source=source,
    )
    if t["data_dir"]:
        cfg.data_dir = (base / Path(t["data_dir"]).expanduser()).resolve()
    if t["hall_file"]:
        cfg.hall_file = (base / Path(t["hall_file"]).expanduser()).resolve()
    if cfg.mode == "evaluator" and cfg.window == 0:
        problems.append(("terminal.window", "an evaluator must be bound to a window (1-999)"))
    if cfg.printer.kind == "serial" and not cfg.printer.port:
        problems.append(("printer.port", "a serial printer needs a port, e.g. /dev/ttyUSB0"))
    if cfg.printer.kind == "network" and not cfg.printer.host:
        problems.append(("printer.host", "a network printer needs a host"))
    return cfg


def _hall_from(data: dict, problems: Problems) -> Hall | None:
    for name in data:
        if name not in ("hall", "priority", "services", "windows", "priority_groups", "rating_reasons"):
            problems.append((name, "unknown section (known: hall, priority, services, windows, "
                                   "priority_groups, rating_reasons)"))
    if "hall" not in data:
        problems.append(("hall", "the [hall] table is required"))
    hall = check_table(data.get("hall", {}), HALL_SPEC["hall"], "hall", problems)
    prio = check_table(data.get("priority", {}), HALL_SPEC["priority"], "priority", problems)

    def array(name: str, spec: dict) -> list[dict]:
        raw = data.get(name, [])
        if not isinstance(raw, list):
            problems.append((name, f"must be an array of tables ([[{name}]])"))
            return []
        return [check_table(item, spec, f"{name}[{i}]", problems) for i, item in enumerate(raw)]

    services = array("services", SERVICE_SPEC)
    windows = array("windows", WINDOW_SPEC)
    groups = array("priority_groups", GROUP_SPEC)
    reasons = array("rating_reasons", REASON_SPEC)
    if not services:
        problems.append(("services", "at least one [[services]] entry is required"))

    seen_codes: dict[str, int] = {}
    seen_prefixes: dict[str, int] = {}
    for i, s in enumerate(services):
        if s["code"] in seen_codes:
            problems.append((f"services[{i}].code", f"duplicate code '{s['code']}' (also services[{seen_codes[s['code']]}])"))
        elif s["code"]:
            seen_codes[s["code"]] = i
        if s["prefix"] in seen_prefixes:
            problems.append((f"services[{i}].prefix",
                             f"duplicate prefix '{s['prefix']}' (also services[{seen_prefixes[s['prefix']]}])"))
        elif s["prefix"]:
            seen_prefixes[s["prefix"]] = i
    seen_windows: dict[int, int] = {}
    for i, w in enumerate(windows):
        if w["number"] in seen_windows:
            problems.append((f"windows[{i}].number", f"duplicate window number {w['number']}"))
        elif w["number"] is not None:
            seen_windows[w["number"]] = i
        for j, code in enumerate(w["services"] or []):
            if code not in seen_codes:
                problems.append((f"windows[{i}].services[{j}]", f"unknown service '{code}'"))
    for i, g in enumerate(groups):
        if g["code"] in [x["code"] for x in groups[:i]]:
            problems.append((f"priority_groups[{i}].code", f"duplicate code '{g['code']}'"))
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(hall["timezone"])
    except Exception:
        problems.append(("hall.timezone", f"unknown time zone '{hall['timezone']}' (e.g. Asia/Shanghai)"))
    if problems:
        return None

    def dates(values: list) -> frozenset[date]:
        return frozenset(v if isinstance(v, date) else date.fromisoformat(str(v)) for v in values)

    return Hall(
        name=hall["name"], code=hall["code"], timezone=hall["timezone"],
        services=tuple(
            Service(code=s["code"], name=s["name"], prefix=s["prefix"], range_start=s["range"][0],
                    range_end=s["range"][1], daily_cap=s["daily_cap"] or None,
                    hours=_parse_hours(s["hours"]) if s["hours"] else (), icon=s["icon"],
                    average_minutes=s["average_minutes"] or None, enabled=s["enabled"],
                    description=s["description"],
                    closed_weekdays=None if s["closed_weekdays"] is None else frozenset(s["closed_weekdays"]),
                    observe_holidays=s["observe_holidays"])
            for s in services),
        windows=tuple(Window(number=w["number"], name=w["name"], services=tuple(w["services"]),
                             green_channel=w["green_channel"]) for w in windows),
        closed_weekdays=frozenset(hall["closed_weekdays"]),
        closed_dates=dates(hall["closed_dates"]), open_dates=dates(hall["open_dates"]),
        default_service_minutes=hall["default_service_minutes"],
        green_channel=hall["green_channel"], walk_in_ratings=hall["walk_in_ratings"],
        priority_groups=tuple(PriorityGroup(g["code"], g["name"], g["icon"]) for g in groups),
        priority_rule=PriorityRule(prio["rule"], prio["max_in_a_row"]),
        rating_reasons=tuple((r["code"], r["name"]) for r in reasons) or DEFAULT_RATING_REASONS,
        public_url=hall["public_url"].rstrip("/"),
    )


def hall_from_dict(data: dict, source: str = "<hall>") -> Hall:
    """Build a hall from already-parsed data (e.g. pulled from a server)."""
    problems: Problems = []
    hall = _hall_from(data, problems)
    if problems or hall is None:
        raise ConfigInvalid(_errors(Path(source), {}, problems))
    return hall


def load_hall(path: Path | str) -> Hall:
    path = Path(path)
    data, lines, errors = _read(path)
    if errors:
        raise ConfigInvalid(errors)
    problems: Problems = []
    hall = _hall_from(data, problems)
    if problems or hall is None:
        raise ConfigInvalid(_errors(path, lines, problems))
    return hall


def load_terminal(path: Path | str | None) -> TerminalConfig:
    """The terminal file at ``path``; shipped defaults when ``path`` is None."""
    path = Path(path) if path else paths.SAMPLE_TERMINAL
    data, lines, errors = _read(path)
    if errors:
        raise ConfigInvalid(errors)
    problems: Problems = []
    cfg = _terminal_from(data, problems, path)
    if problems:
        raise ConfigInvalid(_errors(path, lines, problems))
    if path == paths.SAMPLE_TERMINAL:
        cfg.source = None  # the shipped defaults are read-only; nothing writes back to them
    return cfg


def check_file(path: Path | str) -> list[ConfigError]:
    """Every error in a terminal or hall file (the kind is detected from its tables)."""
    path = Path(path)
    data, lines, errors = _read(path)
    if errors:
        return errors
    problems: Problems = []
    if detect_kind(data) == "hall":
        _hall_from(data, problems)
    else:
        cfg = _terminal_from(data, problems, path)
        if not problems and not cfg.hall_file.exists():
            problems.append(("terminal.hall_file", f"file not found: {cfg.hall_file}"))
    return _errors(path, lines, problems)
