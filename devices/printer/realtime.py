"""Real-time status (DLE EOT n) of Epson-compatible printers: the query and its answer.

All three queries go out in one write and the three answer bytes come back in
one read, so a status check costs one round trip (a USB-serial adapter adds up
to ~16 ms of latency per read; three separate round trips could break 50 ms).
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.ports import PrinterStatus

from .commands import (ST_COVER_OPEN, ST_ERROR, ST_FEED_BUTTON, ST_NEAR_END, ST_OFFLINE, ST_PAPER_END_STOP,
                       ST_PAPER_OUT, STATUS_ANSWER_LEN, STATUS_FIXED_BITS, STATUS_FIXED_MASK)


@dataclass(frozen=True)
class StatusReading:
    """A status with the reason an installer or the staff log needs."""

    status: PrinterStatus
    detail: str = ""
    raw: bytes = b""

    def __str__(self) -> str:
        text = f"{self.status.label_zh} / {self.status.label_en}"
        return f"{text} ({self.detail})" if self.detail else text


def is_status_byte(b: int) -> bool:
    return b & STATUS_FIXED_MASK == STATUS_FIXED_BITS


def parse(answer: bytes, waited_s: float) -> StatusReading:
    """The state an answer to ``commands.STATUS_QUERY`` reports; a silent or garbled answer is NO_ANSWER."""
    if not answer:
        return StatusReading(PrinterStatus.NO_ANSWER,
                             f"no answer within {waited_s * 1000:.0f} ms: printer off, cable loose or wrong port",
                             answer)
    bad = [b for b in answer if not is_status_byte(b)]
    if bad:
        return StatusReading(PrinterStatus.NO_ANSWER,
                             f"unexpected answer {answer.hex(' ')}: wrong baud rate or not an ESC/POS printer",
                             answer)
    if len(answer) < STATUS_ANSWER_LEN:
        return StatusReading(PrinterStatus.NO_ANSWER,
                             f"incomplete answer {answer.hex(' ')} ({len(answer)} of {STATUS_ANSWER_LEN} bytes)", answer)
    printer, cause, paper = answer[:STATUS_ANSWER_LEN]
    if cause & ST_COVER_OPEN:
        return StatusReading(PrinterStatus.COVER_OPEN, "", answer)
    if paper & ST_PAPER_OUT or cause & ST_PAPER_END_STOP:
        return StatusReading(PrinterStatus.PAPER_OUT, "", answer)
    if cause & ST_ERROR:
        return StatusReading(PrinterStatus.OFFLINE, "printer error: cutter jam or print head too hot", answer)
    if cause & ST_FEED_BUTTON:
        return StatusReading(PrinterStatus.OFFLINE, "paper is being fed with the feed button", answer)
    if printer & ST_OFFLINE:
        return StatusReading(PrinterStatus.OFFLINE, "", answer)
    if paper & ST_NEAR_END:
        return StatusReading(PrinterStatus.PAPER_NEAR_END, "", answer)
    return StatusReading(PrinterStatus.READY, "", answer)
