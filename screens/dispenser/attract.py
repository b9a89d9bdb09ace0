"""The attract screen: the hall's name, the date and a large clock, 请触摸屏幕取号; a tap anywhere starts.

Static layout in attract.kv; here only the clock's text, the orientation and where a tap goes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from ..base import VisitorScreen, date_text, kv_ids, style_buttons
from ..widgets import px

Builder.load_file(str(Path(__file__).with_name("attract.kv")))


class AttractBody(BoxLayout):
    hall_name = StringProperty("")
    date_text = StringProperty("")
    time_text = StringProperty("")
    tight = BooleanProperty(False)  # a landscape screen: less padding and spacing
    short = BooleanProperty(False)  # too short for every line: the hall's name is left to the header


class AttractScreen(VisitorScreen):
    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.idle_s  # runs only while a visitor's style is on
        super().__init__(terminal, **kw)
        self.body.padding = 0  # the attract body pads itself (attract.kv)
        self.layout = AttractBody(hall_name=terminal.hall_name)
        ids = kv_ids(self.layout)
        self.hall, self.date, self.time, self.hint = ids.hall, ids.date, ids.time, ids.hint
        self.touch_button = ids.touch
        self.touch_button.bind(on_release=lambda *_: self.start())
        self.styles = style_buttons(self)  # the visitor's own style and 呼叫工作人员 (screens/base.py)
        self.layout.add_widget(self.styles)
        self.body.add_widget(self.layout)
        self.bind(size=lambda *_: setattr(self.layout, "tight", self.width > self.height))
        # a body too short for every line (a 4:3 or 5:4 panel in large type) leaves out the hall's name:
        # the header shows it too
        self._fit_trigger = Clock.create_trigger(self._fit_height)
        for w in (self.layout, self.styles, self.date, self.hint):
            w.bind(height=self._fit_trigger)

    def _fit_height(self, *_args) -> None:
        lay, hall = self.layout, self.hall
        kids = [c for c in lay.children if c is not hall]
        fixed = [c for c in kids if c.size_hint_y is None]
        need = (lay.padding[1] + lay.padding[3] + lay.spacing * len(kids)  # len(kids) + 1 children with the hall
                + sum(c.height for c in fixed) + max(px(90), hall.texture_size[1]))
        lay.short = need > lay.height + 0.5

    def _compact(self) -> bool:
        """Large type on a landscape screen: the header already shows the date; no room for it twice."""
        return App.get_running_app().text_scale > 1 and self.width > self.height

    def on_enter(self, *args):
        if App.get_running_app().visitor_style_changed():
            super().on_enter(*args)

    def on_touch_up(self, touch):
        # the whole screen is the button: elderly visitors tap wherever they look
        if any(b.collide_point(*b.to_widget(*touch.pos)) for b in self.styles.children):
            return super().on_touch_up(touch)
        if self.warning_shown() or touch.ud.get("warning"):
            return super().on_touch_up(touch)
        if self.collide_point(*touch.pos) and touch.grab_current is None:
            self.start()
            return True
        return super().on_touch_up(touch)

    def start(self) -> None:
        if self.manager.current == self.name:
            self.manager.current = "grid"

    def tick_clock(self, now: datetime) -> None:
        super().tick_clock(now)
        self.layout.date_text = "" if self._compact() else date_text(now)
        self.layout.time_text = f"{now:%H:%M}"
