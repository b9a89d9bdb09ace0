"""Request size and event-stream limits: what one client can take from the server.

- ``BodyLimit`` (ASGI middleware, outermost): every request body is at most
  ``DEFAULT_BODY`` bytes (1 MiB) unless ``BODY_LIMITS`` names a larger one for a
  route. A ``Content-Length`` above the limit is answered 413 before the app
  runs and before a byte of the body is read; a chunked body is counted as it
  arrives and refused (413) as soon as it passes the limit, so the server never
  holds more than the limit. The 413 has the API's error shape (field ``body``).
- ``StreamSlots``: at most ``per_address`` open event streams from one
  anonymous address (or one terminal, one staff account) and ``total`` in all
  (429 beyond), so a loop of connections cannot hold the server's memory or
  file handles. Both come from the environment
  (``KIOSK_MAX_STREAMS``, ``KIOSK_MAX_STREAMS_PER_ADDRESS``) for halls that need more.
"""

from __future__ import annotations

import json
import os
import re
import threading

from starlette.exceptions import HTTPException

DEFAULT_BODY = 1024 * 1024
# (method, path pattern, limit in bytes): the few routes that take more than the default.
BODY_LIMITS: list[tuple[str, re.Pattern, int]] = [
    ("PUT", re.compile(r"^/api/v1/sync/guides$"), 16 * 1024 * 1024),  # a hall's whole guide content
    ("POST", re.compile(r"^/api/v1/appointments/import$"), 2_000_000),  # a day's bookings as CSV
]


def body_limit(method: str, path: str) -> int:
    for m, pattern, limit in BODY_LIMITS:
        if m == method and pattern.match(path):
            return limit
    return DEFAULT_BODY


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` mid-body; FastAPI passes HTTP exceptions through to the error handler."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimit:
    """ASGI middleware refusing bodies over the route's limit with 413."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = body_limit(scope["method"], scope["path"])
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    return await refuse(send, limit)
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if started:
                raise
            await refuse(send, limit)


async def refuse(send, limit: int) -> None:
    body = json.dumps({"error": "too_large", "field": "body",
                       "message": f"the request body is larger than {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})  # the rest of the body is never read
    await send({"type": "http.response.body", "body": body})


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


class StreamSlots:
    """Counts open event streams per address and in total."""

    def __init__(self, total: int | None = None, per_address: int | None = None):
        self.total = total or _env_int("KIOSK_MAX_STREAMS", 500)
        self.per_address = per_address or _env_int("KIOSK_MAX_STREAMS_PER_ADDRESS", 20)
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, address: str) -> str | None:
        """None when a slot was taken (give it back with ``give``), else why not."""
        with self._lock:
            if sum(self._open.values()) >= self.total:
                return f"the server holds its maximum of {self.total} event streams; try again later"
            if self._open.get(address, 0) >= self.per_address:
                return f"at most {self.per_address} event streams per address (or per sign-in); close another first"
            self._open[address] = self._open.get(address, 0) + 1
        return None

    def give(self, address: str) -> None:
        with self._lock:
            left = self._open.get(address, 0) - 1
            if left > 0:
                self._open[address] = left
            else:
                self._open.pop(address, None)
