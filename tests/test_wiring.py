"""The wiring layer (wiring/terminal.py) opens the devices a terminal file names; the core's Terminal
swaps its printer through the factory it was given (the settings screen), never from outside."""

from __future__ import annotations

import shutil

from devices.idcard.serial_reader import SerialIdReader
from devices.printer import FakePrinter, NullPrinter, PreviewPrinter
from devices.voice import FakeVoice
from kiosk.config import load_terminal
from kiosk.paths import SAMPLE_TERMINAL
from kiosk.terminal import build_terminal
from kiosk.ticket_layout import sample_ticket
from wiring.terminal import open_terminal


def terminal_file(tmp_path, **replace):
    path = tmp_path / "terminal.toml"
    shutil.copy(SAMPLE_TERMINAL, path)
    text = path.read_text(encoding="utf-8").replace('data_dir = ""', f'data_dir = "{tmp_path / "data"}"')
    for old, new in replace.items():
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return path


def test_open_terminal_opens_what_the_file_names(tmp_path, clock):
    path = terminal_file(tmp_path, **{'port = ""                 # the ID card': 'port = "/dev/ttyUSB7" # the ID card'})
    term = open_terminal(load_terminal(path), voice=FakeVoice(), clock=clock, background=False)
    try:
        assert isinstance(term.printer, PreviewPrinter)
        assert isinstance(term.idcard_reader, SerialIdReader) and term.idcard_reader.port_name == "/dev/ttyUSB7"
        outcome = term.issue("labor", wait_for_print=True)
        assert outcome.print_state == "printed" and list((tmp_path / "data" / "tickets").glob("*.bin"))
    finally:
        term.close()


def test_a_terminal_that_does_not_dispense_keeps_no_reader(tmp_path):
    path = terminal_file(tmp_path, **{'mode = "dispenser"': 'mode = "inquiry"',
                                      'port = ""                 # the ID card': 'port = "/dev/ttyUSB7" # the ID card'})
    term = open_terminal(load_terminal(path), voice=FakeVoice(), background=False)
    try:
        assert term.idcard_reader is None
    finally:
        term.close()


def test_saving_a_new_printer_swaps_it_through_the_factory(tmp_path):
    term = open_terminal(load_terminal(terminal_file(tmp_path)), voice=FakeVoice(), background=False)
    try:
        old = term.printer
        draft = term.settings.draft()
        draft.set("printer.kind", "none")
        assert term.settings.save(draft)[0]
        assert isinstance(term.printer, NullPrinter) and term.printer is not old
        assert not term.has_printer and term.config.printer.kind == "none"
    finally:
        term.close()


def test_without_a_factory_the_running_printer_stays(tmp_path):
    fake = FakePrinter()
    path = terminal_file(tmp_path)
    term = build_terminal(load_terminal(path), printer=fake, voice=FakeVoice(), background=False)
    try:
        draft = term.settings.draft()
        draft.set("printer.kind", "none")
        assert term.settings.save(draft) == (True, "已保存，重启后生效")  # the file is saved ...
        assert load_terminal(path).printer.kind == "none"
        assert term.printer is fake and term.has_printer  # ... but nothing could open the new one: the old prints on
        assert term.print_now(sample_ticket(), "after") == "" and len(fake.printed) == 1
    finally:
        term.close()


def test_anti_aliasing_is_off_on_software_gl_and_on_with_a_gpu(monkeypatch, tmp_path):
    from pathlib import Path

    from wiring import kivy_setup

    monkeypatch.delenv("KIOSK_MULTISAMPLES", raising=False)
    monkeypatch.setenv("LIBGL_ALWAYS_SOFTWARE", "1")
    assert kivy_setup.software_gl() and kivy_setup.multisamples() == 0
    monkeypatch.setenv("LIBGL_ALWAYS_SOFTWARE", "0")
    dri = tmp_path / "dri"
    dri.mkdir()
    real_path = Path

    def fake_path(p, *rest):  # /dev/dri is where the render nodes are looked for
        return dri if str(p) == "/dev/dri" else real_path(p, *rest)

    monkeypatch.setattr(kivy_setup, "Path", fake_path)
    assert kivy_setup.multisamples() == 0  # no render node: llvmpipe
    (dri / "renderD128").touch()
    assert not kivy_setup.software_gl() and kivy_setup.multisamples() == 2
    monkeypatch.setenv("KIOSK_MULTISAMPLES", "4")
    assert kivy_setup.multisamples() == 4


def test_a_bad_anti_aliasing_override_is_said_and_ignored(monkeypatch, caplog):
    from wiring import kivy_setup

    monkeypatch.setenv("KIOSK_MULTISAMPLES", "lots")
    monkeypatch.setattr(kivy_setup, "software_gl", lambda: True)
    assert kivy_setup.multisamples() == 0
    assert "KIOSK_MULTISAMPLES='lots' is not a whole number" in caplog.text
