"""Receipt printers: implementations of the core's ``kiosk.ports.Printer`` (re-exported here with
``PrinterStatus`` and ``PrintError``), a fake, and the real ones.

``open_printer(settings, data_dir)`` builds the configured one (serial,
network, preview or none); serial and network modules load on demand.
"""

from kiosk.ports import Printer, PrinterStatus, PrintError

from .factory import PrinterConfigError, open_printer
from .fake import FakePrinter
from .preview import NullPrinter, PreviewPrinter

__all__ = ["Printer", "PrinterStatus", "PrintError", "FakePrinter", "PrinterConfigError", "open_printer",
           "NullPrinter", "PreviewPrinter"]
