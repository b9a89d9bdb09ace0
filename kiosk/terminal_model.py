"""The terminal file's model (pydantic), one class per section: what ``kiosk/config.py`` loads,
what the settings screen may write (``kiosk/config_write.py``) and what a hall server may override
(``kiosk/wire/overrides.py``). Messages are the installer's; ``kiosk/configfile.py::problems_of``
gives each one its ``file:line: field: message`` line.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError, model_validator

from .configfile import FieldProblems, Problems, Table, between, one_of, problems_of, rule
from .printer_profiles import DEFAULT, PROFILES

MODES = ("dispenser", "evaluator", "inquiry", "combined")
BAUDS = (9600, 19200, 38400, 57600, 115200)


def _url(value: str) -> str | None:
    if value and not re.match(r"^https?://[^\s/]+", value):
        return "must be an http:// or https:// address, or empty for the embedded queue"
    return None


def _urls(value: Any) -> str | None:
    """``server.url``: one address, or a list of the addresses of one server (its processes)."""
    if isinstance(value, str):
        return _url(value)
    if not isinstance(value, list):
        return f'must be an address ("http://HOST:PORT") or a list of addresses, not {value!r}'
    if not value:
        return 'give at least one address, e.g. ["http://192.168.1.10:8080", "http://192.168.1.11:8080"]'
    for i, url in enumerate(value):
        if not isinstance(url, str) or not url or _url(url):
            return f"[{i}] {url!r} must be an http:// or https:// address"
    return None


def _profile_check(value: str) -> str | None:
    if value in PROFILES:
        return None
    return f"unknown printer profile {value!r} (known: {', '.join(PROFILES)})"


class TerminalSection(Table):
    mode: Annotated[str, one_of(*MODES)] = "dispenser"
    name: str = "terminal"
    data_dir: str = ""
    hall_file: str = ""
    window: Annotated[int, between(0, 999)] = 0
    font_scale: Annotated[str, one_of("normal", "large")] = "normal"
    language: Annotated[str, one_of("zh", "en")] = "zh"


class ServerSection(Table):
    url: Annotated[Any, rule(_urls)] = ""  # str, or a list of str: checked by _urls
    token: str = ""
    timeout_s: Annotated[float, between(0.2, 60)] = 3.0
    series: Annotated[str, rule(lambda v: None if re.match(r"^[A-HJ-NP-Z]?$", v) else
                                "must be one capital letter (not I or O), or empty; set by `kiosk terminal enroll`")] = ""


class PrinterSection(Table):
    kind: Annotated[str, one_of("preview", "serial", "network", "usb", "none")] = "preview"
    port: str = ""
    baud: Annotated[int, one_of(*BAUDS)] = 9600
    flow_control: Annotated[str, one_of("none", "rtscts", "xonxoff")] = "none"
    profile: Annotated[str, rule(_profile_check)] = DEFAULT
    # before profiles: still read, so old files load (each moves to the profile that has it)
    paper_width_mm: Annotated[int, one_of(58, 80)] | None = None
    encoding: Annotated[str, one_of("gb18030", "gbk")] | None = None
    chinese_mode: bool | None = None
    cutter: bool | None = None
    host: str = ""
    tcp_port: Annotated[int, between(1, 65535)] = 9100
    usb_vendor: Annotated[int, between(0, 0xFFFF)] = 0
    usb_product: Annotated[int, between(0, 0xFFFF)] = 0
    status_timeout_s: Annotated[float, between(0.01, 5)] = 0.2
    write_timeout_s: Annotated[float, between(0.5, 10)] = 5.0
    preview_dir: str = ""  # empty: <data_dir>/tickets


class TimeoutsSection(Table):
    ticket_screen_s: Annotated[float, between(3, 600)] = 15.0
    idle_s: Annotated[float, between(5, 3600)] = 30.0
    warn_before_s: Annotated[float, between(0, 60)] = 5.0
    rating_s: Annotated[float, between(5, 600)] = 30.0
    inquiry_idle_s: Annotated[float, between(10, 3600)] = 90.0


class VoiceSection(Table):
    enabled: bool = True
    volume: Annotated[int, between(0, 100)] = 80


class SecuritySection(Table):
    pin_hash: str = ""


class IdcardSection(Table):
    port: str = ""
    baud: Annotated[int, one_of(*BAUDS)] = 115200


class TerminalFile(Table):
    terminal: TerminalSection = TerminalSection()
    server: ServerSection = ServerSection()
    printer: PrinterSection = PrinterSection()
    timeouts: TimeoutsSection = TimeoutsSection()
    voice: VoiceSection = VoiceSection()
    security: SecuritySection = SecuritySection()
    idcard: IdcardSection = IdcardSection()

    @model_validator(mode="after")
    def _consistent(self) -> "TerminalFile":
        problems = []
        if self.terminal.mode == "evaluator" and self.terminal.window == 0:
            problems.append(("terminal.window", "an evaluator must be bound to a window (1-999)"))
        if self.printer.kind == "serial" and not self.printer.port:
            problems.append(("printer.port", "a serial printer needs a port, e.g. /dev/ttyUSB0"))
        if self.printer.kind == "network" and not self.printer.host:
            problems.append(("printer.host", "a network printer needs a host"))
        if problems:
            raise FieldProblems(problems)
        return self


SECTIONS: dict[str, type[BaseModel]] = {name: f.annotation for name, f in TerminalFile.model_fields.items()}


def setting_names() -> list[str]:
    return [f"{s}.{k}" for s, model in SECTIONS.items() for k in model.model_fields]


def setting_default(name: str) -> Any:
    """The default of ``section.key``; KeyError for a name the file does not have."""
    section, _, key = name.partition(".")
    return SECTIONS[section].model_fields[key].default


def check_setting(name: str, value: Any) -> tuple[Any, Problems]:
    """One ``section.key`` value checked alone, as the file would check it: (clean value, problems)."""
    section, _, key = name.partition(".")
    model = SECTIONS[section]
    try:
        return getattr(model.model_validate({key: value}), key), []
    except ValidationError as exc:
        return None, [(f"{section}.{p}", m) for p, m in problems_of(exc, model)]


def parse(data: dict) -> tuple[TerminalFile | None, Problems]:
    try:
        return TerminalFile.model_validate(data), []
    except ValidationError as exc:
        return None, problems_of(exc, TerminalFile)
