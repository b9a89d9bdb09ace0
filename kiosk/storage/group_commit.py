"""Group commit: requests that arrive while a commit is under way share the next one.

A durable commit waits for the disk (SQLite ``synchronous=FULL``: an fsync; PostgreSQL: its WAL
flush), and the hall's queue version row lets one queue writer at a time through. When tickets
arrive faster than the disk commits, each thread waiting its turn would pay a whole commit. Instead
the first thread to find no batch running leads: it takes every request queued so far, runs them in
one transaction (``run``) and hands each its own result or error; the others wait for theirs. A lone
request is a batch of one, with no waiting at all. Nobody is answered before their commit is done.

``submit_async`` is the same for a caller that must not block (the server's event loop): its request
is answered through an asyncio future (the answers of one batch reach their loop in one call), and when
it would lead, a shared leader thread (``LEADERS``) runs the batch for it. Blocking and asyncio requests
share batches.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")

# Runs the batches of requests submitted with ``submit_async`` (one batch per group at a time).
LEADERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="group-commit")


class Slot(Generic[T]):
    """One request in a batch: ``item`` in, ``result`` or ``error`` out; ``woken`` tells its thread to go on
    (for a request from an event loop: its ``future`` on that ``loop`` instead)."""

    __slots__ = ("item", "result", "error", "done", "woken", "future", "loop")

    def __init__(self, item: T, future: asyncio.Future | None = None, loop: asyncio.AbstractEventLoop | None = None):
        self.item, self.result, self.error, self.done = item, None, None, False
        self.future, self.loop = future, loop
        self.woken = threading.Event() if loop is None else None

    def answer(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


def _settle(slots: list[Slot]) -> None:
    """On their loop: each asyncio request's answer (one whose caller gave up is committed all the same)."""
    for s in slots:
        if s.future.cancelled():
            continue
        if s.error is not None:
            s.future.set_exception(s.error)
        else:
            s.future.set_result(s.result)


def _wake(slots: list[Slot]) -> None:
    """Answered: each thread goes on; the asyncio requests' answers go to their loops, one call per loop."""
    loops: dict[asyncio.AbstractEventLoop, list[Slot]] = {}
    for s in slots:
        if s.loop is None:
            s.woken.set()
        else:
            loops.setdefault(s.loop, []).append(s)
    for loop, waiting in loops.items():
        try:
            loop.call_soon_threadsafe(_settle, waiting)
        except RuntimeError:  # the loop is closed (the server stopped): nobody is waiting
            pass


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
        if self._lead(slot):
            LEADERS.submit(self._lead_on)
        return slot.answer()

    def submit_async(self, item: T) -> asyncio.Future:
        """``submit`` from an event loop, without blocking it: await the returned future."""
        loop = asyncio.get_running_loop()
        slot = Slot(item, loop.create_future(), loop)
        if self._enqueue(slot):
            LEADERS.submit(self._lead_on)
        return slot.future

    def _lead_on(self) -> None:
        """A leader thread's work: batch after batch while event-loop requests are next in line (no thread
        handover between them)."""
        while self._lead(None):
            pass

    def _enqueue(self, slot: Slot[T]) -> bool:
        """Queue ``slot``; True when no batch is running, so this request leads the next one."""
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
        return lead

    def _lead(self, own: Slot[T] | None) -> bool:
        """Run every request queued so far as one batch, answer each, hand the lead to the next one queued:
        its thread, or (True) a leader thread when the next is an event loop's request."""
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
            _wake([s for s in batch if s is not own])
            if following is not None and following.loop is None:
                following.woken.set()
        return following is not None and following.loop is not None
