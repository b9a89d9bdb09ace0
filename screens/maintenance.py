"""The calm page visitors see after an unexpected error: never a stack trace. Layout in maintenance.kv.

It is built soon after start (a crash is no moment to build widgets) but holds no words until ``show``: its
texts were drawn all day for a page seldom seen, and its 96 px heading opened two faces of the font (about
0.5 MB with the textures, issue 17); they are drawn when it is shown (about 0.1 s more, once).
"""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from .base import VisitorScreen, kv_ids

Builder.load_file(str(Path(__file__).with_name("maintenance.kv")))

BACK_AFTER_S = 8
SOON = "请稍候，马上就好。如需帮助，请联系大厅工作人员。"
STOPPED = "本机暂停服务，已通知工作人员。请到服务台或使用其他终端。"


HEADING = "系统维护中"


class MaintenanceBody(BoxLayout):
    heading = StringProperty("")  # set by show()
    detail = StringProperty("")


class MaintenanceScreen(VisitorScreen):
    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.layout = MaintenanceBody()
        ids = kv_ids(self.layout)
        self.title, self.detail = ids.title, ids.detail
        for label in (self.title, self.detail):
            label.face_apart = True  # not warmed at start: drawn when shown (screens/fonts.py)
        self.body.add_widget(self.layout)
        self._back = None

    def show(self, crash_loop: bool) -> None:
        if self._back is not None:
            self._back.cancel()
            self._back = None
        self.layout.heading = HEADING
        self.layout.detail = STOPPED if crash_loop else SOON
        if not crash_loop:
            self._back = Clock.schedule_once(lambda dt: self.go_home(), BACK_AFTER_S)
