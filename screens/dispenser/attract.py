"""The attract screen: the hall's name, the date and a large clock, 请触摸屏幕取号; a tap anywhere starts."""

from __future__ import annotations

from datetime import datetime

from kivy.app import App
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.label import Label

from .. import theme
from ..base import VisitorScreen, date_text, style_buttons
from ..widgets import BigButton, icon_path, label

class AttractScreen(VisitorScreen):
    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.idle_s  # runs only while a visitor's style is on
        super().__init__(terminal, **kw)
        app = App.get_running_app()
        self.body.padding = app.px(48)
        self.body.spacing = app.px(32)
        # the hall's name and the clock are display type, far above any minimum: they do not grow
        self.hall = label(terminal.hall_name, 76 / app.text_scale, theme.BLUE, bold=True, size_hint_y=None,
                          height=app.px(90))
        self.date = label("", 48, theme.INK_SOFT, size_hint_y=None, height=0)
        self.time = label("", 150 / app.text_scale, theme.INK, bold=True, size_hint_y=None, height=app.px(180))
        touch = BigButton(text="请触摸屏幕取号", font_size=app.tx(72), size_hint=(None, None),
                          width=app.px(900), height=max(app.px(200), app.tx(72) * 1.6), pos_hint={"center_x": .5})
        touch.bind(on_release=lambda *_: self.start())
        self.touch_button = touch
        hint = BoxLayout(size_hint_y=None, height=app.px(120), spacing=app.px(16))
        hint.add_widget(Image(source=icon_path("touch"), size_hint=(None, None),
                              size=(app.px(96), app.px(96)), fit_mode="contain", pos_hint={"center_y": .5}))
        self.hint = label("轻触任意位置开始 · 老年人、残疾人等可优先办理", theme.TEXT, theme.INK_SOFT,
                          size_hint_y=None, height=app.px(96), pos_hint={"center_y": .5})
        self.hint.bind(height=lambda w, v: setattr(hint, "height", max(app.px(120), v)))
        hint.add_widget(self.hint)
        self.styles = style_buttons(self)
        for w in (Label(), self.hall, self.date, self.time, touch, hint, Label(), self.styles):
            self.body.add_widget(w)

        self.bind(size=lambda *_: self._arrange())

    def _compact(self) -> bool:
        """Large type on a landscape screen: the header already shows the date; no room for it twice."""
        return App.get_running_app().text_scale > 1 and self.width > self.height

    def _arrange(self) -> None:
        app = App.get_running_app()
        tight = self.width > self.height  # landscape: 950 px under the header hold eight rows only tightly
        self.body.padding = app.px(32 if tight else 48)
        self.body.spacing = app.px(16 if tight else 32)

    def on_enter(self, *args):
        if App.get_running_app().visitor_style_changed():
            super().on_enter(*args)

    def on_touch_up(self, touch):
        # the whole screen is the button: elderly visitors tap wherever they look
        if any(b.collide_point(*b.to_widget(*touch.pos)) for b in self.styles.children):
            return super().on_touch_up(touch)
        if self.overlay.parent is not None or touch.ud.get("warning"):
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
        self.date.text = "" if self._compact() else date_text(now)
        self.time.text = f"{now:%H:%M}"
