"""screens/refresh.py: the grid's background refresh never runs twice at once, and requests made
while it runs are folded into exactly one more."""

from __future__ import annotations

import threading
import time

import pytest

pytestmark = pytest.mark.ui


def test_requests_during_a_fetch_fold_into_one_more_and_never_overlap():
    from kivy.clock import Clock

    from screens.refresh import GuardedRefresh

    gate = threading.Event()
    running, most, applied = [0], [0], []
    lock = threading.Lock()

    def fetch():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        gate.wait(5)
        with lock:
            running[0] -= 1
        return len(applied)

    r = GuardedRefresh(fetch, applied.append)
    r.request()
    for _ in range(10):  # a timer, events from the queue, a tap: all while the first fetch waits
        r.request()
    assert r.running and r.fetches == 1
    gate.set()
    end = time.monotonic() + 5
    while r.running and time.monotonic() < end:
        time.sleep(0.01)
    assert not r.running
    assert r.fetches == 2 and most[0] == 1
    Clock.tick()  # the results reach the UI thread
    assert len(applied) == 2


def test_a_failing_fetch_keeps_the_last_picture_and_frees_the_guard():
    from screens.refresh import GuardedRefresh

    calls = []

    def fetch():
        calls.append(1)
        raise OSError("printer gone")

    r = GuardedRefresh(fetch, lambda result: pytest.fail("nothing to apply"))
    r.request()
    end = time.monotonic() + 5
    while r.running and time.monotonic() < end:
        time.sleep(0.01)
    assert not r.running and calls == [1]
    r.request()  # the guard is free again
    end = time.monotonic() + 5
    while (r.running or len(calls) < 2) and time.monotonic() < end:
        time.sleep(0.01)
    assert calls == [1, 1]


def test_screens_hear_queue_events_through_one_subscription_and_are_not_kept_alive(terminal_factory):
    import gc

    from screens.refresh import on_queue_events

    term = terminal_factory()
    listeners = term.backend.listeners  # the embedded engine's own list
    before = len(listeners)

    class Screen:  # stands for a GridScreen: a bound method is what the screens register
        def __init__(self):
            self.heard = []

        def hear(self, kind, data):
            self.heard.append(kind)

    old, new = Screen(), Screen()
    assert on_queue_events(term, old.hear) and on_queue_events(term, new.hear)
    assert len(listeners) == before + 1  # one subscription, however many screens (rebuilt for 长辈模式)
    del old
    gc.collect()  # a rebuilt screen is gone: the queue must not keep it alive
    term.backend.issue("family")
    assert new.heard == ["ticket_issued"]
    assert len(term._screen_listeners) == 1
