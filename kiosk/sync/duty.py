"""The evaluator's idle screen on a linked terminal: who is on duty at its window, as last heard.

Asked of ``GET /api/v1/windows/{n}/duty`` at start, after a pull, and when
someone calls at this window (the staff on duty is whoever calls there);
saved, so a restart offline still shows the last name and photo link.
"""

from __future__ import annotations

import logging

from .client import ServerClient, ServerError, parse_json
from .link import Link
from .outbox import SyncState

log = logging.getLogger(__name__)


class DutyRoster:
    def __init__(self, client: ServerClient, link: Link, state: SyncState):
        self.client, self.link, self.state = client, link, state
        saved = self.state.get("duty") or {}
        self._duty: dict[int, dict | None] = {int(k): v for k, v in saved.items() if str(k).isdigit()}

    def get(self, window: int, may_ask: bool) -> dict | None:
        """Staff on duty at ``window`` ({name, staff_no, photo_url}); asks the server only when ``may_ask``
        and nothing is known yet (no worker thread runs), so it never waits on the network otherwise."""
        if window not in self._duty and may_ask and self.link.online is not False:
            try:
                self.refresh(window)
            except ServerError as exc:
                log.warning("duty: %s", exc)
        return self._duty.get(window)

    def refresh(self, window: int) -> None:
        if not window:
            return
        body = parse_json(self.client.request("GET", f"/api/v1/windows/{window}/duty"))
        staff = body.get("staff") if isinstance(body, dict) else None
        self._duty[window] = dict(staff) if isinstance(staff, dict) else None
        self.state.set("duty", {str(k): v for k, v in self._duty.items()})
