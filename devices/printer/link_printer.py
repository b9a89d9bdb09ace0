"""An ESC/POS printer on a byte link (serial port or TCP socket): status and confirmed jobs.

What python-escpos leaves open is closed here: every write has a timeout,
status needs a valid DLE EOT answer (silence is NO_ANSWER, never "paper OK"),
a job is confirmed by a status query after its bytes are out, and any link
failure (unplugged adapter, closed socket) becomes a PrintError or a status,
never a traceback. A job fails within JOB_BUDGET_S of the printer stalling.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from kiosk.document import Document
from kiosk.ports import PrinterStatus, PrintError

from . import realtime
from .commands import STATUS_ANSWER_LEN, STATUS_QUERY
from .escpos import RenderOptions, render
from .realtime import StatusReading

log = logging.getLogger(__name__)

JOB_BUDGET_S = 10.0  # a stalled or silent printer fails the job within this
CHUNK = 512  # bytes per write, so progress is seen and a stall is caught early
DRIVER_BUFFER = 4096  # bytes a serial driver queues after write() returns


class LinkTimeout(OSError):
    """The other end stopped taking bytes."""


class Link(Protocol):
    name: str

    def open(self) -> None: ...  # raise OSError with a readable message
    def close(self) -> None: ...
    def write(self, data: bytes, timeout: float) -> None: ...  # all of data, or LinkTimeout/OSError
    def read(self, n: int, timeout: float) -> bytes: ...  # up to n bytes; fewer on timeout
    def drop_input(self) -> None: ...
    def unsent(self) -> int: ...  # bytes still queued in the driver, 0 when unknown
    def wire_seconds(self, nbytes: int) -> float: ...  # time the bytes take on the wire


class LinkPrinter:
    def __init__(self, link: Link, options: RenderOptions, status_timeout_s: float = 0.2,
                 write_timeout_s: float = 5.0):
        self.link = link
        self.options = options
        self.status_timeout_s = status_timeout_s
        self.write_timeout_s = min(write_timeout_s, JOB_BUDGET_S)
        self.last = StatusReading(PrinterStatus.NO_ANSWER, "not asked yet")
        self._open = False
        self._lock = threading.Lock()  # one conversation with the printer at a time

    # ---------------------------------------------------------------- status
    def status(self) -> PrinterStatus:
        return self.check().status

    def check(self) -> StatusReading:
        """Query now. While a job holds the printer, answer with the last known state instead of waiting."""
        if not self._lock.acquire(timeout=self.status_timeout_s):
            return self.last
        try:
            self.last = self._query(self.status_timeout_s)
            return self.last
        finally:
            self._lock.release()

    def _query(self, timeout: float) -> StatusReading:
        try:
            self._ensure_open()
            self.link.drop_input()  # a late answer to an earlier query must not be read as this one
            self.link.write(STATUS_QUERY, timeout)
            answer = self.link.read(STATUS_ANSWER_LEN, timeout)
        except LinkTimeout:
            return StatusReading(PrinterStatus.NO_ANSWER, f"{self.link.name} takes no data (printer stalled?)")
        except OSError as exc:
            self._drop_link()
            reason = _reason(exc)
            return StatusReading(PrinterStatus.NO_ANSWER,
                                 reason if self.link.name in reason else f"{self.link.name}: {reason}")
        return realtime.parse(answer, timeout)

    # ------------------------------------------------------------------ jobs
    def print_document(self, doc: Document) -> None:
        data = render(doc, self.options)
        start = time.monotonic()
        deadline = start + JOB_BUDGET_S + self.link.wire_seconds(len(data))
        with self._lock:
            before = self._query(self.status_timeout_s)
            self.last = before
            if not before.status.can_print:
                raise PrintError(f"printer not ready: {before}", before.status)
            try:
                self._send(data, deadline)
            except LinkTimeout as exc:
                self.last = StatusReading(PrinterStatus.NO_ANSWER, str(exc))
                raise PrintError(f"printer stalled: {exc}", PrinterStatus.NO_ANSWER) from None
            except OSError as exc:
                self._drop_link()
                self.last = StatusReading(PrinterStatus.OFFLINE, _reason(exc))
                raise PrintError(f"printer lost during the job: {_reason(exc)}", PrinterStatus.OFFLINE) from None
            # The answer queues behind job bytes still in the driver's buffer (which not every
            # driver can count): allow for a full buffer on the wire, never for the whole job.
            wait = self.status_timeout_s + self.link.wire_seconds(min(len(data), DRIVER_BUFFER))
            after = self._query(max(self.status_timeout_s, min(wait, deadline - time.monotonic())))
            self.last = after
        if after.status is PrinterStatus.NO_ANSWER:
            raise PrintError(f"job not confirmed: the printer stopped answering after it ({after.detail})",
                             after.status)
        if not after.status.can_print:
            raise PrintError(f"job not confirmed: the printer reports {after} after it", after.status)
        log.info("printed %s: %d bytes in %.2f s (%s)", doc.title or "document", len(data),
                 time.monotonic() - start, after.status.value)

    def _send(self, data: bytes, deadline: float) -> None:
        """Write in chunks, each within the write timeout; then wait for the driver's queue to empty."""
        for offset in range(0, len(data), CHUNK):
            remaining = deadline - time.monotonic()
            timeout = min(self.write_timeout_s, remaining)
            if timeout <= 0:
                raise LinkTimeout(f"sent {offset} of {len(data)} bytes before the time limit")
            try:
                self.link.write(data[offset:offset + CHUNK], timeout)
            except LinkTimeout:
                raise LinkTimeout(f"took no data for {timeout:.1f} s after {offset} of {len(data)} bytes") from None
        queued, since = self.link.unsent(), time.monotonic()
        while queued:  # real serial ports: bytes still in the driver, printer holding CTS low
            time.sleep(0.02)
            now_queued = self.link.unsent()
            if now_queued < queued:
                queued, since = now_queued, time.monotonic()
            elif time.monotonic() - since > self.write_timeout_s or time.monotonic() > deadline:
                raise LinkTimeout(f"{queued} bytes left unsent for {self.write_timeout_s:.1f} s")

    # ------------------------------------------------------------ connection
    def _ensure_open(self) -> None:
        if not self._open:
            self.link.open()  # also the way back after an unplug: the next query reopens
            self._open = True

    def _drop_link(self) -> None:
        self._open = False
        try:
            self.link.close()
        except OSError:
            pass

    def close(self) -> None:
        """Close the port; a job still running after the write timeout is cut off, not waited for."""
        got = self._lock.acquire(timeout=self.write_timeout_s + 1)
        try:
            self._drop_link()
        finally:
            if got:
                self._lock.release()


def _reason(exc: OSError) -> str:
    text = str(exc) or type(exc).__name__
    if "Input/output error" in text or "returned no data" in text:
        return f"the port vanished (unplugged?): {text}"
    return text
