"""ESC/POS printer on a TCP socket (port 9100), sharing the serial printer's job and status logic.

Plain sockets rather than python-escpos' Network class: the same timeouts and
DLE EOT checks apply, and Epson-compatible network printers answer DLE EOT
on the print port.
"""

from __future__ import annotations

import select
import socket
import time

from kiosk.config import PrinterSettings

from .escpos import RenderOptions
from .link_printer import LinkPrinter, LinkTimeout


class TcpLink:
    def __init__(self, host: str, port: int = 9100, connect_timeout: float = 2.0):
        self.name = f"{host}:{port}"
        self.address = (host, port)
        self.connect_timeout = connect_timeout
        self._sock: socket.socket | None = None

    def open(self) -> None:
        try:
            self._sock = socket.create_connection(self.address, timeout=self.connect_timeout)
        except OSError as exc:
            raise OSError(f"cannot connect to {self.name}: {exc.strerror or exc}") from None

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise OSError(f"{self.name} is not connected")
        return self._sock

    def write(self, data: bytes, timeout: float) -> None:
        sock = self._require()
        sock.settimeout(max(timeout, 0.001))
        try:
            sock.sendall(data)
        except TimeoutError:
            raise LinkTimeout(f"{self.name} took no data for {timeout:.1f} s") from None

    def read(self, n: int, timeout: float) -> bytes:
        sock = self._require()
        out, end = b"", time.monotonic() + timeout
        while len(out) < n:
            left = end - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            chunk = sock.recv(n - len(out))
            if not chunk:
                raise OSError(f"{self.name} closed the connection")
            out += chunk
        return out

    def drop_input(self) -> None:
        sock = self._require()
        while select.select([sock], [], [], 0)[0]:
            if not sock.recv(4096):
                raise OSError(f"{self.name} closed the connection")

    def unsent(self) -> int:
        return 0

    def wire_seconds(self, nbytes: int) -> float:
        return 0.0


class NetworkPrinter(LinkPrinter):
    def __init__(self, settings: PrinterSettings):
        if not settings.host:
            raise ValueError("printer.host is empty: set the printer's IP address")
        super().__init__(TcpLink(settings.host, settings.tcp_port), RenderOptions.from_settings(settings),
                         settings.status_timeout_s, settings.write_timeout_s)
