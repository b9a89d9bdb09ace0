"""A SAM ID-card reader on a serial port (RS-232 or USB-serial; default 115200 baud).

One ``read()`` is find card -> select card -> read base data. Every failure is an
``IdCardError`` within a bounded time: an unplugged adapter (the port is closed and
reopened on the next call), a reader that does not answer, a garbled or mis-checksummed
frame (garbage before a frame is skipped), a card pulled out mid-read. A card already
read answers "no card" until it is taken away and put back: readers behave like that,
so polling never reads the same card twice in a row.
"""

from __future__ import annotations

import contextlib
import termios
import time

import serial

from kiosk.idcard import IdCard, IdCardError, parse_text

from ..serial_errors import first_line, open_reason
from . import sam

BAUDS = (9600, 19200, 38400, 57600, 115200)


class SerialIdReader:
    def __init__(self, port: str, baud: int = 115200, timeout_s: float = 1.0, retries: int = 1):
        if not port:
            raise ValueError("idcard.port is empty: set the reader's serial port, e.g. /dev/ttyUSB1")
        if baud not in BAUDS:
            raise ValueError(f"baud {baud} is not supported; use one of {', '.join(map(str, BAUDS))}")
        self.port_name = port
        self.baud = baud
        self.timeout_s = timeout_s  # one answer; base data (1295 bytes) takes ~0.12 s at 115200
        self.retries = retries  # a frame with a bad checksum is asked for again this many times
        self._port: serial.Serial | None = None

    # ---------------------------------------------------------------- API
    def read(self) -> IdCard | None:
        sw3, _ = self._ask(sam.FIND_CARD)
        if sw3 == sam.NO_CARD:
            return None
        if sw3 != sam.CARD_FOUND:
            raise IdCardError(f"find card: {sam.status_text(sw3)}", "card_error")
        sw3, _ = self._ask(sam.SELECT_CARD)
        if sw3 == sam.SELECT_FAILED:
            return None  # taken away between find and select: nothing to read
        if sw3 != sam.OK:
            raise IdCardError(f"select card: {sam.status_text(sw3)}", "card_error")
        sw3, data = self._ask(sam.READ_BASE)
        if sw3 != sam.OK:
            raise IdCardError(f"read card: {sam.status_text(sw3)} (card moved away? 请把身份证放稳)", "card_error")
        if len(data) < 4:
            raise IdCardError("base data without its lengths", "garbled")
        text_len, photo_len = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big")
        if len(data) != 4 + text_len + photo_len:
            raise IdCardError(f"base data has {len(data) - 4} bytes, announced {text_len}+{photo_len}", "garbled")
        return parse_text(data[4:4 + text_len], data[4 + text_len:])

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(OSError, serial.SerialException, termios.error):
                port.close()

    # ------------------------------------------------------------ details
    def _ask(self, cmd: tuple[int, int]) -> tuple[int, bytes]:
        frame = sam.command(*cmd)
        for attempt in range(self.retries + 1):
            try:
                self._send(frame)
                sw3, data = self._receive()
            except sam.FrameError as exc:
                if exc.kind == "checksum" and attempt < self.retries:
                    continue
                self._drop_input()
                code = "checksum" if exc.kind == "checksum" else "garbled"
                raise IdCardError(f"{self.port_name}: {exc}", code) from None
            if sw3 == 0x10 and attempt < self.retries:  # the reader got our frame damaged: send it again
                continue
            return sw3, data
        raise IdCardError(f"{self.port_name}: the reader keeps reporting bad checksums", "checksum")

    def _open(self) -> serial.Serial:
        if self._port is None:
            try:
                self._port = serial.Serial(self.port_name, self.baud, timeout=0.05, write_timeout=1.0,
                                           exclusive=True)
            except (serial.SerialException, ValueError, OSError) as exc:
                raise IdCardError(open_reason(self.port_name, exc, unplugged_hint="reader unplugged? 读卡器未连接"), "unplugged") from None
        return self._port

    def _send(self, frame: bytes) -> None:
        port = self._open()
        try:
            port.reset_input_buffer()  # leftovers of an earlier, abandoned answer
            port.write(frame)
        except (serial.SerialException, OSError, termios.error) as exc:
            self.close()
            raise IdCardError(f"{self.port_name}: reader gone ({first_line(exc)})", "unplugged") from None

    def _receive(self) -> tuple[int, bytes]:
        """Skip bytes until the preamble, then read the length and the frame, all within timeout_s."""
        deadline = time.monotonic() + self.timeout_s
        window, skipped = b"", 0
        while window != sam.PREAMBLE:
            try:
                byte = self._take(1, deadline)
            except IdCardError as exc:
                if exc.code == "no_answer" and skipped > len(sam.PREAMBLE):
                    raise IdCardError(f"{self.port_name}: {skipped} bytes without a frame (wrong baud? "
                                      "not a SAM reader?)", "garbled") from None
                raise
            window = (window + byte)[-len(sam.PREAMBLE):]
            skipped += 1
        head = self._take(2, deadline)
        n = int.from_bytes(head, "big")
        if not 4 <= n <= sam.MAX_LEN:
            raise sam.FrameError(f"frame length {n} is not plausible", "length")
        return sam.split_frame(head + self._take(n, deadline))

    def _take(self, n: int, deadline: float) -> bytes:
        port = self._open()
        out = bytearray()
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                if out or n > 1:
                    raise IdCardError(f"{self.port_name}: the answer stopped after {len(out)} of {n} bytes "
                                      "(card pulled out? 读卡中断)", "no_answer")
                raise IdCardError(f"{self.port_name}: the reader does not answer (wrong port or baud?)",
                                  "no_answer")
            try:
                chunk = port.read(n - len(out))
            except (serial.SerialException, OSError, termios.error) as exc:
                self.close()
                raise IdCardError(f"{self.port_name}: reader gone ({first_line(exc)})", "unplugged") from None
            out += chunk
        return bytes(out)

    def _drop_input(self) -> None:
        if self._port is not None:
            with contextlib.suppress(serial.SerialException, OSError, termios.error):
                time.sleep(0.05)
                self._port.reset_input_buffer()

