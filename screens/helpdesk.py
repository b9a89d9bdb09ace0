"""呼叫工作人员 on the visitor home screens: the button and its confirmation (kiosk/help.py sends)."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.uix.modalview import ModalView

from kiosk.help import SENDING, TEXTS

from . import theme
from .widgets import BigButton, IconButton, Panel, icon_path

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
        app = App.get_running_app()
        super().__init__(size_hint=(.8, None), auto_dismiss=True, overlay_color=(0, 0, 0, .6),
                         background="", background_color=(0, 0, 0, 0), **kw)
        panel = Panel(orientation="vertical", padding=app.px(48), spacing=app.px(40), bg=theme.rgba(theme.WHITE))
        self.message = BigButton(text="", font_size=app.tx(60), bg=theme.rgba(theme.WHITE),
                                 bg_down=theme.rgba(theme.WHITE), ink=theme.rgba(theme.INK), size_hint_y=None,
                                 height=app.tx(60) * 3)
        self.message.audit_ignore = True  # a text, not a target
        self.ok = BigButton(text="好的", font_size=app.tx(64), size_hint=(None, None),
                            width=max(app.px(420), app.tx(64) * 4), height=max(app.px(160), app.tx(64) * 2),
                            pos_hint={"center_x": .5})
        self.ok.bind(on_release=lambda *_: self.dismiss())
        panel.add_widget(self.message)
        panel.add_widget(self.ok)
        self.height = self.message.height + self.ok.height + app.px(48) * 2 + app.px(40)
        self.add_widget(panel)
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
