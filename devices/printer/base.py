"""The printer interface the terminal core relies on."""

from __future__ import annotations

import enum
from typing import Protocol

from kiosk.document import Document


class PrinterStatus(str, enum.Enum):
    READY = "ready"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    NO_ANSWER = "no_answer"

    @property
    def can_print(self) -> bool:
        return self in (PrinterStatus.READY, PrinterStatus.PAPER_NEAR_END)

    @property
    def label_zh(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]


_LABELS = {
    PrinterStatus.READY: ("正常", "ready"),
    PrinterStatus.PAPER_NEAR_END: ("纸将用尽", "paper near end"),
    PrinterStatus.PAPER_OUT: ("缺纸", "paper out"),
    PrinterStatus.COVER_OPEN: ("打印机盖未关", "cover open"),
    PrinterStatus.OFFLINE: ("打印机离线", "offline"),
    PrinterStatus.NO_ANSWER: ("打印机无应答", "no answer"),
}


class PrintError(Exception):
    """A job did not reach paper. ``status`` says why when it is known."""

    def __init__(self, message: str, status: PrinterStatus | None = None):
        super().__init__(message)
        self.status = status


class Printer(Protocol):
    def status(self) -> PrinterStatus:
        """Real-time state; must answer quickly (a status query, never a job)."""

    def print_document(self, doc: Document) -> None:
        """Print and confirm, or raise PrintError within a bounded time."""

    def close(self) -> None: ...
