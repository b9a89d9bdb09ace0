"""The hall-server queue backend: tickets from the server, an offline series without it.

Online, ``issue`` posts to ``/api/v1/tickets`` with an idempotency key and waits
at most 2 s. When the server does not answer, the ticket comes from the
terminal's own ``QueueEngine`` (its SQLite file) in this terminal's offline
series, e.g. ``AX001`` (service prefix, series letter, digits; see
``server.sync_store`` for why it cannot collide), and goes to the durable
outbox. While offline every tap issues at once from the local series; the
background threads notice when the server is back.

Threads (daemons, started by ``start``):
- ``sync``: pushes the outbox in batches; backoff with full jitter while the
  server is away; woken at once by a new event or by the server coming back.
- ``events``: follows the server's event stream (SSE), hands every event to
  ``subscribe``rs, marks the waiting counts stale; reconnects by itself,
  resuming with ``Last-Event-ID``.
- ``live``: refreshes waiting counts when they went stale, pulls settings, hall
  and guides, sends the heartbeat; probes with backoff while offline.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
import uuid
from collections import OrderedDict
from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from kiosk.config import TerminalConfig
from kiosk.domain import Hall, Service, Ticket, TicketStatus
from kiosk.queue import (Availability, Issued, QueueEngine, QueueError, ServiceState, ServiceUnavailable,
                         UnknownService)
from kiosk.storage.db import open_engine, sqlite_url
from kiosk.storage.queue_store import QueueStore

from .client import BadAnswer, Refused, ServerClient, ServerError, Unreachable, parse_json
from .content import ContentSync
from .outbox import Outbox, SyncState

log = logging.getLogger(__name__)

OFFLINE_MARKER = "离线"
OFFLINE_STORE = "offline"  # the local store's hall code: fixed, so a hall change cannot restart the series
ISSUE_TIMEOUT_S = 2.0
BATCH_SIZE = 500
BATCH_KINDS = ("ticket", "void")
KIND_ROUTES = {"rating": "/api/v1/ratings",  # one POST per event, the body is the payload
               "appointment_checkin": "/api/v1/appointments/checkins"}
RETRY_STATUS = (408, 425, 429)
NUMBER_RE = re.compile(r"^[A-Z]{1,3}([0-9]{1,5})$")
Listener = Callable[[str, dict], None]


class Backoff:
    """Exponential backoff with full jitter: the n-th wait is uniform in [first/2, min(cap, first*2^n)]."""

    def __init__(self, first: float = 0.5, cap: float = 15.0):
        self.first, self.cap, self.n = first, cap, 0

    def next(self) -> float:
        top = min(self.cap, self.first * (2 ** self.n))
        self.n += 1
        return random.uniform(self.first / 2, max(self.first / 2, top))

    def reset(self) -> None:
        self.n = 0


class PushResult:
    def __init__(self):
        self.sent = self.duplicates = self.rejected = self.batches = 0
        self.error: str = ""


class RemoteBackend:
    def __init__(self, config: TerminalConfig, hall: Hall, data_dir: Path, clock: Callable[[], float] = time.time,
                 *, batch_size: int = BATCH_SIZE, backoff_cap_s: float = 15.0, heartbeat_s: float = 30.0,
                 pull_s: float = 60.0):
        self.config = config
        self.clock = clock
        self.data_dir = Path(data_dir)
        self.client = ServerClient(config.server_url, config.server_token, config.server_timeout_s)
        self.issue_timeout = min(ISSUE_TIMEOUT_S, config.server_timeout_s)
        self.db = open_engine(sqlite_url(self.data_dir / "queue.db"))
        self.content = ContentSync(self, self.data_dir / "sync")
        cached = self.content.cached_hall()
        self.hall, self.hall_etag = cached if cached else (hall, "")
        self.local = QueueEngine(self.hall, QueueStore(self.db, OFFLINE_STORE), clock=clock)
        self.outbox = Outbox(self.db, clock=clock)
        self.state = SyncState(self.db)
        self.series = config.server_series or self.content.cached_terminal().get("series", "")
        self.adopt_link_key(self.content.cached_terminal().get("link_key", ""))
        self.batch_size = batch_size
        self.backoff_cap_s = backoff_cap_s
        self.heartbeat_s = heartbeat_s
        self.pull_s = pull_s
        self.online: bool | None = None  # None: not tried yet
        self.offline_since: float | None = None
        self.last_error = ""
        self._services: dict | None = self._saved_services()
        self._recent: OrderedDict[str, Ticket] = OrderedDict()
        saved_duty = self.state.get("duty") or {}
        self._duty: dict[int, dict | None] = {int(k): v for k, v in saved_duty.items() if str(k).isdigit()}
        self._duty_due = threading.Event()
        self._listeners: list[Listener] = []
        self._terminal = None
        self._stop = threading.Event()
        self._wake_sync = threading.Event()
        self._wake_live = threading.Event()
        self._services_stale = threading.Event()
        self._pull_due = threading.Event()
        self._push_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stream = None
        self.last_event_at: float | None = None
        self.events_connected = False
        self.outbox.on_put = self._wake_sync.set
        overrides = self.content.cached_terminal().get("settings")
        if overrides:
            from ..wire.overrides import apply_overrides

            apply_overrides(config, overrides)
        self.reconcile()

    # ------------------------------------------------------------ wiring
    def attach(self, terminal) -> None:
        """The facade this backend serves: for its health and to hand it a new hall or guides."""
        self._terminal = terminal

    def start(self) -> None:
        for name, target in (("sync", self._sync_loop), ("events", self._events_loop), ("live", self._live_loop)):
            t = threading.Thread(target=target, name=f"kiosk-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def close(self, timeout: float = 2.0) -> None:
        self._stop.set()
        for ev in (self._wake_sync, self._wake_live):
            ev.set()
        stream = self._stream
        if stream is not None:
            _abort(stream)
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def start_up(self) -> None:
        """At start: one quick try for settings, hall and counts, so the first screen is current."""
        try:
            self.content.pull_terminal()
            self.content.pull_hall()
            self.refresh_services(timeout=self.issue_timeout)
            if self.config.mode == "evaluator" and self.config.window:
                try:
                    self.refresh_duty()
                except (Refused, BadAnswer) as exc:
                    log.warning("duty: %s", exc)
            if not self.outbox.size():
                self.state.set("last_sync", self.clock())
        except Unreachable as exc:
            self._went_offline(exc)

    # ------------------------------------------------------------ online state
    def _went_offline(self, exc: Exception) -> None:
        self.last_error = str(exc)
        if self.online is not False:
            log.warning("hall server unreachable, working offline: %s", exc)
            self.offline_since = self.clock()
        self.online = False

    def _came_online(self) -> None:
        if self.online is not True:
            if self.online is False:
                log.info("hall server reachable again after %.0f s offline",
                         self.clock() - (self.offline_since or self.clock()))
            self.online = True
            self.offline_since = None
            self._wake_sync.set()
            self._services_stale.set()
            self._wake_live.set()

    def status_marker(self) -> str:
        return OFFLINE_MARKER if self.online is False else ""

    # ------------------------------------------------------------ 呼叫工作人员
    def request_help(self) -> dict:
        """Tell the hall's staff a visitor here asks for help; ServerError when it did not get there."""
        try:
            answer = parse_json(self.client.request("POST", "/api/v1/terminals/help"))
        except Unreachable as exc:
            self._went_offline(exc)
            raise
        self._came_online()
        return answer

    # ------------------------------------------------------------ evaluator
    @property
    def store(self):
        """The terminal's own queue store (offline tickets), as the embedded engine has one."""
        return self.local.store

    def submit_rating(self, rating) -> None:
        """A rating made here goes to the outbox (durable at once) and on to ``POST /api/v1/ratings``."""
        from kiosk.ratings.model import api_body

        self.outbox.put("rating", api_body(rating), rating.key)

    def duty(self, window: int) -> dict | None:
        """Staff on duty at ``window`` as last heard ({name, staff_no, photo_url}); never waits for the network."""
        if window not in self._duty and self.online is not False and not self._threads:
            try:
                self.refresh_duty(window)
            except ServerError as exc:
                log.warning("duty: %s", exc)
        return self._duty.get(window)

    def refresh_duty(self, window: int | None = None) -> None:
        window = window or self.config.window
        if not window:
            return
        body = parse_json(self.client.request("GET", f"/api/v1/windows/{window}/duty"))
        staff = body.get("staff") if isinstance(body, dict) else None
        self._duty[window] = dict(staff) if isinstance(staff, dict) else None
        self.state.set("duty", {str(k): v for k, v in self._duty.items()})

    # ------------------------------------------------------------ listeners
    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """``callback(kind, data)`` for each server event (on a worker thread); returns an unsubscribe."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def _dispatch(self, kind: str, data: dict) -> None:
        for cb in list(self._listeners):
            try:
                cb(kind, data)
            except Exception:
                log.exception("event listener failed on %s", kind)

    # ------------------------------------------------------------ hall, guides, series
    def adopt_hall(self, hall: Hall, etag: str) -> None:
        from zoneinfo import ZoneInfo

        changed = hall != self.hall
        self.hall, self.hall_etag = hall, etag
        self.local.tz = ZoneInfo(hall.timezone)
        self.local.hall = hall
        if self._terminal is not None:
            self._terminal.hall = hall
        if changed:
            log.info("hall from the server in use (%s, %d services)", etag, len(hall.services))

    def adopt_guides(self, content) -> None:
        if self._terminal is not None and hasattr(self._terminal, "adopt_guides"):
            self._terminal.adopt_guides(content)

    def guides_folder(self) -> Path | None:
        return self.content.guides_folder()

    def adopt_link_key(self, key: str) -> None:
        """The hall's link key: offline tickets then carry a public token the server recognises."""
        if not key:
            return
        from kiosk.public_link import make_token

        self.local.token_maker = lambda day: make_token(key, day)

    def adopt_series(self, series: str) -> None:
        if series == self.series:
            return
        if series:
            log.warning("offline series %r -> %r (from the hall server)", self.series, series)
            self.series = series
            self._save_series(series)

    def _save_series(self, series: str) -> None:
        path = self.config.source
        if not path:
            return
        try:
            from kiosk.config_write import apply_settings

            apply_settings(Path(path), {"server.series": series}, log_dir=self.data_dir / "logs")
            self.config.server_series = series
        except Exception as exc:  # the letter is also in sync/terminal.json: it still works
            log.error("cannot store the offline series in %s: %s", path, exc)

    # ------------------------------------------------------------ reading
    def today(self) -> str:
        return self.local.today()

    def _saved_services(self) -> dict | None:
        saved = self.state.get("services")
        return saved if isinstance(saved, dict) and isinstance(saved.get("items"), list) else None

    def refresh_services(self, timeout=None) -> None:
        body = parse_json(self.client.request("GET", "/api/v1/services", timeout=timeout))
        if not isinstance(body, list) or not all(isinstance(s, dict) and "code" in s for s in body):
            raise BadAnswer("GET /api/v1/services: not a list of services")
        self._services = {"at": self.clock(), "day": self.today(), "items": body}
        self._came_online()
        try:
            self.state.set("services", self._services)
        except Exception as exc:
            log.warning("cannot save the waiting counts: %s", exc)

    def _service_from(self, s: dict) -> Service:
        svc = self.hall.service(s["code"])
        if svc is not None:
            return svc
        self._pull_due.set()  # the server has a service we do not know yet: pull the hall soon
        return Service(code=s["code"], name=s.get("name", s["code"]), prefix=s.get("prefix", "?"),
                       icon=s.get("icon", "general"))

    def services(self) -> list[ServiceState]:
        """The grid: the server's last counts (live via events), plus offline tickets not yet delivered."""
        if self._services is None and self.online is not False:
            try:
                self.refresh_services(timeout=(min(1.0, self.issue_timeout), self.issue_timeout))
            except Unreachable as exc:
                self._went_offline(exc)
            except BadAnswer as exc:
                log.warning("waiting counts: %s", exc)
        snapshot = self._services
        extra = self.outbox.pending_by_tag("ticket")
        by_code = self._snapshot_today(snapshot)
        out = [self._state(svc, by_code, extra) for svc in self.hall.services
               if by_code is None or svc.code in by_code]
        for code, s in (by_code or {}).items():
            if self.hall.service(code) is None:  # new on the server: shown until the hall pull catches up
                svc = self._service_from(s)
                out.append(ServiceState(svc, int(s.get("waiting", 0)), int(s.get("estimated_wait_s", 0)),
                                        Availability(bool(s.get("open", True)), s.get("closed_code", ""),
                                                     s.get("closed_reason", "")), tuple(s.get("windows", ()))))
        return out

    def _snapshot_today(self, snapshot: dict | None) -> dict[str, dict] | None:
        if snapshot is None or snapshot.get("day") != self.today():
            return None  # never heard from the server today: the hall as configured, this terminal's counts
        return {s["code"]: s for s in snapshot["items"] if isinstance(s, dict) and isinstance(s.get("code"), str)}

    def _state(self, svc: Service, by_code: dict[str, dict] | None, extra: dict[str, int]) -> ServiceState:
        s = (by_code or {}).get(svc.code) or {}
        known = int(s.get("waiting", 0))
        waiting = known + extra.get(svc.code, 0)
        est = self._estimate(svc, known, int(s.get("estimated_wait_s", 0)), waiting)
        if self.online is False or not s:
            avail = self.local.availability(svc, issued_today=0)  # hours and days, from this clock
            if avail.open and s and not s.get("open", True) and s.get("closed_code") in ("sold_out", "disabled"):
                avail = Availability(False, s.get("closed_code"), s.get("closed_reason") or "今日号已取完")
        else:
            avail = Availability(bool(s.get("open", True)), s.get("closed_code", ""), s.get("closed_reason", ""))
        windows = tuple(int(w) for w in s.get("windows", ())) or tuple(
            w.number for w in self.hall.windows_for(svc.code))
        return ServiceState(svc, waiting, est, avail, windows)

    def _estimate(self, svc: Service, known_waiting: int, known_wait_s: int, waiting: int) -> int:
        if known_waiting > 0:
            return int(round(known_wait_s / known_waiting * waiting))
        minutes = svc.average_minutes or self.hall.default_service_minutes
        windows = max(1, len(self.hall.windows_for(svc.code)))
        return int(round(waiting * minutes * 60 / windows))

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self._recent.get(ticket_id) or self.local.get_ticket(ticket_id)

    # ------------------------------------------------------------ issuing
    def issue(self, service_code: str, priority: str | None = None, key: str | None = None,
              terminal: str | None = None, offline_key: str | None = None, person: str | None = None) -> Issued:
        """``offline_key``: the key an offline ticket gets instead of a random one (an appointment's
        ticket, which the appointment lane recognises by its key). ``person``: a swiped card's keyed
        hash, so the server keeps the hall's one-ticket-per-person rule across dispensers."""
        if self.online is not False:
            key = key or uuid.uuid4().hex
            try:
                return self._issue_online(service_code, priority, key, person)
            except Unreachable as exc:
                self._went_offline(exc)
                if exc.maybe_applied:
                    self._void(key, exc)
            except BadAnswer as exc:
                self._went_offline(exc)
                self._void(key, exc)
        return self._issue_offline(service_code, priority, terminal, offline_key)

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
        ticket = _ticket_from(body)
        self._came_online()
        self._recent[ticket.id] = ticket
        while len(self._recent) > 200:
            self._recent.popitem(last=False)
        ahead = int(body.get("people_ahead", 0))
        snapshot = self._snapshot_today(self._services)
        if snapshot and service_code in snapshot:  # the grid shows the new count before the event arrives
            snapshot[service_code]["waiting"] = max(int(snapshot[service_code].get("waiting", 0)) + 1, ahead + 1)
        self._services_stale.set()
        self._wake_live.set()
        return Issued(ticket, ahead, int(body.get("estimated_wait_s", 0)),
                      tuple(int(w) for w in body.get("windows", ())))

    def _issue_offline(self, service_code: str, priority: str | None, terminal: str | None,
                       key: str | None = None) -> Issued:
        if not self.series:
            log.error("offline and no offline series letter: enroll this terminal again")
            raise QueueError("this terminal has no offline series", "no_series")
        svc = self.local.service(service_code)
        snapshot = self._services
        if snapshot and snapshot.get("day") == self.today():
            known = next((s for s in snapshot["items"] if s.get("code") == service_code), None)
            if known and not known.get("open", True) and known.get("closed_code") == "sold_out":
                raise ServiceUnavailable(known.get("closed_reason") or "今日号已取完", "sold_out")
        issued = self.local.issue(service_code, priority, key=key or uuid.uuid4().hex,
                                  terminal=terminal or self.config.name, series=self.series)
        ticket = issued.ticket
        self.outbox.put("ticket", self._ticket_payload(ticket, self.series), ticket.key, tag=ticket.service)
        log.info("offline ticket %s (%s)", ticket.number, service_code)
        state = self._state(svc, self._snapshot_today(self._services), self.outbox.pending_by_tag("ticket"))
        ahead = max(0, state.waiting - 1)
        wait = self._estimate(svc, state.waiting, state.estimated_wait_s, ahead)
        windows = tuple(w.number for w in self.hall.windows_for(service_code))
        return Issued(ticket, ahead, wait, windows)

    def _ticket_payload(self, t: Ticket, series: str) -> dict:
        offset = self.state.get("clock_offset", 0.0) or 0.0
        return {"id": t.id, "number": t.number, "service": t.service, "day": t.day, "seq": t.seq,
                "series": series, "issued_at": t.issued_at, "priority": t.priority, "terminal": t.terminal,
                "clock_offset": max(-86400.0, min(86400.0, float(offset))), "token": t.token}

    def reconcile(self) -> int:
        """Offline tickets whose outbox row a crash prevented: add them now (same key: once)."""
        since = (date.fromisoformat(self.today()) - timedelta(days=2)).isoformat()
        missing = self.outbox.missing_tickets(OFFLINE_STORE, since)
        events = []
        for row in missing:
            series = row.get("series") or self.series
            t = Ticket(id=row["id"], number=row["number"], service=row["service"], day=row["day"], seq=row["seq"],
                       issued_at=row["issued_at"], priority=row["priority"], terminal=row["terminal"], key=row["key"],
                       token=row.get("token"))
            payload = self._ticket_payload(t, series)
            events.append(("ticket", payload, t.key, t.service))
        added = self.outbox.put_many(events)
        if added:
            log.warning("%d offline ticket(s) were missing from the outbox; added", added)
        return added

    # ------------------------------------------------------------ pushing
    def push(self, batch_size: int | None = None, max_batches: int | None = None) -> PushResult:
        """Deliver pending events in order, in batches, until the outbox is empty. Raises Unreachable."""
        size = batch_size or self.batch_size
        result = PushResult()
        with self._push_lock:
            while max_batches is None or result.batches < max_batches:
                events = self.outbox.pending(size)
                if not events:
                    break
                for run in _runs(events):
                    self._send_run(run, result)
                    result.batches += 1
            if not self.outbox.size():
                self.state.set("last_sync", self.clock())
            if result.batches:
                self.outbox.prune()
        if result.batches:
            self._came_online()
        return result

    def _send_run(self, run: list, result: PushResult) -> None:
        kind = run[0].kind
        if kind in BATCH_KINDS:
            body = parse_json(self.client.request(
                "POST", "/api/v1/sync/batch",
                json_body={"events": [{"key": e.key, "kind": e.kind, "payload": e.payload} for e in run]},
                timeout=(2.0, max(30.0, self.client.timeout_s))))
            try:
                answers = {a["key"]: a for a in body["results"]}
                if "server_time" in body:
                    self._note_clock(float(body["server_time"]))
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
            return
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

    def _note_clock(self, server_time: float) -> None:
        offset = server_time - self.clock()
        old = self.state.get("clock_offset", 0.0) or 0.0
        if abs(offset - old) > 1.0:
            self.state.set("clock_offset", offset)
            if abs(offset) > 60:
                log.warning("this terminal's clock is %.0f s off the hall server's", -offset)

    # ------------------------------------------------------------ health
    def health(self) -> dict:
        h = self._terminal.health() if self._terminal is not None and hasattr(self._terminal, "health") else {}
        h.update(outbox=self.outbox.size(), last_sync=self.state.get("last_sync"), online=bool(self.online))
        return h

    def send_heartbeat(self) -> dict:
        h = self.health()
        body = {k: h.get(k) for k in ("mode", "version", "window", "printer_state", "paper", "last_sync", "outbox",
                                       "crash_loop", "crashes_10min", "last_error", "last_crash_at", "online",
                                       "idcard")}
        body["online"] = True
        if body.get("last_error"):
            body["last_error"] = re.sub(r"[\x00-\x1f\x7f]", " ", body["last_error"])[:200]
        if not body.get("window"):
            body["window"] = None
        answer = parse_json(self.client.request("POST", "/api/v1/terminals/heartbeat",
                                                json_body={k: v for k, v in body.items() if v is not None}))
        self._came_online()
        if isinstance(answer, dict) and "server_time" in answer:
            self._note_clock(float(answer["server_time"]))
            if str(answer.get("hall_version")) and f"h{answer.get('hall_version')}" != self.hall_etag:
                self._pull_due.set()
        if not h["outbox"]:
            self.state.set("last_sync", self.clock())
        return body

    # ------------------------------------------------------------ threads
    def _sync_loop(self) -> None:
        backoff = Backoff(0.5, self.backoff_cap_s)
        while not self._stop.is_set():
            wait = 30.0
            try:
                if self.outbox.size():
                    self.push()
                    backoff.reset()
                    continue
                backoff.reset()
            except Unreachable as exc:
                self._went_offline(exc)
                wait = backoff.next()
            except BadAnswer as exc:
                log.warning("sync: %s", exc)
                wait = backoff.next()
            except Exception:
                log.exception("sync worker error")
                wait = backoff.next()
            self._wake_sync.wait(wait)
            self._wake_sync.clear()

    def _live_loop(self) -> None:
        backoff = Backoff(0.5, self.backoff_cap_s)
        next_hb = next_pull = next_counts = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                if self._services_stale.is_set() or now >= next_counts:
                    self._services_stale.clear()
                    self.refresh_services()
                    next_counts = now + 15.0
                if self._pull_due.is_set() or now >= next_pull:
                    self._pull_due.clear()
                    self._duty_due.set()
                    self.content.pull_all(guides=self.config.mode in ("inquiry", "combined"))
                    next_pull = now + self.pull_s
                if self._duty_due.is_set() and self.config.mode == "evaluator":
                    self._duty_due.clear()
                    try:
                        self.refresh_duty()
                    except (Refused, BadAnswer) as exc:
                        log.warning("duty: %s", exc)
                if now >= next_hb:
                    self.send_heartbeat()
                    next_hb = now + self.heartbeat_s
                backoff.reset()
                wait = max(0.05, min(next_counts, next_pull, next_hb) - time.monotonic())
            except Unreachable as exc:
                self._went_offline(exc)
                next_hb = next_pull = 0.0  # report and catch up as soon as it is back
                self._services_stale.set()
                wait = backoff.next()
            except ServerError as exc:
                log.warning("live data: %s", exc)
                wait = backoff.next()
            except Exception:
                log.exception("live data worker error")
                wait = backoff.next()
            self._wake_live.wait(wait)
            self._wake_live.clear()
            if self._services_stale.is_set() and not self._stop.is_set():
                self._stop.wait(0.05)  # a burst of events: one refresh

    def _events_loop(self) -> None:
        backoff = Backoff(0.3, min(5.0, self.backoff_cap_s))
        last_id = None
        while not self._stop.is_set():
            try:
                headers = self.client.headers({"Accept": "text/event-stream"})
                if last_id:
                    headers["Last-Event-ID"] = last_id
                r = self.client.session.get(self.client.url + "/api/v1/events", headers=headers, stream=True,
                                            timeout=(2.0, 40.0))  # the server sends a keep-alive every 15 s
                self._stream = r
                try:
                    if r.status_code != 200:
                        raise Unreachable(f"event stream: HTTP {r.status_code}")
                    self.events_connected = True
                    backoff.reset()
                    self._came_online()
                    self._services_stale.set()  # we may have missed changes while away
                    self._wake_live.set()
                    for event_id, kind, data in _sse(r):
                        if event_id:
                            last_id = event_id
                        self.last_event_at = time.time()
                        self._on_event(kind, data)
                        if self._stop.is_set():
                            return
                finally:
                    self.events_connected = False
                    self._stream = None
                    r.close()
            except Exception as exc:
                if self._stop.is_set():
                    return
                log.debug("event stream: %s", exc)
            if self._stop.is_set():
                return
            self._stop.wait(backoff.next())

    def _on_event(self, kind: str, data: dict) -> None:
        if kind.startswith("ticket_") or kind.startswith("window_"):
            self._services_stale.set()
            if kind == "ticket_called" and data.get("window") == self.config.window:
                self._duty_due.set()  # the staff on duty is whoever calls at this window
            self._wake_live.set()
        elif kind == "config_changed":
            self._pull_due.set()
            self._wake_live.set()
        self._dispatch(kind, data)


def _abort(response) -> None:
    """End a streaming response another thread is blocked reading: shut its socket down."""
    import socket

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


def _runs(events: list) -> list[list]:
    """Consecutive events of one route: batches stay in outbox order (a rating after its ticket)."""
    runs: list[list] = []
    for e in events:
        route = "batch" if e.kind in BATCH_KINDS else e.kind
        if runs and runs[-1][0] == route:
            runs[-1][1].append(e)
        else:
            runs.append((route, [e]))
    return [r for _, r in runs]


def _sse(response):
    """(id, event, data dict) per server-sent event, as the bytes arrive."""
    import json

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


def _ticket_from(body) -> Ticket:
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
