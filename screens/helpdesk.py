"""呼叫工作人员 on the visitor home screens: the button and its confirmation (kiosk/help.py sends)."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.lang import Builder
from kivy.uix.modalview import ModalView

from kiosk.help import SENDING, TEXTS

from . import theme
from .base import kv_ids
from .widgets import IconButton, icon_path

Builder.load_file(str(Path(__file__).with_name("helpdesk.kv")))

CLOSE_AFTER_S = 30.0  # a confirmation nobody closes goes away before the next visitor


def help_button(terminal, height: float):
    app = App.get_running_app()
    b = IconButton(text="呼叫工作人员", icon_source=icon_path("help"), font_size=app.tx(theme.BUTTON_TEXT),
                   size_hint_y=None, height=height)
    b.bind(on_release=lambda *_: call_staff(terminal))
    return b


def call_staff(terminal) -> "HelpPopup":
    popup = HelpPopup()
    popup.show(terminal.help.press(popup.answered))
    popup.open()
    return popup


class HelpPopup(ModalView):
    """The answer, in large Chinese, with one big 好的 to close it."""

    def __init__(self, **kw):
        super().__init__(**kw)
        ids = kv_ids(self)  # the layout is in helpdesk.kv
        self.message, self.ok = ids.message, ids.ok
        self.message.audit_ignore = True  # a text, not a target
        self.outcome = ""
        self._close = Clock.schedule_once(lambda dt: self.dismiss(), CLOSE_AFTER_S)
        self.bind(on_dismiss=lambda *_: self._close.cancel())

    def show(self, outcome: str) -> None:
        self.outcome = outcome
        self.message.text = TEXTS[outcome]
        self.ok.disabled = outcome == SENDING

    @mainthread
    def answered(self, outcome: str) -> None:
        self.show(outcome)
