"""The calm page visitors see after an unexpected error: never a stack trace."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock

from . import theme
from .base import VisitorScreen
from .widgets import label

BACK_AFTER_S = 8


class MaintenanceScreen(VisitorScreen):
    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        app = App.get_running_app()
        self.title = label("系统维护中", 96, theme.BLUE, bold=True, size_hint_y=None, height=app.px(160))
        self.detail = label("请稍候，马上就好。如需帮助，请联系大厅工作人员。", 44, theme.INK,
                            size_hint_y=None, height=app.px(90))
        for w in (self.title, self.detail):
            self.body.add_widget(w)
        self._back = None

    def show(self, crash_loop: bool) -> None:
        if self._back is not None:
            self._back.cancel()
            self._back = None
        if crash_loop:
            self.detail.text = "本机暂停服务，已通知工作人员。请到服务台或使用其他终端。"
        else:
            self.detail.text = "请稍候，马上就好。如需帮助，请联系大厅工作人员。"
            self._back = Clock.schedule_once(lambda dt: self.go_home(), BACK_AFTER_S)
