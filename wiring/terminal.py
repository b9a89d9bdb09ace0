"""Open the devices a terminal file names and build the terminal around them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from devices.printer import open_printer
from devices.voice import open_voice
from kiosk.config import TerminalConfig
from kiosk.domain import Hall
from kiosk.ports import IdCardReader, Printer, Voice
from kiosk.terminal import Terminal, build_terminal


def open_idcard_reader(config: TerminalConfig) -> IdCardReader | None:
    """The ``[idcard]`` reader, or None without a port (the serial port opens on the first read)."""
    if not config.idcard_port:
        return None
    from devices.idcard.serial_reader import SerialIdReader

    return SerialIdReader(config.idcard_port, config.idcard_baud)


def open_terminal(config: TerminalConfig, *, printer: Printer | None = None, voice: Voice | None = None,
                  clock: Callable[[], float] = time.time, background: bool = True,
                  hall: Hall | None = None) -> Terminal:
    """A terminal with the real devices of its file: the ``[printer]`` (serial, network, preview or
    none), espeak-ng's voice when ``[voice]`` is on and installed, the ``[idcard]`` reader. A
    ``printer`` or ``voice`` given here replaces the configured one (the CLI's silent voice). ``hall``:
    the hall file, already read and validated (``kiosk run``); None: ``build_terminal`` reads it."""
    if printer is None:
        printer = open_printer(config.printer, Path(config.data_dir))
    if voice is None:
        voice = open_voice(config.voice_enabled, config.voice_volume)
    return build_terminal(config, printer=printer, voice=voice, idcard_reader=open_idcard_reader(config),
                          printer_factory=open_printer, clock=clock, background=background,
                          hall=hall)
