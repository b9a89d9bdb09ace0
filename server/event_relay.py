"""Events between server processes on one PostgreSQL database (LISTEN/NOTIFY).

With SQLite the server is one process and its ``EventHub`` numbers and delivers
events itself. On PostgreSQL any number of ``kiosk serve`` processes may share
the database, so a hub hands its events to the process's ``EventRelay``:

- a writer thread stores them in ``server_events`` (hall, kind, JSON data, time),
  several per transaction under load, and in the same transaction sends
  ``NOTIFY kiosk_events, '<origin> <hall> <id>,<id>...'`` (a small payload: the
  rows are read back by id). It then delivers them to this process's hub with the
  database ids, so ``Last-Event-ID`` means the same thing in every process and a
  client that reconnects to another process catches up there;
- a listener thread per process (its own autocommit connection, ``LISTEN``) reads
  the rows other processes announced and delivers them to the hub of that hall;
- control messages (``NOTIFY kiosk_control``): "forget cached tokens" after a
  sign-out or a revoked terminal, so a token is refused by every process at once.

Events are notices, the database is the truth: a process killed between a commit
and the event's write loses that event only (clients refetch on reconnect). Rows
older than ``KEEP_S`` are deleted by the writer.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import uuid

import sqlalchemy as sa

from kiosk.storage.schema import migrate

from .events import Event, EventHub

log = logging.getLogger(__name__)

CHANNEL = "kiosk_events"
CONTROL = "kiosk_control"
KEEP_S = 3600.0  # events kept for catch-up after a reconnect
BATCH = 200  # events per transaction (and per NOTIFY payload, well under its 8000 bytes)
REPLAY_LIMIT = 500
# A writer or listener that wakes gathers what else comes within this long: a busy hall's events
# then cost one transaction and one read per burst, not per event (delivery stays well under 1 s).
GATHER_S = 0.02

metadata = sa.MetaData()
server_events = sa.Table(
    "server_events", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("at", sa.Float, nullable=False, index=True),
)


def _v1(conn: sa.Connection) -> None:
    server_events.create(conn, checkfirst=True)


MIGRATIONS = [_v1]


def prepare(engine: sa.Engine) -> None:
    migrate(engine, "server_events", MIGRATIONS)


def is_postgres(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _dsn(engine: sa.Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class EventRelay:
    """One per server process on PostgreSQL; ``attach`` each hall's hub to it."""

    def __init__(self, engine: sa.Engine):
        self.db = engine
        self.origin = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._hubs: dict[str, EventHub] = {}
        self._on_event: list = []  # callables(hall, Event) for every event, this process's and others'
        self._on_control: dict[str, list] = {}
        self._outbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._threads: list[threading.Thread] = []
        self.delivered_remote = 0

    # ------------------------------------------------------------ wiring
    def attach(self, hall: str, hub: EventHub) -> None:
        self._hubs[hall] = hub
        hub.relay = self
        hub.relay_hall = hall

    def on_event(self, callback) -> None:
        """``callback(hall, event)`` for every delivered event (e.g. a hall edited by another process)."""
        self._on_event.append(callback)

    def on_control(self, kind: str, callback) -> None:
        self._on_control.setdefault(kind, []).append(callback)

    def start(self) -> None:
        for target, name in ((self._write_loop, "event-writer"), (self._listen_loop, "event-listener")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def wait_listening(self, timeout: float = 10.0) -> bool:
        return self._listening.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._outbox.put(None)
        if self._listening.is_set():  # wake the listener from its wait for notifications: it ends at once
            try:
                with self.db.begin() as conn:
                    conn.execute(sa.text("SELECT pg_notify(:c, :p)"), {"c": CONTROL, "p": f"{self.origin} stop"})
            except Exception:  # the database is away: the listener ends within its 1 s wait anyway
                pass
        for t in self._threads:
            t.join(3)

    # ------------------------------------------------------------ sending
    def send(self, hall: str, kind: str, data: dict) -> None:
        """Queue an event for the database (called by ``EventHub.publish`` from any thread)."""
        self._outbox.put((hall, kind, data, time.time()))

    def control(self, kind: str) -> None:
        """Tell every other process (``kind``: e.g. 'tokens'); sent at once, before the caller answers."""
        with self.db.begin() as conn:
            conn.execute(sa.text("SELECT pg_notify(:c, :p)"), {"c": CONTROL, "p": f"{self.origin} {kind}"})

    def _write_loop(self) -> None:
        last_prune = 0.0
        while not self._stop.is_set():
            item = self._outbox.get()
            if item is None:
                return
            self._stop.wait(GATHER_S)  # under load: several events per transaction and per NOTIFY
            batch = [item]
            while len(batch) < BATCH:
                try:
                    nxt = self._outbox.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._stop.set()
                    break
                batch.append(nxt)
            try:
                self._write(batch)
            except Exception:
                log.exception("events not stored (%d); delivered in this process only", len(batch))
                for hall, kind, data, at in batch:
                    hub = self._hubs.get(hall)
                    if hub is not None:
                        hub.deliver_local(kind, data, at)
            if time.time() - last_prune > 300:
                last_prune = time.time()
                try:
                    with self.db.begin() as conn:
                        conn.execute(server_events.delete().where(server_events.c.at < time.time() - KEEP_S))
                except Exception:
                    log.warning("old events not pruned", exc_info=True)

    def _write(self, batch: list) -> None:
        rows = [dict(hall=h, kind=k, data=json.dumps(d, ensure_ascii=False), at=at) for h, k, d, at in batch]
        with self.db.begin() as conn:
            # events are notices (the tickets they tell of were committed durably): no wait for the disk
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            ids = [r[0] for r in conn.execute(server_events.insert().returning(server_events.c.id,
                                                                               sort_by_parameter_order=True), rows)]
            by_hall: dict[str, list[int]] = {}
            for (hall, *_), i in zip(batch, ids):
                by_hall.setdefault(hall, []).append(i)
            for hall, hall_ids in by_hall.items():
                conn.execute(sa.text("SELECT pg_notify(:c, :p)"),
                             {"c": CHANNEL, "p": f"{self.origin} {hall} {','.join(map(str, hall_ids))}"})
        for (hall, kind, data, at), i in zip(batch, ids):
            self._deliver(hall, Event(i, kind, data, at))

    def _deliver(self, hall: str, event: Event) -> None:
        hub = self._hubs.get(hall)
        if hub is not None:
            hub.deliver(event)
        for callback in self._on_event:
            try:
                callback(hall, event)
            except Exception:
                log.exception("event callback failed")

    # ------------------------------------------------------------ receiving
    def _listen_loop(self) -> None:
        import psycopg

        delay = 0.2
        last_id = None
        while not self._stop.is_set():
            try:
                with psycopg.connect(_dsn(self.db), autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    conn.execute(f"LISTEN {CONTROL}")
                    if last_id is not None:  # reconnected: what others sent meanwhile
                        self._fetch_since(last_id)
                    else:
                        last_id = conn.execute("SELECT coalesce(max(id), 0) FROM server_events").fetchone()[0]
                    self._listening.set()
                    delay = 0.2
                    while not self._stop.is_set():
                        notes = list(conn.notifies(timeout=1.0, stop_after=1))
                        if notes:  # and whatever else is already here: one read for all of them
                            notes += list(conn.notifies(timeout=GATHER_S))
                            last_id = max(last_id, self._on_notifies([(n.channel, n.payload) for n in notes]))
            except Exception as exc:
                self._listening.clear()
                if self._stop.is_set():
                    return
                log.warning("event listener: %s; reconnecting in %.1f s", str(exc).splitlines()[0] if str(exc)
                            else type(exc).__name__, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)

    def _on_notifies(self, notes: list[tuple[str, str]]) -> int:
        """Handle a burst of notifications: controls at once, then every announced event in one read."""
        ids: list[int] = []
        for channel, payload in notes:
            origin, _, rest = payload.partition(" ")
            if origin == self.origin:
                continue
            if channel == CONTROL:
                for callback in self._on_control.get(rest, ()):
                    try:
                        callback()
                    except Exception:
                        log.exception("control %s failed", rest)
                continue
            _hall, _, ids_text = rest.partition(" ")
            ids += [int(i) for i in ids_text.split(",") if i.isdigit()]
        if not ids:
            return 0
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(server_events).where(server_events.c.id.in_(ids))
                                .order_by(server_events.c.id)).all()
        order = {i: n for n, i in enumerate(ids)}  # the order they were committed in
        for row in sorted(rows, key=lambda r: order[r.id]):
            self.delivered_remote += 1
            self._deliver(row.hall, Event(row.id, row.kind, json.loads(row.data), row.at))
        return max(ids)

    def _fetch_since(self, last_id: int) -> None:
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(server_events).where(server_events.c.id > last_id)
                                .order_by(server_events.c.id).limit(REPLAY_LIMIT)).all()
        for row in rows:
            hub = self._hubs.get(row.hall)
            if hub is not None and not hub.has(row.id):
                self._deliver(row.hall, Event(row.id, row.kind, json.loads(row.data), row.at))

    def replay(self, hall: str, last_id: int) -> list[Event]:
        """Events of ``hall`` after ``last_id`` from the database (a client that comes from another process)."""
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(server_events).where(server_events.c.hall == hall,
                                                                server_events.c.id > last_id)
                                .order_by(server_events.c.id).limit(REPLAY_LIMIT)).all()
        return [Event(r.id, r.kind, json.loads(r.data), r.at) for r in rows]
