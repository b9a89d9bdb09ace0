"""One JSON line: the sample ticket's size and 9600-baud wire time, ours beside python-escpos defaults.

python-escpos "defaults" means the same ticket through its own calls: set() for
sizes, text() (its magic encoder) for words, qr() with native=False (a raster
image) and cut(). Its '?' count is text it could not encode.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from escpos.printer import Dummy  # noqa: E402

from devices.printer.escpos import RenderOptions, render  # noqa: E402
from devices.printer.paper import rule_line, text_lines  # noqa: E402
from kiosk.document import QR, Cut, Feed, Rule, Text  # noqa: E402
from kiosk.ticket_layout import sample_ticket  # noqa: E402

BAUD = 9600


def python_escpos_defaults(doc, width: int, with_qr: bool = True) -> bytes:
    p = Dummy()
    for block in doc.blocks:
        if isinstance(block, QR) and not with_qr:
            continue
        if isinstance(block, Text):
            p.set(align=block.align, bold=block.bold, custom_size=True, width=block.width, height=block.height)
            for line in text_lines(block, width):
                p.textln(line)
        elif isinstance(block, Rule):
            p.set(normal_textsize=True)
            p.textln(rule_line(block, width))
        elif isinstance(block, QR):
            with contextlib.redirect_stdout(io.StringIO()):  # it prints a profile notice to stdout
                p.qr(block.data, size=block.module_size)  # native=False: the library's default
        elif isinstance(block, Feed):
            p.ln(block.lines)
        elif isinstance(block, Cut):
            p.cut()
    return p.output


def wire_s(n: int) -> float:
    return round(n * 10 / BAUD, 3)


def main() -> None:
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    result = {"bench": "printer_bytes", "baud": BAUD}
    for width in (80, 58):
        doc = sample_ticket(width)
        ours = render(doc, RenderOptions(paper_width_mm=width))
        theirs = python_escpos_defaults(doc, width)
        result[f"{width}mm"] = {
            "ours_bytes": len(ours), "ours_wire_s": wire_s(len(ours)),
            "python_escpos_bytes": len(theirs), "python_escpos_wire_s": wire_s(len(theirs)),
            # characters its text path turned into '?' (the ticket itself has none)
            "python_escpos_chars_lost": python_escpos_defaults(doc, width, with_qr=False).count(b"?"),
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
