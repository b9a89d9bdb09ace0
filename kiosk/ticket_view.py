"""What the terminal hands its screens: plain values and the visitor's words.

The service grid (``Grid`` of ``ServiceButton``), a ticket's ``TicketOutcome``, the
``VisitorError`` refusal (Chinese, nothing consumed), and how a wait and a ticket
are put into words (``wait_text``, ``ticket_speech``). ``kiosk.terminal.Terminal``
produces them; screens only read them. Re-exported from ``kiosk.terminal``.
"""

from __future__ import annotations

from dataclasses import dataclass

PAUSED_MESSAGE = "暂停取号，请联系工作人员"


@dataclass(frozen=True)
class ServiceButton:
    code: str
    name: str
    icon: str
    waiting: int
    wait_text: str
    enabled: bool
    reason: str  # why it is disabled, in the visitor's words


@dataclass(frozen=True)
class Grid:
    buttons: tuple[ServiceButton, ...]
    paused: bool  # the printer cannot print: no service can be taken
    pause_reason: str  # for staff, e.g. "缺纸 / paper out"
    visitor_reason: str = ""  # the same in the visitor's words only, e.g. "缺纸"


@dataclass
class TicketOutcome:
    ticket_id: str
    number: str
    service_name: str
    windows: tuple[int, ...]
    people_ahead: int
    estimated_wait_s: int
    issued_at: float
    print_state: str = "printing"  # printing | printed | failed | none
    print_error: str = ""
    phone_url: str | None = None  # the page the ticket's QR opens; None without a public address
    priority_label: str = ""  # "绿色通道 · 65岁以上老人" for a green-channel ticket, else ""


class VisitorError(Exception):
    """A refusal to show a visitor, in Chinese, with nothing consumed."""


class PrinterPaused(VisitorError):
    """The printer cannot print: ticketing pauses (``PAUSED_MESSAGE``) until it can."""

    def __init__(self, message: str = PAUSED_MESSAGE):
        super().__init__(message)


def wait_text(seconds: int) -> str:
    if seconds < 60:
        return "无需等待" if seconds == 0 else "约1分钟"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"约{minutes}分钟"
    return f"约{minutes // 60}小时{minutes % 60:02d}分"


def ticket_speech(outcome: TicketOutcome) -> str:
    windows = "、".join(str(w) for w in outcome.windows)
    where = f"请到 {windows} 号窗口办理，" if windows else ""
    return (f"您的号码是 {spoken_number(outcome.number)}，{where}"
            f"前面还有 {outcome.people_ahead} 人，请留意叫号")


def spoken_number(number: str) -> str:
    """'A012' -> 'A 0 1 2' so the engine reads digits one by one, as hall callers do."""
    return " ".join(number)


