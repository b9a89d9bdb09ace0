"""The green-channel step (绿色通道): a card per priority group, or 不需要，普通取号.

Static layout in priority.kv; here only the cards of the hall's priority groups and where a tap goes.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from ..base import VisitorScreen, kv_ids
from ..widgets import ServiceCard, icon_path

Builder.load_file(str(Path(__file__).with_name("priority.kv")))


class PriorityBody(BoxLayout):
    one_column = BooleanProperty(False)  # large type on a portrait screen


class PriorityScreen(VisitorScreen):
    service_code = StringProperty("")

    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.idle_s
        super().__init__(terminal, **kw)
        self.layout = PriorityBody()
        self.groups = kv_ids(self.layout).groups
        for g in terminal.priority_groups:  # the hall's groups
            card = ServiceCard(code=g.code, name=g.name, detail="优先办理", icon_source=icon_path(g.icon))
            card.bind(on_release=lambda c: self._pick(c.code))
            self.groups.add_widget(card)
        kv_ids(self.layout).normal.bind(on_release=lambda *_: self._pick(None))
        kv_ids(self.layout).back.bind(on_release=lambda *_: setattr(self.manager, "current", "grid"))
        self.body.add_widget(self.layout)
        self._busy_until = 0.0
        self.bind(size=lambda *_: self._arrange())

    def _arrange(self) -> None:
        large = App.get_running_app().text_scale > 1
        self.layout.one_column = large and self.height > self.width

    def _pick(self, group: str | None) -> None:
        if self.clock() < self._busy_until:
            return
        self._busy_until = self.clock() + 1.0
        self.manager.get_screen("ticket").issue(self.service_code, group)
