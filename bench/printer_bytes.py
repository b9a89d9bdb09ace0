"""One JSON line: the sample ticket's size and 9600-baud wire time, ours beside python-escpos.

The baseline is the same ticket through python-escpos's own calls as a user who
cares about bytes would write them: set() for sizes, textln() (its magic encoder)
for words, qr(native=True) (the printer's own QR command, GS ( k) and cut().
Its image QR (native=False, the library's default) is reported beside it for
reference only. Its '?' count is text it could not encode.
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


def python_escpos(doc, width: int, with_qr: bool = True, native: bool = True) -> bytes:
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
                p.qr(block.data, size=block.module_size, native=native)
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
    result = {"bench": "printer_bytes", "baud": BAUD,
              "baseline": "python-escpos Dummy: set/textln, qr(native=True), cut"}
    for width in (80, 58):
        doc = sample_ticket(width)
        ours = render(doc, RenderOptions(paper_width_mm=width))
        theirs = python_escpos(doc, width)
        image_qr = python_escpos(doc, width, native=False)
        result[f"{width}mm"] = {
            "ours_bytes": len(ours), "ours_wire_s": wire_s(len(ours)),
            "python_escpos_bytes": len(theirs), "python_escpos_wire_s": wire_s(len(theirs)),
            "ours_to_baseline": round(len(ours) / len(theirs), 2),
            "python_escpos_image_qr_bytes": len(image_qr),
            # characters its text path turned into '?' (the ticket itself has none)
            "python_escpos_chars_lost": python_escpos(doc, width, with_qr=False).count(b"?"),
        }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
