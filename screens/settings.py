"""Staff screens behind the hidden long press: PIN pad, then terminal settings.

The screens collect values and hand them to ``kiosk.terminal_settings``; that
module validates, writes the terminal file atomically and logs each change.
"""

from __future__ import annotations

import threading
import time

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.textinput import TextInput

from kiosk.pin import NEW_PIN_LENGTH
from kiosk.terminal_settings import SettingsDraft

from . import theme
from .widgets import BigButton, IdleTimer, WarningOverlay, label, paint


def _label(text="", size=theme.TEXT_SMALL, colour=theme.INK, bold=False, **kw) -> Label:
    """Staff pages: a left-aligned label whose text fills its box."""
    kw.setdefault("halign", "left")
    return label(text, size, colour, bold, kind="box", **kw)


def _button(text, on_press, primary=True, **kw) -> BigButton:
    app = App.get_running_app()
    colours = {} if primary else dict(bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.PAGE),
                                      ink=theme.rgba(theme.BLUE))
    b = BigButton(text=text, font_size=app.tx(kw.pop("font", theme.TEXT_SMALL)), **colours, **kw)
    b.bind(on_release=lambda *_: on_press())
    return b


class StaffScreen(Screen):
    """A plain page with a title bar; returns to the attract screen after idle."""

    def __init__(self, terminal, title: str, **kw):
        super().__init__(**kw)
        self.terminal = terminal
        app = App.get_running_app()
        root = BoxLayout(orientation="vertical")
        paint(root, theme.PAGE)
        bar = BoxLayout(size_hint_y=None, height=app.px(110), padding=(app.px(32), 0))
        paint(bar, theme.BLUE_DARK)
        self.bar_title = _label(title, theme.TITLE, theme.WHITE, bold=True)
        bar.add_widget(self.bar_title)
        root.add_widget(bar)
        self.body = BoxLayout(orientation="vertical", padding=app.px(32), spacing=app.px(theme.GAP))
        root.add_widget(self.body)
        self.add_widget(root)
        # staff may walk away with the pad open: never leave settings open for the next visitor,
        # but warn first (15 s, with 继续使用) so nobody loses what they were typing
        self.overlay = WarningOverlay(self)
        self.overlay.bind(on_continue=lambda *_: self.idle.poke())
        self.idle = IdleTimer(120, 15, self.leave,
                              lambda s: setattr(self.overlay, "text", f"{s} 秒后退出设置" if s else ""),
                              clock=getattr(app, "monotonic", None) or time.monotonic)

    def on_touch_down(self, touch):
        self.idle.poke()
        return super().on_touch_down(touch)

    def on_enter(self, *args):
        self.idle.start()

    def on_leave(self, *args):
        self.idle.stop()

    def leave(self) -> None:
        self.manager.current = App.get_running_app().home


class PinScreen(StaffScreen):
    def __init__(self, terminal, **kw):
        super().__init__(terminal, "工作人员设置 · 请输入管理密码", **kw)
        app = App.get_running_app()
        self.entered = ""
        self.dots = _label("", 72, theme.INK, bold=True, halign="center", size_hint_y=None,
                           height=app.px(110))
        self.message = _label("", theme.TEXT, theme.RED, halign="center", size_hint_y=None,
                              height=app.px(70))
        pad = GridLayout(cols=3, spacing=app.px(theme.GAP), size_hint=(None, 1),
                         width=app.px(3 * 180 + 2 * theme.GAP), pos_hint={"center_x": .5})
        for key in "123456789":
            pad.add_widget(_button(key, lambda k=key: self.press(k), font=64))
        pad.add_widget(_button("清除", self.clear, primary=False, font=40))
        pad.add_widget(_button("0", lambda: self.press("0"), font=64))
        pad.add_widget(_button("确定", self.submit, font=40))
        self.keys = pad
        cancel = _button("返回", self.leave, primary=False, size_hint=(None, None), width=app.px(300),
                         height=app.px(theme.TARGET))
        for w in (self.dots, self.message, pad, cancel):
            self.body.add_widget(w)

    def on_pre_enter(self, *args):
        self.clear()
        self.message.text = self.terminal.settings.pin_status_text()

    def press(self, key: str) -> None:
        if len(self.entered) < 8:
            self.entered += key
        self.dots.text = "●" * len(self.entered)

    def clear(self) -> None:
        self.entered = ""
        self.dots.text = ""

    def submit(self) -> None:
        pin = self.entered
        self.clear()
        self.message.text = "正在核验…"

        def work():  # argon2 takes most of a second: keep the screen responsive
            self._verified(self.terminal.settings.verify_pin(pin))

        threading.Thread(target=work, daemon=True).start()

    @mainthread
    def _verified(self, result) -> None:
        if result.ok:
            self.message.text = ""
            self.manager.current = "settings"
        else:
            self.message.text = result.message_zh


class FirstPinScreen(PinScreen):
    """First full-screen start with no PIN: set one here (twice), or go on without.

    Without a PIN the settings (and their way out, 退出维护) stay closed; the rules for a
    PIN are the core's (kiosk.pin through TerminalSettings.set_first_pin).
    """

    INTRO = (f"本机尚未设置管理密码。请输入{NEW_PIN_LENGTH}位数字的新密码后按“确定”，"
             "或按“返回”以后在本机运行 kiosk terminal set-pin。")

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.bar_title.text = "首次使用 · 设置管理密码"
        self.message.height = App.get_running_app().px(150)  # the intro takes two lines
        self.first = ""

    def on_pre_enter(self, *args):
        self.clear()
        self.first = ""
        self.message.text = self.INTRO

    def submit(self) -> None:
        pin = self.entered
        self.clear()
        if not self.first:
            self.first = pin
            self.message.text = "请再输入一次新密码"
            return
        first, self.first = self.first, ""
        if pin != first:
            self.message.text = "两次输入不一致，请重新输入新密码"
            return
        self.message.text = "正在保存…"

        def work():  # argon2 takes most of a second
            self._saved(*self.terminal.settings.set_first_pin(pin))

        threading.Thread(target=work, daemon=True).start()

    @mainthread
    def _saved(self, ok: bool, message: str) -> None:
        self.message.text = message
        if ok:
            self.manager.current = "settings"


class Choice(BoxLayout):
    """A row of big toggle-like buttons; the chosen one is filled."""

    def __init__(self, options: list[tuple[object, str]], value, on_change, **kw):
        app = App.get_running_app()
        super().__init__(spacing=app.px(16), **kw)
        self.value = value
        self.on_change = on_change
        self.buttons = {}
        for option, text in options:
            b = _button(text, lambda o=option: self.set(o), primary=False)
            self.buttons[option] = b
            self.add_widget(b)
        self.set(value, notify=False)

    def set(self, value, notify: bool = True) -> None:
        self.value = value
        for option, b in self.buttons.items():
            chosen = option == value
            b.bg = theme.rgba(theme.BLUE if chosen else theme.WHITE)
            b.ink = theme.rgba(theme.WHITE if chosen else theme.BLUE)
        if notify:
            self.on_change(value)


class Stepper(BoxLayout):
    """− value + for numbers, so no keyboard is needed."""

    def __init__(self, value: float, step: float, low: float, high: float, on_change, unit: str = "", **kw):
        app = App.get_running_app()
        super().__init__(spacing=app.px(16), **kw)
        self.value, self.step, self.low, self.high, self.unit = value, step, low, high, unit
        self.on_change = on_change
        self.add_widget(_button("−", lambda: self.bump(-1), primary=False, font=56, size_hint_x=None,
                                width=app.px(theme.TARGET)))
        self.shown = _label("", theme.TEXT, theme.INK, bold=True, halign="center")
        self.add_widget(self.shown)
        self.add_widget(_button("+", lambda: self.bump(1), primary=False, font=56, size_hint_x=None,
                                width=app.px(theme.TARGET)))
        self._show()

    def bump(self, direction: int) -> None:
        self.value = min(self.high, max(self.low, self.value + direction * self.step))
        self._show()
        self.on_change(self.value)

    def _show(self) -> None:
        number = int(self.value) if float(self.value).is_integer() else self.value
        self.shown.text = f"{number}{self.unit}"


class SettingsScreen(StaffScreen):
    def __init__(self, terminal, **kw):
        super().__init__(terminal, "终端设置", **kw)
        self.draft: SettingsDraft | None = None
        self.status_event = None

    # -- building the form from the current settings
    def on_pre_enter(self, *args):
        self.draft = self.terminal.settings.draft()
        self.build_form()
        self.status_event = Clock.schedule_interval(lambda dt: self.refresh_status(), 2)
        self.refresh_status()

    def on_leave(self, *args):
        super().on_leave(*args)
        if self.status_event:
            self.status_event.cancel()

    def build_form(self) -> None:
        app = App.get_running_app()
        d = self.draft
        self.body.clear_widgets()
        rows = GridLayout(cols=1, spacing=app.px(20), size_hint_y=None, padding=(0, 0, app.px(16), 0))
        rows.bind(minimum_height=rows.setter("height"))

        def row(title: str, control, height=theme.TARGET) -> None:
            line = BoxLayout(size_hint_y=None, height=app.px(height), spacing=app.px(24))
            line.add_widget(_label(title, theme.TEXT_SMALL, theme.INK, bold=True, size_hint_x=None,
                                   width=app.px(330)))
            line.add_widget(control)
            rows.add_widget(line)

        def setter(key):
            return lambda value: d.set(key, value)

        row("终端模式", Choice([("dispenser", "取号机"), ("evaluator", "评价器"), ("inquiry", "查询机"),
                               ("combined", "查询+取号")], d.get("terminal.mode"), setter("terminal.mode")))
        row("绑定窗口", Stepper(d.get("terminal.window"), 1, 0, 99, setter("terminal.window"), " 号窗口"))
        self.server = TextInput(text=d.get("server.url"), multiline=False, font_size=app.tx(theme.TEXT_SMALL),
                                hint_text="http://192.168.1.10:8000（留空：单机取号）",
                                padding=[app.px(16), app.px(36)])
        self.server.bind(text=lambda w, v: d.set("server.url", v.strip()))
        row("大厅服务器", self.server)
        self.code = TextInput(text="", multiline=False, font_size=app.tx(theme.TEXT_SMALL),
                              hint_text="注册码（如 ABCD-EFGH-JK23）", padding=[app.px(16), app.px(36)])
        enroll = BoxLayout(spacing=app.px(16))
        enroll.add_widget(self.code)
        enroll.add_widget(_button("注册终端", self.enroll, size_hint_x=None, width=app.px(260)))
        row("终端注册", enroll)
        self.new_pin = TextInput(text="", multiline=False, password=True, input_filter="int",
                                 font_size=app.tx(theme.TEXT_SMALL), hint_text="新密码",
                                 padding=[app.px(16), app.px(36)])
        self.new_pin_again = TextInput(text="", multiline=False, password=True, input_filter="int",
                                       font_size=app.tx(theme.TEXT_SMALL), hint_text="确认",
                                       padding=[app.px(16), app.px(36)])
        pin = BoxLayout(spacing=app.px(16))
        pin.add_widget(self.new_pin)
        pin.add_widget(self.new_pin_again)
        pin.add_widget(_button("修改密码", self.change_pin, size_hint_x=None, width=app.px(260)))
        row("管理密码", pin)
        ports = self.terminal.settings.serial_ports()
        current_port = d.get("printer.port")
        options = [(p, p) for p in ports]
        if current_port and current_port not in ports:
            options.insert(0, (current_port, f"{current_port}（未检测到）"))
        options.insert(0, ("", "不用串口"))
        row("打印机串口", Choice(options[:5], current_port, self._choose_port))
        row("波特率", Choice([(b, str(b)) for b in (9600, 19200, 38400, 115200)], d.get("printer.baud"),
                          setter("printer.baud")))
        row("纸宽", Choice([(80, "80 毫米"), (58, "58 毫米")], d.get("printer.paper_width_mm"),
                         setter("printer.paper_width_mm")))
        self.printer_state = _label("", theme.TEXT_SMALL, theme.INK)
        test = BoxLayout(spacing=app.px(16))
        test.add_widget(self.printer_state)
        test.add_widget(_button("打印测试页", self.test_print, size_hint_x=None, width=app.px(300)))
        row("打印机状态", test)
        row("无操作返回", Stepper(d.get("timeouts.idle_s"), 5, 10, 300, setter("timeouts.idle_s"), " 秒"))
        row("取号页停留", Stepper(d.get("timeouts.ticket_screen_s"), 5, 5, 120,
                                 setter("timeouts.ticket_screen_s"), " 秒"))
        row("字体大小", Choice([("normal", "标准"), ("large", "大字（适老）")], d.get("terminal.font_scale"),
                            setter("terminal.font_scale")))
        row("语音音量", Stepper(d.get("voice.volume"), 10, 0, 100, setter("voice.volume"), "%"))
        row("界面语言", Choice([("zh", "中文"), ("en", "English")], d.get("terminal.language"),
                            setter("terminal.language")))
        scroll = ScrollView(do_scroll_x=False, bar_width=app.px(12))
        scroll.add_widget(rows)
        self.body.add_widget(scroll)
        self.message = _label("", theme.TEXT_SMALL, theme.INK, size_hint_y=None, height=app.px(60))
        self.body.add_widget(self.message)
        footer = BoxLayout(size_hint_y=None, height=app.px(theme.TARGET), spacing=app.px(theme.GAP))
        footer.add_widget(_button("保存", self.save, font=40))
        footer.add_widget(_button("取消", self.leave, primary=False, font=40))
        footer.add_widget(_button("退出维护", self.exit_for_maintenance, primary=False, font=40))
        self.body.add_widget(footer)

    def _choose_port(self, port: str) -> None:
        self.draft.set("printer.port", port)
        self.draft.set("printer.kind", "serial" if port else "preview")

    # -- actions
    def refresh_status(self) -> None:
        def work():
            text = self.terminal.settings.printer_status_text(self.draft)
            self._show_status(text)

        threading.Thread(target=work, daemon=True).start()

    @mainthread
    def _show_status(self, text: str) -> None:
        self.printer_state.text = text

    def test_print(self) -> None:
        self.message.text = "正在打印测试页…"

        def work():
            ok, text = self.terminal.settings.test_print(self.draft)
            self._show_message(text, ok)

        threading.Thread(target=work, daemon=True).start()

    @mainthread
    def _show_message(self, text: str, ok: bool = True) -> None:
        self.message.text = text
        self.message.color = theme.rgba(theme.GREEN if ok else theme.RED)

    def enroll(self) -> None:
        ok, text = self.terminal.settings.enroll(self.draft.get("server.url"), self.code.text.strip())
        self._show_message(text, ok)

    def change_pin(self) -> None:
        ok, text = self.terminal.settings.change_pin(self.new_pin.text.strip(), self.new_pin_again.text.strip())
        self.new_pin.text = self.new_pin_again.text = ""
        self._show_message(text, ok)

    def save(self) -> None:
        ok, text = self.terminal.settings.save(self.draft)
        self._show_message(text, ok)
        if ok:
            App.get_running_app().apply_live_settings()

    def exit_for_maintenance(self) -> None:
        App.get_running_app().exit_for_maintenance()
