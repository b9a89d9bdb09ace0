"""Terminals online: the hall-server backend, the durable outbox, enrollment. No Kivy here.

    backend = RemoteBackend(config, hall, data_dir)   # QueueBackend for kiosk.terminal
    backend.outbox.put("rating", payload, key)        # any event, delivered exactly once
    backend.subscribe(lambda kind, data: ...)         # server events, on a worker thread
    enroll(server_url, code, config)                  # token + series into the terminal file

``RemoteBackend`` (``backend.py``) is a facade over one module per job: ``issuing``,
``counts``, ``outbox`` and ``push``, ``events`` (the SSE stream), ``content`` (pulls that
return what they got), ``duty``, ``workers`` (the threads), ``link`` (shared online state).
"""

from .backend import OFFLINE_MARKER, RemoteBackend
from .client import BadAnswer, Refused, ServerError, Unreachable
from .enroll import Enrolled, EnrollError, enroll
from .outbox import Outbox

__all__ = ["OFFLINE_MARKER", "BadAnswer", "EnrollError", "Enrolled", "Outbox", "Refused", "RemoteBackend",
           "ServerError", "Unreachable", "enroll"]
