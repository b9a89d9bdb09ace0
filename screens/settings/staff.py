"""The staff page: a title bar over a body; back to the home screen after two idle minutes (warned
15 s before, with 继续使用). Static layout in staff.kv."""

from __future__ import annotations

import time
from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from ..widgets import BigButton, IdleTimer, WarningOverlay

Builder.load_file(str(Path(__file__).with_name("staff.kv")))


class StaffButton(BigButton):
    """A staff page's button: filled blue (``primary``), or white with blue words."""

    primary = BooleanProperty(True)
    chosen = BooleanProperty(False)  # a white button filled as the chosen one of a row


class StaffPage(BoxLayout):
    title = StringProperty("")


class StaffScreen(Screen):
    """A plain page with a title bar; returns to the home screen after idle. ``view`` is its body."""

    def __init__(self, terminal, title: str, view, **kw):
        super().__init__(**kw)
        self.terminal = terminal
        app = App.get_running_app()
        self.page = StaffPage(title=title)
        self.view = view
        self.page.ids.body.add_widget(view)
        self.add_widget(self.page)
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
