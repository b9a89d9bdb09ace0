"""呼叫工作人员: help requests from terminals, open until a staff member dismisses them.

Kept in memory (a request is for the next minutes, not for the records; the audit log
keeps who asked and who answered). One open request per terminal: presses within
``REPEAT_S`` of the last one are the same request.
"""

from __future__ import annotations

import threading
import time
import uuid

REPEAT_S = 60.0


class HelpDesk:
    def __init__(self, clock=time.time):
        self.clock = clock
        self._open: dict[str, dict] = {}  # request id -> request
        self._lock = threading.Lock()

    def ask(self, terminal_id: str, name: str, mode: str, window: int | None) -> tuple[dict, bool]:
        """The terminal's open request and whether it is new (False: a repeat within a minute)."""
        now = self.clock()
        with self._lock:
            mine = [r for r in self._open.values() if r["terminal_id"] == terminal_id]
            if mine and now - mine[0]["at"] < REPEAT_S:
                return dict(mine[0]), False
            for old in mine:  # still open a minute later: asked again, shown again with the new time
                self._open.pop(old["id"], None)
            request = {"id": uuid.uuid4().hex, "terminal_id": terminal_id, "terminal": name, "mode": mode,
                       "window": window, "at": now}
            self._open[request["id"]] = request
            return dict(request), True

    def dismiss(self, request_id: str) -> dict | None:
        with self._lock:
            request = self._open.pop(request_id, None)
        return dict(request) if request else None

    def open_requests(self) -> list[dict]:
        with self._lock:
            return sorted((dict(r) for r in self._open.values()), key=lambda r: r["at"])
