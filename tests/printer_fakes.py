"""A fake Epson-compatible receipt printer on a real pty pair, for tests of the
serial printer, the CLI and the dispenser UI.

    with PtyPrinter(state="ready") as fake:
        printer = SerialPrinter(PrinterSettings(kind="serial", port=fake.port_name))
        fake.state = "paper_out"          # the next DLE EOT answers say so
        fake.received                      # every byte the app sent, queries included
        fake.jobs_bytes()                  # the same without the DLE EOT queries
        fake.unplug()                      # the adapter vanishes: the port path is gone
        PtyPrinter("ready", after_bytes=(100, "stall"))   # turns into "stall" mid-job
        PtyPrinter("ready", after_bytes=(100, "unplug"))  # pulled out mid-job

States: ready, near_end, paper_out, cover_open, offline, error (answer like a
printer in that state); silent (reads, never answers); junk (answers bytes that
are no status); stall (stops reading: the app's writes back up and block).
"""

from __future__ import annotations

import os
import re
import select
import threading
import time
import tty

# Answers to DLE EOT 1 (printer), 2 (offline cause), 4 (paper roll), as Epson TM printers send them.
ANSWERS = {
    "ready": {1: 0x16, 2: 0x12, 4: 0x12},
    "near_end": {1: 0x16, 2: 0x12, 4: 0x1E},
    "paper_out": {1: 0x1E, 2: 0x32, 4: 0x72},
    "cover_open": {1: 0x1E, 2: 0x16, 4: 0x12},
    "offline": {1: 0x1E, 2: 0x12, 4: 0x12},
    "error": {1: 0x1E, 2: 0x52, 4: 0x12},
    "junk": {1: 0xE5, 2: 0x00, 4: 0xFF},
}
STATES = tuple(ANSWERS) + ("silent", "stall")
QUERY_RE = re.compile(rb"\x10\x04[\x01-\x04]")


class PtyPrinter:
    def __init__(self, state: str = "ready", *, answer_delay_s: float = 0.0,
                 after_bytes: tuple[int, str] | None = None):
        for name in (state, after_bytes[1] if after_bytes else state):
            if name not in STATES + ("unplug",):
                raise ValueError(f"unknown state {name!r}; one of {STATES}")
        self.state = state
        self.answer_delay_s = answer_delay_s
        self.after_bytes = after_bytes  # (n, state): once n bytes arrived, become state (or "unplug")
        self.received = bytearray()
        self.queries = 0
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no newline translation: bytes pass as they are
        self.port_name = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pending = b""  # a DLE EOT split across two reads
        self._thread = threading.Thread(target=self._run, name=f"PtyPrinter {self.port_name}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ API
    def jobs_bytes(self) -> bytes:
        """What was sent apart from the status queries."""
        with self._lock:
            return QUERY_RE.sub(b"", bytes(self.received))

    def wait_for(self, nbytes: int, timeout: float = 5.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.received) >= nbytes:
                return True
            time.sleep(0.005)
        return False

    def unplug(self) -> None:
        """Close both ends, as when a USB-serial adapter is pulled: the port path disappears."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._close_fds()

    @property
    def unplugged(self) -> bool:
        return self._master is None

    def close(self) -> None:
        self.unplug()

    def __enter__(self) -> "PtyPrinter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -------------------------------------------------------------- printer
    def _run(self) -> None:
        while not self._stop.is_set():
            if self.state == "stall":  # a jammed printer: stop taking bytes, so the app's writes block
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([self._master], [], [], 0.02)
                if not ready:
                    continue
                data = os.read(self._master, 4096)
            except OSError:
                return
            with self._lock:
                self.received += data
            if self.after_bytes and len(self.received) >= self.after_bytes[0]:
                new_state, self.after_bytes = self.after_bytes[1], None
                if new_state == "unplug":
                    self._stop.set()
                    self._close_fds()
                    return
                self.state = new_state
            self._answer(data)

    def _answer(self, data: bytes) -> None:
        stream = self._pending + data
        self._pending = stream[-2:] if stream.endswith((b"\x10", b"\x10\x04")) else b""
        replies = bytearray()
        for match in QUERY_RE.finditer(stream):
            self.queries += 1
            answers = ANSWERS.get(self.state)
            n = match.group()[2]
            if answers and n in answers:
                replies.append(answers[n])
        if replies:
            if self.answer_delay_s:
                time.sleep(self.answer_delay_s)
            try:
                os.write(self._master, bytes(replies))
            except OSError:
                pass

    def _close_fds(self) -> None:
        for name in ("_master", "_slave"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                try:
                    os.close(fd)
                except OSError:
                    pass
