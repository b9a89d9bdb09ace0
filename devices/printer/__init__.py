"""Receipt printers: the interface, a fake, and the real implementations."""

from .base import Printer, PrinterStatus, PrintError
from .fake import FakePrinter

__all__ = ["Printer", "PrinterStatus", "PrintError", "FakePrinter"]
