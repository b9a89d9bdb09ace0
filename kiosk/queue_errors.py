"""The queue engine's refusals: a stable ``code`` for APIs and a message for people.

Imported by ``kiosk.queue`` (where most callers take them from) and ``kiosk.calling``.
"""

from __future__ import annotations


class QueueError(Exception):
    """A refused request; ``code`` is stable for APIs, the message is for people."""

    code = "queue_error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class UnknownService(QueueError):
    code = "unknown_service"


class ServiceUnavailable(QueueError):
    code = "service_unavailable"


class WindowError(QueueError):
    code = "window_error"


class ReservedKey(QueueError):
    """A new ticket asked for with a key only an appointment check-in makes (``apt:``, ``apt-late:``: the
    appointment lane admits by it); ``field`` names the input."""

    code = "key_reserved"
    field = "key"
