"""Delivering the outbox to the hall server, in order, exactly once.

Tickets and voids go in batches to ``POST /api/v1/sync/batch`` (each event gets
its own outcome there); other kinds (ratings, appointment check-ins) go one
POST each to their route in ``KIND_ROUTES``. Consecutive events of one route
stay in outbox order, so a rating never overtakes its ticket. A refusal marks
the event rejected (kept, with the reason); no answer leaves it pending.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from .client import BadAnswer, Refused, ServerClient, Unreachable, parse_json
from .link import Link
from .outbox import Outbox, SyncState

log = logging.getLogger(__name__)

BATCH_SIZE = 500
BATCH_KINDS = ("ticket", "void")
KIND_ROUTES = {"rating": "/api/v1/ratings",  # one POST per event, the body is the payload
               "appointment_checkin": "/api/v1/appointments/checkins"}
RETRY_STATUS = (408, 425, 429)


class PushResult:
    def __init__(self):
        self.sent = self.duplicates = self.rejected = self.batches = 0
        self.error: str = ""


def note_clock(state: SyncState, server_time: float, now: float) -> None:
    """Remember how far this terminal's clock is off the server's (sent with offline tickets)."""
    offset = server_time - now
    old = state.get("clock_offset", 0.0) or 0.0
    if abs(offset - old) > 1.0:
        state.set("clock_offset", offset)
        if abs(offset) > 60:
            log.warning("this terminal's clock is %.0f s off the hall server's", -offset)


class Pusher:
    def __init__(self, client: ServerClient, link: Link, outbox: Outbox, state: SyncState,
                 clock: Callable[[], float], batch_size: int = BATCH_SIZE):
        self.client, self.link, self.outbox, self.state = client, link, outbox, state
        self.clock = clock
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def push(self, batch_size: int | None = None, max_batches: int | None = None) -> PushResult:
        """Deliver pending events in order, in batches, until the outbox is empty. Raises Unreachable."""
        size = batch_size or self.batch_size
        result = PushResult()
        with self._lock:
            while max_batches is None or result.batches < max_batches:
                events = self.outbox.pending(size)
                if not events:
                    break
                for run in runs(events):
                    self._send_run(run, result)
                    result.batches += 1
            if not self.outbox.size():
                self.state.set("last_sync", self.clock())
            if result.batches:
                self.outbox.prune()
        if result.batches:
            self.link.came_online()
        return result

    def _send_run(self, run: list, result: PushResult) -> None:
        if run[0].kind in BATCH_KINDS:
            self._send_batch(run, result)
        else:
            self._send_each(run, result)

    def _send_batch(self, run: list, result: PushResult) -> None:
        body = parse_json(self.client.request(
            "POST", "/api/v1/sync/batch",
            json_body={"events": [{"key": e.key, "kind": e.kind, "payload": e.payload} for e in run]},
            timeout=(2.0, max(30.0, self.client.timeout_s))))
        try:
            answers = {a["key"]: a for a in body["results"]}
            if "server_time" in body:
                note_clock(self.state, float(body["server_time"]), self.clock())
        except (KeyError, TypeError, ValueError):
            raise BadAnswer("sync batch: answer without results") from None
        outcomes = []
        for e in run:
            a = answers.get(e.key)
            if a is None:
                continue  # not answered: stays pending
            if a.get("status") == "rejected":
                log.error("outbox %s %s rejected by the server: %s: %s", e.kind, e.key, a.get("field"),
                          a.get("error"))
                outcomes.append((e.key, "rejected", f"{a.get('field')}: {a.get('error')}"))
                result.rejected += 1
            else:
                outcomes.append((e.key, "sent", None))
                result.sent += a.get("status") == "applied"
                result.duplicates += a.get("status") == "duplicate"
        self.outbox.finish(outcomes)

    def _send_each(self, run: list, result: PushResult) -> None:
        kind = run[0].kind
        route = KIND_ROUTES.get(kind)
        for e in run:
            if route is None:
                self.outbox.finish([(e.key, "rejected", f"no route for kind '{kind}'")])
                result.rejected += 1
                continue
            try:
                r = self.client.request("POST", route, json_body=e.payload,
                                        timeout=(2.0, max(10.0, self.client.timeout_s)))
            except Refused as exc:
                if exc.status in RETRY_STATUS:
                    raise Unreachable(str(exc)) from None
                log.error("outbox %s %s refused by the server: %s", e.kind, e.key, exc)
                self.outbox.finish([(e.key, "rejected", str(exc)[:500])])
                result.rejected += 1
                continue
            self.outbox.finish([(e.key, "sent", None)])
            # 201: stored now; 200: that key (or that ticket's rating) was already there, e.g. a re-send
            # after an answer lost on the way back
            if r.status_code == 200:
                result.duplicates += 1
            else:
                result.sent += 1


def runs(events: list) -> list[list]:
    """Consecutive events of one route: batches stay in outbox order (a rating after its ticket)."""
    out: list = []
    for e in events:
        route = "batch" if e.kind in BATCH_KINDS else e.kind
        if out and out[-1][0] == route:
            out[-1][1].append(e)
        else:
            out.append((route, [e]))
    return [r for _, r in out]
