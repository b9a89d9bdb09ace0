"""Second-generation ID card readers (SAM protocol over a serial port) and an in-memory fake."""

from kiosk.idcard import IdCard, IdCardError, IdCardReader

__all__ = ["IdCard", "IdCardError", "IdCardReader"]
