"""ESC/POS printer on a serial port (RS-232 or USB-serial) through pyserial."""

from __future__ import annotations

import contextlib
import termios

import serial

from kiosk.config import BAUDS, PrinterSettings

from ..serial_errors import open_reason

from .escpos import RenderOptions
from .link_printer import LinkPrinter, LinkTimeout


class SerialLink:
    def __init__(self, port: str, baud: int = 9600, flow_control: str = "none"):
        if baud not in BAUDS:
            raise ValueError(f"baud {baud} is not supported; use one of {', '.join(map(str, BAUDS))}")
        self.name = port
        self.baud = baud
        self.flow_control = flow_control
        self._port: serial.Serial | None = None

    def open(self) -> None:
        try:
            # exclusive: a second program on the same printer would interleave jobs and steal status bytes
            self._port = serial.Serial(self.name, self.baud, timeout=0.2, write_timeout=1.0, exclusive=True,
                                       rtscts=self.flow_control == "rtscts",
                                       xonxoff=self.flow_control == "xonxoff")
        except ValueError as exc:  # pyserial's word for a setting the port refuses
            raise OSError(f"cannot open {self.name}: {exc}") from None
        except serial.SerialException as exc:
            raise OSError(open_reason(self.name, exc, unplugged_hint="unplugged? see `kiosk printer ports`")) from None

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (OSError, serial.SerialException):
                pass  # the device is already gone

    def _require(self) -> serial.Serial:
        if self._port is None:
            raise OSError(f"{self.name} is not open")
        return self._port

    def write(self, data: bytes, timeout: float) -> None:
        port = self._require()
        port.write_timeout = max(timeout, 0.001)
        with _vanished_as_oserror():
            try:
                port.write(data)
            except serial.SerialTimeoutException:
                raise LinkTimeout(f"{self.name} took no data for {timeout:.1f} s") from None

    def read(self, n: int, timeout: float) -> bytes:
        port = self._require()
        with _vanished_as_oserror():
            if port.timeout != timeout:  # the setter reprograms the port: skip it when unchanged
                port.timeout = timeout
            return port.read(n)

    def drop_input(self) -> None:
        with _vanished_as_oserror():
            self._require().reset_input_buffer()

    def unsent(self) -> int:
        try:
            return self._require().out_waiting
        except (OSError, termios.error):
            return 0

    def wire_seconds(self, nbytes: int) -> float:
        return nbytes * 10 / self.baud  # 8N1: ten bits per byte


@contextlib.contextmanager
def _vanished_as_oserror():
    """termios calls on an unplugged adapter raise termios.error, which is not an OSError."""
    try:
        yield
    except termios.error as exc:
        raise OSError(f"port gone: {exc.args[-1] if exc.args else exc}") from None


class SerialPrinter(LinkPrinter):
    def __init__(self, settings: PrinterSettings):
        if not settings.port:
            raise ValueError("printer.port is empty: set the serial port, e.g. /dev/ttyUSB0")
        super().__init__(SerialLink(settings.port, settings.baud, settings.flow_control),
                         RenderOptions.from_settings(settings), settings.status_timeout_s, settings.write_timeout_s)
