"""The idle timeout of a visitor screen: the timer and the warning drawn over the screen."""

from __future__ import annotations

import time
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from . import basic  # noqa: F401  (its kv rules: Panel, BigButton)
from .basic import Label

Builder.load_file(str(Path(__file__).with_name("timeout.kv")))


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
    without notice. It only runs while started. Time is read from ``clock`` (monotonic
    seconds, injected: tests pass a fake one); Kivy's clock only decides how often it is looked at.
    """

    def __init__(self, timeout: float, warn: float, on_timeout, on_tick, on_warn=None, busy=None,
                 clock=time.monotonic):
        self.now = clock
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
