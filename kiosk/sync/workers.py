"""The linked terminal's background threads (daemons, started by ``RemoteBackend.start``).

- ``sync``: pushes the outbox (``kiosk/sync/push.py``); backoff with full jitter
  while the server is away; woken at once by a new event or by the server
  coming back.
- ``events``: follows the event stream (``kiosk/sync/events.py``).
- ``live``: refreshes the waiting counts when they went stale, pulls settings,
  hall and guides, asks who is on duty, sends the heartbeat; probes with
  backoff while offline.

The loops know the other parts only as the callables they are given.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from .client import BadAnswer, Refused, ServerError, Unreachable
from .link import Backoff, Link

log = logging.getLogger(__name__)

COUNTS_EVERY_S = 15.0


def sync_loop(link: Link, pending: Callable[[], int], push: Callable[[], object], backoff_cap_s: float) -> None:
    backoff = Backoff(0.5, backoff_cap_s)
    while not link.stop.is_set():
        wait = 30.0
        try:
            if pending():
                push()
                backoff.reset()
                continue
            backoff.reset()
        except Unreachable as exc:
            link.went_offline(exc)
            wait = backoff.next()
        except BadAnswer as exc:
            log.warning("sync: %s", exc)
            wait = backoff.next()
        except Exception:
            log.exception("sync worker error")
            wait = backoff.next()
        link.wake_sync.wait(wait)
        link.wake_sync.clear()


def live_loop(link: Link, *, refresh_counts: Callable[[], None], pull_all: Callable[[], None],
              wants_duty: Callable[[], bool], refresh_duty: Callable[[], None], heartbeat: Callable[[], object],
              pull_s: float, heartbeat_s: float, backoff_cap_s: float) -> None:
    backoff = Backoff(0.5, backoff_cap_s)
    next_hb = next_pull = next_counts = 0.0
    while not link.stop.is_set():
        now = time.monotonic()
        try:
            if link.services_stale.is_set() or now >= next_counts:
                link.services_stale.clear()
                refresh_counts()
                next_counts = now + COUNTS_EVERY_S
            if link.pull_due.is_set() or now >= next_pull:
                link.pull_due.clear()
                link.duty_due.set()
                pull_all()
                next_pull = now + pull_s
            if link.duty_due.is_set() and wants_duty():
                link.duty_due.clear()
                try:
                    refresh_duty()
                except (Refused, BadAnswer) as exc:
                    log.warning("duty: %s", exc)
            if now >= next_hb:
                heartbeat()
                next_hb = now + heartbeat_s
            backoff.reset()
            wait = max(0.05, min(next_counts, next_pull, next_hb) - time.monotonic())
        except Unreachable as exc:
            link.went_offline(exc)
            next_hb = next_pull = 0.0  # report and catch up as soon as it is back
            link.services_stale.set()
            wait = backoff.next()
        except ServerError as exc:
            log.warning("live data: %s", exc)
            wait = backoff.next()
        except Exception:
            log.exception("live data worker error")
            wait = backoff.next()
        link.wake_live.wait(wait)
        link.wake_live.clear()
        if link.services_stale.is_set() and not link.stop.is_set():
            link.stop.wait(0.05)  # a burst of events: one refresh


def start_thread(name: str, target: Callable[[], None]) -> threading.Thread:
    t = threading.Thread(target=target, name=f"kiosk-{name}", daemon=True)
    t.start()
    return t
