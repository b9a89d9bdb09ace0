"""The terminal file (TOML): mode, server link, printer, timeouts, voice, PIN, ID-card reader.

Every error names the file, the line and the field, and all errors in a file
are reported at once, so an installer can fix a file in one pass. The hall file
has its own module, ``kiosk/hall_file.py``; ``check_file`` checks either kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .configfile import ConfigError, ConfigInvalid, Problems, errors_at, read_toml
from .hall_file import hall_problems, is_hall_file
from .printer_profiles import DEFAULT, LEGACY_KEYS, PROFILES, PrinterProfile, resolve
from .schema import Field, between, check_table, one_of

MODES = ("dispenser", "evaluator", "inquiry", "combined")
BAUDS = (9600, 19200, 38400, 57600, 115200)


# ---------------------------------------------------------------- terminal file

def _capability(name: str) -> property:
    """A capability of the printer's profile; setting one (an old-style key, the settings screen's
    paper width) moves to the profile that has it (``kiosk/printer_profiles.py::resolve``)."""

    def get(self):
        return getattr(self.profile, name)

    def set(self, value):
        self.profile = resolve(self.profile, **{name: value})

    return property(get, set)


@dataclass
class PrinterSettings:
    kind: str = "preview"  # preview | serial | network | usb | none
    port: str = ""
    baud: int = 9600
    flow_control: str = "none"  # none | rtscts | xonxoff
    profile: PrinterProfile = field(default_factory=lambda: PROFILES[DEFAULT])  # what the printer can do
    host: str = ""
    tcp_port: int = 9100
    usb_vendor: int = 0
    usb_product: int = 0
    status_timeout_s: float = 0.2
    write_timeout_s: float = 5.0
    preview_dir: str = ""  # empty: <data_dir>/tickets

    paper_width_mm = _capability("paper_width_mm")
    encoding = _capability("encoding")
    chinese_mode = _capability("chinese_mode")  # send FS & so Chinese-capable firmware takes double-byte text
    cutter = _capability("cutter")
    native_qr = _capability("native_qr")
    columns = property(lambda self: self.profile.columns)


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


def _profile_check(value: str) -> str | None:
    if value in PROFILES:
        return None
    return f"unknown printer profile {value!r} (known: {', '.join(PROFILES)})"


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
        "profile": Field(str, DEFAULT, check=_profile_check),
        # before profiles: kept so old files still load (each moves to the profile that has it)
        "paper_width_mm": Field(int, None, check=one_of(58, 80)),
        "encoding": Field(str, None, check=one_of("gb18030", "gbk")),
        "chinese_mode": Field(bool, None),
        "cutter": Field(bool, None),
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


# ---------------------------------------------------------------------- loading

def detect_kind(data: dict) -> str:
    return "hall" if is_hall_file(data) else "terminal"


def _printer(section: dict) -> PrinterSettings:
    """The [printer] section: its profile by name, changed by any old-style capability keys."""
    values = dict(section)
    legacy = {k: values.pop(k) for k in LEGACY_KEYS}
    base = PROFILES.get(values.pop("profile"), PROFILES[DEFAULT])  # an unknown name is already a problem
    return PrinterSettings(**values, profile=resolve(base, **legacy))


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
        server_timeout_s=s["timeout_s"], server_series=s["series"], printer=_printer(sections["printer"]),
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


def load_terminal(path: Path | str | None) -> TerminalConfig:
    """The terminal file at ``path``; shipped defaults when ``path`` is None."""
    path = Path(path) if path else paths.SAMPLE_TERMINAL
    data, lines, errors = read_toml(path)
    if errors:
        raise ConfigInvalid(errors)
    problems: Problems = []
    cfg = _terminal_from(data, problems, path)
    if problems:
        raise ConfigInvalid(errors_at(path, lines, problems))
    if path == paths.SAMPLE_TERMINAL:
        cfg.source = None  # the shipped defaults are read-only; nothing writes back to them
    return cfg


def check_file(path: Path | str) -> list[ConfigError]:
    """Every error in a terminal or hall file (the kind is detected from its tables)."""
    path = Path(path)
    data, lines, errors = read_toml(path)
    if errors:
        return errors
    problems: Problems = []
    if detect_kind(data) == "hall":
        problems = hall_problems(data)[1]
    else:
        cfg = _terminal_from(data, problems, path)
        if not problems and not cfg.hall_file.exists():
            problems.append(("terminal.hall_file", f"file not found: {cfg.hall_file}"))
    return errors_at(path, lines, problems)
