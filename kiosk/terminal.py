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
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from .config import PrinterSettings, TerminalConfig
from .domain import Hall, PriorityGroup
from .heap import release_free_memory
from .ports import IdCardReader, Printer, PrinterFactory, PrinterStatus, PrintError, Voice
from .queue_errors import QueueError, ServiceUnavailable
from .ticket_view import (PAUSED_MESSAGE, Grid, PrinterPaused, ServiceButton, TicketOutcome, VisitorError,  # noqa: F401
                          spoken_number, ticket_speech, wait_text)

if TYPE_CHECKING:
    from .queue import Issued, ServiceState

log = logging.getLogger(__name__)

__all__ = ["PAUSED_MESSAGE", "Grid", "PrinterPaused", "QueueBackend", "ServiceButton", "Terminal", "TicketOutcome",
           "VisitorError", "build_terminal", "spoken_number", "ticket_speech", "wait_text"]


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
    def __init__(self, config: TerminalConfig, hall: Hall, backend: QueueBackend | None, printer: Printer,
                 voice: Voice, clock: Callable[[], float] = time.time,
                 printer_factory: PrinterFactory | None = None,
                 open_backend: Callable[[], QueueBackend] | None = None,
                 on_open: Callable[[QueueBackend], None] | None = None):
        """``backend`` None: ``open_backend()`` makes it on first use, then ``on_open(backend)`` completes it
        (the embedded engine: opening it imports SQLAlchemy and the store, which a terminal's first frame
        need not wait for)."""
        self.config = config
        self.hall = hall
        self._backend = backend
        self._opened = backend is not None
        self._open_backend, self._on_open = open_backend, on_open
        # reentrant: completing the backend may ask for it (the appointment lane reads the desk, which reads it)
        self._backend_lock = threading.RLock()
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
    def backend(self) -> QueueBackend:
        """The queue's source, opened on first use when it was handed in as ``open_backend``."""
        if self._opened:
            return self._backend
        with self._backend_lock:  # the UI thread and a refresh worker may ask at once; others wait here
            if self._backend is None:
                self._backend = self._open_backend()
                if self._on_open is not None:
                    self._on_open(self._backend)  # its own questions for the backend get it (same thread)
                self._opened = True
            return self._backend

    @backend.setter
    def backend(self, backend: QueueBackend) -> None:
        with self._backend_lock:
            self._backend, self._opened = backend, True

    def open_queue(self) -> None:
        """Open the queue's source now if it waits for its first use (the App: after its first frame)."""
        self.backend  # noqa: B018

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
        if self._backend is None:
            return ""  # only the embedded engine waits to be opened, and it shows nothing
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
              offline_key: str | None = None, person: str | None = None, check_in: bool = False) -> TicketOutcome:
        """Check the printer, issue a number, then print it on a worker thread.

        ``check_in``: an appointment check-in on the embedded queue issues with its own key (``apt:...``,
        which the engine refuses from anyone else: ``kiosk.queue.QueueEngine.issue``).

        A printer that cannot print refuses before a number is consumed. A job
        that fails after issuing leaves the ticket in the queue; the outcome
        says ``failed`` and the screen offers a reprint.
        """
        with self._issue_lock:
            status = self.printer_status()
            if not status.can_print:
                raise PrinterPaused()
            try:
                extra = {"key": key} if key else {}
                if offline_key:  # an appointment's ticket made offline (only the sync backend has offline)
                    extra["offline_key"] = offline_key
                if check_in and self._embedded():
                    extra["check_in"] = True
                if person and not self._embedded():  # the server keeps one ticket per person
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

    def _embedded(self) -> bool:
        from .queue import QueueEngine

        return isinstance(self.backend, QueueEngine)

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
        from .queue import Issued

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
            release_free_memory()  # what the receipt's picture freed (kiosk/heap.py)

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
        """Store a finished evaluator prompt (``kiosk/evaluator_desk.py::submit_rating``)."""
        from .evaluator_desk import submit_rating

        submit_rating(self, prompt)

    def local_ratings(self):
        """This terminal's own rating store (embedded evaluator), made on first use."""
        if getattr(self, "_ratings", None) is None:
            from .evaluator_desk import local_rating_store

            self._ratings = local_rating_store(self)
        return self._ratings

    def duty(self) -> dict:
        """Who and what the evaluator's idle screen shows for its window (``kiosk/evaluator_desk.py``)."""
        from .evaluator_desk import window_duty

        return window_duty(self)

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
        backend = self._backend  # None: never opened, nothing to close
        close = getattr(backend, "close", None)
        if close is not None:
            close()
        self.printer.close()
        if self.idcard_reader is not None:
            self.idcard_reader.close()
        store = getattr(backend, "store", None)  # the embedded engine's, or the sync backend's file
        for db in {id(e): e for e in (getattr(store, "engine", None), getattr(backend, "db", None))
                   if e is not None}.values():
            db.dispose()


from .terminal_build import build_terminal  # noqa: E402  (it imports Terminal only when called)
