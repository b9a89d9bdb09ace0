"""The ticket's native QR command is byte for byte python-escpos's `qr(native=True)`, without
importing python-escpos when a ticket is printed (issue 17: memory)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices.printer.escpos import native_qr

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("data", ["http://192.168.1.10:8080/q/AAAcKZ3xq0Vb9fE2mTq4nLx8", "A017", "群众办事 · 一次办好",
                                  "x" * 300, "y" * 1000])
@pytest.mark.parametrize("size", [0, 1, 6, 16, 40])
def test_same_bytes_as_python_escpos(data, size):
    from devices.printer.escpos_lib import load

    printer, constants = load()
    dummy = printer.Dummy()
    dummy.qr(data, ec=constants.QR_ECLEVEL_M, size=min(max(size, 1), 16), native=True)
    assert native_qr(data, size) == dummy.output


def test_empty_data_prints_nothing_like_python_escpos():
    from devices.printer.escpos_lib import load

    printer, constants = load()
    dummy = printer.Dummy()
    dummy.qr("", ec=constants.QR_ECLEVEL_M, size=6, native=True)
    assert native_qr("", 6) == dummy.output == b""


def test_printing_a_ticket_with_a_qr_does_not_load_python_escpos(tmp_path):
    code = """
import sys
from pathlib import Path
from devices.printer.escpos import RenderOptions, render
from kiosk.document import QR, Document, Text
data = render(Document([Text("A017"), QR("http://192.168.1.10:8080/q/A017", module_size=6)]), RenderOptions())
assert b"(k" in data, data
print(sorted(m for m in sys.modules if m.split(".")[0] in ("escpos", "yaml", "barcode")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
