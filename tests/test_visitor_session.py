"""Time that waits and the visitor's own choices: any touch or running speech holds the timeout,
the warning lasts at least 10 s, is spoken and has 继续使用; 长辈模式 and 高对比度 from the attract
screen last until the session ends; the ticket is spoken with its window and 再听一遍 repeats it."""

from __future__ import annotations

import pytest
from kivy.tests.common import UnitTestTouch

from screens.widgets import MIN_WARN_S, WARNING_SPEECH

pytestmark = pytest.mark.ui


@pytest.fixture
def ui(terminal_factory, harness_factory):
    def make(**timeouts):
        return harness_factory(terminal_factory(**timeouts))

    return make


def test_touch_down_move_and_up_each_hold_the_timeout(ui):
    h = ui(idle_s=30.0)
    grid = h.sm.get_screen("grid")
    h.sm.current = "grid"
    h.pump()
    x, y = h.window.width / 2, h.window.height - 150  # under the header, on no button
    touch = UnitTestTouch(x, y)
    for phase in (touch.touch_down, lambda: touch.touch_move(x + 30, y), touch.touch_up):
        grid.idle._since -= 100  # long past the timeout: only this event keeps the visitor here
        phase()
        assert grid.idle.left() > 25, phase
        h.pump()
        assert h.sm.current == "grid"
    grid.idle._since -= 100  # then nothing: home
    assert h.wait(lambda: h.sm.current == "attract")


def test_running_speech_holds_the_timeout(ui):
    h = ui(idle_s=30.0)
    voice = h.app.terminal.voice
    grid = h.sm.get_screen("grid")
    h.sm.current = "grid"
    h.pump()
    voice.speaking = True  # a long reading
    grid.idle._since -= 100
    assert h.wait(lambda: grid.idle.left() > 25)  # the next tick saw the reading and held on
    assert h.sm.current == "grid"
    voice.speaking = False
    grid.idle._since -= 100
    assert h.wait(lambda: h.sm.current == "attract")


def test_warning_is_spoken_lasts_10_s_and_continue_extends(ui):
    h = ui(idle_s=30.0)
    screen = h.sm.get_screen("grid")
    h.sm.current = "grid"
    h.pump()
    assert screen.idle.warn_s >= MIN_WARN_S == 10
    screen.idle._since -= 30 - 9.5  # 9.5 s left: inside the warning
    assert h.wait(lambda: screen.overlay.parent is not None)
    seconds, rest = screen.overlay.text.split(" ", 1)
    assert rest == "秒后返回首页" and 0 < int(seconds) <= 10
    assert WARNING_SPEECH in h.app.terminal.voice.spoken
    h.tap(screen.overlay.ids.go_on)  # 继续使用
    assert screen.overlay.parent is None and screen.idle.left() > 25
    assert h.sm.current == "grid"


def test_large_type_and_contrast_are_the_visitors_until_the_session_ends(ui):
    from screens import theme

    h = ui()
    attract = h.sm.get_screen("attract")
    large = next(b for b in attract.style_row.children if getattr(b, "style_key", "") == "large")
    h.tap(large)
    h.pump(2)
    assert h.app.text_scale == 1.5 and h.sm.current == "attract"  # the tap did not start the flow
    attract = h.sm.get_screen("attract")
    assert attract.touch_button.font_size == pytest.approx(72 * 1.5)
    contrast = next(b for b in attract.style_row.children if getattr(b, "style_key", "") == "contrast")
    h.tap(contrast)
    h.pump(2)
    assert theme.high_contrast
    from screens.audit import picture_of

    corner = picture_of(h.sm.get_screen("attract")).getpixel((5, 1075))
    assert corner == (0, 0, 0)  # the page is black
    h.tap(h.sm.get_screen("attract").touch_button)
    assert h.sm.current == "grid" and h.app.text_scale == 1.5  # it lasts through the flow
    h.sm.get_screen("ticket").issue("labor", None)
    h.pump(3)
    h.tap(h.sm.get_screen("ticket").done)  # 完成: the next visitor gets the terminal's own style
    h.pump(2)
    assert h.sm.current == "attract" and h.app.text_scale == 1.0 and not theme.high_contrast


def test_ticket_is_spoken_with_window_and_repeated(ui):
    h = ui()
    voice = h.app.terminal.voice
    ticket = h.sm.get_screen("ticket")
    ticket.issue("labor", None)
    h.pump(3)
    said = [s for s in voice.spoken if s.startswith("您的号码")]
    assert len(said) == 1
    assert "A 0 0 1" in said[0] and "号窗口" in said[0] and "前面还有 0 人" in said[0]
    h.tap(ticket.again)  # 再听一遍
    assert [s for s in voice.spoken if s.startswith("您的号码")] == said * 2


def test_green_channel_shows_on_the_screen_and_the_paper(terminal_factory, harness_factory):
    from devices.printer import FakePrinter

    printer = FakePrinter()
    h = harness_factory(terminal_factory(printer=printer))
    ticket = h.sm.get_screen("ticket")
    ticket.issue("general", "elderly")
    assert ticket.priority.text == "绿色通道 · 65岁以上老人"
    assert h.wait(lambda: printer.printed)
    assert "绿色通道 · 65岁以上老人" in printer.printed[-1].plain_text()
