"""The green-channel step (绿色通道): a card per priority group, or 不需要，普通取号.

Static layout in priority.kv; here only the cards of the hall's priority groups and where a tap goes.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from ..base import VisitorScreen, kv_ids
from ..widgets import ServiceCard, icon_path, measure

Builder.load_file(str(Path(__file__).with_name("priority.kv")))
DETAIL = "优先办理"


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
            card = ServiceCard(code=g.code, name=g.name, detail=DETAIL, icon_source=icon_path(g.icon))
            card.bind(on_release=lambda c: self._pick(c.code))
            self.groups.add_widget(card)
        # a card too short for its name and 优先办理 (a 4:3 or 5:4 landscape in large type: the name takes
        # two lines) leaves 优先办理 out on every card: the question above says it
        self._fit_trigger = Clock.create_trigger(self._fit_cards)
        for card in self.groups.children:
            card.bind(size=self._fit_trigger)
            card.ids.name.bind(texture_size=self._fit_trigger)
        kv_ids(self.layout).normal.bind(on_release=lambda *_: self._pick(None))
        kv_ids(self.layout).back.bind(on_release=lambda *_: setattr(self.manager, "current", "grid"))
        self.body.add_widget(self.layout)
        self._busy_until = 0.0
        self.bind(size=lambda *_: self._arrange())

    def _arrange(self) -> None:
        large = App.get_running_app().text_scale > 1
        self.layout.one_column = large and self.height > self.width

    def _fit_cards(self, *_args) -> None:
        cards = self.groups.children
        if not cards:
            return
        line = measure(DETAIL, cards[0].ids.detail.font_size)[1]
        short = any(c.ids.name.texture_size[1] + line + c.padding[1] + c.padding[3] > c.height + 0.5 for c in cards)
        for card in cards:
            card.detail = "" if short else DETAIL

    def _pick(self, group: str | None) -> None:
        if self.clock() < self._busy_until:
            return
        self._busy_until = self.clock() + 1.0
        self.manager.get_screen("ticket").issue(self.service_code, group)
