"""`kiosk printer ...` and `kiosk ticket render` as an installer runs them, against pty fakes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from devices.printer.escpos import RenderOptions, render
from kiosk.ticket_layout import sample_ticket

from .cli_inproc import run_kiosk
from .escpos_decode import decode
from .printer_fakes import PtyPrinter

ROOT = Path(__file__).resolve().parent.parent


def kiosk_process(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """The installed program: its own process, bounded by ``timeout``."""
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


# the other commands run in this process (tests/cli_inproc.py): the same main, no Python start-up each
kiosk = run_kiosk


STATES = {
    "ready": (0, "正常 / ready"),
    "near_end": (0, "纸将用尽 / paper near end"),
    "paper_out": (1, "缺纸 / paper out"),
    "cover_open": (1, "打印机盖未关 / cover open"),
    "offline": (1, "打印机离线 / offline"),
    "silent": (1, "打印机无应答 / no answer"),
    "junk": (1, "打印机无应答 / no answer"),
}


@pytest.mark.parametrize("state", sorted(STATES))
def test_status_of_each_state(state):
    code, label = STATES[state]
    with PtyPrinter(state) as fake:
        result = kiosk("printer", "status", "--port", fake.port_name)
    assert result.returncode == code, result.stderr
    assert label in result.stdout
    assert "Traceback" not in result.stderr


def test_junk_answer_hints_at_the_baud_rate():
    with PtyPrinter("junk") as fake:
        result = kiosk("printer", "status", "--port", fake.port_name, "--baud", "19200")
    assert result.returncode == 1 and "baud" in result.stdout


@pytest.mark.parametrize("width", ["58", "80"])
def test_test_page_is_printed(width):
    with PtyPrinter("ready") as fake:
        result = kiosk("printer", "test", "--port", fake.port_name, "--width", width)
        assert result.returncode == 0, result.stderr
        out = decode(fake.jobs_bytes())
    assert "测试页已打印" in result.stdout
    assert out.qr_payloads == [b"PRINTER-TEST-OK"]
    assert "标点：，。、；：！？" in out.text() and out.cuts


@pytest.mark.parametrize("state, words", [("paper_out", "缺纸 / paper out"), ("silent", "no answer"),
                                          ("cover_open", "cover open")])
def test_test_page_on_a_printer_that_cannot_print_says_why(state, words):
    with PtyPrinter(state) as fake:
        result = kiosk("printer", "test", "--port", fake.port_name)
        assert fake.jobs_bytes() == b""
    assert result.returncode == 1
    assert "测试打印失败" in result.stderr and words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_test_page_on_a_printer_unplugged_mid_job():
    with PtyPrinter("ready", after_bytes=(80, "unplug")) as fake:
        result = kiosk("printer", "test", "--port", fake.port_name)
    assert result.returncode == 1 and "测试打印失败" in result.stderr
    assert "Traceback" not in result.stderr


def test_test_page_on_a_stalled_printer_ends_within_10s():
    with PtyPrinter("ready", after_bytes=(20, "silent")) as fake:
        result = kiosk_process("printer", "test", "--port", fake.port_name, timeout=10)
    assert result.returncode == 1 and "stopped answering" in result.stderr


@pytest.mark.parametrize("args, words", [
    ((), "missing --port"),
    (("--port", "/dev/ttyUSB0", "--baud", "1234"), "--baud 1234 is not supported"),
    (("--port", "/dev/ttyUSB0", "--baud", "fast"), "is not a number"),
    (("--port", "/dev/ttyUSB0", "--timeout", "60"), "--timeout"),
])
@pytest.mark.parametrize("action", ["status", "test"])
def test_bad_options_are_one_line_errors(action, args, words):
    result = kiosk("printer", action, *args)
    assert result.returncode == 1
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_port_that_does_not_exist():
    result = kiosk("printer", "status", "--port", "/dev/ttyUSB-missing")
    assert result.returncode == 1
    assert "does not exist" in result.stdout and "Traceback" not in result.stderr


def test_unplugged_port_path():
    fake = PtyPrinter("ready")
    port = fake.port_name
    fake.unplug()
    result = kiosk("printer", "status", "--port", port)
    assert result.returncode == 1 and "打印机无应答 / no answer" in result.stdout


def test_ports_lists_or_says_there_are_none():
    result = kiosk("printer", "ports")
    assert "Traceback" not in result.stderr
    if result.returncode == 0:
        assert all(line.startswith("/dev/") or line.startswith("COM") for line in result.stdout.splitlines())
    else:
        assert "no serial ports found" in result.stderr


@pytest.mark.parametrize("width", ["58", "80"])
def test_ticket_render_writes_exact_bytes_and_picture(tmp_path, width):
    out, png = tmp_path / "t.bin", tmp_path / "t.png"
    result = kiosk("ticket", "render", "--out", str(out), "--png", str(png), "--width", width)
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data == render(sample_ticket(int(width)), RenderOptions(paper_width_mm=int(width)))
    assert f"{len(data)} bytes" in result.stdout
    assert "A017" in decode(data).text()
    with Image.open(png) as img:
        assert img.format == "PNG" and img.width == int(width) * 8 + 48


def test_ticket_render_bad_input(tmp_path):
    result = kiosk("ticket", "render", "--out", str(tmp_path / "t.bin"), "--width", "76")
    assert result.returncode == 1 and "58 or 80" in result.stderr
    result = kiosk("ticket", "render", "--out", str(tmp_path / "no" / "such" / "t.bin"))
    assert result.returncode == 1 and "cannot write" in result.stderr and "Traceback" not in result.stderr
