"""The state of a terminal's link to its hall server, shared by the sync parts.

``online`` is None until the first try, then True or False. The wake-ups let
one part ask another's worker thread to act now (a new outbox event wakes the
push, an event from the stream marks the waiting counts stale, ...).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Callable

log = logging.getLogger(__name__)

OFFLINE_MARKER = "离线"


class Backoff:
    """Exponential backoff with full jitter: the n-th wait is uniform in [first/2, min(cap, first*2^n)]."""

    def __init__(self, first: float = 0.5, cap: float = 15.0):
        self.first, self.cap, self.n = first, cap, 0

    def next(self) -> float:
        top = min(self.cap, self.first * (2 ** self.n))
        self.n += 1
        return random.uniform(self.first / 2, max(self.first / 2, top))

    def reset(self) -> None:
        self.n = 0


class Link:
    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self.online: bool | None = None  # None: not tried yet
        self.offline_since: float | None = None
        self.last_error = ""
        self.stop = threading.Event()  # the backend is closing
        self.wake_sync = threading.Event()  # push the outbox now
        self.wake_live = threading.Event()  # the live worker should look at its flags now
        self.services_stale = threading.Event()  # refresh the waiting counts
        self.pull_due = threading.Event()  # pull settings, hall and guides
        self.duty_due = threading.Event()  # ask who is on duty at the evaluator's window

    def went_offline(self, exc: Exception) -> None:
        self.last_error = str(exc)
        if self.online is not False:
            log.warning("hall server unreachable, working offline: %s", exc)
            self.offline_since = self.clock()
        self.online = False

    def came_online(self) -> None:
        if self.online is not True:
            if self.online is False:
                log.info("hall server reachable again after %.0f s offline",
                         self.clock() - (self.offline_since or self.clock()))
            self.online = True
            self.offline_since = None
            self.wake_sync.set()
            self.services_stale.set()
            self.wake_live.set()

    def counts_changed(self) -> None:
        """The waiting counts moved (an event, a ticket issued here): refresh them soon, once."""
        self.services_stale.set()
        self.wake_live.set()

    def marker(self) -> str:
        return OFFLINE_MARKER if self.online is False else ""

    def close(self) -> None:
        self.stop.set()
        self.wake_sync.set()
        self.wake_live.set()
