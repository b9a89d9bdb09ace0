"""Build the printer a terminal's settings describe."""

from __future__ import annotations

from pathlib import Path

from kiosk.config import PrinterSettings
from kiosk.ports import Printer

from .escpos import RenderOptions
from .preview import NullPrinter, PreviewPrinter


class PrinterConfigError(ValueError):
    """The settings cannot describe a working printer (not a printer fault: fix the config)."""


def open_printer(settings: PrinterSettings, data_dir: Path) -> Printer:
    """A printer for ``settings``. Nothing is opened yet: a serial or network printer
    connects on its first status query and reconnects after an unplug, so a
    terminal starts even when the printer is off (its status is then NO_ANSWER).
    """
    kind = settings.kind
    try:
        if kind == "preview":
            folder = Path(settings.preview_dir).expanduser() if settings.preview_dir else Path(data_dir) / "tickets"
            return PreviewPrinter(folder, RenderOptions.from_settings(settings))
        if kind == "serial":
            from .serial_printer import SerialPrinter

            return SerialPrinter(settings)
        if kind == "network":
            from .network import NetworkPrinter

            return NetworkPrinter(settings)
        if kind == "none":
            return NullPrinter()
    except ValueError as exc:
        raise PrinterConfigError(str(exc)) from None
    if kind == "usb":
        raise PrinterConfigError("printer.kind = \"usb\" is not supported yet: most USB receipt printers "
                                 "also offer a USB-serial (CDC) mode; use kind = \"serial\" with /dev/ttyACM0")
    raise PrinterConfigError(f"unknown printer.kind {kind!r} (preview, serial, network, usb or none)")
