"""The appointments' call-ahead rule (strict, or N in a row then a walk-in) held in memory for a calling order.

The calling order asks for it on every call and every ticket placed (``kiosk.ordering.Lane.in_a_row``): on the
hall server's event loop for a ticket (``server/api_queue.py::issue``), on an embedded terminal's UI thread; so
no asker may wait on a database read for it. It is read when the lane is built; again at once, in the caller's
thread, by ``refresh`` (the server calls it after a change saved through its process, or announced by another
through the relay's control message); and, as a net for a change made elsewhere (an embedded terminal's settings,
a relay reconnecting), in a background thread when asked at least ``RECHECK_S`` after the last read: the asker
gets the value held meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Callable

from kiosk.ordering import Lane

from .checkin import LANE
from .rules import AppointmentSettings

log = logging.getLogger(__name__)


class AppointmentRule:
    RECHECK_S = 1.0

    def __init__(self, settings_of: Callable[[], AppointmentSettings], clock: Callable[[], float] = time.monotonic):
        self._settings_of = settings_of
        self._clock = clock
        self._lock = threading.Lock()
        self._asked = 0  # reads started (each numbered): a read started before another never overwrites it
        self._stored = 0  # the number of the read whose value is held
        self._checking = False  # a background read is under way
        self._value: int | None = None
        self._read_at = 0.0
        self.refresh()

    @property
    def lane(self) -> Lane:
        """The appointments' front lane following this rule."""
        return replace(LANE, in_a_row=self.in_a_row)

    def in_a_row(self) -> int | None:
        """N when appointments interleave with walk-ins (N in a row), None when strict. Never reads the database
        in the caller's thread: a due recheck runs in a background thread."""
        if self._clock() - self._read_at > self.RECHECK_S and not self._checking:
            with self._lock:
                start = not self._checking
                self._checking = True
            if start:
                threading.Thread(target=self._recheck, name="appointment-rule", daemon=True).start()
        return self._value

    def refresh(self) -> None:
        """Read the rule now, in the caller's thread (after settings were saved, here or in another process)."""
        with self._lock:
            self._asked += 1
            number = self._asked
        value, at = self._settings_of().in_a_row, self._clock()
        with self._lock:
            if number > self._stored:
                self._value, self._read_at, self._stored = value, at, number

    def _recheck(self) -> None:
        try:
            self.refresh()
        except Exception:  # the database is away for a moment: keep the rule held, try again when next due
            log.warning("appointment rule not rechecked", exc_info=True)
            self._read_at = self._clock()
        finally:
            self._checking = False
