"""Second-generation ID card readers (SAM protocol over a serial port) and an in-memory fake.

They implement ``kiosk.ports.IdCardReader`` and return the core's ``kiosk.idcard.IdCard``."""

from kiosk.idcard import IdCard, IdCardError
from kiosk.ports import IdCardReader

__all__ = ["IdCard", "IdCardError", "IdCardReader"]
