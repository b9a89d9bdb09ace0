"""The Kivy App: the one module in ``kiosk`` that imports Kivy.

``prepare_kivy`` must run before Kivy is imported anywhere: it sets the
environment and config that decide the window (full screen, no exit on
Escape) and registers the shipped CJK font as Kivy's default.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

from . import paths
from .config import TerminalConfig
from .terminal import Terminal, build_terminal

log = logging.getLogger(__name__)


def prepare_kivy(windowed: bool, size: tuple[int, int] | None) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our CLI owns argv
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("input", "mouse", "mouse,disable_multitouch")  # no red dots on right click
    Config.set("graphics", "resizable", "1" if windowed else "0")
    if windowed:
        w, h = size or (1280, 720)
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "width", str(w))
        Config.set("graphics", "height", str(h))
    else:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "show_cursor", "0")
    from kivy.core.text import DEFAULT_FONT, LabelBase

    # One font for every label: WenQuanYi Micro Hei covers Chinese and Latin.
    LabelBase.register(DEFAULT_FONT, str(paths.FONT_PATH), None, str(paths.FONT_PATH))


def build_app_class():
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.properties import NumericProperty
    from kivy.uix.screenmanager import NoTransition, ScreenManager

    class KioskApp(App):
        scale = NumericProperty(1.0)  # window short side / 1080
        text_scale = NumericProperty(1.0)  # 1.5 in the large-type mode

        def __init__(self, terminal: Terminal, allow_close: bool = False, **kw):
            super().__init__(**kw)
            self.terminal = terminal
            self.allow_close = allow_close
            self.title = f"{terminal.hall_name} 自助取号"
            self.text_scale = 1.5 if terminal.config.font_scale == "large" else 1.0

        def px(self, value: float) -> float:
            return value * self.scale

        def tx(self, value: float) -> float:
            return value * self.scale * self.text_scale

        def build(self):
            from screens.dispenser import AttractScreen, GridScreen, PriorityScreen, TicketScreen

            self._rescale(Window, Window.size)
            Window.bind(size=self._rescale, on_request_close=self._on_request_close,
                        on_keyboard=self._on_keyboard)
            sm = ScreenManager(transition=NoTransition())
            for cls, name in ((AttractScreen, "attract"), (GridScreen, "grid"),
                              (PriorityScreen, "priority"), (TicketScreen, "ticket")):
                sm.add_widget(cls(self.terminal, name=name))
            self.sm = sm
            if os.environ.get("KIOSK_EXIT_AFTER_FIRST_FRAME"):  # bench/cold_start.py measures this
                Window.bind(on_flip=self._first_frame)
            self._tick(0)
            Clock.schedule_interval(self._tick, 1)
            return sm

        def _first_frame(self, *_args) -> None:
            import time

            print(f"first-frame {time.time():.6f} {self.sm.current}", flush=True)
            self.stop()

        def _rescale(self, _window, size) -> None:
            self.scale = min(size) / 1080.0

        def _tick(self, _dt) -> None:
            now = datetime.now()
            for screen in self.sm.screens:
                screen.tick_clock(now)

        def _on_request_close(self, *_args, **_kw) -> bool:
            # Alt+F4 and the window manager's close: a kiosk stays up (True = refuse)
            return not self.allow_close

        def _on_keyboard(self, _window, key, *_args) -> bool:
            # Escape (27) and the Android back key must not leave the app
            return key in (27, 1001)

        def on_stop(self) -> None:
            self.terminal.close()

    return KioskApp


def create_app(terminal: Terminal, allow_close: bool = False):
    return build_app_class()(terminal, allow_close=allow_close)


def run_app(config: TerminalConfig, windowed: bool = False, size: tuple[int, int] | None = None) -> int:
    from .logs import setup_logging

    setup_logging(config.data_dir)
    prepare_kivy(windowed, size)
    terminal = build_terminal(config)
    log.info("starting %s terminal '%s' for %s (data: %s)", config.mode, config.name, terminal.hall_name,
             config.data_dir)
    create_app(terminal, allow_close=windowed).run()
    return 0
