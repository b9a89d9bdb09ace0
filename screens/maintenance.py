"""The calm page visitors see after an unexpected error: never a stack trace. Layout in maintenance.kv."""

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


class MaintenanceBody(BoxLayout):
    detail = StringProperty(SOON)


class MaintenanceScreen(VisitorScreen):
    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.layout = MaintenanceBody()
        ids = kv_ids(self.layout)
        self.title, self.detail = ids.title, ids.detail
        self.body.add_widget(self.layout)
        self._back = None

    def show(self, crash_loop: bool) -> None:
        if self._back is not None:
            self._back.cancel()
            self._back = None
        self.layout.detail = STOPPED if crash_loop else SOON
        if not crash_loop:
            self._back = Clock.schedule_once(lambda dt: self.go_home(), BACK_AFTER_S)
