"""The hall's waiting queue held in memory, exact as of the hall's queue version.

Placing a new ticket (people ahead, estimated wait) from the database means counting the day's waiting
queue on every ticket: thousands of rows late on a busy day. Instead each ``QueueStore`` keeps the
day's waiting tickets grouped as that count needs them (service, window, priority, front lane), each
group's issue keys sorted, with the window states and the latest service times of each service.

It stays exact because every writer of tickets and window states first bumps the hall's queue version
in its own transaction (``bump``) and stamps the rows it writes with the new value (``qv``). The
version row is the hall's queue write lock (PostgreSQL: a row lock until commit; SQLite: the one
writer), so inside a write transaction that bumped it to ``v`` the database is exactly version ``v``.
``QueueCache.sync`` then brings the cache to ``v``: it applies the transaction's own ticket when the
cache was at ``v - 1``, reads the rows stamped after the cache's version when it is older (a write of
another process, or one of this process that does not keep the cache), and loads the day's waiting
tickets when it holds another day, other lanes or nothing. The caller holds ``QueueCache.lock`` from
``sync`` until its transaction has committed, and ``invalidate``s the cache if it did not.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, insort
from dataclasses import dataclass
from typing import Sequence

import sqlalchemy as sa

from kiosk.domain import Ticket, TicketStatus
from kiosk.ordering import Lane, issue_key

from .numbering import insert_ignore, ticket_of
from .prepared import Prepared
from .schema import queue_versions, tickets, window_states

DURATIONS_KEPT = 20  # the latest service times an estimate averages (``QueueStore.recent_durations``)

_B = sa.bindparam
_BUMP = (queue_versions.update().where(queue_versions.c.hall == _B("k_hall"))
         .values(version=queue_versions.c.version + 1).returning(queue_versions.c.version))
_BUMP_RAW = Prepared(lambda dialect, rows: _BUMP)  # on every write: run on the DB-API cursor
_WAITING = sa.select(tickets).where(tickets.c.hall == _B("hall"), tickets.c.day == _B("day"),
                                    tickets.c.status == TicketStatus.WAITING.value)
_CHANGED = sa.select(tickets).where(tickets.c.hall == _B("hall"), tickets.c.qv > _B("qv"))
_STATES = sa.select(window_states).where(window_states.c.hall == _B("hall"))
_CHANGED_STATES = _STATES.where(window_states.c.qv > _B("qv"))
# (id, finished_at, seconds): also ``QueueStore.recent_durations``, outside the cache
DURATIONS = (sa.select(tickets.c.id, tickets.c.finished_at, tickets.c.finished_at - tickets.c.started_at)
             .where(tickets.c.hall == _B("hall"), tickets.c.service == _B("service"),
                    tickets.c.status == TicketStatus.DONE.value,
                    tickets.c.started_at.is_not(None), tickets.c.finished_at.is_not(None))
             .order_by(tickets.c.finished_at.desc()).limit(DURATIONS_KEPT))


def bump(conn: sa.Connection, hall: str) -> int:
    """Raise the hall's queue version in ``conn``'s write transaction (taking its lock); the new value."""
    version = _BUMP_RAW.scalar(conn, {"k_hall": hall})
    if version is None:  # the hall's first write
        conn.execute(insert_ignore(conn.dialect.name, queue_versions).values(hall=hall, version=0))
        version = conn.execute(_BUMP, {"k_hall": hall}).scalar()
    return version


@dataclass
class WindowState:
    """A window's row of ``window_states`` (``QueueStore.window_state``), kept here too (``QueueCache``)."""

    number: int
    paused: bool = False
    current_ticket: str | None = None
    staff: str | None = None
    priority_streak: int = 0
    lane_streak: int = 0  # calls of the interleaved front lane in a row (kiosk.ordering)


def window_state_of(row) -> WindowState:
    m = row._mapping
    return WindowState(m["number"], bool(m["paused"]), m["current_ticket"], m["staff"], m["priority_streak"],
                       m["lane_streak"])


@dataclass(frozen=True)
class Placement:
    """What placing one ticket needs, as of its own transaction."""

    groups: list[tuple]  # rows shaped like ``kiosk.storage.ahead_counts.ahead_statement``'s, the ticket left out
    states: dict[int, WindowState]
    durations: list[float]  # the latest service times of its service, newest first


class QueueCache:
    def __init__(self, hall: str):
        self.hall = hall
        self.lock = threading.Lock()
        self.invalidate()

    def invalidate(self) -> None:
        self.version: int | None = None
        self.day: str | None = None
        self.lanes: tuple[str, ...] | None = None
        self._groups: dict[tuple, list[tuple]] = {}  # (service, window, priority, lane) -> sorted issue keys
        self._where: dict[str, tuple] = {}  # ticket id -> (group, issue key)
        self._states: dict[int, WindowState] = {}
        self._durations: dict[str, list[tuple]] = {}  # service -> [(finished_at, id, seconds)], newest first

    # ------------------------------------------------------------ keeping it exact
    def sync(self, conn: sa.Connection, version: int, day: str, lanes: Sequence[Lane], now: float,
             own: Sequence[Ticket] = ()) -> None:
        """Bring the cache to ``version`` (the one ``conn``'s transaction bumped to); ``own``: its tickets."""
        names = tuple(lane.name for lane in lanes)
        if self.version is None or self.day != day or self.lanes != names or self.version >= version:
            self._load(conn, day, lanes, names, now)
        elif self.version == version - 1:
            for t in own:
                self._apply(t, lanes, now)
        else:
            for row in conn.execute(_CHANGED, {"hall": self.hall, "qv": self.version}):
                self._apply(ticket_of(row), lanes, now)
            for row in conn.execute(_CHANGED_STATES, {"hall": self.hall, "qv": self.version}):
                self._states[row.number] = window_state_of(row)
        self.version = version

    def _load(self, conn: sa.Connection, day: str, lanes: Sequence[Lane], names: tuple, now: float) -> None:
        self.invalidate()
        self.day, self.lanes = day, names
        for row in conn.execute(_WAITING, {"hall": self.hall, "day": day}):
            self._apply(ticket_of(row), lanes, now)
        self._states = {row.number: window_state_of(row) for row in conn.execute(_STATES, {"hall": self.hall})}

    def _apply(self, t: Ticket, lanes: Sequence[Lane], now: float) -> None:
        old = self._where.pop(t.id, None)
        if old is not None:
            keys = self._groups[old[0]]
            del keys[bisect_left(keys, old[1])]
            if not keys:
                del self._groups[old[0]]
        if t.status is TicketStatus.WAITING and t.day == self.day:
            lane = next((i for i, ln in enumerate(lanes) if ln.admits(t, now)), None)
            group, key = (t.service, t.window, t.priority, lane), issue_key(t)
            insort(self._groups.setdefault(group, []), key)
            self._where[t.id] = (group, key)
        elif t.status is TicketStatus.DONE and t.started_at is not None and t.finished_at is not None:
            kept = self._durations.get(t.service)
            if kept is not None and not any(i == t.id for _, i, _ in kept):
                kept.append((t.finished_at, t.id, t.finished_at - t.started_at))
                kept.sort(key=lambda x: x[0], reverse=True)
                del kept[DURATIONS_KEPT:]

    # ------------------------------------------------------------ reading it
    def place(self, conn: sa.Connection, ticket: Ticket, lanes: Sequence[Lane]) -> Placement:
        """``ticket``'s surroundings from the cache (synced to this transaction's version)."""
        mine = self._where.get(ticket.id)
        key = issue_key(ticket)
        width = 2 * len(lanes)
        groups = []
        for group, keys in self._groups.items():
            total = len(keys) - (1 if mine is not None and mine[0] == group else 0)
            if not total:
                continue
            earlier = bisect_left(keys, key)
            service, window, priority, lane = group
            in_lanes = [0] * width
            if lane is not None:
                in_lanes[2 * lane], in_lanes[2 * lane + 1] = total, earlier
            groups.append((service, window, priority, total, earlier, *in_lanes))
        return Placement(groups, dict(self._states), self.durations(conn, ticket.service))

    def durations(self, conn: sa.Connection, service: str) -> list[float]:
        kept = self._durations.get(service)
        if kept is None:  # read once per service, then kept up to date by the rows synced in
            kept = self._durations[service] = [
                (f, i, float(d)) for i, f, d in conn.execute(DURATIONS, {"hall": self.hall, "service": service})]
        return [d for _, _, d in kept]
