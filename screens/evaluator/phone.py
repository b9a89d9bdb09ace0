"""The phone number for a call back: the number so far, 确定提交 / 返回，不留电话 and a keypad.
Static layout in phone.kv."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from ..widgets import BigButton
from .common import EvaluatorScreen, EvaluatorView

Builder.load_file(str(Path(__file__).with_name("phone.kv")))

ERASE = "删除"


class PhoneView(EvaluatorView):
    number = StringProperty("—")
    message = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        for key in self.ids.keypad.children:
            if isinstance(key, BigButton):
                key.bind(on_release=lambda b: self.screen.key(b.text))


class PhoneScreen(EvaluatorScreen):
    def __init__(self, terminal, session, **kw):
        super().__init__(terminal, session, PhoneView(), **kw)
        self.number, self.message, self.pad = self.view.ids.number, self.view.ids.message, self.view.ids.keypad

    def refresh(self) -> None:
        phone = self.session.prompt.phone if self.session.prompt else ""
        self.view.number = phone or "—"

    def key(self, key: str) -> None:
        """A key of the keypad: a digit, or 删除."""
        if key == ERASE:
            self.erase()
        else:
            self.type(key)

    def type(self, digit: str) -> None:
        self.session.type_phone(digit)
        self.view.message = ""
        self.refresh()

    def erase(self) -> None:
        self.session.erase_phone()
        self.refresh()

    def confirm(self) -> None:
        if self.session.phone_done():
            self.sync()
        else:
            self.view.message = "请输入11位手机号码，或点“返回”"

    def skip(self) -> None:
        if self.session.phone_done(skip=True):
            self.sync()
