"""The dispenser screens driven by real touches on the offscreen window."""

from __future__ import annotations

import pytest

from devices.printer import FakePrinter, PrinterStatus
from kiosk.domain import TicketStatus

from .conftest import local_ts

pytestmark = pytest.mark.ui

LANDSCAPE, PORTRAIT = (1920, 1080), (1080, 1920)


@pytest.fixture
def ui(terminal_factory, harness_factory):
    def make(printer=None, size=LANDSCAPE, **timeouts):
        return harness_factory(terminal_factory(printer=printer, **timeouts), size)

    return make


def card(h, code):
    return h.sm.get_screen("grid")._card_by_code[code]


def tickets(h):
    term = h.app.terminal
    return term.backend.store.find(term.backend.today())


def test_tap_through_attract_grid_priority_ticket(ui):
    printer = FakePrinter()
    h = ui(printer)
    assert h.sm.current == "attract"
    h.tap(h.sm.get_screen("attract").touch_button)
    assert h.sm.current == "grid"
    assert card(h, "general").detail.replace("\xa0", " ") == "等候 0 人 · 无需等待"
    h.tap(card(h, "general"))  # window 9 serves the green channel: the choice comes next
    assert h.sm.current == "priority"
    normal = next(w for w in h.sm.get_screen("priority").walk() if getattr(w, "text", "") == "不需要，普通取号")
    h.tap(normal)
    assert h.sm.current == "ticket"
    screen = h.sm.get_screen("ticket")
    assert screen.number.text == "Z001"
    assert "前面还有 0 人" in screen.ahead.text and "9 号窗口" in screen.windows.text
    assert h.wait(lambda: screen.print_state.text.startswith("请取走小票"))
    assert len(printer.printed) == 1 and "Z001" in printer.printed[0].plain_text()
    assert screen.number.height >= h.window.height / 4
    assert [t.number for t in tickets(h)] == ["Z001"]
    assert h.app.terminal.voice.spoken and "Z 0 0 1" in h.app.terminal.voice.spoken[-1]


def test_green_channel_ticket_is_priority(ui):
    h = ui()
    h.sm.current = "grid"
    h.pump()
    h.tap(card(h, "medical"))
    elderly = next(w for w in h.sm.get_screen("priority").walk() if getattr(w, "code", "") == "elderly")
    h.tap(elderly)
    assert h.sm.current == "ticket"
    assert [(t.number, t.priority) for t in tickets(h)] == [("B001", "elderly")]


def test_service_without_green_channel_goes_straight_to_ticket(ui):
    h = ui()
    h.sm.current = "grid"
    h.pump()
    h.tap(card(h, "family"))  # window 3 has no green channel
    assert h.sm.current == "ticket" and h.sm.get_screen("ticket").number.text == "C001"


def test_double_tap_issues_one_ticket(ui):
    from kivy.tests.common import UnitTestTouch

    h = ui()
    h.sm.current = "grid"
    h.pump()
    family = card(h, "family")
    x, y = family.to_window(*family.center)
    for _ in range(2):  # two touches back to back, no frame in between, as a shaky finger does
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
    h.pump()
    assert [t.number for t in tickets(h)] == ["C001"]
    # and if the grid were somehow still up, a second press within a second is ignored too
    grid = h.sm.get_screen("grid")
    h.sm.current = "grid"
    h.pump()
    grid._busy_until = 0  # a new visitor, well after the first one
    grid._on_card(family)
    h.sm.current = "grid"
    grid._on_card(family)
    assert [t.number for t in tickets(h)] == ["C001", "C002"]


def test_closed_service_is_disabled_with_reason(ui, clock):
    clock.now = local_ts(2026, 11, 22, 10, 0)  # Sunday
    h = ui()
    h.sm.current = "grid"
    h.pump()
    labor = card(h, "labor")
    assert not labor.enabled and labor.detail == "今日不办公"
    h.tap(labor)
    assert h.sm.current == "grid" and tickets(h) == []
    clock.now = local_ts(2026, 11, 23, 12, 30)  # Monday lunch break
    h.sm.get_screen("grid").show(h.app.terminal.grid())
    assert labor.detail == "办理时间 08:30-12:00 14:00-17:30" and not labor.enabled
    assert card(h, "general").enabled


def test_ticket_screen_announces_then_returns_to_attract(ui, idle_clock):
    h = ui(ticket_screen_s=30, warn_before_s=5)  # the warning lasts at least 10 s whatever is set
    h.sm.current = "grid"
    h.pump()
    h.tap(card(h, "family"))
    screen = h.sm.get_screen("ticket")
    idle_clock.advance(19)
    h.wait(lambda: False, timeout=0.5)  # the timer looks at the clock 4 times a second
    assert h.sm.current == "ticket" and screen.countdown.text == ""
    idle_clock.advance(2)  # 9 s left: "10 秒" counts the second under way
    assert h.wait(lambda: "10 秒后返回首页" in screen.countdown.text, timeout=5)
    assert h.sm.current == "ticket"
    idle_clock.advance(10)
    assert h.wait(lambda: h.sm.current == "attract", timeout=5)


def test_touch_postpones_the_timeout(ui, idle_clock):
    h = ui(idle_s=10, warn_before_s=3)
    h.sm.current = "grid"
    h.pump()
    for _ in range(6):  # a visitor still reading and touching for a minute: never sent home
        idle_clock.advance(9)
        h.wait(lambda: False, timeout=0.3)
        assert h.sm.current == "grid"
        h.tap(h.sm.get_screen("grid").title)
    idle_clock.advance(10)
    assert h.wait(lambda: h.sm.current == "attract", timeout=5)


def test_printer_out_of_paper_pauses_without_consuming_and_recovers(ui):
    printer = FakePrinter(PrinterStatus.PAPER_OUT)
    h = ui(printer)
    h.sm.current = "grid"
    h.pump()
    grid = h.sm.get_screen("grid")
    assert grid.paused and "暂停取号" in grid.banner_title.text and "缺纸" in grid.banner_reason.text
    h.tap(card(h, "family"))
    assert h.sm.current == "grid" and tickets(h) == []
    printer.state = PrinterStatus.READY
    grid.refresh_async()
    assert h.wait(lambda: not grid.paused)
    h.tap(card(h, "family"))
    assert h.sm.current == "ticket" and [t.number for t in tickets(h)] == ["C001"]


def test_grid_follows_the_queue_without_waiting_for_its_timer(ui):
    """The engine's events refresh the grid (the timer is only for the printer, which cannot tell)."""
    h = ui()
    h.sm.current = "grid"
    h.pump()
    grid = h.sm.get_screen("grid")
    grid._refresh_event.cancel()  # no timer: only the queue's own event can bring the new count
    before = grid.refresher.fetches
    h.app.terminal.backend.issue("family")  # issued elsewhere: the engine tells its listeners
    assert h.wait(lambda: "等候\u00a01\u00a0人" in card(h, "family").detail)
    assert grid.refresher.fetches > before


def test_printer_failing_after_issue_keeps_ticket_and_offers_reprint(ui):
    printer = FakePrinter()
    printer.fail_next_job = "printer stopped answering after the job"
    h = ui(printer)
    h.sm.current = "grid"
    h.pump()
    h.tap(card(h, "family"))
    screen = h.sm.get_screen("ticket")
    # the print thread sets the outcome, the screen shows it on the UI thread's next frame (@mainthread)
    assert h.wait(lambda: screen.outcome.print_state == "failed" and screen.reprint.parent is not None)
    assert "打印失败" in screen.print_state.text
    assert [(t.number, t.status) for t in tickets(h)] == [("C001", TicketStatus.WAITING)]
    h.tap(screen.reprint)
    assert h.wait(lambda: screen.outcome.print_state == "printed" and screen.reprint.parent is None)
    assert len(printer.printed) == 1


def test_escape_and_close_do_not_leave(ui, terminal_factory):
    h = ui()
    app = h.app
    app.allow_close = False
    assert app._on_keyboard(h.window, 27) is True
    assert app._on_request_close() is True


def test_windowed_closes_with_escape_and_the_close_button(ui, monkeypatch):
    h = ui()
    app = h.app
    app.allow_close = True  # kiosk run --windowed
    stopped = []
    monkeypatch.setattr(app, "stop", lambda *a: stopped.append(True))
    assert app._on_keyboard(h.window, 27) is True and stopped == [True]
    assert app._on_request_close() is False  # the window manager's close goes through
    assert app._on_keyboard(h.window, 282) is True and stopped == [True]  # F1 still opens nothing


def visible_widgets(widget):
    for w in widget.walk(restrict=True):
        if w.opacity > 0 and w.width > 0 and w.height > 0:
            yield w


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_every_screen_renders_with_big_text_and_targets(ui, size):
    from kivy.uix.label import Label

    from screens.widgets import BigButton, ServiceCard

    h = ui(size=size)
    for name in ("attract", "grid", "priority", "ticket"):
        if name == "ticket":
            h.sm.get_screen("ticket").issue("family", None)
        else:
            h.sm.current = name
        img = h.picture(settle=8)  # the frames before the one looked at run undrawn
        h.keep(f"dispenser-{name}-{size[0]}x{size[1]}", img)
        assert img.size == size
        assert len(img.convert("L").getcolors(maxcolors=1 << 16)) > 20  # something was drawn
        screen = h.sm.get_screen(name)
        for w in visible_widgets(screen):
            if isinstance(w, Label) and w.text:
                assert w.font_size >= 32, (name, w.text, w.font_size)
            if isinstance(w, (BigButton, ServiceCard)):
                assert w.width >= 120 and w.height >= 120, (name, getattr(w, "text", w.name), w.size)
