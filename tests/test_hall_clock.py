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
