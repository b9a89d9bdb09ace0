"""Real-time status (DLE EOT n) of Epson-compatible printers: the query and its answer.

All three queries go out in one write and the three answer bytes come back in
one read, so a status check costs one round trip (a USB-serial adapter adds up
to ~16 ms of latency per read; three separate round trips could break 50 ms).
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.ports import PrinterStatus

DLE_EOT = b"\x10\x04"
QUERY = DLE_EOT + b"\x01" + DLE_EOT + b"\x02" + DLE_EOT + b"\x04"  # printer, offline cause, paper roll
ANSWER_LEN = 3

# Every status byte has bits 1 and 4 set and bits 0 and 7 clear; anything else is not a status.
FIXED_MASK, FIXED_BITS = 0x93, 0x12
OFFLINE = 0x08  # n=1
COVER_OPEN, FEED_BUTTON, PAPER_END_STOP, ERROR = 0x04, 0x08, 0x20, 0x40  # n=2
NEAR_END, PAPER_OUT = 0x0C, 0x60  # n=4 (either bit of each pair)


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
    return b & FIXED_MASK == FIXED_BITS


def parse(answer: bytes, waited_s: float) -> StatusReading:
    """The state an answer to QUERY reports; a silent or garbled answer is NO_ANSWER."""
    if not answer:
        return StatusReading(PrinterStatus.NO_ANSWER,
                             f"no answer within {waited_s * 1000:.0f} ms: printer off, cable loose or wrong port",
                             answer)
    bad = [b for b in answer if not is_status_byte(b)]
    if bad:
        return StatusReading(PrinterStatus.NO_ANSWER,
                             f"unexpected answer {answer.hex(' ')}: wrong baud rate or not an ESC/POS printer",
                             answer)
    if len(answer) < ANSWER_LEN:
        return StatusReading(PrinterStatus.NO_ANSWER,
                             f"incomplete answer {answer.hex(' ')} ({len(answer)} of {ANSWER_LEN} bytes)", answer)
    printer, cause, paper = answer[:ANSWER_LEN]
    if cause & COVER_OPEN:
        return StatusReading(PrinterStatus.COVER_OPEN, "", answer)
    if paper & PAPER_OUT or cause & PAPER_END_STOP:
        return StatusReading(PrinterStatus.PAPER_OUT, "", answer)
    if cause & ERROR:
        return StatusReading(PrinterStatus.OFFLINE, "printer error: cutter jam or print head too hot", answer)
    if cause & FEED_BUTTON:
        return StatusReading(PrinterStatus.OFFLINE, "paper is being fed with the feed button", answer)
    if printer & OFFLINE:
        return StatusReading(PrinterStatus.OFFLINE, "", answer)
    if paper & NEAR_END:
        return StatusReading(PrinterStatus.PAPER_NEAR_END, "", answer)
    return StatusReading(PrinterStatus.READY, "", answer)
