"""Printer profiles (kiosk/printer_profiles.py): chosen by name in the terminal file, old loose keys
mapped onto them, an unknown name refused with file, line and field; each profile's capabilities
show in the bytes (cutter or tear-off feed, GB18030 or GBK, native or raster QR)."""

from __future__ import annotations

import pytest
from PIL import Image
from pyzbar.pyzbar import decode as zbar_decode

from devices.printer.commands import FULL_CUT, PARTIAL_CUT
from devices.printer.escpos import TEAR_OFF_FEED, RenderOptions, render
from kiosk.config import load_terminal
from kiosk.paths import SAMPLE_TERMINAL
from kiosk.printer_profiles import DEFAULT, PROFILES, profile, resolve
from kiosk.textwidth import columns_for
from kiosk.ticket_layout import sample_ticket

from .cli_inproc import run_kiosk
from .escpos_decode import decode

SAMPLE = SAMPLE_TERMINAL.read_text(encoding="utf-8")
OLD_KEYS = '''paper_width_mm = {width}
encoding = "{encoding}"
chinese_mode = true
cutter = {cutter}
'''


def terminal_file(tmp_path, printer_lines: str):
    text = SAMPLE.replace(f'profile = "{DEFAULT}"', printer_lines.rstrip("\n"), 1)
    assert text != SAMPLE
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    return path, text


def picture(row: int, rows: int, dots: bytes) -> Image.Image:
    """A GS v 0 picture (1 = black) as a grey image with a white quiet zone, for zbar."""
    img = Image.frombytes("1", (row * 8, rows), bytes(b ^ 0xFF for b in dots)).convert("L")
    framed = Image.new("L", (img.width + 80, img.height + 80), 255)
    framed.paste(img, (40, 40))
    return framed


def test_the_shipped_file_names_the_default_profile():
    assert load_terminal(None).printer.profile is PROFILES[DEFAULT]


@pytest.mark.parametrize("name", list(PROFILES))
def test_each_profile_shows_in_the_bytes(name):
    p = profile(name)
    assert p.columns == columns_for(p.paper_width_mm)
    doc = sample_ticket(p.paper_width_mm)
    data = render(doc, RenderOptions.from_profile(p))
    decoded = decode(data, p.encoding)
    assert "A017" in decoded.text() and "劳动保障" in decoded.text()
    if p.cutter:
        assert data.endswith(PARTIAL_CUT) or data.endswith(FULL_CUT)
    else:
        assert not (PARTIAL_CUT in data or FULL_CUT in data) and data.endswith(b"\x1bd" + bytes([TEAR_OFF_FEED]))
    if p.native_qr:
        assert len(decoded.qr_payloads) == 1 and not decoded.rasters
    else:  # the picture scans to what the native command would have stored
        native = decode(render(doc, RenderOptions.from_profile(PROFILES[DEFAULT])))
        assert native.qr_payloads == [b"http://192.168.1.10:8080/q/AAAcKZ3xq0Vb9fE2mTq4nLx8"]
        assert not decoded.qr_payloads and len(decoded.rasters) == 1
        assert [r.data for r in zbar_decode(picture(*decoded.rasters[0]))] == native.qr_payloads


@pytest.mark.parametrize("width, encoding, cutter, expected", [
    (80, "gb18030", "true", "generic-80"),
    (80, "gbk", "true", "generic-80-gbk"),
    (58, "gb18030", "false", "generic-58"),
    (58, "gb18030", "true", "generic-58-cutter"),
    (80, "gb18030", "false", "generic-80-tearoff"),
])
def test_old_files_map_their_keys_to_a_profile(tmp_path, width, encoding, cutter, expected):
    path, _ = terminal_file(tmp_path, OLD_KEYS.format(width=width, encoding=encoding, cutter=cutter))
    printer = load_terminal(path).printer
    assert printer.profile.name == expected
    assert (printer.paper_width_mm, printer.encoding, printer.cutter) == (width, encoding, cutter == "true")


def test_an_old_combination_no_profile_has_still_prints_as_before(tmp_path):
    path, _ = terminal_file(tmp_path, OLD_KEYS.format(width=80, encoding="gb18030", cutter="true")
                            .replace("chinese_mode = true", "chinese_mode = false"))
    p = load_terminal(path).printer.profile
    assert (p.name, p.chinese_mode, p.cutter, p.paper_width_mm) == ("generic-80 (chinese_mode=False)", False, True, 80)
    assert not render(sample_ticket(), RenderOptions.from_profile(p)).startswith(b"\x1b@\x1c&")


def test_a_profile_named_and_refined_by_an_old_key(tmp_path):
    path, _ = terminal_file(tmp_path, 'profile = "generic-58"\nencoding = "gbk"\n')
    assert load_terminal(path).printer.profile.name == "generic-58-gbk"


def test_an_unknown_profile_names_file_line_and_field(tmp_path):
    path, text = terminal_file(tmp_path, 'profile = "xprinter-9000"')
    result = run_kiosk("config", "check", path)  # this process (tests/cli_inproc.py): no Python start-up
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    number = next(i for i, t in enumerate(text.splitlines(), 1) if "xprinter-9000" in t)
    assert line.startswith(f"{path}:{number}: printer.profile: unknown printer profile 'xprinter-9000' (known: ")
    assert "generic-80" in line and "Traceback" not in result.stderr


def test_the_settings_screen_width_moves_to_the_matching_profile():
    from kiosk.config import PrinterSettings

    settings = PrinterSettings()
    settings.paper_width_mm = 58  # what SettingsDraft does with printer.paper_width_mm
    assert settings.profile.name == "generic-58-cutter" and settings.columns == 32
    assert resolve(profile("generic-80")) is profile("generic-80")


def test_ticket_render_takes_a_profile(tmp_path):
    out = tmp_path / "t.bin"
    result = run_kiosk("ticket", "render", "--out", out, "--profile", "generic-58-gbk")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == render(sample_ticket(58), RenderOptions.from_profile(profile("generic-58-gbk")))
    assert "profile generic-58-gbk" in result.stdout
