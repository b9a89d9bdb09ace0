"""open_printer for each kind, the preview printer's files, and the PNG picture of a ticket."""

from __future__ import annotations

import pytest
import qrcode
from PIL import Image

from devices.printer import NullPrinter, PreviewPrinter, PrinterConfigError, PrinterStatus, open_printer
from devices.printer.escpos import RenderOptions, render
from devices.printer.network import NetworkPrinter
from devices.printer.png import BACKDROP, TOP_DOTS, render_png
from devices.printer.serial_printer import SerialPrinter
from kiosk.config import PrinterSettings
from kiosk.printer_profiles import profile, resolve
from kiosk.document import QR, Document
from kiosk.ticket_layout import sample_ticket


def test_open_printer_builds_each_kind(tmp_path):
    assert isinstance(open_printer(PrinterSettings(kind="preview"), tmp_path), PreviewPrinter)
    assert isinstance(open_printer(PrinterSettings(kind="serial", port="/dev/ttyUSB0"), tmp_path), SerialPrinter)
    assert isinstance(open_printer(PrinterSettings(kind="network", host="10.0.0.9"), tmp_path), NetworkPrinter)
    none = open_printer(PrinterSettings(kind="none"), tmp_path)
    assert isinstance(none, NullPrinter) and none.status() is PrinterStatus.READY


@pytest.mark.parametrize("settings, message", [
    (PrinterSettings(kind="serial"), "port"),
    (PrinterSettings(kind="serial", port="/dev/ttyS0", baud=1200), "baud"),
    (PrinterSettings(kind="network"), "host"),
    (PrinterSettings(kind="usb"), "usb"),
    (PrinterSettings(kind="laser"), "unknown"),
])
def test_open_printer_refuses_settings_that_cannot_work(tmp_path, settings, message):
    with pytest.raises(PrinterConfigError, match=message):
        open_printer(settings, tmp_path)


def test_serial_printer_opens_lazily_so_a_terminal_starts_without_its_printer(tmp_path):
    printer = open_printer(PrinterSettings(kind="serial", port=str(tmp_path / "ttyUSB9")), tmp_path)
    assert printer.status() is PrinterStatus.NO_ANSWER
    printer.close()


def test_network_printer_that_is_not_there_is_no_answer(tmp_path):
    import socket

    with socket.socket() as s:  # a local port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    printer = open_printer(PrinterSettings(kind="network", host="127.0.0.1", tcp_port=port), tmp_path)
    reading = printer.check()
    assert reading.status is PrinterStatus.NO_ANSWER and "cannot connect" in reading.detail


@pytest.mark.parametrize("width", [58, 80])
def test_preview_saves_exact_bytes_and_a_picture(tmp_path, width):
    settings = PrinterSettings(kind="preview", profile=resolve(profile("generic-80"), paper_width_mm=width))
    printer = open_printer(settings, tmp_path)
    assert printer.status() is PrinterStatus.READY
    doc = sample_ticket(width)
    printer.print_document(doc)
    printer.print_document(doc)  # same second, same title: a second file, not an overwrite
    bins = sorted((tmp_path / "tickets").glob("*.bin"))
    assert len(bins) == 2
    assert bins[0].read_bytes() == render(doc, RenderOptions(paper_width_mm=width))
    with Image.open(bins[0].with_suffix(".png")) as img:
        assert img.width == width * 8 + 2 * BACKDROP


def test_preview_dir_setting_is_used(tmp_path):
    printer = open_printer(PrinterSettings(kind="preview", preview_dir=str(tmp_path / "out")), tmp_path)
    printer.print_document(sample_ticket())
    assert list((tmp_path / "out").glob("*.png"))


def test_preview_into_an_unwritable_place_is_a_print_error(tmp_path):
    from devices.printer import PrintError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PrintError, match="cannot save"):
        PreviewPrinter(blocker / "tickets").print_document(sample_ticket())


@pytest.mark.parametrize("width", [58, 80])
def test_picture_has_ink_inside_the_printable_area_only(width):
    img = render_png(sample_ticket(width), width).convert("L")
    paper = img.crop((BACKDROP, BACKDROP, BACKDROP + width * 8, img.height - BACKDROP))
    margin = (width * 8 - {58: 384, 80: 576}[width]) // 2
    dark = [(x, y) for x in range(paper.width) for y in range(0, paper.height, 3) if paper.getpixel((x, y)) < 128]
    assert len(dark) > 2000
    assert min(x for x, _ in dark) >= margin and max(x for x, _ in dark) < paper.width - margin


def test_picture_qr_matches_the_code_the_printer_makes():
    img = render_png(Document([QR("http://192.168.1.10:8080/q/A017", module_size=6)]), 80).convert("L")
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data("http://192.168.1.10:8080/q/A017")
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix) * 6
    left = BACKDROP + (80 * 8 - 576) // 2 + (576 - size) // 2
    top = BACKDROP + TOP_DOTS + 8
    for r, row in enumerate(matrix):
        for c, on in enumerate(row):
            pixel = img.getpixel((left + c * 6 + 3, top + r * 6 + 3))
            assert (pixel < 128) == on, (r, c)


def test_bigger_text_makes_a_taller_picture():
    from kiosk.document import Text

    small = render_png(Document([Text("A017")]), 80)
    big = render_png(Document([Text("A017", width=4, height=4)]), 80)
    assert big.height - small.height >= 60
