"""Assembling a ``Terminal``: its hall, its queue backend (embedded engine or hall-server
client), the appointment lane and the devices the wiring layer opened.

Re-exported as ``kiosk.terminal.build_terminal``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .config import TerminalConfig
from .domain import Hall
from .ports import IdCardReader, Printer, PrinterFactory, Voice

if TYPE_CHECKING:
    from .queue import QueueEngine
    from .terminal import Terminal


def build_terminal(config: TerminalConfig, *, printer: Printer, voice: Voice,
                   idcard_reader: IdCardReader | None = None, printer_factory: PrinterFactory | None = None,
                   clock: Callable[[], float] = time.time, background: bool = True,
                   hall: Hall | None = None) -> Terminal:
    """Assemble a terminal from its config and the devices the caller opened (the wiring layer,
    ``wiring/terminal.py::open_terminal``, opens the ones the terminal file names; tests pass fakes).
    ``hall``: the hall file ``config`` names, already read and validated (``kiosk run`` does that before
    the screen, ``kiosk/config.py::load_terminal_hall``); None: read it here.

    The queue is the hall server's when ``config.server_url`` is set (with an
    offline series and an outbox; ``background`` starts its sync, event and
    heartbeat threads), else the embedded engine on the terminal's SQLite file,
    opened on first use (``Terminal.backend``; the App opens it right after its
    first frame: SQLAlchemy's import is a fifth of a start's CPU, issue 17).
    The ID-card reader is kept only by a terminal that dispenses.
    """
    from .hall_file import load_hall
    from .terminal import Terminal

    if hall is None:
        hall = load_hall(config.hall_file)
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    if not config.server_url:
        def open_embedded() -> QueueEngine:
            from .queue import QueueEngine
            from .storage.db import open_engine, sqlite_url
            from .storage.queue_store import QueueStore

            hall = terminal.hall
            return QueueEngine(hall, QueueStore(open_engine(sqlite_url(data_dir / "queue.db")), hall.code),
                               clock=clock)

        terminal = Terminal(config, hall, None, printer, voice, clock=clock, printer_factory=printer_factory,
                            open_backend=open_embedded,
                            on_open=lambda engine: engine.add_lane(_appointment_lane(terminal)))
    else:
        from .sync import RemoteBackend

        backend = RemoteBackend(config, hall, data_dir, clock=clock)
        backend.start_up()
        hall = backend.hall  # the server's (pulled now, or the last good copy)
        terminal = Terminal(config, hall, backend, printer, voice, clock=clock, printer_factory=printer_factory)
        backend.local.add_lane(_appointment_lane(terminal))
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


def _appointment_lane(terminal: Terminal):
    """On-time appointments are called ahead of walk-ins; the hall's rule (strict / interleave) from the desk."""
    from .appointments.rule import AppointmentRule

    return AppointmentRule(lambda: terminal.appointments.settings(fresh=False)).lane
