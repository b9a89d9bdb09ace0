"""One guarded background refresh: a screen's picture fetched off the UI thread, never twice at once.

``request()`` may come from a timer, a backend event (any thread) or a tap. While a fetch
runs, further requests are folded into one more fetch after it; the result reaches
``apply`` on the UI thread. A failed fetch keeps the last picture.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from typing import Callable

from kivy.clock import Clock

log = logging.getLogger(__name__)


class GuardedRefresh:
    def __init__(self, fetch: Callable[[], object], apply: Callable[[object], None], name: str = "refresh"):
        self.fetch, self.apply, self.name = fetch, apply, name
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self.fetches = 0  # how many fetches ran (tests count them)

    @property
    def running(self) -> bool:
        return self._running

    def request(self, *_args) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        threading.Thread(target=self._work, name=self.name, daemon=True).start()

    def _work(self) -> None:
        while True:
            self.fetches += 1
            try:
                result = self.fetch()
            except Exception as exc:  # keep the last picture
                log.debug("%s failed: %s", self.name, exc)
            else:
                Clock.schedule_once(lambda dt, r=result: self.apply(r), 0)
            with self._lock:
                if not self._again:
                    self._running = False
                    return
                self._again = False


def on_queue_events(terminal, callback) -> bool:
    """Call the bound method ``callback(kind, data)`` for each live queue event of ``terminal`` (any thread).

    The method is held weakly, and the terminal gets one subscription however many screens ask:
    a visitor's 长辈模式 rebuilds the screens, and the old ones must neither stay alive nor pile
    up listeners. False when the terminal's queue cannot push (then only the timer refreshes).
    """
    hub = getattr(terminal, "_screen_listeners", None)
    if hub is None:
        hub = []

        def fan_out(kind: str, data: dict) -> None:
            for ref in list(hub):
                method = ref()
                if method is None:
                    with contextlib.suppress(ValueError):
                        hub.remove(ref)
                else:
                    method(kind, data)

        terminal._screen_listeners = hub
        terminal._screen_push = terminal.subscribe(fan_out)
    hub.append(weakref.WeakMethod(callback))
    return bool(terminal._screen_push)
