"""Reusable visitor widgets: panels, big buttons, service cards, header, countdown."""

from __future__ import annotations

import time
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.paths import ASSETS_DIR

from . import theme

Builder.load_file(str(Path(__file__).with_name("widgets.kv")))


def paint(widget, colour: tuple[int, int, int]) -> None:
    """Fill ``widget``'s area with a solid colour that follows its position and size."""
    from kivy.graphics import Color, Rectangle

    with widget.canvas.before:
        Color(*theme.rgba(colour))
        rect = Rectangle(pos=widget.pos, size=widget.size)
    widget.bind(pos=lambda w, p: setattr(rect, "pos", p), size=lambda w, s: setattr(rect, "size", s))


def icon_path(name: str) -> str:
    path = ASSETS_DIR / "icons" / f"{name}.png"
    return str(path if path.exists() else ASSETS_DIR / "icons" / "general.png")


class Panel(BoxLayout):
    bg = ColorProperty(theme.rgba(theme.WHITE))
    radius = NumericProperty(20)


class BigButton(ButtonBehavior, Label):
    bg = ColorProperty(theme.rgba(theme.BLUE))
    bg_down = ColorProperty(theme.rgba(theme.BLUE_DARK))
    ink = ColorProperty(theme.rgba(theme.WHITE))

    def on_disabled(self, _instance, value: bool) -> None:
        self.opacity = 0.5 if value else 1


class ServiceCard(ButtonBehavior, BoxLayout):
    code = StringProperty("")
    name = StringProperty("")
    detail = StringProperty("")
    icon_source = StringProperty("")
    enabled = BooleanProperty(True)  # a closed service stays visible, with its reason


class Header(BoxLayout):
    """The hall's title bar. Holding the logo corner for 3 s fires ``on_long_press``:
    the hidden way in to the settings, invisible to visitors."""

    title = StringProperty("")
    clock_text = StringProperty("")
    status_text = StringProperty("")  # e.g. the offline marker
    logo_source = StringProperty(icon_path("home"))
    hold_seconds = NumericProperty(3.0)

    __events__ = ("on_long_press",)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._hold = None

    def _in_corner(self, touch) -> bool:
        return self.collide_point(*touch.pos) and touch.x - self.x < self.height * 1.5

    def on_touch_down(self, touch):
        if self._in_corner(touch):
            self._cancel_hold()
            self._hold = Clock.schedule_once(lambda dt: self.dispatch("on_long_press"), self.hold_seconds)
            touch.ud["header_hold"] = True
        return super().on_touch_down(touch)

    def on_touch_move(self, touch):
        if touch.ud.get("header_hold") and not self._in_corner(touch):
            self._cancel_hold()
        return super().on_touch_move(touch)

    def on_touch_up(self, touch):
        if touch.ud.get("header_hold"):
            self._cancel_hold()
        return super().on_touch_up(touch)

    def _cancel_hold(self) -> None:
        if self._hold is not None:
            self._hold.cancel()
            self._hold = None

    def on_long_press(self) -> None:
        pass


class CountdownLabel(Label):
    pass


class IdleTimer:
    """Calls ``on_timeout`` after ``timeout`` seconds without a touch.

    The last ``warn`` seconds are announced through ``on_tick(seconds_left)``
    (0 clears the warning), so a visitor is never sent home without notice.
    Any touch restarts it; it only runs while started. Time is read from
    ``IdleTimer.now`` (monotonic seconds), which tests replace with a fake clock;
    Kivy's clock only decides how often it is looked at.
    """

    now = staticmethod(time.monotonic)

    def __init__(self, timeout: float, warn: float, on_timeout, on_tick):
        self.timeout, self.warn = timeout, warn
        self.on_timeout, self.on_tick = on_timeout, on_tick
        self._deadline = 0.0
        self._event = None

    def start(self) -> None:
        self.stop()
        self._deadline = self.now() + self.timeout
        self._event = Clock.schedule_interval(self._step, 0.25)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.on_tick(0)

    def poke(self) -> None:
        if self._event is not None:
            self._deadline = self.now() + self.timeout
            self.on_tick(0)

    def _step(self, _dt: float) -> None:
        left = self._deadline - self.now()
        if left <= 0:
            self.stop()
            self.on_timeout()
        elif left <= self.warn:
            self.on_tick(int(left) + 1)
