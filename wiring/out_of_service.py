"""A kiosk box whose terminal cannot start shows 暂停服务 instead of a black screen, and starts itself
again once the cause is gone.

``kiosk run`` refuses to start on a terminal file that does not validate, a hall file (the one the
terminal file names) that is missing or does not validate, or a store file that is not a usable database
(``kiosk/storage/file_check.py``); all are found before Kivy starts (``wiring/cli/run.py``; the hall read
there is the one the terminal is built from). In a shell it prints why and exits 1. Under the kiosk unit
(deploy/kiosk-terminal.service: systemd, ``$NOTIFY_SOCKET`` set) exiting would leave cage's black screen
in front of visitors and restart the unit every 3 s, the same refusal each time. There it shows this page
full screen instead: the sign for visitors, the refusal in small type for the technician (its first
``SHOWN_LINES`` lines; all of it in the journal, once). It tells systemd it is up and feeds the watchdog,
asks ``usable()`` every ``RECHECK_S`` seconds, and exits 1 when the cause is gone (a good file put back),
so the unit restarts into the terminal.
"""

from __future__ import annotations

import logging
import os
from typing import Callable

log = logging.getLogger(__name__)

RECHECK_S = 5.0
RESTART = 1  # the unit's Restart=always starts the terminal again
SHOWN_LINES = 6  # of the refusal on the page: a hall file with 30 errors must not push the sign off the screen


def shown_problem(problem: str, most: int = SHOWN_LINES) -> str:
    """The refusal as the page shows it to the technician: its first lines, and how many more the journal holds."""
    lines = problem.splitlines()
    if len(lines) <= most:
        return problem
    rest = len(lines) - (most - 1)
    return "\n".join([*lines[:most - 1], f"... and {rest} more: journalctl -u kiosk-terminal shows them all"])


def under_kiosk_unit() -> bool:
    """Running as the kiosk box's systemd service (it set ``$NOTIFY_SOCKET``), not in a shell."""
    return bool(os.environ.get("NOTIFY_SOCKET"))


def wait_out_of_service(problem: str, usable: Callable[[], bool]) -> int:
    """Show the page until ``usable()`` (asked every ``RECHECK_S``) says the cause is gone; then ``RESTART``
    (also after the first frame with ``$KIOSK_EXIT_AFTER_FIRST_FRAME``, as the terminal's App)."""
    from wiring.kivy_setup import prepare_screen

    prepare_screen(windowed=False, size=None)  # full screen on the box's output, as run_app
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.properties import NumericProperty

    from kiosk import watchdog
    from screens.out_of_service import OutOfServicePage

    class OutOfService(App):
        scale = NumericProperty(1.0)  # window short side / 1080, as the terminal's App

        def px(self, value: float) -> float:
            return value * self.scale

        def build(self):
            self.title = "暂停服务"
            self.scale = min(Window.size) / 1080.0
            Window.bind(size=lambda _w, size: setattr(self, "scale", min(size) / 1080.0))
            Window.bind(on_flip=self._first_frame)
            Clock.schedule_interval(self._recheck, RECHECK_S)
            interval = watchdog.watchdog_interval_s()
            if interval:
                Clock.schedule_interval(lambda dt: watchdog.ping(), interval)
            return OutOfServicePage(technician=shown_problem(problem))

        def _first_frame(self, *_args) -> None:
            Window.unbind(on_flip=self._first_frame)
            watchdog.ready("out of service: " + problem[:200])
            print("first-frame out-of-service", flush=True)
            if os.environ.get("KIOSK_EXIT_AFTER_FIRST_FRAME"):
                self.stop()

        def _recheck(self, _dt) -> None:
            try:
                fixed = usable()
            except Exception:  # a check that fails is not a fix
                log.exception("out of service: check failed")
                fixed = False
            if fixed:
                log.warning("out of service: the cause is gone, starting again")
                self.stop()

    OutOfService().run()
    return RESTART
