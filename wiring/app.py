"""The Kivy App: composes the screens of a terminal's mode around its ``Terminal`` and runs it.

The App owns the window's behaviour (scale, refusing close and Escape, dimming when idle,
the first-frame and systemd hooks). Its neighbours each hold one job:
``wiring/kivy_setup.py`` (``prepare_kivy``, before Kivy is imported), ``wiring/mode_screens.py``
(which screens a mode shows), ``wiring/visitor_session.py`` (a visitor's session and live
settings) and ``wiring/lifecycle.py`` (signals, fatal errors, the crash handler).
``prepare_kivy``, ``StopOnSignals`` and ``STOP_GRACE_S`` stay importable from here.
"""

from __future__ import annotations

import logging
import os

from kiosk.config import TerminalConfig
from kiosk.domain import Hall
from kiosk.terminal import Terminal
from wiring.kivy_setup import prepare_kivy, prepare_screen
from wiring.lifecycle import STOP_GRACE_S, StopOnSignals, crash_handler, record_fatal_errors
from wiring.mode_screens import home_screen, mode_screens
from wiring.visitor_session import VisitorSession

__all__ = ["DIM_AFTER_S", "MAINTENANCE_EXIT", "STOP_GRACE_S", "StopOnSignals", "build_app_class", "create_app",
           "prepare_kivy", "run_app"]

log = logging.getLogger(__name__)

MAINTENANCE_EXIT = 75  # "exit for maintenance": the systemd unit does not restart on this code
DIM_AFTER_S = 600  # attract screen untouched this long: dim the backlight picture, wake on touch


def build_app_class():
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.properties import NumericProperty
    from kivy.uix.screenmanager import NoTransition

    class KioskApp(VisitorSession, App):
        scale = NumericProperty(1.0)  # window short side / 1080
        text_scale = NumericProperty(1.0)  # 1.5 in the large-type mode

        use_kivy_settings = False  # F1 must not open Kivy's own settings panel

        def __init__(self, terminal: Terminal, allow_close: bool = False, first_run_pin: bool = False, **kw):
            super().__init__(**kw)
            self.terminal = terminal
            self.allow_close = allow_close
            self.first_run_pin = first_run_pin  # start on the set-a-PIN screen when none is set
            self.exit_code = 0
            self.key_handler = None  # a mode that takes hardware keys (the evaluator's keypad)
            self._dim = None
            self._idle_s = 0.0
            self.title = f"{terminal.hall_name} 自助取号"
            self.text_scale = 1.5 if terminal.config.font_scale == "large" else 1.0
            self.visitor_large = None  # a visitor's own 长辈模式 / 高对比度 choice; None: the staff default
            self.visitor_contrast = None
            self.sm = None  # the ScreenManager, once built
            self._rescreen = Clock.create_trigger(lambda _dt: self.rescreen_for_scale())

        def px(self, value: float) -> float:
            return value * self.scale

        def tx(self, value: float) -> float:
            return value * self.scale * self.text_scale

        def build(self):
            from kivy.base import ExceptionManager

            from screens.kivy_fixes import finish_gl_after_each_frame, narrow_centred_text, release_text_surfaces
            from screens.lazy_screens import LazyScreenManager

            finish_gl_after_each_frame()
            release_text_surfaces()
            narrow_centred_text()
            self._rescale(Window, Window.size)
            Window.allow_screensaver = False  # the screen stays awake; we dim it ourselves
            Window.bind(size=self._rescale, on_request_close=self._on_request_close,
                        on_keyboard=self._on_keyboard)
            sm = LazyScreenManager(transition=NoTransition())
            self.sm = sm
            self.add_mode_screens()
            for name in self.STAFF_SCREENS:
                sm.add_lazy(name, lambda name=name: self.staff_screen(name))
            self._after_next_frame(self._after_first_frame)
            sm.current = self.home
            if self.first_run_pin and not self.terminal.settings.pin_set():
                sm.current = "firstpin"
            self.card_watcher = None
            if self.terminal.dispenses and getattr(self.terminal, "idcard_reader", None) is not None:
                from screens.checkin import CardWatcher

                self.card_watcher = CardWatcher(self, self.terminal.idcard_reader)
                self.card_watcher.start()
            self.terminal.after_next_frame = self._after_next_frame
            self.crash_handler = crash_handler(self)
            ExceptionManager.add_handler(self.crash_handler)
            Window.bind(on_touch_down=self._wake)
            # any touch, down, move or up, is a visitor acting: it holds every timeout
            Window.bind(on_touch_down=self.note_activity, on_touch_move=self.note_activity,
                        on_touch_up=self.note_activity)
            Clock.schedule_interval(self._idle_tick, 1)
            if os.environ.get("KIOSK_EXIT_AFTER_FIRST_FRAME"):  # bench/cold_start.py measures this
                Window.bind(on_flip=self._first_frame)
            self._tick(0)
            Clock.schedule_interval(self._tick, 1)
            return sm

        def _tell_systemd(self) -> None:
            """READY=1 once the first screen is up and the queue open, then watchdog pings from the UI loop.

            The pings come from the Kivy clock, so a frozen UI stops them and systemd
            restarts the app (WatchdogSec in deploy/kiosk-terminal.service).
            """
            from kiosk import watchdog

            watchdog.ready(f"{self.terminal.config.mode} ready")
            interval = watchdog.watchdog_interval_s()
            if interval:
                Clock.schedule_interval(lambda dt: watchdog.ping(), interval)

        @property
        def home(self) -> str:
            """The screen every flow returns to (``wiring/mode_screens.py::home_screen``)."""
            return home_screen(self.terminal.config.mode)

        def add_mode_screens(self) -> None:
            """The mode's screens on the manager: the home screen built now, the screens of every visitor's
            way right after the first frame (``build_soon``), the rest on first show."""
            screens, lazy, soon = mode_screens(self.terminal)
            # the maintenance page shows when something went wrong: built after the first frame, not then
            self.soon = (*soon, "maintenance")
            for screen in screens:
                self.sm.add_widget(screen)
            for name, factory in lazy.items():
                self.sm.add_lazy(name, factory)

        def _after_first_frame(self) -> None:
            """What waits for the first frame: the queue and the visitors' screens, then the fonts' faces.
            Timed from the first frame, not from build(): on a slow start a timer would run before it."""
            Clock.schedule_once(lambda dt: self._open_then_tell_systemd(), 0)
            Clock.schedule_once(lambda dt: self.warm_fonts(), 0.5)

        def _open_then_tell_systemd(self) -> None:
            self.build_soon()
            self._tell_systemd()  # ready means a visitor's tap is answered: the queue is open

        def build_soon(self) -> None:
            """Open the queue and build the screens every visitor may meet that wait since the start (a no-op
            once done)."""
            self.terminal.open_queue()
            for name in self.soon:
                if name in self.sm.waiting():
                    self.sm.get_screen(name)

        def warm_fonts(self) -> None:
            """Open the CJK font's faces the screens use, once, while nobody waits.

            SDL_ttf parses the 5 MB font file for each new (pixel size, bold) face (about 60 ms
            here); paying that on the attract screen keeps it off the first tap. Only the faces the
            labels use: each costs about 0.3 MB for the life of the app (``screens/fonts.py``).
            """
            from screens import fonts

            self.build_soon()  # their faces too (built already unless the first frame came late)
            faces = fonts.faces_in_use(w for screen in self.sm.screens for w in screen.walk())
            if self.sm.has_screen("ticket"):
                faces.add((int(self.sm.get_screen("ticket").number_size_hint()), True))
            fonts.warm(faces)

        def _after_next_frame(self, fn) -> None:
            def once(*_args):
                Window.unbind(on_flip=once)
                fn()

            Window.bind(on_flip=once)

        def _first_frame(self, *_args) -> None:
            import time

            import sys

            queue = "open" if "sqlalchemy" in sys.modules else "waiting"  # it opens after this frame
            print(f"first-frame {time.time():.6f} {self.sm.current} cpu {time.process_time():.3f} queue {queue}",
                  flush=True)
            self.stop()

        def _rescale(self, _window, size) -> None:
            scale = min(size) / 1080.0
            if scale == self.scale:
                return  # turned (1920x1080 to 1080x1920): the screens reflow by themselves
            self.scale = scale
            if self.sm is not None:  # built at the old scale: build them again (next frame, once)
                self._rescreen()

        def staff_screen(self, name: str):
            return _staff_screen(self.terminal, name)

        def _tick(self, _dt) -> None:
            now = self.terminal.now()  # the hall's time zone, whatever the machine's
            for screen in self.sm.screens:
                if hasattr(screen, "tick_clock"):
                    screen.tick_clock(now)

        def _on_request_close(self, *_args, **_kw) -> bool:
            # Alt+F4 and the window manager's close: a kiosk stays up (True = refuse)
            return not self.allow_close

        def _on_keyboard(self, _window, key, _scancode=None, codepoint=None, *_args) -> bool:
            # Escape (27), the Android back key and F1 (Kivy's settings) must not leave the full-screen
            # app; in --windowed (development) Escape closes it, as the window's close button does
            if key == 27 and self.allow_close:
                self.stop()
                return True
            if key in (27, 1001, 282):
                return True
            return bool(self.key_handler and codepoint and self.key_handler(codepoint))

        def open_settings(self, *args) -> bool:
            return False  # Kivy's settings panel would show the desktop's config to visitors

        def _wake(self, *_args) -> bool:
            self._idle_s = 0.0
            if self._dim is not None:
                Window.remove_widget(self._dim)
                self._dim = None
                return True  # the waking touch only wakes, it does not press a button
            return False

        def _idle_tick(self, dt) -> None:
            self._idle_s += dt
            if self._dim is None and self._idle_s >= DIM_AFTER_S and self.sm.current == self.home:
                from kivy.graphics import Color, Rectangle
                from kivy.uix.widget import Widget

                self._dim = Widget(size=Window.size)
                with self._dim.canvas:
                    Color(0, 0, 0, 0.75)
                    Rectangle(size=Window.size)
                Window.add_widget(self._dim)

        def exit_for_maintenance(self) -> None:
            log.warning("exit for maintenance requested from the settings screen")
            self.exit_code = MAINTENANCE_EXIT
            self.stop()

        def on_stop(self) -> None:
            if getattr(self, "card_watcher", None) is not None:
                self.card_watcher.stop()
            self.terminal.close()

    return KioskApp


def _staff_screen(terminal: Terminal, name: str):
    if name == "maintenance":
        from screens.maintenance import MaintenanceScreen

        return MaintenanceScreen(terminal, name=name)
    from screens.settings import FirstPinScreen, PinScreen, SettingsScreen

    cls = {"pin": PinScreen, "settings": SettingsScreen, "firstpin": FirstPinScreen}[name]
    return cls(terminal, name=name)


def create_app(terminal: Terminal, allow_close: bool = False, first_run_pin: bool = False):
    return build_app_class()(terminal, allow_close=allow_close, first_run_pin=first_run_pin)


def run_app(config: TerminalConfig, hall: Hall, windowed: bool = False, size: tuple[int, int] | None = None) -> int:
    """The terminal of ``config`` full screen until it stops; its exit code. ``hall``: the hall file ``config``
    names, read and validated before (``wiring/cli/run.py``: a bad one is refused before Kivy starts)."""
    from kiosk.logs import setup_logging

    stopper = StopOnSignals()
    stopper.install()
    setup_logging(config.data_dir)
    record_fatal_errors(config.data_dir)
    prepare_screen(windowed, size)  # NoDisplay: no screen at all (wiring.cli.run says so)
    from wiring.terminal import open_terminal

    terminal = open_terminal(config, hall=hall)
    log.info("starting %s terminal '%s' for %s (data: %s)", config.mode, config.name, terminal.hall_name,
             config.data_dir)
    try:
        app = create_app(terminal, allow_close=windowed, first_run_pin=not windowed)
    except BaseException:
        terminal.close()
        raise
    stopper.app = app
    app.run()
    if stopper.received is not None:
        log.info("stopped by signal %d", stopper.received)
    return app.exit_code
