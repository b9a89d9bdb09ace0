"""预约取号 on the dispenser, by real touches on the offscreen window: the keypad checks a code in and the
ticket is called before walk-ins; a swiped card of an elderly visitor lands on the grid with the green
channel preselected; the one-ticket rule; an unplugged reader leaves the touch screen working.
The check-in screen is rendered in both orientations, normal and large type (tmp/out/checkin-*.png)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from devices.idcard.fake import FakeIdReader
from kiosk.appointments import AppointmentSettings, ServiceSlots
from kiosk.appointments.store import clean_booking
from kiosk.idcard import parse_text

from .conftest import local_ts
from .idcard_fakes import id_number, sample_text

pytestmark = pytest.mark.ui
OUT = Path(__file__).resolve().parent.parent / "tmp" / "out"
MONDAY = date(2026, 11, 23)


@pytest.fixture
def ui(terminal_factory, harness_factory, clock):
    def make(size=(1920, 1080), large=False, reader=True):
        term = terminal_factory()
        term.config.font_scale = "large" if large else "normal"
        store = term.appointments._store
        store.save_settings(AppointmentSettings(services=(ServiceSlots("labor", 30, 4),),
                                                one_ticket_per_person=True), term.hall)
        if reader:
            term.idcard_reader = FakeIdReader()
        clock.now = local_ts(2026, 11, 23, 9, 50)
        return harness_factory(term, size)

    return make


def book(h, **kw):
    store = h.app.terminal.appointments._store
    kw.setdefault("name", "王小明")
    return store.book([clean_booking(h.app.terminal.hall, store.settings(), "labor", MONDAY, "10:00-10:30", **kw)],
                      store.settings())[0]


def key(h, k):
    return h.sm.get_screen("checkin").pad.key_buttons[k]


def type_code(h, code):
    for digit in code:
        h.tap(key(h, digit))


def test_keypad_checks_in_and_the_ticket_is_called_first(ui):
    h = ui()
    appt = book(h)
    term = h.app.terminal
    walk_in = term.issue("labor", wait_for_print=True)
    h.sm.current = "grid"
    h.pump()
    h.tap(h.sm.get_screen("grid").appointment)
    assert h.sm.current == "checkin", h.sm.get_screen("grid").message.text
    pad = h.sm.get_screen("checkin").pad
    type_code(h, "12")
    assert pad.shown == "1 2 _ _ _ _"
    h.tap(key(h, "确定"))
    assert "6位" in pad.message
    h.tap(key(h, "删除"))
    h.tap(key(h, "删除"))
    type_code(h, "000000")
    h.tap(key(h, "确定"))
    assert h.wait(lambda: "没有找到" in pad.message)
    assert pad.shown == "_ _ _ _ _ _"
    type_code(h, appt["code"])
    h.tap(key(h, "确定"))
    assert h.wait(lambda: h.sm.current == "ticket")
    ticket = h.sm.get_screen("ticket")
    assert ticket.caption.text == "预约签到成功 · 优先叫号" and "前面还有 0 人" in ticket.ahead.text
    assert h.wait(lambda: ticket.print_state.text.startswith("请取走小票"))
    assert term.backend.call_next(1).id == ticket.outcome.ticket_id
    assert term.backend.call_next(1).id == walk_in.ticket_id
    h.tap(ticket.done)
    h.sm.get_screen("ticket").issue("medical", None)  # the next visitor's ticket has the usual caption
    assert h.sm.current == "ticket" and ticket.caption.text == "您的号码"


def test_elderly_card_preselects_the_green_channel_and_one_ticket_rule(ui):
    h = ui()
    term = h.app.terminal
    reader = term.idcard_reader
    old = parse_text(sample_text("王小明", "19500101"))
    reader.put(old)
    grid = h.sm.get_screen("grid")
    assert h.wait(lambda: h.sm.current == "grid" and grid.card is not None)
    assert grid.card.priority == "elderly" and grid.title.text == "绿色通道：请选择业务"
    h.pump()
    h.tap(grid._card_by_code["labor"])  # straight to the ticket: no green-channel question
    assert h.sm.current == "ticket"
    ticket = h.app.terminal.backend.get_ticket(h.sm.get_screen("ticket").outcome.ticket_id)
    assert ticket.priority == "elderly"
    number = ticket.number
    h.sm.current = "attract"
    reader.take_away()
    reader.put(old)
    assert h.wait(lambda: h.sm.current == "grid" and grid.card is not None)
    h.pump()
    grid._busy_until = 0  # the double-tap guard (1 s) would swallow a tap this soon after the first ticket
    h.tap(grid._card_by_code["labor"])
    assert h.sm.current == "grid" and grid.title.text == f"您已取过劳动保障的号：{number}"
    grid._busy_until = 0  # the double-tap guard: this is a second, deliberate tap
    h.tap(grid._card_by_code["medical"])  # another service is fine
    assert h.sm.current == "ticket"


def test_card_with_an_appointment_checks_in(ui):
    h = ui()
    visitor = parse_text(sample_text("李四", "19800315", id_number("33010219800315001")))
    book(h, name="李四", id_number=visitor.id_number)
    h.app.terminal.idcard_reader.put(visitor)
    assert h.wait(lambda: h.sm.current == "ticket")
    assert h.sm.get_screen("ticket").caption.text == "预约签到成功 · 优先叫号"


def test_unplugged_reader_tells_staff_and_touch_still_works(ui):
    h = ui()
    term = h.app.terminal
    term.idcard_reader.failure = "unplugged"
    assert h.wait(lambda: any("读卡器" in w for w in term.warnings))
    h.sm.current = "grid"
    h.pump()
    h.tap(h.sm.get_screen("grid")._card_by_code["labor"])
    assert h.sm.current == "priority"  # the usual question: nothing preselected without a card
    normal = next(w for w in h.sm.get_screen("priority").walk() if getattr(w, "text", "") == "不需要，普通取号")
    h.tap(normal)
    assert h.sm.current == "ticket"


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_render_checkin_screen(ui, large):
    OUT.mkdir(parents=True, exist_ok=True)
    h = ui(large=large)
    tag = "large" if large else "normal"
    for size, orient in (((1920, 1080), "landscape"), ((1080, 1920), "portrait")):
        h.resize(size)
        h.sm.current = "checkin"
        h.pump()
        screen = h.sm.get_screen("checkin")
        type_code(h, "483")
        assert screen.pad.shown == "4 8 3 _ _ _"
        screen.pad.message = "没有找到这个签到码的今日预约，请核对后重新输入"
        h.pump(5)
        path = h.screenshot(OUT / f"checkin-{orient}-{tag}.png")
        keys = list(screen.pad.key_buttons.values())
        for b in keys:  # every key is a full target, inside the window
            assert b.width >= h.app.px(120) - 1 and b.height >= h.app.px(120) - 1, (b.text, b.size)
            x, y = b.to_window(b.x, b.y)
            assert 0 <= x and x + b.width <= size[0] and 0 <= y and y + b.height <= size[1], b.text
        gap = abs(keys[1].x - keys[0].right)
        assert gap >= h.app.px(24) - 1
        assert Path(path).stat().st_size > 10_000
        screen.press("删除"), screen.press("删除"), screen.press("删除")


@pytest.mark.parametrize("contrast_mode", [False, True], ids=["normal", "contrast"])
def test_light_keys_show_their_edge(ui, contrast_mode):
    """删除 and 返回 are light buttons on a light page: the edge drawn around them is what shows the
    target, so it must stand out from the page (3:1, WCAG 1.4.11), measured from the rendered pixels."""
    from screens import theme
    from screens.audit import picture_of

    h = ui(size=(1080, 1920))
    if contrast_mode:
        h.app.toggle_visitor_style("contrast")
        h.pump(2)
    h.sm.current = "checkin"
    h.pump(3)
    screen = h.sm.get_screen("checkin")
    picture = picture_of(screen)
    page = picture.getpixel((2, picture.height - 2))
    for button in (screen.pad.key_buttons["删除"], screen.pad.ids.back):
        x, y = button.to_window(button.x, button.y)
        mid = picture.height - int(y + button.height / 2)
        edge = [picture.getpixel((int(x + dx), mid)) for dx in range(0, int(h.app.px(6)) + 2)]
        best = max(theme.contrast(p, page) for p in edge)
        assert best >= 3.0, (button.text, page, edge)


def test_keypad_type_grows_with_the_visitors_large_type(ui):
    """Guard (already true when checked): 长辈模式 chosen by a visitor enlarges the keypad's type 1.5x."""
    h = ui(size=(1080, 1920))
    normal = {k: b.font_size for k, b in h.sm.get_screen("checkin").pad.key_buttons.items()}
    normal_back = h.sm.get_screen("checkin").pad.ids.back.font_size
    h.app.toggle_visitor_style("large")
    h.pump(2)
    pad = h.sm.get_screen("checkin").pad
    assert {k: b.font_size for k, b in pad.key_buttons.items()} == {k: v * 1.5 for k, v in normal.items()}
    assert pad.ids.back.font_size == normal_back * 1.5
