"""Reusable visitor widgets: panels, big buttons, service cards, header, countdown."""

from __future__ import annotations

import math
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


def measure(text: str, font_size: float, bold: bool = False, width: float | None = None) -> tuple[int, int]:
    """The size of ``text`` rendered at ``font_size`` (wrapped at ``width`` when given)."""
    from kivy.core.text import Label as CoreLabel

    core = CoreLabel(text=text, font_size=font_size, bold=bold, text_size=(width, None))
    core.refresh()
    return core.texture.size if core.texture else (0, 0)


def fit_font(text: str, width: float, largest: float, smallest: float, bold: bool = False) -> float:
    """The largest size from ``largest`` down to ``smallest`` at which ``text`` fits one line of ``width``."""
    natural = measure(text, largest, bold)[0]
    if natural <= width:
        return largest
    return max(smallest, int(largest * width / natural) - 1)


def icon_path(name: str) -> str:
    path = ASSETS_DIR / "icons" / f"{name}.png"
    return str(path if path.exists() else ASSETS_DIR / "icons" / "general.png")


class Panel(BoxLayout):
    bg = ColorProperty(theme.rgba(theme.WHITE))
    radius = NumericProperty(20)

    def __init__(self, **kw):
        kw.setdefault("bg", theme.rgba(theme.WHITE))  # the palette of the moment (high contrast)
        super().__init__(**kw)


class BigButton(ButtonBehavior, Label):
    """A labelled button. Disabled, it turns grey with dark text (still 7:1), never faint."""

    bg = ColorProperty(theme.rgba(theme.BLUE))
    bg_down = ColorProperty(theme.rgba(theme.BLUE_DARK))
    ink = ColorProperty(theme.rgba(theme.WHITE))
    outlined = BooleanProperty(False)  # a light button gets a visible edge in its ink colour
    edge = ColorProperty((0, 0, 0, 0))

    def __init__(self, **kw):
        kw.setdefault("bg", theme.rgba(theme.BLUE))
        kw.setdefault("bg_down", theme.rgba(theme.BLUE_DARK))
        kw.setdefault("ink", theme.rgba(theme.WHITE))
        self.disabled_bg = theme.rgba(theme.DISABLED_BG)
        self.disabled_ink = theme.rgba(theme.DISABLED_INK)
        super().__init__(**kw)


class ServiceCard(ButtonBehavior, BoxLayout):
    code = StringProperty("")
    name = StringProperty("")
    detail = StringProperty("")
    icon_source = StringProperty("")
    enabled = BooleanProperty(True)  # a closed service stays visible, with its reason

    def __init__(self, **kw):
        self.palette = {k: theme.rgba(getattr(theme, k)) for k in theme.NORMAL_PALETTE}
        super().__init__(**kw)


class Header(BoxLayout):
    """The hall's title bar. Holding the logo corner for 3 s fires ``on_long_press``:
    the hidden way in to the settings, invisible to visitors."""

    title = StringProperty("")
    title_size = NumericProperty(0)  # fitted to the room beside the clock; 0 until laid out
    clock_text = StringProperty("")
    status_text = StringProperty("")  # e.g. the offline marker
    logo_source = StringProperty(icon_path("home"))
    hold_seconds = NumericProperty(3.0)

    __events__ = ("on_long_press",)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._hold = None
        self.ids.title.bind(width=self._fit_title)
        self.bind(title=self._fit_title)

    def _fit_title(self, *_args) -> None:
        """The hall's name on one line when it fits (down to the smallest visitor size), else two."""
        from kivy.app import App

        app = App.get_running_app()
        width = self.ids.title.width
        if width <= 1 or not self.title:
            return
        self.title_size = fit_font(self.title, width, app.tx(theme.TITLE), app.tx(theme.TEXT_SMALL), bold=True)

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


MIN_WARN_S = 10.0  # PRODUCT.md 5: at least 10 s of warning before a terminal goes home
WARNING_SPEECH = "即将返回首页，如需继续，请点继续使用"


class WarningOverlay(BoxLayout):
    """The timeout warning over the whole screen: what happens, when, and a large 继续使用.

    ``text`` is the message ("15 秒后返回首页"); it shows itself on its screen
    while ``text`` is set. Touching anywhere counts as activity (the App pokes
    the screen's timer), so the button is there for those who need a target.
    """

    text = StringProperty("")
    audit_box = True

    __events__ = ("on_continue",)

    def __init__(self, screen, **kw):
        super().__init__(**kw)
        self.screen = screen
        self.bind(text=self._show)

    def _show(self, *_args) -> None:
        if self.text and self.parent is None:
            self.screen.add_widget(self)
        elif not self.text and self.parent is not None:
            # after this touch is handled: the touch that ends the warning must not reach what is under it
            Clock.schedule_once(lambda dt: self._hide(), 0)

    def _hide(self) -> None:
        if not self.text and self.parent is not None:
            self.parent.remove_widget(self)

    def on_touch_down(self, touch):
        super().on_touch_down(touch)
        touch.ud["warning"] = True
        return True  # a touch on the warning only continues; nothing under it is pressed

    def on_touch_move(self, touch):
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch):
        super().on_touch_up(touch)
        return True

    def press_continue(self) -> None:
        self.text = ""
        self.dispatch("on_continue")

    def on_continue(self) -> None:
        pass


class IdleTimer:
    """Calls ``on_timeout`` after ``timeout`` seconds without activity.

    Activity is ``poke()`` (the App pokes on every touch down, move and up) and,
    through ``busy()``, speech still running. The last ``max(warn, 10)`` seconds
    are announced through ``on_tick(seconds_left)`` (0 clears the warning) and,
    once, ``on_warn()`` (the spoken warning); a visitor is never sent home
    without notice. It only runs while started. Time is read from ``IdleTimer.now``
    (monotonic seconds); Kivy's clock only decides how often it is looked at.
    """

    now = staticmethod(time.monotonic)  # tests replace it with a fake clock (conftest ``idle_clock``)

    def __init__(self, timeout: float, warn: float, on_timeout, on_tick, on_warn=None, busy=None):
        self.timeout, self.warn = timeout, warn
        self.on_timeout, self.on_tick = on_timeout, on_tick
        self.on_warn, self.busy = on_warn, busy
        self._since = self.now()
        self._event = None
        self.warning = False

    @property
    def warn_s(self) -> float:
        return max(self.warn, MIN_WARN_S)

    @property
    def running(self) -> bool:
        return self._event is not None

    def left(self) -> float:
        return self.timeout - (self.now() - self._since)

    def start(self) -> None:
        self.stop()
        self._since = self.now()
        self._event = Clock.schedule_interval(self._step, 0.25)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.warning = False
        self.on_tick(0)

    def poke(self) -> None:
        if self._event is not None:
            self._since = self.now()
            if self.warning:
                self.warning = False
                self.on_tick(0)

    def _step(self, dt: float) -> None:
        if not self.warning and self.busy is not None and self.busy():
            self._since = self.now()  # reading aloud: the visitor is listening
        left = self.left()
        if left <= 0:
            self.stop()
            self.on_timeout()
        elif left <= self.warn_s:
            if not self.warning:
                self.warning = True
                if self.on_warn is not None:
                    self.on_warn()
            self.on_tick(int(left) + 1)  # "5 秒" counts the second under way
