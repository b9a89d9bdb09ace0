"""The process's life around the App: stopping on signals, recording fatal errors and crashes.

``StopOnSignals`` ends ``kiosk run`` within ``STOP_GRACE_S`` of SIGTERM/SIGINT;
``record_fatal_errors`` logs and counts an error that kills the process;
``crash_handler`` builds the Kivy exception handler that shows the maintenance page
(``kiosk.crash`` decides what a crash loop is). ``wiring/app.py`` uses all three.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

STOP_GRACE_S = 2.5  # after SIGTERM/SIGINT the process is gone by then, clean or not (systemd waits 3 s)


def crash_handler(app):
    """A Kivy ``ExceptionHandler`` for ``app`` (Kivy is imported here, after ``prepare_kivy``)."""
    from kivy.base import ExceptionHandler, ExceptionManager

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

    return CrashHandler(app)


def record_fatal_errors(data_dir) -> None:
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
