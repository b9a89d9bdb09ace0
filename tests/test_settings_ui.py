"""Staff settings on the touch screen, lockdown, and recovery from an unexpected error."""

from __future__ import annotations

import tomllib

import pytest

from kiosk.config import load_terminal
from kiosk.pin import hash_pin

pytestmark = pytest.mark.ui


@pytest.fixture
def staff_ui(tmp_path, terminal_factory, harness_factory):
    """A dispenser whose terminal file (with PIN 2468) lives in tmp_path."""

    def make(size=(1920, 1080)):
        term = terminal_factory()
        path = tmp_path / "terminal.toml"
        from kiosk.config_write import apply_settings, ensure_terminal_file

        ensure_terminal_file(path)
        apply_settings(path, {"terminal.data_dir": str(term.config.data_dir),
                              "security.pin_hash": hash_pin("480317")}, log_dir=tmp_path / "logs")
        fresh = load_terminal(path)
        term.config.source = path
        term.config.pin_hash = fresh.pin_hash
        return harness_factory(term, size)

    return make


# The waits below end on state (the PIN check's thread has answered, a scrolled form's touch-up has
# landed); their long limit only turns a hang into a failure. A loaded machine that draws a frame a
# second still passes, a broken screen still fails.
HANG_S = 120


def until(h, condition) -> bool:
    return h.wait(condition, timeout=HANG_S)


def enter_pin(h, pin: str) -> None:
    """Type ``pin`` and press 确定; returns once the check (a thread) has answered on the screen."""
    pad = h.sm.get_screen("pin")
    keys = {b.text: b for b in pad.keys.children}
    for digit in pin:
        h.tap(keys[digit])
    pad.message = ""
    h.tap(keys["确定"])
    assert until(h, lambda: h.sm.current != "pin" or pad.message not in ("", "正在核验…"))


def test_long_press_on_logo_corner_opens_pin_pad(staff_ui):
    from kivy.tests.common import UnitTestTouch

    h = staff_ui()
    header = h.sm.get_screen("attract").header
    x, y = header.to_window(header.x + 20, header.center_y)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    h.wait(lambda: False, timeout=1.0)  # one second is not a long press
    assert h.sm.current == "attract"
    assert until(h, lambda: h.sm.current == "pin")  # at 3 s
    touch.touch_up()
    h.pump()
    assert h.sm.current == "pin"


def test_pin_then_settings_save_writes_file_and_applies(staff_ui, tmp_path):
    h = staff_ui()
    h.sm.current = "pin"
    h.pump()
    enter_pin(h, "480317")
    assert h.sm.current == "settings"
    screen = h.sm.get_screen("settings")
    h.keep("settings")
    from kivy.uix.scrollview import ScrollView

    large = next(w for w in screen.walk() if getattr(w, "text", "") == "大字（适老）")
    scroll = next(w for w in screen.walk() if isinstance(w, ScrollView))
    scroll.scroll_to(large, animate=False)  # staff scroll down to the font row
    h.pump(5)
    h.tap(large)
    save = next(w for w in screen.walk() if getattr(w, "text", "") == "保存")
    h.tap(save)
    assert screen.message.text.startswith("已保存"), screen.message.text
    data = tomllib.loads((tmp_path / "terminal.toml").read_text(encoding="utf-8"))
    assert data["terminal"]["font_scale"] == "large"
    assert h.app.text_scale == 1.5  # applied without a restart
    log = (h.app.terminal.config.data_dir / "logs" / "settings.log").read_text(encoding="utf-8")
    assert "terminal.font_scale: normal -> large" in log.replace('"', "")


def test_pin_change_on_the_settings_screen_refuses_weak_pins(staff_ui, tmp_path):
    from kiosk.pin import PinGuard

    h = staff_ui()
    h.sm.current = "pin"
    h.pump()
    enter_pin(h, "480317")
    assert h.sm.current == "settings"
    screen = h.sm.get_screen("settings")
    change = next(w for w in screen.walk() if getattr(w, "text", "") == "修改密码")
    screen.scroll.scroll_to(change, animate=False)  # staff scroll down to the PIN row
    h.pump(5)
    path = tmp_path / "terminal.toml"
    before = path.read_text(encoding="utf-8")
    for new, again, words in (("123456", "123456", "连续"), ("000000", "000000", "重复"), ("2468", "2468", "6位"),
                              ("121212", "121212", "重复"), ("480319", "480318", "不一致")):
        screen.message.text = ""
        screen.new_pin.text, screen.new_pin_again.text = new, again
        h.tap(change)
        assert until(h, lambda: screen.message.text)  # in a ScrollView: the touch-up comes 0.2 s later
        assert words in screen.message.text, (new, screen.message.text)
        assert path.read_text(encoding="utf-8") == before  # nothing written
    screen.message.text = ""
    screen.new_pin.text = screen.new_pin_again.text = "730251"
    h.tap(change)
    assert until(h, lambda: screen.message.text)
    assert screen.message.text == "管理密码已修改" and screen.new_pin.text == ""
    stored = load_terminal(path).pin_hash
    assert stored.startswith("$argon2id$") and stored not in before
    guard = PinGuard(h.app.terminal.config.data_dir, stored)
    assert not guard.verify("480317").ok and guard.verify("730251").ok
    h.keep("settings-pin")


def test_five_wrong_pins_lock_the_pad(staff_ui):
    h = staff_ui()
    h.sm.current = "pin"
    h.pump()
    pad = h.sm.get_screen("pin")
    for _ in range(5):
        enter_pin(h, "1111")
    assert "锁定" in pad.message or "分钟" in pad.message, pad.message
    enter_pin(h, "480317")  # even the right PIN is refused while locked
    h.pump()
    assert h.sm.current == "pin"


def test_escape_alt_f4_and_f1_do_not_leave(staff_ui):
    h = staff_ui()
    h.app.allow_close = False
    for key in (27, 282):  # Escape, F1
        assert h.window.dispatch("on_keyboard", key, 0, "", []) is True
    assert h.window.dispatch("on_request_close") is True
    assert h.app.open_settings() is False


def test_unexpected_error_shows_maintenance_then_home(staff_ui, monkeypatch):
    import screens.maintenance
    from kivy.clock import Clock

    monkeypatch.setattr(screens.maintenance, "BACK_AFTER_S", 0.5)
    h = staff_ui()
    h.sm.current = "grid"
    h.pump()

    def boom(dt):
        raise RuntimeError("a bug in a screen")

    Clock.schedule_once(boom, 0)
    assert until(h, lambda: h.sm.current == "maintenance")
    text = h.sm.get_screen("maintenance").title.text
    assert text == "系统维护中"
    assert until(h, lambda: h.sm.current == "attract")
    log = h.app.terminal.config.data_dir
    assert any(log.glob("crash*")), list(log.iterdir())


def test_enroll_from_the_settings_screen(staff_ui, tmp_path, monkeypatch):
    from .sync_support import RestartableServer, quick_backoff

    quick_backoff(monkeypatch)
    server = RestartableServer(tmp_path / "server")
    try:
        h = staff_ui()
        h.sm.current = "pin"
        h.pump()
        enter_pin(h, "480317")
        assert h.sm.current == "settings"
        screen = h.sm.get_screen("settings")
        h.pump(5)  # the form is built as the screen opens; let it lay out before touching it
        screen.server.text = server.url  # typed on the docked on-screen keyboard
        screen.code.text = server.code().lower()  # codes are forgiving about case
        enroll = next(w for w in screen.walk() if getattr(w, "text", "") == "注册终端")
        h.tap(enroll)
        until(h, lambda: screen.message.text)
        assert screen.message.text.startswith("注册成功"), screen.message.text
        saved = load_terminal(tmp_path / "terminal.toml")
        assert saved.server_url == server.url and saved.server_token
        assert (tmp_path / "terminal.toml").stat().st_mode & 0o077 == 0  # the token is the owner's only
        screen.message.text = ""
        h.tap(enroll)  # a used code is refused with a reason, nothing else changes
        until(h, lambda: screen.message.text)
        assert screen.message.text.startswith("注册失败"), screen.message.text
        assert load_terminal(tmp_path / "terminal.toml").server_token == saved.server_token
    finally:
        server.stop()


@pytest.fixture
def first_start(tmp_path, terminal_factory, harness_factory):
    """A full-screen start (first_run_pin) of a terminal whose file has no PIN yet."""

    def make(pin_hash="", size=(1920, 1080)):
        from kiosk.config_write import apply_settings, ensure_terminal_file

        term = terminal_factory()
        path = tmp_path / "terminal.toml"
        ensure_terminal_file(path)
        apply_settings(path, {"terminal.data_dir": str(term.config.data_dir), "security.pin_hash": pin_hash},
                       log_dir=tmp_path / "logs")
        term.config.source = path
        term.config.pin_hash = pin_hash
        return harness_factory(term, size, first_run_pin=True), path

    return make


def type_on(h, screen_name: str, pin: str) -> None:
    pad = h.sm.get_screen(screen_name)
    keys = {b.text: b for b in pad.keys.children}
    for digit in pin:
        h.tap(keys[digit])
    h.tap(keys["确定"])


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)], ids=["landscape", "portrait"])
def test_first_start_without_a_pin_asks_for_one_and_opens_settings(first_start, tmp_path, size):
    from argon2 import PasswordHasher

    h, path = first_start(size=size)
    assert h.sm.current == "firstpin"
    screen = h.sm.get_screen("firstpin")
    assert "kiosk terminal set-pin" in screen.message
    h.keep(f"firstpin-{size[0]}x{size[1]}")
    type_on(h, "firstpin", "482913")
    assert "再输入一次" in screen.message and load_terminal(path).pin_hash == ""
    type_on(h, "firstpin", "482913")
    assert until(h, lambda: h.sm.current == "settings")
    stored = load_terminal(path).pin_hash
    assert PasswordHasher().verify(stored, "482913")
    assert h.app.terminal.settings.verify_pin("482913").ok  # the running terminal uses it at once


@pytest.mark.parametrize("font_scale", ["normal", "large"])
def test_the_set_pin_command_is_drawn_whole_on_a_line_of_its_own(terminal_factory, harness_factory, font_scale):
    """Both pads of a terminal with no PIN tell the technician to run ``kiosk terminal set-pin``: in every
    orientation and type size the command is one line of the label's layout with nothing else on it (it was
    cut after "terminal", and the full stop clung to "set-pin。")."""
    from kiosk.pin import SET_PIN_COMMAND

    term = terminal_factory()
    term.config.font_scale = font_scale
    h = harness_factory(term, (1920, 1080))
    for size in ((1920, 1080), (1080, 1920), (800, 1280), (1024, 768), (1280, 1024)):
        h.resize(size)
        for name in ("firstpin", "pin"):
            h.sm.current = name
            h.pump()
            pad = h.sm.get_screen(name)
            # the keys fit their pad at the least target height: on a landscape too short for them under
            # the words (4:3 in large type; the first start's intro even at full HD, whose last row ran
            # 74 px below the pad, beside 返回) the words go beside them
            grid = pad.keys
            assert all(k.height >= h.app.px(120) - 0.5 and k.y >= grid.y - 0.5 for k in grid.children), \
                (font_scale, size, name, grid.y, sorted(k.y for k in grid.children)[:3])
            label = pad.view.ids.message
            label.texture_update()
            assert label.text_size[0] < size[0]  # laid out for this window
            lines = ["".join(word.text for word in line.words).strip() for line in label._label._cached_lines]
            assert SET_PIN_COMMAND in lines, (font_scale, size, name, lines)
            assert sum("kiosk" in line for line in lines) == 1, lines
            h.keep(f"{name}-{font_scale}-{size[0]}x{size[1]}")


def test_first_pin_typed_differently_twice_is_not_saved(first_start):
    h, path = first_start()
    type_on(h, "firstpin", "482913")
    type_on(h, "firstpin", "482914")
    assert "不一致" in h.sm.get_screen("firstpin").message
    assert h.sm.current == "firstpin" and load_terminal(path).pin_hash == ""


def test_first_pin_the_core_refuses_is_not_saved(first_start):
    h, path = first_start()
    type_on(h, "firstpin", "12")
    type_on(h, "firstpin", "12")
    assert until(h, lambda: "不能使用" in h.sm.get_screen("firstpin").message)
    assert h.sm.current == "firstpin" and load_terminal(path).pin_hash == ""


def test_a_terminal_with_a_pin_starts_at_home_and_cannot_be_reset_from_the_screen(first_start):
    h, path = first_start(pin_hash=hash_pin("246813"))
    assert h.sm.current == "attract"
    ok, message = h.app.terminal.settings.set_first_pin("482913")
    assert not ok and "已设置" in message
    assert h.app.terminal.settings.verify_pin("246813").ok
