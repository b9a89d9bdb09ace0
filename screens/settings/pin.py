"""The PIN pad before the settings, and the first-start pad that sets a PIN. Static layout in pin.kv."""

from __future__ import annotations

import threading
from pathlib import Path

from kivy.clock import Clock, mainthread
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.pin import NEW_PIN_LENGTH, SET_PIN_COMMAND

from .. import theme
from ..widgets import measure, px, tx, wrappable
from .staff import StaffScreen

Builder.load_file(str(Path(__file__).with_name("pin.kv")))

CLEAR, SUBMIT = "清除", "确定"


class PinView(BoxLayout):
    dots = StringProperty("")
    message = StringProperty("")  # plain text; pin.kv shows it as ``wrappable`` markup
    message_floor = NumericProperty(70)  # the message's least height (layout pixels)
    side = BooleanProperty(False)  # the words beside the keys (pin.kv): too short for them under the words
    __events__ = ("on_key", "on_back")

    def __init__(self, **kw):
        super().__init__(**kw)
        for key in self.ids.keypad.children:
            key.bind(on_release=lambda b: self.dispatch("on_key", b.text))

    def on_key(self, key):
        pass

    def on_back(self):
        pass


class PinScreen(StaffScreen):
    """``message`` is what the pad says (plain text; drawn so lines break by the Chinese rule)."""

    message = StringProperty("")

    def __init__(self, terminal, **kw):
        super().__init__(terminal, "工作人员设置 · 请输入管理密码", PinView(), **kw)
        self.entered = ""
        self.keys = self.view.ids.keypad
        self.bind(message=self.view.setter("message"))
        self.view.bind(on_back=lambda *_: self.leave(), on_key=lambda _, k: self._key(k))
        # keys that would be squeezed under the least target below the words (a 4:3 or 5:4 landscape,
        # the first start's intro) go beside them: reckoned from the words' lines at the full width
        self._check = Clock.create_trigger(self._fit_side)
        self.view.bind(size=self._check, message=self._check, message_floor=self._check)

    def _fit_side(self, *_args) -> None:
        v = self.view
        if v.width <= 1 or v.height > v.width:
            v.side = False
            return
        gap = px(theme.GAP)
        lines = measure(wrappable(v.message), tx(theme.TEXT), width=v.width, markup=True)[1]
        words = px(110) + gap + max(px(v.message_floor), lines)
        keys = v.height - words - gap - px(theme.TARGET) - gap  # the keys between the words and 返回
        v.side = (keys - 3 * gap) / 4 < px(theme.TARGET) - 0.5

    def _key(self, key: str) -> None:
        if key == CLEAR:
            self.clear()
        elif key == SUBMIT:
            self.submit()
        else:
            self.press(key)

    def on_pre_enter(self, *args):
        self.clear()
        self.message = self.terminal.settings.pin_status_text()

    def press(self, key: str) -> None:
        if len(self.entered) < 8:
            self.entered += key
        self.view.dots = "●" * len(self.entered)

    def clear(self) -> None:
        self.entered = ""
        self.view.dots = ""

    def submit(self) -> None:
        pin = self.entered
        self.clear()
        self.message = "正在核验…"

        def work():  # argon2 takes most of a second: keep the screen responsive
            self._verified(self.terminal.settings.verify_pin(pin))

        threading.Thread(target=work, daemon=True).start()

    @mainthread
    def _verified(self, result) -> None:
        if result.ok:
            self.message = ""
            self.manager.current = "settings"
        else:
            self.message = result.message_zh


class FirstPinScreen(PinScreen):
    """First full-screen start with no PIN: set one here (twice), or go on without.

    Without a PIN the settings (and their way out, 退出维护) stay closed; the rules for a
    PIN are the core's (kiosk.pin through TerminalSettings.set_first_pin).
    """

    # the command whole, on a line of its own
    INTRO = (f"本机尚未设置管理密码。请输入{NEW_PIN_LENGTH}位数字的新密码后按“确定”，"
             f"或按“返回”，以后在本机运行以下命令设置：\n{SET_PIN_COMMAND}")

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.page.title = "首次使用 · 设置管理密码"
        self.view.message_floor = 150  # the intro takes two lines or more (the command one of its own)
        self.first = ""

    def on_pre_enter(self, *args):
        self.clear()
        self.first = ""
        self.message = self.INTRO

    def submit(self) -> None:
        pin = self.entered
        self.clear()
        if not self.first:
            self.first = pin
            self.message = "请再输入一次新密码"
            return
        first, self.first = self.first, ""
        if pin != first:
            self.message = "两次输入不一致，请重新输入新密码"
            return
        self.message = "正在保存…"

        def work():  # argon2 takes most of a second
            self._saved(*self.terminal.settings.set_first_pin(pin))

        threading.Thread(target=work, daemon=True).start()

    @mainthread
    def _saved(self, ok: bool, message: str) -> None:
        self.message = message
        if ok:
            self.manager.current = "settings"
