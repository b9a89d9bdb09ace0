"""Render a kiosk Document to ESC/POS bytes for Chinese receipt printers.

python-escpos supplies the native QR command (GS ( k). The rest is written
here because its text path turns Chinese punctuation into '?' and its style
calls send more bytes than a 600-byte ticket budget allows: text goes out in
GB18030 (or GBK) and a style command is sent only when the style changes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from kiosk.config import PrinterSettings
from kiosk.document import QR, Cut, Document, Feed, Rule, Text

from .paper import magnification, rule_line, text_lines

ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"
INIT = ESC + b"@"
CHINESE_MODE_ON = FS + b"&"
ALIGN = {"left": 0, "center": 1, "right": 2}
# GS V 65/66 n: feed to the cutter, then cut (full / partial), so the last line is not cut off.
FULL_CUT = GS + b"VA\x00"
PARTIAL_CUT = GS + b"VB\x00"
TEAR_OFF_FEED = 5  # lines fed instead of a cut when the printer has no cutter
MISSING_GLYPH = "〓"  # the GB geta mark: what Chinese typesetting prints for a missing character


@dataclass(frozen=True)
class RenderOptions:
    paper_width_mm: int = 80
    encoding: str = "gb18030"  # gb18030 | gbk
    chinese_mode: bool = True
    cutter: bool = True

    @classmethod
    def from_settings(cls, settings: PrinterSettings) -> "RenderOptions":
        return cls(settings.paper_width_mm, settings.encoding, settings.chinese_mode, settings.cutter)


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


def native_qr(data: str, module_size: int) -> bytes:
    """GS ( k: model 2, module size, error correction M, store data, print."""
    from .escpos_lib import load

    printer, constants = load()
    dummy = printer.Dummy()
    dummy.qr(data, ec=constants.QR_ECLEVEL_M, size=min(max(module_size, 1), 16), native=True)
    return dummy.output


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
            self.out += ESC + b"a" + bytes([a])
            self.align = a
        if bold != self.bold:
            self.out += ESC + b"E" + bytes([int(bold)])
            self.bold = bold
        size = (magnification(width) - 1) << 4 | (magnification(height) - 1)
        if size != self.size:
            self.out += GS + b"!" + bytes([size])
            self.size = size

    def line(self, text: str) -> None:
        self.out += encode_text(text, self.options.encoding) + LF

    def feed(self, lines: int) -> None:
        lines = min(max(lines, 0), 255)
        if lines:
            self.out += ESC + b"d" + bytes([lines])


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
                w.out += native_qr(block.data, block.module_size)
        elif isinstance(block, Feed):
            w.feed(block.lines)
        elif isinstance(block, Cut):
            if options.cutter:
                w.out += PARTIAL_CUT if block.partial else FULL_CUT
            else:
                w.feed(TEAR_OFF_FEED)
    return bytes(w.out)
