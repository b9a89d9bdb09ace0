"""Drive the kiosk App without a display: for tests, benchmarks and screenshots.

Set ``SDL_VIDEODRIVER=offscreen`` and a temporary ``KIVY_HOME`` before the
first Kivy import (``offscreen_environment`` does it). The App is built and
attached to the (invisible) window without entering its main loop; ``pump``
runs frames.
"""

from __future__ import annotations

import os
import tempfile
import time


def offscreen_environment() -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")


class Harness:
    """An App attached to the offscreen window, with helpers to tap and render."""

    def __init__(self, terminal, size: tuple[int, int] = (1920, 1080), monotonic=None, **app_options):
        """``monotonic``: the screens' clock for timeouts and double-tap guards (a test's fake clock)."""
        offscreen_environment()
        from wiring.app import create_app, prepare_kivy

        prepare_kivy(windowed=True, size=size)
        from kivy.base import EventLoop
        from kivy.core.window import Window

        EventLoop.ensure_window()
        self.window = Window
        self.window.size = size
        self.app = create_app(terminal, allow_close=True, **app_options)
        if monotonic is not None:
            self.app.monotonic = monotonic  # injected into every VisitorScreen (screens/base.py)
        from kivy.app import App

        App._running_app = self.app
        self.app._run_prepare()
        self.pump()
        self.app.warm_fonts()  # what the running app does on its attract screen

    @property
    def sm(self):
        return self.app.root

    def resize(self, size: tuple[int, int]) -> None:
        self.window.size = size
        self.pump()

    def pump(self, frames: int = 3) -> None:
        from kivy.base import EventLoop

        for _ in range(frames):
            EventLoop.idle()

    def wait(self, condition, timeout: float = 5.0) -> bool:
        """Run frames until ``condition()`` holds (True) or the timeout passes (False)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(1)
            if condition():
                return True
            time.sleep(0.01)
        return bool(condition())

    def tap(self, widget) -> None:
        """A real touch down/up at the widget's centre, through the window's dispatch."""
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        self.pump()

    def screenshot(self, path) -> str:
        self.pump()
        self.sm.current_screen.export_to_png(str(path))
        return str(path)

    def close(self) -> None:
        from kivy.app import App
        from kivy.clock import Clock

        for screen in self.sm.screens:
            if getattr(screen, "idle", None):
                screen.idle.stop()
        if getattr(self.app, "card_watcher", None) is not None:
            self.app.card_watcher.stop()
        from kivy.base import ExceptionManager

        if self.app.crash_handler in ExceptionManager.handlers:
            ExceptionManager.remove_handler(self.app.crash_handler)
        if self.app._dim is not None:
            self.window.remove_widget(self.app._dim)
        self.window.remove_widget(self.app.root)
        self.app.terminal.close()
        for event in Clock.get_events():
            event.cancel()
        App._running_app = None
        from screens import theme

        theme.use_palette(False)  # a visitor's high contrast must not outlive this App
        # kv rules reach the App through a proxy that keeps the first App until on_stop;
        # forget it, or the next harness sizes kv widgets with this app's text scale
        from kivy.lang.parser import global_idmap

        object.__setattr__(global_idmap["app"], "_obj", None)
