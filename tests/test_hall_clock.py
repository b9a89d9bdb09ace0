"""One clock: on a machine set to UTC, every clock a person sees shows the hall's time (Asia/Shanghai)."""

from __future__ import annotations

import os
import time

import pytest

from devices.printer import FakePrinter

from .conftest import local_ts


@pytest.fixture
def utc_machine():
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def texts(doc) -> list[str]:
    return doc.plain_text().splitlines()


@pytest.mark.ui
def test_header_ticket_slip_and_staff_warnings_agree_on_a_utc_machine(utc_machine, terminal_factory,
                                                                      harness_factory, clock):
    from kiosk.guides import notice_slip

    clock.now = local_ts(2026, 11, 23, 15, 23)  # 07:23 UTC
    printer = FakePrinter()
    term = terminal_factory(printer=printer)
    h = harness_factory(term)
    h.app._tick(0)
    assert h.sm.get_screen("attract").header.clock_text.endswith("15:23")
    assert h.sm.get_screen("attract").time.text == "15:23"

    term.issue("labor", wait_for_print=True)
    assert "取号时间：2026-11-23 15:23" in texts(printer.printed[-1])  # the ticket that came out

    guide = term.guides.guides()[0]
    term.print_notice(guide, wait=True)
    assert "打印时间：2026-11-23 15:23" in texts(printer.printed[-1])
    slip_default = notice_slip(guide, term.hall)  # the real clock, in the hall's zone
    hall_hour = time.strftime("%H", time.gmtime(time.time() + 8 * 3600))
    assert any(f"{hall_hour}:" in t for t in texts(slip_default))

    term._warn("打印纸将用尽")
    assert term.warnings[-1].startswith("15:23:")


def test_settings_screen_test_page_shows_the_hall_time_on_a_utc_machine(utc_machine, terminal_factory, clock):
    from kiosk.terminal_settings import SettingsDraft

    clock.now = local_ts(2026, 11, 23, 15, 23, 5)  # 07:23 UTC
    printer = FakePrinter()
    term = terminal_factory(printer=printer)
    ok, text = term.settings.test_print(SettingsDraft(term.config))
    assert ok, text
    assert "时间 time: 2026-11-23 15:23:05" in texts(printer.printed[-1])


def _hall_hours_around(run) -> tuple[set[str], object]:
    """Hall (UTC+8) hours just before and after ``run`` (a run may straddle an hour)."""
    before = time.strftime("%H", time.gmtime(time.time() + 8 * 3600))
    result = run()
    after = time.strftime("%H", time.gmtime(time.time() + 8 * 3600))
    return {before, after}, result


def test_cli_printer_test_page_shows_the_hall_time_on_a_utc_machine(tmp_path):
    import re
    import subprocess
    import sys

    from .escpos_decode import decode
    from .printer_fakes import PtyPrinter
    from .conftest import ROOT

    env = dict(os.environ, TZ="UTC", KIOSK_CONFIG=str(tmp_path / "none.toml"))  # the sample hall's zone
    with PtyPrinter("ready") as fake:
        hours, result = _hall_hours_around(lambda: subprocess.run(
            [sys.executable, "-m", "kiosk", "printer", "test", "--port", fake.port_name],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60))
        assert result.returncode == 0, result.stderr
        page = decode(fake.jobs_bytes()).text()
    shown = re.search(r"时间 time: \d{4}-\d\d-\d\d (\d\d):\d\d:\d\d", page)
    assert shown, page
    assert shown.group(1) in hours


def test_settings_change_log_is_stamped_in_the_hall_zone_on_a_utc_machine(utc_machine, tmp_path):
    from kiosk.config_write import SETTINGS_LOG, apply_settings
    from kiosk.paths import SAMPLE_TERMINAL

    path = tmp_path / "terminal.toml"
    path.write_text(SAMPLE_TERMINAL.read_text(encoding="utf-8"), encoding="utf-8")
    hours, _ = _hall_hours_around(lambda: apply_settings(path, {"voice.volume": 55}, log_dir=tmp_path / "logs"))
    line = (tmp_path / "logs" / SETTINGS_LOG).read_text(encoding="utf-8").splitlines()[-1]
    stamp = line.split(" ", 1)[0]
    assert stamp.endswith("+08:00"), line
    assert stamp[11:13] in hours, line
