"""The Kivy App: composes the screens of a terminal's mode around its ``Terminal``.

``prepare_kivy`` must run before Kivy is imported anywhere: it sets the
environment and config that decide the window (full screen, no exit on
Escape) and registers the shipped CJK font as Kivy's default.
"""

from __future__ import annotations

import logging
import os

from kiosk import paths
from kiosk.config import TerminalConfig
from kiosk.terminal import Terminal

log = logging.getLogger(__name__)

MAINTENANCE_EXIT = 75  # "exit for maintenance": the systemd unit does not restart on this code
DIM_AFTER_S = 600  # attract screen untouched this long: dim the backlight picture, wake on touch
STOP_GRACE_S = 2.5  # after SIGTERM/SIGINT the process is gone by then, clean or not (systemd waits 3 s)


def prepare_kivy(windowed: bool, size: tuple[int, int] | None, output=None) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our CLI owns argv
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    # SDL would turn SIGTERM/SIGINT into a window-close request, which a kiosk refuses;
    # wiring.app.StopOnSignals handles them instead.
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "systemanddock")  # staff text fields get an on-screen keyboard
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
        if output is not None:
            from kiosk.display import full_screen_window

            for key, value in full_screen_window(output).items():
                Config.set("graphics", key, value)
    from kivy.core.text import DEFAULT_FONT, LabelBase

    # One font for every label: WenQuanYi Micro Hei covers Chinese and Latin.
    LabelBase.register(DEFAULT_FONT, str(paths.FONT_PATH), None, str(paths.FONT_PATH))



def build_app_class():
    from kivy.app import App
    from kivy.base import ExceptionHandler, ExceptionManager
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.properties import NumericProperty
    from kivy.uix.screenmanager import NoTransition, ScreenManager

    class KioskApp(App):
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

        def px(self, value: float) -> float:
            return value * self.scale

        def tx(self, value: float) -> float:
            return value * self.scale * self.text_scale

        def build(self):
            from kivy.base import ExceptionManager

            from screens.maintenance import MaintenanceScreen
            from screens.settings import FirstPinScreen, PinScreen, SettingsScreen

            from screens.kivy_fixes import finish_gl_after_each_frame

            finish_gl_after_each_frame()
            self._rescale(Window, Window.size)
            Window.allow_screensaver = False  # the screen stays awake; we dim it ourselves
            Window.bind(size=self._rescale, on_request_close=self._on_request_close,
                        on_keyboard=self._on_keyboard)
            sm = ScreenManager(transition=NoTransition())
            self.sm = sm
            for screen in self.mode_screens():
                sm.add_widget(screen)
            for cls, name in ((PinScreen, "pin"), (SettingsScreen, "settings"),
                              (MaintenanceScreen, "maintenance"), (FirstPinScreen, "firstpin")):
                sm.add_widget(cls(self.terminal, name=name))
            sm.current = self.home
            if self.first_run_pin and not self.terminal.settings.pin_set():
                sm.current = "firstpin"
            self.card_watcher = None
            if self.terminal.dispenses and getattr(self.terminal, "idcard_reader", None) is not None:
                from screens.checkin import CardWatcher

                self.card_watcher = CardWatcher(self, self.terminal.idcard_reader)
                self.card_watcher.start()
            self.terminal.after_next_frame = self._after_next_frame
            self.crash_handler = CrashHandler(self)
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
            Clock.schedule_once(lambda dt: self.warm_fonts(), 0.5)
            Clock.schedule_once(lambda dt: self._tell_systemd(), 0)
            return sm

        def _tell_systemd(self) -> None:
            """READY=1 once the first screen is up, then watchdog pings from the UI loop.

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
            """The screen every flow returns to: attract for a dispenser, the inquiry home else."""
            return {"dispenser": "attract", "evaluator": "evaluator"}.get(self.terminal.config.mode, "inquiry")

        def mode_screens(self) -> list:
            mode = self.terminal.config.mode
            screens = []
            if mode == "evaluator":
                from screens.evaluator import evaluator_screens

                return evaluator_screens(self.terminal)
            if mode in ("inquiry", "combined"):
                from screens.inquiry import inquiry_screens

                screens += inquiry_screens(self.terminal)
            if mode == "dispenser":
                from screens.dispenser import AttractScreen

                screens.append(AttractScreen(self.terminal, name="attract"))
            if mode in ("dispenser", "combined"):
                from screens.dispenser import GridScreen, PriorityScreen, TicketScreen

                from screens.checkin import checkin_screens

                screens += [GridScreen(self.terminal, name="grid"),
                            PriorityScreen(self.terminal, name="priority"),
                            TicketScreen(self.terminal, name="ticket"), *checkin_screens(self.terminal)]
            return screens

        def warm_fonts(self) -> None:
            """Open the CJK font at every size the screens use, once, while nobody waits.

            SDL_ttf parses the 5 MB font file for each new size (about 60 ms
            here); paying that on the attract screen keeps it off the first tap.
            """
            from kivy.core.text import Label as CoreLabel
            from kivy.uix.label import Label

            sizes = {round(w.font_size) for screen in self.sm.screens for w in screen.walk()
                     if isinstance(w, Label)}
            if self.sm.has_screen("ticket"):
                sizes.add(round(self.sm.get_screen("ticket").height * 0.27))
            for size in sorted(sizes):
                for bold in (False, True):
                    CoreLabel(text="号A0", font_size=size, bold=bold).refresh()

        def _after_next_frame(self, fn) -> None:
            def once(*_args):
                Window.unbind(on_flip=once)
                fn()

            Window.bind(on_flip=once)

        def _first_frame(self, *_args) -> None:
            import time

            print(f"first-frame {time.time():.6f} {self.sm.current}", flush=True)
            self.stop()

        def _rescale(self, _window, size) -> None:
            self.scale = min(size) / 1080.0

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

        # -------------------------------------------------- the visitor's session
        def note_activity(self, *_args) -> None:
            screen = self.sm.current_screen if self.sm else None
            timer = getattr(screen, "idle", None)
            if timer is not None:
                timer.poke()
            session = getattr(self, "evaluator_session", None)
            if session is not None:
                session.keep_alive()

        def visitor_style_changed(self) -> bool:
            return self.visitor_large is not None or self.visitor_contrast is not None

        def toggle_visitor_style(self, key: str) -> None:
            """长辈模式 (large type) or 高对比度 from a visitor's button, for this visitor only."""
            from screens import theme

            if key == "large":
                self.visitor_large = not (self.text_scale > 1)
            else:
                self.visitor_contrast = not theme.high_contrast
            Clock.schedule_once(lambda dt: self._apply_style(), 0)  # not while the tap is dispatched

        def end_visitor_session(self) -> None:
            """Back to the terminal's own type size and colours for the next visitor."""
            if self.visitor_style_changed():
                self.visitor_large = self.visitor_contrast = None
                self._apply_style()

        def _apply_style(self) -> None:
            from screens import theme

            config = self.terminal.config
            large = config.font_scale == "large" if self.visitor_large is None else self.visitor_large
            contrast = bool(self.visitor_contrast)
            if (self.text_scale > 1) == large and theme.high_contrast == contrast:
                return
            self.text_scale = 1.5 if large else 1.0
            theme.use_palette(contrast)
            self.rebuild_screens()

        def rebuild_screens(self) -> None:
            """Build the mode's screens again: sizes and colours are fixed when a widget is made."""
            staff = {"pin", "settings", "maintenance"}
            current = self.sm.current
            for screen in list(self.sm.screens):
                if screen.name in staff:
                    continue
                timer = getattr(screen, "idle", None)
                if timer is not None:
                    timer.stop()
                if screen.name == current:
                    screen.dispatch("on_leave")
                self.sm.remove_widget(screen)
            for screen in self.mode_screens():
                self.sm.add_widget(screen)
            self.sm.current = current if self.sm.has_screen(current) else self.home
            self._tick(0)

        def apply_live_settings(self) -> None:
            """After a save: font scale and timeouts take effect without a restart."""
            config = self.terminal.config
            self.visitor_large = self.visitor_contrast = None
            large = config.font_scale == "large"
            if (self.text_scale > 1) != large:
                self.text_scale = 1.5 if large else 1.0
                self.rebuild_screens()
            for screen in self.sm.screens:
                timer = getattr(screen, "idle", None)
                timeout = {"grid": config.timeouts.idle_s, "priority": config.timeouts.idle_s,
                           "ticket": config.timeouts.ticket_screen_s}.get(screen.name)
                if screen.name in ("category", "guide", "search", "policies", "policy"):
                    timeout = config.timeouts.inquiry_idle_s
                if timer is not None and timeout:
                    timer.timeout = timeout

        def exit_for_maintenance(self) -> None:
            log.warning("exit for maintenance requested from the settings screen")
            self.exit_code = MAINTENANCE_EXIT
            self.stop()

        def on_stop(self) -> None:
            if getattr(self, "card_watcher", None) is not None:
                self.card_watcher.stop()
            self.terminal.close()

    class CrashHandler(ExceptionHandler):
        """An unexpected error in a screen: log it, show a calm page, go back home.

        A crash loop (kiosk.crash decides) keeps the maintenance page up and is
        reported in the terminal's health so staff hear about it.
        """

        def __init__(self, app):
            super().__init__()
            self.app = app

        def handle_exception(self, exc):
            import traceback

            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                return ExceptionManager.RAISE  # leaving is not a crash to recover from

            from kiosk.crash import CrashLog

            text = "".join(traceback.format_exception(exc))
            log.error("unexpected error in the app:\n%s", text)
            try:
                in_loop = CrashLog(self.app.terminal.config.data_dir).record(text)
                self.app.terminal.crash_loop = in_loop
                self.app.sm.get_screen("maintenance").show(in_loop)
                self.app.sm.current = "maintenance"
            except Exception:  # the handler itself must never take the app down
                log.exception("crash handler failed")
            return ExceptionManager.PASS

    return KioskApp


def create_app(terminal: Terminal, allow_close: bool = False, first_run_pin: bool = False):
    return build_app_class()(terminal, allow_close=allow_close, first_run_pin=first_run_pin)


def _record_fatal_errors(data_dir) -> None:
    """An error that kills the process never reaches Kivy's handler: log and count it."""
    import sys

    previous = sys.excepthook

    def hook(kind, value, tb):
        import traceback

        from kiosk.crash import CrashLog

        text = "".join(traceback.format_exception(kind, value, tb))
        log.critical("fatal error:\n%s", text)
        try:
            CrashLog(data_dir).record(text)
        except Exception:
            pass
        previous(kind, value, tb)

    sys.excepthook = hook


class StopOnSignals:
    """SIGTERM (``systemctl stop``, a reboot) and SIGINT (Ctrl+C) end the app within 3 s.

    The handler asks the Kivy loop to stop (``on_stop`` closes the terminal and its
    databases) and arms a timer that ends the process after ``STOP_GRACE_S`` should
    the loop be stuck; every issued ticket is already committed, so that exit loses
    nothing. Before the App runs (Kivy still starting), the signal exits at once.
    """

    def __init__(self, grace_s: float = STOP_GRACE_S):
        self.grace_s = grace_s
        self.app = None
        self.received: int | None = None

    def install(self) -> None:
        import signal

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum, _frame) -> None:
        import signal
        import threading

        from kiosk import watchdog

        first = self.received is None
        self.received = signum
        log.warning("%s received: closing the terminal", signal.Signals(signum).name)
        watchdog.stopping()
        if first:
            timer = threading.Timer(self.grace_s, self._force_exit)
            timer.daemon = True
            timer.start()
        if self.app is None:
            raise SystemExit(0)
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: self.app.stop(), 0)

    def _force_exit(self) -> None:
        log.error("the app did not stop within %.1f s of the signal: exiting now", self.grace_s)
        logging.shutdown()
        os._exit(0)


def run_app(config: TerminalConfig, windowed: bool = False, size: tuple[int, int] | None = None) -> int:
    from kiosk.logs import setup_logging

    stopper = StopOnSignals()
    stopper.install()
    setup_logging(config.data_dir)
    _record_fatal_errors(config.data_dir)
    output = None
    if os.environ.get("SDL_VIDEODRIVER") != "offscreen":
        from kiosk.display import probe_output

        os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
        output = probe_output()  # NoDisplay: no screen at all (wiring.cli.run says so)
        if output is not None:
            log.info("display: %s %dx%d%s", output.driver, output.width, output.height,
                     " (Xwayland)" if output.under_wayland else "")
    prepare_kivy(windowed, size, output)
    from wiring.terminal import open_terminal

    terminal = open_terminal(config)
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
