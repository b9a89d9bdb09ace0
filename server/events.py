"""Fan-out of queue events to server-sent-event streams.

The queue engine calls ``publish`` from worker threads; each stream owns an
asyncio queue fed through its loop. A short history lets a client that
reconnects with ``Last-Event-ID`` catch up on what it missed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass

# What a display or an anonymous client may see of a ticket: no ids, keys, terminals or
# green-channel group (that a visitor is elderly or disabled is theirs, not the hall TV's).
PUBLIC_TICKET_FIELDS = ("number", "service", "status", "window", "called_at", "call_count")
# Events for signed-in streams only (staff pages, terminals): never on the hall TV's anonymous stream.
PRIVATE_KINDS = frozenset({"help_requested", "help_dismissed"})


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict
    at: float

    def frame(self, public: bool) -> str:
        """The SSE frame; '' for an event an anonymous stream must not see."""
        if public and self.kind in PRIVATE_KINDS:
            return ""
        data = self.data
        if public and "ticket" in data:
            data = dict(data, ticket={k: data["ticket"].get(k) for k in PUBLIC_TICKET_FIELDS})
            data.pop("people_ahead", None)
        body = json.dumps({"kind": self.kind, "at": self.at, **data}, ensure_ascii=False)
        return f"id: {self.id}\nevent: {self.kind}\ndata: {body}\n\n"


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=1000)

    def offer(self, event: Event | None) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:  # a stuck client: end its stream, it reconnects and catches up
            self.queue.get_nowait()
            self.queue.put_nowait(None)


class EventHub:
    """One hall's events in this process. On PostgreSQL ``relay`` (``server/event_relay.py``) is set:
    ``publish`` then goes through the database to every server process, which ``deliver`` here."""

    def __init__(self, history: int = 500):
        self._ids = itertools.count(1)
        self._history: deque[Event] = deque(maxlen=history)
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()
        self.relay = None
        self.relay_hall = ""

    def publish(self, kind: str, data: dict) -> None:
        if self.relay is not None:
            self.relay.send(self.relay_hall, kind, data)
            return
        self.deliver_local(kind, data, time.time())

    def deliver_local(self, kind: str, data: dict, at: float) -> None:
        """Number the event here and deliver it (one process: SQLite, or the relay's fallback)."""
        with self._lock:
            event = Event(next(self._ids), kind, data, at)
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        with self._lock:
            self._history.append(event)
            subscribers = list(self._subscribers)
        for sub in subscribers:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, event)
            except RuntimeError:  # its loop is closed
                self.unsubscribe(sub)

    def has(self, event_id: int) -> bool:
        with self._lock:
            return any(e.id == event_id for e in self._history)

    def subscribe(self, last_id: int | None = None) -> tuple[_Subscriber, list[Event] | None]:
        """A new stream and what it missed after ``last_id``: the events after it in this process's
        history (ids from several processes need not arrive in id order), or None when ``last_id`` is
        not in the history (then the relay's database replay applies, see ``api_events``)."""
        sub = _Subscriber(asyncio.get_running_loop())
        with self._lock:
            self._subscribers.add(sub)
            if last_id is None:
                return sub, []
            history = list(self._history)
        for i, e in enumerate(history):
            if e.id == last_id:
                return sub, history[i + 1:]
        if self.relay is None:
            return sub, [e for e in history if e.id > last_id]
        return sub, None

    def unsubscribe(self, sub: _Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    def close_all(self) -> None:
        """End every stream (server shutdown), so uvicorn need not wait for them."""
        with self._lock:
            subscribers = list(self._subscribers)
        for sub in subscribers:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, None)
            except RuntimeError:
                pass
