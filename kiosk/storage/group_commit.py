"""Group commit: requests that arrive while a commit is under way share the next one.

A durable commit waits for the disk (SQLite ``synchronous=FULL``: an fsync; PostgreSQL: its WAL
flush), and the hall's queue version row lets one queue writer at a time through. When tickets
arrive faster than the disk commits, each thread waiting its turn would pay a whole commit. Instead
the first thread to find no batch running leads: it takes every request queued so far, runs them in
one transaction (``run``) and hands each its own result or error; the others wait for theirs. A lone
request is a batch of one, with no waiting at all. Nobody is answered before their commit is done.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class Slot(Generic[T]):
    """One request in a batch: ``item`` in, ``result`` or ``error`` out; ``woken`` tells its thread to go on."""

    __slots__ = ("item", "result", "error", "done", "woken")

    def __init__(self, item: T):
        self.item, self.result, self.error, self.done = item, None, None, False
        self.woken = threading.Event()

    def answer(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit(Generic[T]):
    def __init__(self, run: Callable[[list[Slot[T]]], None]):
        """``run(slots)`` fills each slot's ``result`` or ``error`` (it may raise: then every slot gets that)."""
        self._run = run
        self._lock = threading.Lock()
        self._queue: list[Slot[T]] = []
        self._leading = False

    def submit(self, item: T) -> Any:
        slot = Slot(item)
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
        if not lead:
            slot.woken.wait()  # answered, or handed the lead by the batch before (each waiter is woken once)
            if slot.done:
                return slot.answer()
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            self._run(batch)
        except BaseException as exc:
            for s in batch:
                if s.result is None and s.error is None:
                    s.error = exc
        finally:
            with self._lock:
                for s in batch:
                    s.done = True
                following = self._queue[0] if self._queue else None
                self._leading = following is not None  # the first one queued meanwhile leads next
            for s in batch:
                if s is not slot:
                    s.woken.set()
            if following is not None:
                following.woken.set()
        return slot.answer()
