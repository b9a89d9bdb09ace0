"""Group commit: requests that arrive while a commit is under way share the next one.

A durable commit waits for the disk (SQLite ``synchronous=FULL``: an fsync; PostgreSQL: its WAL
flush), and the hall's queue version row lets one queue writer at a time through. When tickets
arrive faster than the disk commits, each thread waiting its turn would pay a whole commit. Instead
the first thread to find no batch running leads: it takes every request queued so far, runs them in
one transaction (``run``) and hands each its own result or error; the others wait for theirs. A lone
request is a batch of one, with no waiting at all. Nobody is answered before their commit is done.

``submit_future`` is the same for a caller that must not block (the server's event loop): its request
is answered through a ``concurrent.futures.Future``, and when it would lead, a shared leader thread
(``LEADERS``) runs the batch for it. Blocking and future requests share batches.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")

# Runs the batches of requests submitted with ``submit_future`` (one batch per group at a time).
LEADERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="group-commit")


class Slot(Generic[T]):
    """One request in a batch: ``item`` in, ``result`` or ``error`` out; ``woken`` tells its thread to go on
    (``future`` instead for a request that does not wait in a thread)."""

    __slots__ = ("item", "result", "error", "done", "woken", "future")

    def __init__(self, item: T, future: Future | None = None):
        self.item, self.result, self.error, self.done, self.future = item, None, None, False, future
        self.woken = threading.Event() if future is None else None

    def answer(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result

    def wake(self) -> None:
        """Answered: its thread goes on, or its future is resolved."""
        if self.future is None:
            self.woken.set()
        elif self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.result)


class GroupCommit(Generic[T]):
    def __init__(self, run: Callable[[list[Slot[T]]], None]):
        """``run(slots)`` fills each slot's ``result`` or ``error`` (it may raise: then every slot gets that)."""
        self._run = run
        self._lock = threading.Lock()
        self._queue: list[Slot[T]] = []
        self._leading = False

    def submit(self, item: T) -> Any:
        """Run ``item`` in the next batch and return its result (or raise its error); blocks until committed."""
        slot = Slot(item)
        if not self._enqueue(slot):
            slot.woken.wait()  # answered, or handed the lead by the batch before (each waiter is woken once)
            if slot.done:
                return slot.answer()
        self._lead(slot)
        return slot.answer()

    def submit_future(self, item: T) -> Future:
        """``submit`` without blocking: the result (or error) comes through the returned future."""
        future: Future = Future()
        future.set_running_or_notify_cancel()  # cannot be cancelled: once queued, the request is committed
        slot = Slot(item, future)
        if self._enqueue(slot):
            LEADERS.submit(self._lead, None)
        return slot.future

    def _enqueue(self, slot: Slot[T]) -> bool:
        """Queue ``slot``; True when no batch is running, so this request leads the next one."""
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
        return lead

    def _lead(self, own: Slot[T] | None) -> None:
        """Run every request queued so far as one batch, answer each, hand the lead to the next one queued."""
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
                if s is not own:
                    s.wake()
            if following is not None:
                if following.future is None:
                    following.woken.set()
                else:
                    LEADERS.submit(self._lead, None)
