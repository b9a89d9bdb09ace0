"""The evaluator's home: the window, its staff on duty, and 请对本窗口服务进行评价 (a walk-in rating).
Static layout in idle.kv."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from .common import EvaluatorScreen, EvaluatorView

Builder.load_file(str(Path(__file__).with_name("idle.kv")))


class IdleView(EvaluatorView):
    window_text = StringProperty("")
    window_name = StringProperty("")
    staff_name = StringProperty("")
    staff_no = StringProperty("")
    services = StringProperty("")
    walk_in_allowed = BooleanProperty(True)


class IdleScreen(EvaluatorScreen):
    def __init__(self, terminal, session, **kw):
        super().__init__(terminal, session, IdleView(), **kw)
        self.window_label = self.view.ids.window_label
        self.walk_in = self.view.ids.walk_in
        self.refresh()

    def refresh(self) -> None:
        duty = self.terminal.duty()
        staff = duty.get("staff") or {}
        v = self.view
        v.window_text = f"{duty['number']} 号窗口"
        v.window_name = duty["name"]
        v.staff_name = staff.get("name") or "工作人员"
        v.staff_no = f"工号：{staff['staff_no']}" if staff.get("staff_no") else "为您服务"
        v.services = "办理业务：" + "、".join(duty["services"])
        v.walk_in_allowed = bool(self.terminal.hall.walk_in_ratings)

    def start_walk_in(self) -> None:
        if self.session.walk_in():
            self.sync()
