"""Issuing on a linked terminal: from the hall server, or from this terminal's offline series.

Online, ``issue`` posts to ``/api/v1/tickets`` with an idempotency key and waits
at most 2 s. When the server does not answer, the ticket comes from the
terminal's own ``QueueEngine`` (its SQLite file) in this terminal's offline
series, e.g. ``AX001`` (service prefix, series letter, digits; see
``server.sync_store`` for why it cannot collide), and goes to the durable
outbox, which ``kiosk/sync/push.py`` delivers. While offline every tap issues
at once from the local series; the background threads notice when the server
is back. A request the server may have applied without our hearing the answer
is voided there later (a ``void`` event).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import OrderedDict
from datetime import date, timedelta

from kiosk.config import TerminalConfig
from kiosk.domain import Ticket, TicketStatus
from kiosk.queue import Issued, QueueEngine, QueueError, ServiceUnavailable, UnknownService

from .client import BadAnswer, Refused, ServerClient, Unreachable, parse_json
from .counts import WaitingCounts
from .link import Link
from .outbox import Outbox, SyncState

log = logging.getLogger(__name__)

OFFLINE_STORE = "offline"  # the local store's hall code: fixed, so a hall change cannot restart the series
ISSUE_TIMEOUT_S = 2.0
NUMBER_RE = re.compile(r"^[A-Z]{1,3}([0-9]{1,5})$")


class Issuer:
    def __init__(self, client: ServerClient, link: Link, local: QueueEngine, outbox: Outbox, state: SyncState,
                 counts: WaitingCounts, config: TerminalConfig, *, series: str, issue_timeout: float):
        self.client, self.link, self.local, self.outbox, self.state = client, link, local, outbox, state
        self.counts = counts
        self.config = config  # read when issuing: the terminal's name may be edited while it runs
        self.series = series  # the offline series letter; "" until the server gives one
        self.issue_timeout = issue_timeout
        self._recent: OrderedDict[str, Ticket] = OrderedDict()

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self._recent.get(ticket_id) or self.local.get_ticket(ticket_id)

    def issue(self, service_code: str, priority: str | None = None, key: str | None = None,
              terminal: str | None = None, offline_key: str | None = None, person: str | None = None) -> Issued:
        """``offline_key``: the key an offline ticket gets instead of a random one (an appointment's
        ticket, which the appointment lane recognises by its key). ``person``: a swiped card's keyed
        hash, so the server keeps the hall's one-ticket-per-person rule across dispensers."""
        if self.link.online is not False and offline_key is None:  # an offline check-in's ticket stays offline
            key = key or uuid.uuid4().hex
            try:
                return self._issue_online(service_code, priority, key, person)
            except Unreachable as exc:
                self.link.went_offline(exc)
                if exc.maybe_applied:
                    self._void(key, exc)
            except BadAnswer as exc:
                self.link.went_offline(exc)
                self._void(key, exc)
        return self.issue_offline(service_code, priority, terminal, offline_key)

    def _void(self, key: str, why: Exception) -> None:
        """The server may have made a ticket we never got: cancel it there once it is back."""
        log.warning("no answer for ticket request %s (%s); it will be voided on the server", key, why)
        self.outbox.put("void", {"key": key}, f"void-{key}"[:64])

    def _issue_online(self, service_code: str, priority: str | None, key: str, person: str | None = None) -> Issued:
        t = self.issue_timeout
        body = {"service": service_code, "priority": priority, "key": key}
        if person:
            body["person_key"] = person
        try:
            r = self.client.request("POST", "/api/v1/tickets", json_body=body, timeout=(min(1.0, t), t))
        except Refused as exc:
            if exc.status == 409:
                raise ServiceUnavailable(exc.message or "暂停办理", exc.code) from None
            if exc.code == "unknown_service" or exc.field == "service":
                raise UnknownService(exc.message, exc.code) from None
            raise QueueError(exc.message or str(exc), exc.code) from None
        body = parse_json(r)
        ticket = ticket_from(body)
        self.link.came_online()
        self._recent[ticket.id] = ticket
        while len(self._recent) > 200:
            self._recent.popitem(last=False)
        ahead = int(body.get("people_ahead", 0))
        self.counts.note_issued(service_code, ahead)
        return Issued(ticket, ahead, int(body.get("estimated_wait_s", 0)),
                      tuple(int(w) for w in body.get("windows", ())))

    def issue_offline(self, service_code: str, priority: str | None, terminal: str | None,
                      key: str | None = None) -> Issued:
        """A ticket in this terminal's own series, into the outbox in the same breath."""
        if not self.series:
            log.error("offline and no offline series letter: enroll this terminal again")
            raise QueueError("this terminal has no offline series", "no_series")
        svc = self.local.service(service_code)
        sold_out = self.counts.sold_out_reason(service_code)
        if sold_out is not None:
            raise ServiceUnavailable(sold_out, "sold_out")
        # ``key`` is an offline check-in's (``apt:<id>:<random>``, the only caller giving one): its own form
        issued = self.local.issue(service_code, priority, key=key or uuid.uuid4().hex,
                                  terminal=terminal or self.config.name, series=self.series, check_in=key is not None)
        ticket = issued.ticket
        self.outbox.put("ticket", self.ticket_payload(ticket, self.series), ticket.key, tag=ticket.service)
        log.info("offline ticket %s (%s)", ticket.number, service_code)
        state = self.counts.state_of(svc, self.counts.today_by_code(), self.outbox.pending_by_tag("ticket"))
        ahead = max(0, state.waiting - 1)
        wait = self.counts.estimate(svc, state.waiting, state.estimated_wait_s, ahead)
        windows = tuple(w.number for w in self.local.hall.windows_for(service_code))
        return Issued(ticket, ahead, wait, windows)

    def ticket_payload(self, t: Ticket, series: str) -> dict:
        """The outbox payload of an offline ticket (``POST /api/v1/sync/batch``, kind ``ticket``)."""
        offset = self.state.get("clock_offset", 0.0) or 0.0
        return {"id": t.id, "number": t.number, "service": t.service, "day": t.day, "seq": t.seq,
                "series": series, "issued_at": t.issued_at, "priority": t.priority, "terminal": t.terminal,
                "clock_offset": max(-86400.0, min(86400.0, float(offset))), "token": t.token}

    def reconcile(self) -> int:
        """Offline tickets whose outbox row a crash prevented: add them now (same key: once)."""
        since = (date.fromisoformat(self.local.today()) - timedelta(days=2)).isoformat()
        missing = self.outbox.missing_tickets(OFFLINE_STORE, since)
        events = []
        for row in missing:
            series = row.get("series") or self.series
            t = Ticket(id=row["id"], number=row["number"], service=row["service"], day=row["day"], seq=row["seq"],
                       issued_at=row["issued_at"], priority=row["priority"], terminal=row["terminal"], key=row["key"],
                       token=row.get("token"))
            events.append(("ticket", self.ticket_payload(t, series), t.key, t.service))
        added = self.outbox.put_many(events)
        if added:
            log.warning("%d offline ticket(s) were missing from the outbox; added", added)
        return added


def ticket_from(body) -> Ticket:
    """The server's ticket answer as a ``Ticket``; BadAnswer when it is unusable."""
    try:
        m = NUMBER_RE.match(body["number"])
        if not m:
            raise ValueError(f"bad number {body['number']!r}")
        return Ticket(id=str(body["id"]), number=body["number"], service=str(body["service"]), day=str(body["day"]),
                      seq=int(m.group(1)), issued_at=float(body["issued_at"]),
                      status=TicketStatus(body.get("status", "waiting")), priority=body.get("priority"),
                      window=body.get("window"), terminal=body.get("terminal"), token=body.get("token"))
    except (KeyError, TypeError, ValueError) as exc:
        raise BadAnswer(f"ticket answer unusable: {exc}") from None
