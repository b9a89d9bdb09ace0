"""The hall-server queue backend of a linked terminal: the facade ``kiosk.terminal`` talks to.

It owns the parts, each in its own module, and takes into use what they bring:

- ``kiosk/sync/issuing.py``: tickets from the server, or from the offline series into the outbox;
- ``kiosk/sync/counts.py``: the grid's waiting counts;
- ``kiosk/sync/push.py``: delivering the outbox;
- ``kiosk/sync/events.py``: the event stream (SSE);
- ``kiosk/sync/content.py``: settings, hall and guides pulled from the server, returned here to adopt;
- ``kiosk/sync/duty.py``: the evaluator's staff on duty;
- ``kiosk/sync/workers.py``: the three background threads;
- ``kiosk/sync/link.py``: the shared online state and wake-ups.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Callable

from kiosk.config import TerminalConfig
from kiosk.domain import Hall, Ticket
from kiosk.queue import Issued, QueueEngine, ServiceState
from kiosk.storage.db import open_engine, sqlite_url
from kiosk.storage.queue_store import QueueStore

from ..wire.overrides import apply_overrides
from .client import BadAnswer, Refused, ServerClient, Unreachable, parse_json
from .content import ContentSync
from .counts import WaitingCounts
from .duty import DutyRoster
from .events import EventStream
from .issuing import ISSUE_TIMEOUT_S, OFFLINE_STORE, Issuer
from .link import OFFLINE_MARKER, Link
from .outbox import Outbox, SyncState
from .push import BATCH_SIZE, Pusher, PushResult, note_clock
from .workers import live_loop, start_thread, sync_loop

log = logging.getLogger(__name__)

Listener = Callable[[str, dict], None]
GUIDE_MODES = ("inquiry", "combined")  # the modes that show guides pull them


class RemoteBackend:
    def __init__(self, config: TerminalConfig, hall: Hall, data_dir: Path, clock: Callable[[], float] = time.time,
                 *, batch_size: int = BATCH_SIZE, backoff_cap_s: float = 15.0, heartbeat_s: float = 30.0,
                 pull_s: float = 60.0):
        self.config = config
        self.clock = clock
        self.data_dir = Path(data_dir)
        self.client = ServerClient(config.server_addresses(), config.server_token, config.server_timeout_s)
        self.issue_timeout = min(ISSUE_TIMEOUT_S, config.server_timeout_s)
        self.db = open_engine(sqlite_url(self.data_dir / "queue.db"))
        self.link = Link(clock)
        self.content = ContentSync(self.client, self.data_dir / "sync")
        cached = self.content.cached_hall()
        self.hall, self.hall_etag = cached if cached else (hall, "")
        self.local = QueueEngine(self.hall, QueueStore(self.db, OFFLINE_STORE), clock=clock)
        self.outbox = Outbox(self.db, clock=clock)
        self.state = SyncState(self.db)
        self.counts = WaitingCounts(self.client, self.link, self.local, self.outbox, self.state, clock,
                                    self.issue_timeout)
        saved = self.content.cached_terminal()
        self.issuer = Issuer(self.client, self.link, self.local, self.outbox, self.state, self.counts, config,
                             series=config.server_series or saved.get("series", ""), issue_timeout=self.issue_timeout)
        self.pusher = Pusher(self.client, self.link, self.outbox, self.state, clock, batch_size)
        self.roster = DutyRoster(self.client, self.link, self.state)
        self.events = EventStream(self.client, self.link, self._on_event, backoff_cap_s)
        self.adopt_link_key(saved.get("link_key", ""))
        self.backoff_cap_s = backoff_cap_s
        self.heartbeat_s = heartbeat_s
        self.pull_s = pull_s
        self._listeners: list[Listener] = []
        self._terminal = None
        self._threads = []
        self.outbox.on_put = self.link.wake_sync.set
        if saved.get("settings"):
            apply_overrides(config, saved["settings"])
        self.reconcile()

    # ------------------------------------------------------------ wiring
    def attach(self, terminal) -> None:
        """The facade this backend serves: for its health and to hand it a new hall or guides."""
        self._terminal = terminal

    def start(self) -> None:
        self._threads = [
            start_thread("sync", lambda: sync_loop(self.link, self.outbox.size, self.push, self.backoff_cap_s)),
            start_thread("events", self.events.run),
            start_thread("live", lambda: live_loop(
                self.link, refresh_counts=self.refresh_services, pull_all=self.pull_all,
                wants_duty=lambda: self.config.mode == "evaluator", refresh_duty=self.refresh_duty,
                heartbeat=self.send_heartbeat, pull_s=self.pull_s, heartbeat_s=self.heartbeat_s,
                backoff_cap_s=self.backoff_cap_s)),
        ]

    def close(self, timeout: float = 2.0) -> None:
        self.link.close()
        self.events.abort()
        for t in self._threads:
            t.join(timeout)
        self._threads = []

    def start_up(self) -> None:
        """At start: one quick try for settings, hall and counts, so the first screen is current."""
        try:
            self.pull_terminal()
            self.pull_hall()
            self.refresh_services(timeout=self.issue_timeout)
            if self.config.mode == "evaluator" and self.config.window:
                try:
                    self.refresh_duty()
                except (Refused, BadAnswer) as exc:
                    log.warning("duty: %s", exc)
            if not self.outbox.size():
                self.state.set("last_sync", self.clock())
        except Unreachable as exc:
            self.went_offline(exc)

    # ------------------------------------------------------------ online state
    @property
    def online(self) -> bool | None:
        return self.link.online

    @property
    def offline_since(self) -> float | None:
        return self.link.offline_since

    @property
    def last_error(self) -> str:
        return self.link.last_error

    @property
    def events_connected(self) -> bool:
        return self.events.connected

    @property
    def last_event_at(self) -> float | None:
        return self.events.last_event_at

    def went_offline(self, exc: Exception) -> None:
        self.link.went_offline(exc)

    def status_marker(self) -> str:
        return self.link.marker()

    # ------------------------------------------------------------ 呼叫工作人员
    def request_help(self) -> dict:
        """Tell the hall's staff a visitor here asks for help; ServerError when it did not get there."""
        try:
            answer = parse_json(self.client.request("POST", "/api/v1/terminals/help"))
        except Unreachable as exc:
            self.went_offline(exc)
            raise
        self.link.came_online()
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
        """Staff on duty at ``window`` as last heard ({name, staff_no, photo_url}); never waits for the network
        while the worker threads run."""
        return self.roster.get(window, may_ask=not self._threads)

    def refresh_duty(self, window: int | None = None) -> None:
        self.roster.refresh(window or self.config.window)

    # ------------------------------------------------------------ listeners
    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """``callback(kind, data)`` for each server event (on a worker thread); returns an unsubscribe."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def _on_event(self, kind: str, data: dict) -> None:
        if kind.startswith("ticket_") or kind.startswith("window_"):
            if kind == "ticket_called" and data.get("window") == self.config.window:
                self.link.duty_due.set()  # the staff on duty is whoever calls at this window
            self.link.counts_changed()
        elif kind == "config_changed":
            self.link.pull_due.set()
            self.link.wake_live.set()
        for cb in list(self._listeners):
            try:
                cb(kind, data)
            except Exception:
                log.exception("event listener failed on %s", kind)

    # ------------------------------------------------------------ settings, hall, guides (pulled, then adopted)
    def pull_all(self) -> None:
        """Terminal settings, hall, and (inquiry modes) guides. Raises Unreachable when offline."""
        self.pull_terminal()
        self.pull_hall()
        if self.config.mode in GUIDE_MODES:
            self.pull_guides()

    def pull_terminal(self) -> bool:
        got = self.content.pull_terminal(self.config.mode)
        if got is None:
            return False
        self.adopt_link_key(got.link_key)
        apply_overrides(self.config, got.settings)
        self.adopt_series(got.series)
        return True

    def pull_hall(self) -> bool:
        got = self.content.pull_hall(self.hall_etag)
        if got is None:
            return False
        self.adopt_hall(got.hall, got.etag)
        return True

    def pull_guides(self) -> bool:
        content = self.content.pull_guides(self.hall)
        if content is None:
            return False
        if self._terminal is not None and hasattr(self._terminal, "adopt_guides"):
            self._terminal.adopt_guides(content)
        log.info("guide content %s from the hall server in use", content.digest[:12])
        return True

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

    def guides_folder(self) -> Path | None:
        return self.content.guides_folder()

    def adopt_link_key(self, key: str) -> None:
        """The hall's link key: offline tickets then carry a public token the server recognises."""
        if not key:
            return
        from kiosk.public_link import make_token

        self.local.token_maker = lambda day: make_token(key, day)

    @property
    def series(self) -> str:
        return self.issuer.series

    def adopt_series(self, series: str) -> None:
        if series == self.series or not series:
            return
        log.warning("offline series %r -> %r (from the hall server)", self.series, series)
        self.issuer.series = series
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

    # ------------------------------------------------------------ queue backend
    def today(self) -> str:
        return self.local.today()

    def refresh_services(self, timeout=None) -> None:
        self.counts.refresh(timeout)

    def services(self) -> list[ServiceState]:
        return self.counts.services()

    def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self.issuer.get_ticket(ticket_id)

    def issue(self, service_code: str, priority: str | None = None, key: str | None = None,
              terminal: str | None = None, offline_key: str | None = None, person: str | None = None) -> Issued:
        """Online from the server, else offline from this terminal's series (``kiosk/sync/issuing.py``)."""
        return self.issuer.issue(service_code, priority, key, terminal, offline_key, person)

    def reconcile(self) -> int:
        return self.issuer.reconcile()

    def push(self, batch_size: int | None = None, max_batches: int | None = None) -> PushResult:
        """Deliver the outbox now (``kiosk/sync/push.py``). Raises Unreachable."""
        return self.pusher.push(batch_size, max_batches)

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
        self.link.came_online()
        if isinstance(answer, dict) and "server_time" in answer:
            note_clock(self.state, float(answer["server_time"]), self.clock())
            if str(answer.get("hall_version")) and f"h{answer.get('hall_version')}" != self.hall_etag:
                self.link.pull_due.set()
        if not h["outbox"]:
            self.state.set("last_sync", self.clock())
        return body


__all__ = ["OFFLINE_MARKER", "RemoteBackend"]
