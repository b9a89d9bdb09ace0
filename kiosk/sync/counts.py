"""The dispenser's grid on a linked terminal: the server's last waiting counts plus undelivered offline tickets.

The counts come from ``GET /api/v1/services`` (refreshed when events say they
moved) and are saved, so a restart offline still shows them. A day without
any answer from the server shows the hall as configured and this terminal's
own offline tickets. Offline, opening hours and days are judged by this
terminal's clock.
"""

from __future__ import annotations

import logging
from typing import Callable

from kiosk.domain import Service
from kiosk.queue import Availability, QueueEngine, ServiceState

from .client import BadAnswer, ServerClient, Unreachable, parse_json
from .link import Link
from .outbox import Outbox, SyncState

log = logging.getLogger(__name__)


class WaitingCounts:
    def __init__(self, client: ServerClient, link: Link, local: QueueEngine, outbox: Outbox, state: SyncState,
                 clock: Callable[[], float], issue_timeout: float):
        self.client, self.link, self.local, self.outbox, self.state = client, link, local, outbox, state
        self.clock = clock
        self.issue_timeout = issue_timeout
        saved = self.state.get("services")
        self.snapshot: dict | None = saved if isinstance(saved, dict) and isinstance(saved.get("items"), list) else None

    @property
    def hall(self):
        return self.local.hall  # the hall in use (the backend swaps it in when the server's changes)

    def refresh(self, timeout=None) -> None:
        body = parse_json(self.client.request("GET", "/api/v1/services", timeout=timeout))
        if not isinstance(body, list) or not all(isinstance(s, dict) and "code" in s for s in body):
            raise BadAnswer("GET /api/v1/services: not a list of services")
        self.snapshot = {"at": self.clock(), "day": self.local.today(), "items": body}
        self.link.came_online()
        try:
            self.state.set("services", self.snapshot)
        except Exception as exc:
            log.warning("cannot save the waiting counts: %s", exc)

    def _service_from(self, s: dict) -> Service:
        svc = self.hall.service(s["code"])
        if svc is not None:
            return svc
        self.link.pull_due.set()  # the server has a service we do not know yet: pull the hall soon
        return Service(code=s["code"], name=s.get("name", s["code"]), prefix=s.get("prefix", "?"),
                       icon=s.get("icon", "general"))

    def services(self) -> list[ServiceState]:
        """The grid: the server's last counts (live via events), plus offline tickets not yet delivered."""
        if self.snapshot is None and self.link.online is not False:
            try:
                self.refresh(timeout=(min(1.0, self.issue_timeout), self.issue_timeout))
            except Unreachable as exc:
                self.link.went_offline(exc)
            except BadAnswer as exc:
                log.warning("waiting counts: %s", exc)
        extra = self.outbox.pending_by_tag("ticket")
        by_code = self.today_by_code()
        out = [self.state_of(svc, by_code, extra) for svc in self.hall.services
               if by_code is None or svc.code in by_code]
        for code, s in (by_code or {}).items():
            if self.hall.service(code) is None:  # new on the server: shown until the hall pull catches up
                svc = self._service_from(s)
                out.append(ServiceState(svc, int(s.get("waiting", 0)), int(s.get("estimated_wait_s", 0)),
                                        Availability(bool(s.get("open", True)), s.get("closed_code", ""),
                                                     s.get("closed_reason", "")), tuple(s.get("windows", ()))))
        return out

    def today_by_code(self) -> dict[str, dict] | None:
        snapshot = self.snapshot
        if snapshot is None or snapshot.get("day") != self.local.today():
            return None  # never heard from the server today: the hall as configured, this terminal's counts
        return {s["code"]: s for s in snapshot["items"] if isinstance(s, dict) and isinstance(s.get("code"), str)}

    def state_of(self, svc: Service, by_code: dict[str, dict] | None, extra: dict[str, int]) -> ServiceState:
        s = (by_code or {}).get(svc.code) or {}
        known = int(s.get("waiting", 0))
        waiting = known + extra.get(svc.code, 0)
        est = self.estimate(svc, known, int(s.get("estimated_wait_s", 0)), waiting)
        if self.link.online is False or not s:
            avail = self.local.availability(svc, issued_today=0)  # hours and days, from this clock
            if avail.open and s and not s.get("open", True) and s.get("closed_code") in ("sold_out", "disabled"):
                avail = Availability(False, s.get("closed_code"), s.get("closed_reason") or "今日号已取完")
        else:
            avail = Availability(bool(s.get("open", True)), s.get("closed_code", ""), s.get("closed_reason", ""))
        windows = tuple(int(w) for w in s.get("windows", ())) or tuple(
            w.number for w in self.hall.windows_for(svc.code))
        return ServiceState(svc, waiting, est, avail, windows)

    def estimate(self, svc: Service, known_waiting: int, known_wait_s: int, waiting: int) -> int:
        if known_waiting > 0:
            return int(round(known_wait_s / known_waiting * waiting))
        minutes = svc.average_minutes or self.hall.default_service_minutes
        windows = max(1, len(self.hall.windows_for(svc.code)))
        return int(round(waiting * minutes * 60 / windows))

    def sold_out_reason(self, service_code: str) -> str | None:
        """The server's words when it said today's numbers of ``service_code`` are gone, else None."""
        snapshot = self.snapshot
        if snapshot and snapshot.get("day") == self.local.today():
            known = next((s for s in snapshot["items"] if s.get("code") == service_code), None)
            if known and not known.get("open", True) and known.get("closed_code") == "sold_out":
                return known.get("closed_reason") or "今日号已取完"
        return None

    def note_issued(self, service_code: str, ahead: int) -> None:
        """A ticket the server just gave: the grid shows the new count before the event arrives."""
        by_code = self.today_by_code()
        if by_code and service_code in by_code:
            by_code[service_code]["waiting"] = max(int(by_code[service_code].get("waiting", 0)) + 1, ahead + 1)
        self.link.counts_changed()
