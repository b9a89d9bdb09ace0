"""The terminal file (TOML): mode, server link, printer, timeouts, voice, PIN, ID-card reader.

Every error names the file, the line and the field, and all errors in a file
are reported at once, so an installer can fix a file in one pass. The hall file
has its own module, ``kiosk/hall_file.py``; ``check_file`` checks either kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .configfile import ConfigError, ConfigInvalid, Problems, errors_at, read_toml
from .domain import Hall
from .hall_file import hall_from_dict, hall_problems, is_hall_file
from .printer_profiles import DEFAULT, LEGACY_KEYS, PROFILES, PrinterProfile, resolve
from .terminal_model import BAUDS, MODES, PrinterSection, parse

__all__ = ["BAUDS", "MODES", "ConfigError", "ConfigInvalid", "PrinterSettings", "TerminalConfig", "Timeouts",
           "check_file", "detect_kind", "load_terminal", "load_terminal_hall"]


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
    server_url: str = ""  # the address in use first (the first of server.url when it is a list)
    server_urls: tuple[str, ...] = ()  # every address of server.url when it is a list (one server's processes)
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

    def server_addresses(self) -> list[str]:
        """The hall server's addresses, ``server_url`` first (empty: the embedded queue)."""
        if not self.server_url:
            return []
        return [self.server_url] + [u for u in self.server_urls if u != self.server_url]


# ---------------------------------------------------------------------- loading

def _first(url: str | list[str]) -> str:
    return (url if isinstance(url, str) else url[0]).rstrip("/")


def _all(url: str | list[str]) -> tuple[str, ...]:
    return () if isinstance(url, str) else tuple(u.rstrip("/") for u in url)


def detect_kind(data: dict) -> str:
    return "hall" if is_hall_file(data) else "terminal"


def _printer(section: PrinterSection) -> PrinterSettings:
    """The [printer] section: its profile by name, changed by any old-style capability keys."""
    values = section.model_dump()
    legacy = {k: values.pop(k) for k in LEGACY_KEYS}
    base = PROFILES[values.pop("profile")]
    return PrinterSettings(**values, profile=resolve(base, **legacy))


def _terminal_from(data: dict, problems: Problems, source: Path | None) -> TerminalConfig | None:
    model, found = parse(data)
    problems.extend(found)
    if model is None:
        return None
    t, s, v = model.terminal, model.server, model.voice
    base = source.parent if source else Path.cwd()
    cfg = TerminalConfig(
        mode=t.mode, name=t.name, window=t.window, font_scale=t.font_scale,
        language=t.language, server_url=_first(s.url), server_urls=_all(s.url), server_token=s.token,
        server_timeout_s=s.timeout_s, server_series=s.series, printer=_printer(model.printer),
        timeouts=Timeouts(**model.timeouts.model_dump()), voice_enabled=v.enabled,
        voice_volume=v.volume, pin_hash=model.security.pin_hash,
        idcard_port=model.idcard.port, idcard_baud=model.idcard.baud, source=source,
    )
    if t.data_dir:
        cfg.data_dir = (base / Path(t.data_dir).expanduser()).resolve()
    if t.hall_file:
        cfg.hall_file = (base / Path(t.hall_file).expanduser()).resolve()
    return cfg


def load_terminal(path: Path | str | None) -> TerminalConfig:
    """The terminal file at ``path``; shipped defaults when ``path`` is None."""
    path = Path(path) if path else paths.SAMPLE_TERMINAL
    data, lines, errors = read_toml(path)
    if errors:
        raise ConfigInvalid(errors)
    problems: Problems = []
    cfg = _terminal_from(data, problems, path)
    if problems or cfg is None:
        raise ConfigInvalid(errors_at(path, lines, problems))
    if path == paths.SAMPLE_TERMINAL:
        cfg.source = None  # the shipped defaults are read-only; nothing writes back to them
    return cfg


def load_terminal_hall(cfg: TerminalConfig) -> Hall:
    """The hall of the hall file ``cfg`` names, read and validated once: ``kiosk run`` refuses a bad one before
    the screen is set up and builds the terminal from this hall. A hall file that is not there, not a file or
    not a hall file is refused at the terminal file's ``hall_file`` line (the line to change, as ``check_file``
    says it); one that does not parse or validate, at its own lines."""
    path = cfg.hall_file
    problem = _not_a_file(path)
    if problem is None:
        data, lines, errors = read_toml(path)
        if errors:
            raise ConfigInvalid(errors)
        if not is_hall_file(data):
            problem = _NOT_A_HALL.format(path)
    if problem:
        source = cfg.source or paths.SAMPLE_TERMINAL
        where = read_toml(source)[1]  # only on this refusal: the good path reads the terminal file once
        raise ConfigInvalid(errors_at(source, where, [("terminal.hall_file", problem)]))
    return hall_from_dict(data, path, lines)


_NOT_A_HALL = "not a hall file (no [hall], services or windows): {}"


def _not_a_file(path: Path) -> str | None:
    """Why the hall file at ``path`` cannot be read at all, or None."""
    try:
        if path.is_dir():
            return f"a folder, not a hall file: {path}"
        if not path.exists():
            return f"file not found: {path}"
    except OSError as exc:  # e.g. a folder on the way the terminal's user may not enter
        return f"cannot read: {exc}"
    return None


def check_file(path: Path | str, hall: bool = True) -> list[ConfigError]:
    """Every error in a terminal or hall file (the kind is detected from its tables). A terminal
    file's errors are followed by those of the hall file it names, each naming the hall file, its
    line and field (``hall=False``: only that the hall file exists)."""
    path = Path(path)
    data, lines, errors = read_toml(path)
    if errors:
        return errors
    problems: Problems = []
    if detect_kind(data) == "hall":
        return errors_at(path, lines, hall_problems(data)[1])
    cfg = _terminal_from(data, problems, path)
    if cfg is None:
        return errors_at(path, lines, problems)
    missing = _not_a_file(cfg.hall_file)
    if missing:
        problems.append(("terminal.hall_file", missing))
    elif hall:
        hall_data, hall_lines, hall_errors = read_toml(cfg.hall_file)
        if hall_errors:
            return errors_at(path, lines, problems) + hall_errors
        if not is_hall_file(hall_data):
            problems.append(("terminal.hall_file", _NOT_A_HALL.format(cfg.hall_file)))
        else:
            return errors_at(path, lines, problems) + errors_at(cfg.hall_file, hall_lines,
                                                                  hall_problems(hall_data)[1])
    return errors_at(path, lines, problems)
