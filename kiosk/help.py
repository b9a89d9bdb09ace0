"""呼叫工作人员: a visitor asks for a person. Linked to a hall server, the request reaches the
staff's console and admin pages; otherwise (embedded engine, or the server unreachable) the
visitor is sent to the general window instead of being told someone is coming."""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)

SENT = "sent"
WINDOW = "window"
SENDING = "sending"
REPEAT_S = 60.0  # presses within a minute of a request that got through send nothing new

TEXTS = {
    SENT: "已通知工作人员，请稍候",
    WINDOW: "请到综合受理窗口咨询",
    SENDING: "正在通知工作人员…",
}


class HelpCall:
    def __init__(self, backend, clock: Callable[[], float] = time.time):
        self.backend = backend
        self.clock = clock
        self._sent_at: float | None = None
        self._lock = threading.Lock()
        self._busy = False

    @property
    def linked(self) -> bool:
        return callable(getattr(self.backend, "request_help", None))

    def press(self, done: Callable[[str], None]) -> str:
        """What to show now (SENT, WINDOW or SENDING). After SENDING, ``done(SENT | WINDOW)`` is
        called once from a worker thread when the server has answered or could not be reached."""
        if not self.linked:
            return WINDOW
        with self._lock:
            if self._sent_at is not None and self.clock() - self._sent_at < REPEAT_S:
                return SENT  # staff already know: one request a minute
            if getattr(self.backend, "online", None) is False:
                return WINDOW  # the server is known to be out of reach: do not pretend
            if self._busy:
                return SENDING
            self._busy = True

        def job() -> None:
            outcome = WINDOW
            try:
                self.backend.request_help()
                outcome = SENT
            except Exception as exc:  # unreachable, refused: the visitor goes to the window
                log.warning("呼叫工作人员 not delivered: %s", exc)
            with self._lock:
                self._busy = False
                if outcome == SENT:
                    self._sent_at = self.clock()
            done(outcome)

        threading.Thread(target=job, name="help-request", daemon=True).start()
        return SENDING
