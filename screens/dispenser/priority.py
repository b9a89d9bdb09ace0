"""The green-channel step (绿色通道): a card per priority group, or 不需要，普通取号."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from .. import theme
from ..base import VisitorScreen
from ..widgets import BigButton, ServiceCard, icon_path, label

class PriorityScreen(VisitorScreen):
    service_code = StringProperty("")

    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.idle_s
        super().__init__(terminal, **kw)
        app = App.get_running_app()
        self.body.add_widget(label("是否需要绿色通道优先办理？", theme.TITLE, theme.INK, bold=True,
                                   size_hint_y=None, height=app.px(90)))
        self.body.add_widget(label("符合以下条件的群众可优先叫号，请如实选择；工作人员将核验相关证件",
                                   theme.TEXT, theme.INK_SOFT, size_hint_y=None, height=app.px(70)))
        self.groups = GridLayout(spacing=app.px(theme.GAP), cols=2)
        for g in terminal.priority_groups:
            card = ServiceCard(code=g.code, name=g.name, detail="优先办理", icon_source=icon_path(g.icon))
            card.bind(on_release=lambda c: self._pick(c.code))
            self.groups.add_widget(card)
        self.body.add_widget(self.groups)
        normal = BigButton(text="不需要，普通取号", size_hint_y=None, height=max(app.px(150), app.tx(52) * 1.5),
                           font_size=app.tx(52))
        normal.bind(on_release=lambda *_: self._pick(None))
        back = BigButton(text="返回", size_hint=(None, None), width=app.px(300), height=normal.height,
                         bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.PAGE), ink=theme.rgba(theme.BLUE),
                         outlined=True)
        back.bind(on_release=lambda *_: setattr(self.manager, "current", "grid"))
        footer = BoxLayout(size_hint_y=None, height=normal.height, spacing=app.px(theme.GAP))
        footer.add_widget(back)
        footer.add_widget(normal)
        self.body.add_widget(footer)
        self._busy_until = 0.0
        self.bind(size=lambda *_: self._arrange())

    def _arrange(self) -> None:
        large = App.get_running_app().text_scale > 1
        self.groups.cols = 1 if large and self.height > self.width else 2

    def _pick(self, group: str | None) -> None:
        if self.clock() < self._busy_until:
            return
        self._busy_until = self.clock() + 1.0
        self.manager.get_screen("ticket").issue(self.service_code, group)
