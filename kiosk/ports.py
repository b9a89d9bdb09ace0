"""The ports: what the core needs from hardware, as Protocols over core types only.

``devices/`` implements them (printers in ``devices/printer/``, speech in ``devices/voice.py``,
ID-card readers in ``devices/idcard/``); the wiring layer (``wiring/terminal.py``) picks the
implementations a terminal file names and hands them to ``kiosk.terminal.build_terminal``.
Nothing in ``kiosk/`` imports an implementation.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: these core modules need nothing from here
    from .config import PrinterSettings
    from .document import Document
    from .idcard import IdCard


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


class PrinterFactory(Protocol):
    """Opens the printer a ``[printer]`` section describes (the settings screen tries a draft's
    printer before saving it, and swaps the running one after)."""

    def __call__(self, settings: PrinterSettings, data_dir: Path) -> Printer: ...


class Voice(Protocol):
    available: bool
    speaking: bool  # still reading: a visitor listening is a visitor acting (timeouts wait)

    def say(self, text: str) -> None:
        """Start speaking and return at once; a newer phrase cuts an older one off."""

    def stop(self) -> None: ...


class IdCardReader(Protocol):
    def read(self) -> IdCard | None:
        """One attempt: the card on the reader, or None when there is none (or it was read already and
        not taken away). Raises IdCardError when the reader is gone, silent or answers nonsense; the
        next call tries again (and reopens the port)."""

    def close(self) -> None: ...
