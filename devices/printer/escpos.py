"""Render a kiosk Document to ESC/POS bytes for Chinese receipt printers.

The native QR command (GS ( k) is python-escpos's, written here so printing does not load it; a
profile without it gets the code as a raster picture (GS v 0, ``raster_qr``). The rest is written
here because python-escpos's text path turns Chinese punctuation into '?' and its style calls send more bytes than a
600-byte ticket budget allows: text goes out in GB18030 (or GBK) and a style
command is sent only when the style changes. The bytes are named in
``commands.py``; what the printer can do comes from its profile
(``kiosk/printer_profiles.py``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from kiosk.config import PrinterSettings
from kiosk.document import QR, Cut, Document, Feed, Rule, Text
from kiosk.printer_profiles import PrinterProfile

from .commands import (ALIGN, CHINESE_MODE_ON, FEED_LINES, FULL_CUT, INIT, LF, PARTIAL_CUT, QR_SYMBOL, RASTER_IMAGE,
                       SELECT_ALIGN, SELECT_BOLD, SELECT_SIZE)
from .paper import magnification, rule_line, text_lines

TEAR_OFF_FEED = 5  # lines fed instead of a cut when the printer has no cutter
MISSING_GLYPH = "〓"  # the GB geta mark: what Chinese typesetting prints for a missing character


@dataclass(frozen=True)
class RenderOptions:
    paper_width_mm: int = 80
    encoding: str = "gb18030"  # gb18030 | gbk
    chinese_mode: bool = True
    cutter: bool = True
    native_qr: bool = True  # False: the QR code goes out as a raster picture

    @classmethod
    def from_profile(cls, profile: PrinterProfile) -> "RenderOptions":
        return cls(profile.paper_width_mm, profile.encoding, profile.chinese_mode, profile.cutter, profile.native_qr)

    @classmethod
    def from_settings(cls, settings: PrinterSettings) -> "RenderOptions":
        return cls.from_profile(settings.profile)


def encode_text(text: str, encoding: str = "gb18030") -> bytes:
    """Encode for the printer; a character GBK lacks becomes its NFKC form or 〓, never '?'."""
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return b"".join(_encode_char(ch, encoding) for ch in text)


def _encode_char(ch: str, encoding: str) -> bytes:
    for candidate in (ch, unicodedata.normalize("NFKC", ch), MISSING_GLYPH):
        try:
            return candidate.encode(encoding)
        except UnicodeEncodeError:
            continue
    return MISSING_GLYPH.encode("gb18030")


def _gs_k(fn: int, data: bytes, m: bytes = b"") -> bytes:
    """One GS ( k function of the QR symbol (cn 49): pL pH count cn, fn, m and the data."""
    n = len(data) + len(m) + 2
    if n > 0xFFFF:
        raise ValueError(f"QR data too long for one GS ( k command ({len(data)} bytes)")
    return QR_SYMBOL + bytes([n & 0xFF, n >> 8]) + b"1" + bytes([fn]) + m + data


def native_qr(data: str, module_size: int) -> bytes:
    """GS ( k: model 2, module size, error correction M, store data, print: the bytes python-escpos's
    ``qr(native=True)`` sends (tests/test_printer_native_qr.py holds them equal), written here so a
    ticket does not import python-escpos, its YAML capabilities and barcode modules (issue 17: memory)."""
    if not data:
        return b""  # python-escpos prints nothing for an empty code
    return (_gs_k(65, b"2\x00") + _gs_k(67, bytes([min(max(module_size, 1), 16)])) + _gs_k(69, b"1")
            + _gs_k(80, data.encode("utf-8"), b"0") + _gs_k(81, b"", b"0"))


def raster_qr(data: str, module_size: int) -> bytes:
    """The same QR code (error correction M, no quiet zone) as a GS v 0 picture, for firmware
    without GS ( k; a module is ``module_size`` dots square."""
    import qrcode

    box = min(max(module_size, 1), 16)
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    dots = len(matrix) * box
    row_bytes = (dots + 7) // 8
    out = bytearray(RASTER_IMAGE + bytes([0, row_bytes & 0xFF, row_bytes >> 8, dots & 0xFF, dots >> 8]))
    for modules in matrix:
        bits = "".join(("1" if dark else "0") * box for dark in modules).ljust(row_bytes * 8, "0")
        out += int(bits, 2).to_bytes(row_bytes, "big") * box
    return bytes(out)


class _Writer:
    """Accumulates bytes, remembering the current style to skip redundant commands."""

    def __init__(self, options: RenderOptions):
        self.options = options
        self.out = bytearray(INIT)
        if options.chinese_mode:
            self.out += CHINESE_MODE_ON
        self.align, self.bold, self.size = 0, False, 0  # the state ESC @ leaves

    def style(self, align: str = "left", bold: bool = False, width: int = 1, height: int = 1) -> None:
        a = ALIGN.get(align, 0)
        if a != self.align:
            self.out += SELECT_ALIGN + bytes([a])
            self.align = a
        if bold != self.bold:
            self.out += SELECT_BOLD + bytes([int(bold)])
            self.bold = bold
        size = (magnification(width) - 1) << 4 | (magnification(height) - 1)
        if size != self.size:
            self.out += SELECT_SIZE + bytes([size])
            self.size = size

    def line(self, text: str) -> None:
        self.out += encode_text(text, self.options.encoding) + LF

    def feed(self, lines: int) -> None:
        lines = min(max(lines, 0), 255)
        if lines:
            self.out += FEED_LINES + bytes([lines])


def render(doc: Document, options: RenderOptions | None = None) -> bytes:
    options = options or RenderOptions()
    w = _Writer(options)
    for block in doc.blocks:
        if isinstance(block, Text):
            w.style(block.align, block.bold, block.width, block.height)
            for line in text_lines(block, options.paper_width_mm):
                w.line(line)
        elif isinstance(block, Rule):
            w.style()
            w.line(rule_line(block, options.paper_width_mm))
        elif isinstance(block, QR):
            if block.data:
                w.style(block.align)
                qr = native_qr if options.native_qr else raster_qr
                w.out += qr(block.data, block.module_size)
        elif isinstance(block, Feed):
            w.feed(block.lines)
        elif isinstance(block, Cut):
            if options.cutter:
                w.out += PARTIAL_CUT if block.partial else FULL_CUT
            else:
                w.feed(TEAR_OFF_FEED)
    return bytes(w.out)
