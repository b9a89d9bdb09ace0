"""The terminal facade: the one object the screens, the CLI and the tests drive.

It owns the queue backend (embedded engine today, a hall-server client when one
is configured), the printer and the voice: the ports of ``kiosk/ports.py``, handed in
by the wiring layer (``wiring/terminal.py``), never opened here. Screens only read the plain values
it returns and forward taps; nothing here knows about Kivy. Work that may
block (printing, speech) runs on worker threads and reports through callbacks,
which the screens hop back onto their UI thread.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from .config import PrinterSettings, TerminalConfig
from .domain import Hall, PriorityGroup
from .ports import IdCardReader, Printer, PrinterFactory, PrinterStatus, PrintError, Voice
from .queue import Issued, QueueEngine, QueueError, ServiceState, ServiceUnavailable

log = logging.getLogger(__name__)

PAUSED_MESSAGE = "暂停取号，请联系工作人员"


@dataclass(frozen=True)
class ServiceButton:
    code: str
    name: str
    icon: str
    waiting: int
    wait_text: str
    enabled: bool
    reason: str  # why it is disabled, in the visitor's words


@dataclass(frozen=True)
class Grid:
    buttons: tuple[ServiceButton, ...]
    paused: bool  # the printer cannot print: no service can be taken
    pause_reason: str  # for staff, e.g. "缺纸 / paper out"
    visitor_reason: str = ""  # the same in the visitor's words only, e.g. "缺纸"


@dataclass
class TicketOutcome:
    ticket_id: str
    number: str
    service_name: str
    windows: tuple[int, ...]
    people_ahead: int
    estimated_wait_s: int
    issued_at: float
    print_state: str = "printing"  # printing | printed | failed | none
    print_error: str = ""
    phone_url: str | None = None  # the page the ticket's QR opens; None without a public address
    priority_label: str = ""  # "绿色通道 · 65岁以上老人" for a green-channel ticket, else ""


class VisitorError(Exception):
    """A refusal to show a visitor, in Chinese, with nothing consumed."""


def wait_text(seconds: int) -> str:
    if seconds < 60:
        return "无需等待" if seconds == 0 else "约1分钟"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"约{minutes}分钟"
    return f"约{minutes // 60}小时{minutes % 60:02d}分"


class QueueBackend(Protocol):
    """Where tickets come from: the embedded QueueEngine, or a hall-server client
    that falls back to an offline series when the server does not answer."""

    def services(self) -> list[ServiceState]: ...

    def issue(self, service_code: str, priority: str | None = None, key: str | None = None,
              terminal: str | None = None) -> Issued: ...

    def get_ticket(self, ticket_id: str): ...

    def status_marker(self) -> str:
        """A short marker for the header, e.g. "离线" while the server is unreachable."""


class Terminal:
    def __init__(self, config: TerminalConfig, hall: Hall, backend: QueueBackend, printer: Printer,
                 voice: Voice, clock: Callable[[], float] = time.time,
                 printer_factory: PrinterFactory | None = None):
        self.config = config
        self.hall = hall
        self.backend = backend
        self.printer = printer
        self.voice = voice
        self.clock = clock
        self.printer_factory = printer_factory  # opens other printers (settings: test, swap); None: cannot
        self.warnings: list[str] = []  # for staff: paper near end and the like
        self.idcard_reader: IdCardReader | None = None  # when the dispenser has one ([idcard] port)
        self.idcard_state = "ok"  # the reader's last state (ok, unplugged, no_answer, ...), for the heartbeat
        self.crash_loop = False  # set by the App's crash handler; reported in the health
        self._last_status = PrinterStatus.READY
        self._print_lock = threading.Lock()  # one job on the wire at a time
        self._issue_lock = threading.Lock()  # one ticket per tap, even if taps race
        # The App sets this so a print job starts only after the ticket screen is drawn:
        # rendering a job (a preview PNG above all) competes with drawing for the GIL.
        self.after_next_frame: Callable[[Callable[[], None]], None] | None = None

    # --------------------------------------------------------------- reading
    @property
    def settings(self):
        from .terminal_settings import TerminalSettings

        if getattr(self, "_settings", None) is None:
            self._settings = TerminalSettings(self)
        return self._settings

    @property
    def help(self):
        """呼叫工作人员 (kiosk/help.py)."""
        from .help import HelpCall

        if getattr(self, "_help", None) is None:
            self._help = HelpCall(self.backend, self.clock)
        return self._help

    @property
    def guides(self):
        """The guide catalogue (loaded on first use: only inquiry screens need it)."""
        if getattr(self, "_guides", None) is None:
            from .guides import GuideCatalogue

            folder = getattr(self.backend, "guides_folder", lambda: None)()  # the hall server's last good copy
            if folder is not None:
                try:
                    self._guides = GuideCatalogue.load(folder, hall=self.hall)
                except Exception as exc:
                    log.error("saved guide content unusable (%s); using the shipped content", exc)
            if getattr(self, "_guides", None) is None:
                self._guides = GuideCatalogue.load(hall=self.hall)
        return self._guides

    def adopt_guides(self, content) -> None:
        """Newer guide content (already validated) from the hall server."""
        if getattr(self, "_guides", None) is not None:
            self._guides.replace(content)

    @property
    def appointments(self):
        """Check-in at this dispenser (``kiosk.appointments.desk.CheckinDesk``), made on first use."""
        if getattr(self, "_desk", None) is None:
            from .appointments.desk import CheckinDesk

            self._desk = CheckinDesk(self)
        return self._desk

    @property
    def outbox(self):
        """The durable outbox when a hall server is configured (``put(kind, payload, key)``), else None."""
        return getattr(self.backend, "outbox", None)

    def health(self) -> dict:
        """For the heartbeat: mode, version, window, printer state and paper (last known), crash record."""
        from . import __version__
        from .crash import CrashLog

        status = self._last_status
        paper = {PrinterStatus.PAPER_NEAR_END: "near_end", PrinterStatus.PAPER_OUT: "out",
                 PrinterStatus.READY: "ok"}.get(status, "unknown")
        h = {"mode": self.config.mode, "version": __version__, "window": self.config.window or None,
             "printer_state": "none" if self.config.printer.kind == "none" else status.value,
             "paper": "unknown" if self.config.printer.kind == "none" else paper}
        try:
            h.update(CrashLog(Path(self.config.data_dir)).health())
        except Exception as exc:
            log.warning("crash record unreadable: %s", exc)
        h["crash_loop"] = bool(h.get("crash_loop")) or self.crash_loop
        if self.idcard_reader is not None:
            h["idcard"] = self.idcard_state
        return h

    @property
    def dispenses(self) -> bool:
        """Whether this terminal hands out tickets (dispenser, or inquiry combined with it)."""
        return self.config.mode in ("dispenser", "combined")

    @property
    def hall_name(self) -> str:
        return self.hall.name

    @property
    def priority_groups(self) -> tuple[PriorityGroup, ...]:
        return self.hall.priority_groups if self.hall.green_channel else ()

    def now(self):
        """The hall's wall clock (every clock a person sees uses the hall's time zone)."""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        return datetime.fromtimestamp(self.clock(), ZoneInfo(self.hall.timezone))

    def status_marker(self) -> str:
        try:
            return self.backend.status_marker()
        except Exception:
            return ""

    def needs_priority_step(self, service_code: str) -> bool:
        """Ask about the green channel only where a window would actually call it first."""
        return bool(self.priority_groups) and any(
            w.green_channel for w in self.hall.windows_for(service_code))

    def printer_status(self) -> PrinterStatus:
        try:
            status = self.printer.status()
        except Exception as exc:  # a broken driver must not take the screen down
            log.warning("printer status failed: %s", exc)
            status = PrinterStatus.NO_ANSWER
        if status is PrinterStatus.PAPER_NEAR_END and self._last_status is not status:
            self._warn("打印纸将用尽，请及时更换 / paper near end")
        if status is not self._last_status:
            log.info("printer status %s -> %s", self._last_status.value, status.value)
        self._last_status = status
        return status

    def grid(self, status: PrinterStatus | None = None) -> Grid:
        status = self.printer_status() if status is None else status
        paused = not status.can_print
        buttons = tuple(self._button(s) for s in self.backend.services())
        return Grid(buttons, paused, f"{status.label_zh} / {status.label_en}" if paused else "",
                    status.label_zh if paused else "")

    def _button(self, state: ServiceState) -> ServiceButton:
        svc = state.service
        return ServiceButton(svc.code, svc.name, svc.icon, state.waiting, wait_text(state.estimated_wait_s),
                             state.availability.open, state.availability.reason)

    # --------------------------------------------------------------- issuing
    def issue(self, service_code: str, priority: str | None = None, *,
              on_printed: Callable[[TicketOutcome], None] | None = None,
              wait_for_print: bool = False, key: str | None = None,
              offline_key: str | None = None, person: str | None = None) -> TicketOutcome:
        """Check the printer, issue a number, then print it on a worker thread.

        A printer that cannot print refuses before a number is consumed. A job
        that fails after issuing leaves the ticket in the queue; the outcome
        says ``failed`` and the screen offers a reprint.
        """
        with self._issue_lock:
            status = self.printer_status()
            if not status.can_print:
                raise VisitorError(PAUSED_MESSAGE)
            try:
                extra = {"key": key} if key else {}
                if offline_key:  # an appointment's ticket made offline (only the sync backend has offline)
                    extra["offline_key"] = offline_key
                if person and not isinstance(self.backend, QueueEngine):  # the server keeps one ticket per person
                    extra["person"] = person
                issued = self.backend.issue(service_code, priority=priority, terminal=self.config.name, **extra)
            except ServiceUnavailable as exc:
                raise VisitorError(str(exc)) from exc  # already in the visitor's words
            except QueueError as exc:
                log.warning("issue %s refused: %s", service_code, exc)
                raise VisitorError("暂时无法取号，请联系工作人员") from exc
        outcome = self._outcome(issued)
        log.info("issued %s (%s) ahead=%d", outcome.number, service_code, outcome.people_ahead)
        self.say_ticket(outcome)
        self._start_print(outcome, issued, on_printed, wait_for_print)
        return outcome

    def say_ticket(self, outcome: TicketOutcome) -> None:
        """Read the ticket aloud: number, window, people ahead (the 再听一遍 button repeats it)."""
        self.voice.say(ticket_speech(outcome))

    def priority_label(self, code: str | None) -> str:
        if not code:
            return ""
        group = next((g for g in self.hall.priority_groups if g.code == code), None)
        return f"绿色通道 · {group.name}" if group else "绿色通道"

    def _outcome(self, issued: Issued) -> TicketOutcome:
        svc = self.hall.service(issued.ticket.service)
        from .public_link import ticket_url

        return TicketOutcome(issued.ticket.id, issued.ticket.number, svc.name if svc else issued.ticket.service,
                             issued.windows, issued.people_ahead, issued.estimated_wait_s,
                             issued.ticket.issued_at,
                             phone_url=ticket_url(self.hall.public_url, issued.ticket.token),
                             priority_label=self.priority_label(getattr(issued.ticket, "priority", None)))

    def reprint(self, outcome: TicketOutcome, on_printed: Callable[[TicketOutcome], None] | None = None,
                wait_for_print: bool = False) -> None:
        ticket = self.backend.get_ticket(outcome.ticket_id)
        if ticket is None:
            raise VisitorError("找不到该号码，请联系工作人员")
        issued = Issued(ticket, outcome.people_ahead, outcome.estimated_wait_s, outcome.windows)
        outcome.print_state, outcome.print_error = "printing", ""
        self._start_print(outcome, issued, on_printed, wait_for_print)

    def _start_print(self, outcome: TicketOutcome, issued: Issued,
                     on_printed: Callable[[TicketOutcome], None] | None, wait: bool) -> None:
        def job() -> None:
            self._print(outcome, issued)
            if on_printed:
                on_printed(outcome)

        if wait:
            job()
            return
        worker = threading.Thread(target=job, name=f"print-{outcome.number}", daemon=True)
        if self.after_next_frame is not None:
            self.after_next_frame(worker.start)
        else:
            worker.start()

    def _print(self, outcome: TicketOutcome, issued: Issued) -> None:
        from .public_link import ticket_url
        from .ticket_layout import ticket_document

        doc = ticket_document(self.hall.name, issued.ticket, outcome.service_name, outcome.people_ahead,
                              list(outcome.windows), paper_width_mm=self.config.printer.paper_width_mm,
                              qr_data=ticket_url(self.hall.public_url, issued.ticket.token),
                              timezone=self.hall.timezone, priority_label=outcome.priority_label or None)
        error = self.print_now(doc, outcome.number)
        outcome.print_state, outcome.print_error = ("failed", error) if error else ("printed", "")

    def print_now(self, doc, what: str) -> str:
        """Print a document on this thread; '' when it reached paper, else why not in
        Chinese for the visitor (the driver's own words go to the log)."""
        with self._print_lock:
            try:
                self.printer.print_document(doc)
            except PrintError as exc:
                log.error("print of %s failed: %s", what, exc)
                return exc.status.label_zh if exc.status else "打印机暂时无法使用"
            except Exception:  # a driver bug must still end as a visible failure
                log.exception("print of %s crashed", what)
                return "打印机暂时无法使用"
        return ""

    def open_printer(self, settings: PrinterSettings) -> Printer:
        """A new printer for ``settings`` (not yet the terminal's): through the factory the wiring gave."""
        if self.printer_factory is None:
            raise PrintError("this terminal was built without a printer factory")
        return self.printer_factory(settings, Path(self.config.data_dir))

    def replace_printer(self, settings: PrinterSettings) -> None:
        """Print on a printer built from ``settings`` from now on; the old one is closed once no job
        is on its wire. If the new one cannot be opened, the old one stays (and this raises)."""
        new = self.open_printer(settings)
        with self._print_lock:
            old, self.printer = self.printer, new
            self.config.printer = settings
        old.close()

    @property
    def has_printer(self) -> bool:
        """False when the terminal is configured without one (nothing would come out)."""
        return self.config.printer.kind != "none"

    def print_notice(self, guide, on_done: Callable[[str], None] | None = None, wait: bool = False) -> None:
        """Print a guide's 一次性告知单; ``on_done('')`` on success, else with the reason."""
        from .guides import notice_slip

        status = self.printer_status()
        if not status.can_print:
            if on_done:
                on_done(status.label_zh)
            return
        doc = notice_slip(guide, self.hall, width_mm=self.config.printer.paper_width_mm, printed_at=self.now(),
                          qr_data=self.guides.guide_url(guide, self.hall.public_url))

        def job() -> None:
            error = self.print_now(doc, f"notice {guide.id}")
            if on_done:
                on_done(error)

        if wait:
            job()
        else:
            threading.Thread(target=job, name=f"notice-{guide.id}", daemon=True).start()

    # --------------------------------------------------------------- evaluator
    def submit_rating(self, prompt) -> None:
        """Store a finished evaluator prompt: through the hall-server backend's outbox when
        it has one, else in this terminal's own database. Level None is an unrated visit."""
        from .ratings.followup import record_rating
        from .ratings.model import make_rating

        rating = make_rating(self.hall, key=prompt.key, level=prompt.level, window=self.config.window,
                             reasons=prompt.reasons, phone=prompt.phone or None, ticket_id=prompt.ticket_id,
                             ticket_number=prompt.ticket_number, service=prompt.service,
                             terminal=self.config.name)
        remote = getattr(self.backend, "submit_rating", None)
        if remote is not None:
            remote(rating)
        else:
            record_rating(self.local_ratings(), self.hall, rating)  # a bad rating opens its follow-up here too
        log.info("rating %s for %s at window %d", rating.level_name, rating.ticket_number or "walk-in",
                 rating.window)

    def local_ratings(self):
        from .ratings.store import RatingStore

        if getattr(self, "_ratings", None) is None:
            self._ratings = RatingStore(self.backend.store.engine, self.hall.code, self.hall.timezone)
        return self._ratings

    def duty(self) -> dict:
        """Who and what the evaluator's idle screen shows for its window."""
        window = self.hall.window(self.config.window)
        services = [self.hall.service(c).name for c in (window.services if window else ()) if self.hall.service(c)]
        staff = None
        lookup = getattr(self.backend, "duty", None)
        if lookup is not None:
            try:
                staff = lookup(self.config.window)
            except Exception as exc:  # the idle screen keeps its last picture
                log.warning("duty lookup failed: %s", exc)
        return {"number": self.config.window, "name": window.name if window else "", "services": services,
                "staff": staff}

    def subscribe(self, callback: Callable[[str, dict], None]) -> bool:
        """Live events (e.g. ``ticket_finished``) from the queue's source; False when it has none."""
        hook = getattr(self.backend, "subscribe", None)
        if hook is not None:
            hook(callback)
            return True
        listeners = getattr(self.backend, "listeners", None)  # the embedded engine's own events
        if listeners is None:
            return False
        listeners.append(callback)
        return True

    def _warn(self, message: str) -> None:
        log.warning(message)
        self.warnings.append(f"{self.now():%H:%M:%S} {message}")
        del self.warnings[:-50]

    def close(self) -> None:
        """Stop the background work, then close the databases (SQLite checkpoints its WAL)."""
        if getattr(self, "_desk", None) is not None:
            self._desk.stop()
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()
        self.printer.close()
        if self.idcard_reader is not None:
            self.idcard_reader.close()
        store = getattr(self.backend, "store", None)  # the embedded engine's, or the sync backend's file
        for db in {id(e): e for e in (getattr(store, "engine", None), getattr(self.backend, "db", None))
                   if e is not None}.values():
            db.dispose()


def ticket_speech(outcome: TicketOutcome) -> str:
    windows = "、".join(str(w) for w in outcome.windows)
    where = f"请到 {windows} 号窗口办理，" if windows else ""
    return (f"您的号码是 {spoken_number(outcome.number)}，{where}"
            f"前面还有 {outcome.people_ahead} 人，请留意叫号")


def spoken_number(number: str) -> str:
    """'A012' -> 'A 0 1 2' so the engine reads digits one by one, as hall callers do."""
    return " ".join(number)


def build_terminal(config: TerminalConfig, *, printer: Printer, voice: Voice,
                   idcard_reader: IdCardReader | None = None, printer_factory: PrinterFactory | None = None,
                   clock: Callable[[], float] = time.time, background: bool = True) -> Terminal:
    """Assemble a terminal from its config and the devices the caller opened (the wiring layer,
    ``wiring/terminal.py::open_terminal``, opens the ones the terminal file names; tests pass fakes).

    The queue is the hall server's when ``config.server_url`` is set (with an
    offline series and an outbox; ``background`` starts its sync, event and
    heartbeat threads), else the embedded engine on the terminal's SQLite file.
    The ID-card reader is kept only by a terminal that dispenses.
    """
    from .appointments.checkin import lane
    from .hall_file import load_hall
    from .storage.db import open_engine, sqlite_url
    from .storage.queue_store import QueueStore

    hall = load_hall(config.hall_file)
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if config.server_url:
        from .sync import RemoteBackend

        backend = RemoteBackend(config, hall, data_dir, clock=clock)
        backend.start_up()
        hall = backend.hall  # the server's (pulled now, or the last good copy)
    else:
        backend = QueueEngine(hall, QueueStore(open_engine(sqlite_url(data_dir / "queue.db")), hall.code),
                              clock=clock)
    terminal = Terminal(config, hall, backend, printer, voice, clock=clock, printer_factory=printer_factory)
    # on-time appointments are called ahead of walk-ins; the hall's rule (strict / interleave) from the desk
    apt_lane, _ = lane(lambda: terminal.appointments.settings(fresh=False))
    (backend if isinstance(backend, QueueEngine) else backend.local).add_lane(apt_lane)
    if idcard_reader is not None:
        if terminal.dispenses:
            terminal.idcard_reader = idcard_reader  # opened on first read
        else:
            idcard_reader.close()
    if config.server_url:
        backend.attach(terminal)
        if background:
            backend.start()
            if terminal.dispenses:
                terminal.appointments.start()  # today's appointments kept for offline check-in
    return terminal
