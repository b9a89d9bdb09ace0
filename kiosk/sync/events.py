"""Following the hall server's event stream (SSE, ``GET /api/v1/events``).

``EventStream.run`` (the ``events`` worker thread) connects, hands every event
to ``on_event(kind, data)`` as it arrives, and reconnects by itself with backoff,
resuming with ``Last-Event-ID``. The server sends a keep-alive every 15 s, so a
silent connection is given up after 40 s. ``read_events`` is the parser.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from typing import Callable, Iterator

from .client import ServerClient, Unreachable
from .link import Backoff, Link

log = logging.getLogger(__name__)


class EventStream:
    def __init__(self, client: ServerClient, link: Link, on_event: Callable[[str, dict], None],
                 backoff_cap_s: float = 15.0):
        self.client, self.link, self.on_event = client, link, on_event
        self.backoff_cap_s = backoff_cap_s
        self.connected = False
        self.last_event_at: float | None = None
        self._response = None

    def run(self) -> None:
        stop = self.link.stop
        backoff = Backoff(0.3, min(5.0, self.backoff_cap_s))
        last_id = None
        while not stop.is_set():
            url = self.client.url
            try:
                headers = self.client.headers({"Accept": "text/event-stream"})
                if last_id:
                    headers["Last-Event-ID"] = last_id
                r = self.client.session.get(url + "/api/v1/events", headers=headers, stream=True,
                                            timeout=(2.0, 40.0))  # the server sends a keep-alive every 15 s
                self._response = r
                try:
                    if r.status_code != 200:
                        raise Unreachable(f"event stream: HTTP {r.status_code}")
                    self.connected = True
                    backoff.reset()
                    self.link.came_online()
                    self.link.counts_changed()  # we may have missed changes while away
                    for event_id, kind, data in read_events(r):
                        if event_id:
                            last_id = event_id
                        self.last_event_at = time.time()
                        self.on_event(kind, data)
                        if stop.is_set():
                            return
                finally:
                    self.connected = False
                    self._response = None
                    r.close()
            except Exception as exc:
                if stop.is_set():
                    return
                log.debug("event stream: %s", exc)
                if not isinstance(exc, Unreachable) or "HTTP 5" in str(exc):
                    self.client.failed(url)  # a dead stream: the next address (when there are several)
            if stop.is_set():
                return
            stop.wait(backoff.next())

    def abort(self) -> None:
        """End the stream the worker is blocked reading (at close)."""
        response = self._response
        if response is not None:
            abort_response(response)


def abort_response(response) -> None:
    """End a streaming response another thread is blocked reading: shut its socket down."""
    for attr in ("connection", "_connection"):
        conn = getattr(response.raw, attr, None)
        sock = getattr(conn, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            break
    try:
        response.close()
    except Exception:
        pass


def read_events(response) -> Iterator[tuple[str | None, str, dict]]:
    """(id, event, data dict) per server-sent event, as the bytes arrive."""
    buf = b""
    event_id = kind = None
    data_lines: list[str] = []
    for chunk in response.iter_content(chunk_size=None):
        buf += chunk
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if not line:
                if data_lines:
                    try:
                        data = json.loads("\n".join(data_lines))
                    except ValueError:
                        data = {"raw": "\n".join(data_lines)}
                    yield event_id, kind or "message", data if isinstance(data, dict) else {"value": data}
                kind, data_lines = None, []
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                event_id = value
            elif name == "event":
                kind = value
            elif name == "data":
                data_lines.append(value)
