"""The queue engine's storage: a small interface over the SQL tables.

The engine never writes SQL; it asks this store to number-and-insert a ticket
atomically, to compare-and-set a ticket's state, and to read queues. The same
store runs on the terminal's SQLite file and on the hall server's database.
The tables and migrations are ``kiosk.storage.schema``; people ahead counted in SQL
is ``kiosk.storage.ahead_counts``.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kiosk.domain import Ticket, TicketStatus, Window
from kiosk.ordering import Counts, Ordering

from .ahead_counts import ahead_statement, window_counts
from .db import reader
from .schema import LANE_STREAK_MIGRATIONS, QUEUE_MIGRATIONS, TOKEN_MIGRATIONS, counters, migrate, tickets, window_states


class NumbersExhausted(Exception):
    """The service's range or daily cap is used up for the day."""


class KeyTaken(Exception):
    """A ticket with this idempotency key is already there (nothing was inserted)."""


class NumberTaken(Exception):
    """Too many numbers in a row were already held by other tickets (nothing was inserted)."""


MAX_SKIPS = 20
log = logging.getLogger(__name__)


@dataclass
class WindowState:
    number: int
    paused: bool = False
    current_ticket: str | None = None
    staff: str | None = None
    priority_streak: int = 0
    lane_streak: int = 0  # calls of the interleaved front lane in a row (kiosk.ordering)


_TICKET_FIELDS = ("id", "number", "service", "day", "seq", "issued_at", "status", "priority", "window",
                  "called_at", "started_at", "finished_at", "call_count", "terminal", "key",
                  "transferred_from", "token")


def _ticket(row) -> Ticket:
    m = row._mapping
    t = Ticket(**{f: m[f] for f in _TICKET_FIELDS})
    t.status = TicketStatus(t.status)
    return t


def _values(t: Ticket) -> dict:
    v = {f: getattr(t, f) for f in _TICKET_FIELDS}
    v["status"] = t.status.value
    return v


# Statements on the per-ticket hot path are built once: building a SQLAlchemy
# expression costs more than running it on SQLite.
_B = sa.bindparam
_t = tickets.c
_BY_KEY = sa.select(tickets).where(_t.key == _B("key"))
_GET = sa.select(tickets).where(_t.id == _B("id"), _t.hall == _B("hall"))
_LAST = sa.select(counters.c.last).where(counters.c.hall == _B("hall"), counters.c.day == _B("day"),
                                         counters.c.service == _B("service"), counters.c.series == _B("series"))
# (bound names differ from column names: an UPDATE reserves those for its SET clause)
_COUNTER_KEY = sa.and_(counters.c.hall == _B("k_hall"), counters.c.day == _B("k_day"),
                       counters.c.service == _B("k_service"), counters.c.series == _B("k_series"))
_COUNTER_NEXT = (counters.update().where(_COUNTER_KEY, counters.c.last < _B("limit"))
                 .values(last=counters.c.last + 1).returning(counters.c.last))
_COUNTER_EXISTS = sa.select(counters.c.last).where(_COUNTER_KEY)
_WINDOW = sa.select(window_states).where(window_states.c.hall == _B("hall"), window_states.c.number == _B("number"))
_DURATIONS = (sa.select(_t.finished_at - _t.started_at)
              .where(_t.hall == _B("hall"), _t.service == _B("service"), _t.status == TicketStatus.DONE.value,
                     _t.started_at.is_not(None), _t.finished_at.is_not(None))
              .order_by(_t.finished_at.desc()).limit(_B("limit")))


class QueueStore:
    def __init__(self, engine: sa.Engine, hall_code: str):
        self.engine = engine
        self.hall = hall_code
        self._ignoring: dict[str, object] = {}
        self._ahead: dict[tuple, object] = {}
        self._local = threading.local()
        migrate(engine, "queue", QUEUE_MIGRATIONS)
        migrate(engine, "ticket_token", TOKEN_MIGRATIONS)
        migrate(engine, "lane_streak", LANE_STREAK_MIGRATIONS)

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside share one read-only transaction: one connection, one BEGIN, one view."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with reader(self.engine) as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with reader(self.engine) as conn:
            yield conn

    # ------------------------------------------------------------ issuing
    def insert_numbered(self, service: str, day: str, series: str, first: int, last: int,
                        cap: int | None, build: Callable[[int], Ticket]) -> Ticket:
        """Allocate the next number and insert the ticket in one write transaction.

        ``UPDATE counters SET last = last + 1 ... RETURNING last`` takes the
        counter row's lock (PostgreSQL) inside SQLite's ``BEGIN IMMEDIATE``, so
        numbers have no duplicate and no gap under concurrent issuers; then one
        ``INSERT ... ON CONFLICT DO NOTHING RETURNING id``. A number someone else already
        holds (a stray offline ticket, an old database) is skipped, never a
        stuck counter; after ``MAX_SKIPS`` of them ``NumberTaken``. A refusal
        (range or cap used up: ``NumbersExhausted``; the ticket's ``key`` already
        used: ``KeyTaken``) changes nothing.
        """
        bound = dict(k_hall=self.hall, k_day=day, k_service=service, k_series=series,
                     limit=last if cap is None else min(last, first - 1 + cap))
        insert = self._insert_ignore(tickets)
        with self.engine.begin() as conn:
            for _ in range(MAX_SKIPS + 1):
                seq = conn.execute(_COUNTER_NEXT, bound).scalar()
                if seq is None:
                    last_now = conn.execute(_COUNTER_EXISTS, bound).scalar()
                    if last_now is None:
                        conn.execute(self._insert_ignore(counters).values(
                            hall=self.hall, day=day, service=service, series=series, last=first - 1))
                    elif last_now >= bound["limit"]:
                        raise NumbersExhausted(service)
                    # else the day's counter row was created by another transaction after this UPDATE
                    # began (PostgreSQL, READ COMMITTED: the UPDATE did not see it): update it now
                    continue
                ticket = build(seq)
                values = dict(hall=self.hall, series=series, **_values(ticket))
                if conn.execute(insert, values).first() is not None:  # RETURNING id: inserted
                    return ticket
                if ticket.key and conn.execute(_BY_KEY, {"key": ticket.key}).first() is not None:
                    raise KeyTaken(ticket.key)
                log.error("number %s %s is already held by another ticket (offline series clash or old data): "
                          "skipped", day, ticket.number)
            raise NumberTaken(f"{MAX_SKIPS} numbers in a row of service '{service}' are already taken on {day}")

    def _insert_ignore(self, table: sa.Table):
        """``INSERT ... ON CONFLICT DO NOTHING`` for this engine's dialect (built once)."""
        stmt = self._ignoring.get(table.name)
        if stmt is None:
            if self.engine.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            stmt = insert(table).on_conflict_do_nothing()
            if table is tickets:  # rowcount is not reliable here on every driver (psycopg: -1)
                stmt = stmt.returning(tickets.c.id)
            self._ignoring[table.name] = stmt
        return stmt

    def insert(self, ticket: Ticket, generation: int = 0) -> Ticket:
        """Insert an already-numbered ticket (a transfer continuation or a synced one)."""
        with self.engine.begin() as conn:
            conn.execute(tickets.insert().values(hall=self.hall, generation=generation, **_values(ticket)))
        return ticket

    def insert_offline(self, items: list[tuple[Ticket, str]]) -> dict[str, tuple[str, str | None, str | None]]:
        """Insert tickets numbered offline (``(ticket, series)``, each with its ``key``), each at most once.

        One transaction. Returns ``key -> (status, field, error)`` with status
        ``applied``, ``duplicate`` (that key is already here: nothing changes) or
        ``rejected`` (its number or id is held by another ticket). The same key
        twice in ``items``: the first counts.
        """
        for attempt in range(3):
            try:
                return self._insert_offline(items)
            except IntegrityError:  # PostgreSQL: another writer inserted one of them meanwhile
                if attempt == 2:
                    raise
                log.info("offline tickets raced another writer; applying again")
        raise AssertionError("unreachable")

    def _insert_offline(self, items: list[tuple[Ticket, str]]) -> dict[str, tuple[str, str | None, str | None]]:
        out: dict[str, tuple[str, str | None, str | None]] = {}

        def chunked(conn, query, column, values) -> set:
            found: set = set()
            for i in range(0, len(values), 500):
                found |= set(conn.execute(query.where(column.in_(values[i:i + 500]))).all())
            return found

        with self.engine.begin() as conn:
            known = {k for (k,) in chunked(conn, sa.select(tickets.c.key), tickets.c.key, [t.key for t, _ in items])}
            fresh = []
            for t, series in items:
                if t.key in known:
                    out.setdefault(t.key, ("duplicate", None, None))
                else:
                    known.add(t.key)
                    fresh.append((t, series))
            by_number = sa.select(tickets.c.day, tickets.c.number).where(
                tickets.c.hall == self.hall, tickets.c.day.in_(sorted({t.day for t, _ in fresh})),
                tickets.c.generation == 0)
            taken = set(chunked(conn, by_number, tickets.c.number, sorted({t.number for t, _ in fresh})))
            used_ids = {i for (i,) in chunked(conn, sa.select(tickets.c.id), tickets.c.id, [t.id for t, _ in fresh])}
            rows = []
            for t, series in fresh:
                if (t.day, t.number) in taken:
                    out[t.key] = ("rejected", "number", f"{t.number} is already taken on {t.day}")
                elif t.id in used_ids:
                    out[t.key] = ("rejected", "id", "ticket id already used by another ticket")
                else:
                    taken.add((t.day, t.number))
                    used_ids.add(t.id)
                    rows.append(dict(hall=self.hall, series=series, generation=0, **_values(t)))
                    out[t.key] = ("applied", None, None)
            if rows:
                conn.execute(tickets.insert(), rows)
        return out

    def generation_of(self, ticket_id: str) -> int:
        with self._read() as conn:
            return conn.execute(sa.select(tickets.c.generation).where(tickets.c.id == ticket_id)).scalar_one()

    # ------------------------------------------------------------ reading
    def by_key(self, key: str) -> Ticket | None:
        """This hall's ticket with ``key`` (keys are unique over the whole database; another hall's is None)."""
        with self._read() as conn:
            row = conn.execute(_BY_KEY, {"key": key}).first()
        return _ticket(row) if row and row.hall == self.hall else None

    def get(self, ticket_id: str) -> Ticket | None:
        with self._read() as conn:
            row = conn.execute(_GET, {"id": ticket_id, "hall": self.hall}).first()
        return _ticket(row) if row else None

    def find(self, day: str, *, services: Iterable[str] | None = None,
             statuses: Iterable[TicketStatus] | None = None, number: str | None = None,
             limit: int | None = None, newest_first: bool = False) -> list[Ticket]:
        q = sa.select(tickets).where(tickets.c.hall == self.hall, tickets.c.day == day)
        if services is not None:
            q = q.where(tickets.c.service.in_(list(services)))
        if statuses is not None:
            q = q.where(tickets.c.status.in_([s.value for s in statuses]))
        if number is not None:
            q = q.where(tickets.c.number == number)
        order = (tickets.c.issued_at.desc(), tickets.c.seq.desc()) if newest_first else \
                (tickets.c.issued_at, tickets.c.seq)
        q = q.order_by(*order)
        if limit:
            q = q.limit(limit)
        with self._read() as conn:
            return [_ticket(r) for r in conn.execute(q)]

    def waiting(self, day: str, *, services: Iterable[str] = (), windows: Iterable[int] = ()) -> list[Ticket]:
        """The day's waiting tickets of ``services`` or sent to ``windows`` (any order)."""
        services, windows = list(services), list(windows)
        where = []
        if services:
            where.append(tickets.c.service.in_(services))
        if windows:
            where.append(tickets.c.window.in_(windows))
        if not where:
            return []
        q = sa.select(tickets).where(tickets.c.hall == self.hall, tickets.c.day == day,
                                     tickets.c.status == TicketStatus.WAITING.value, sa.or_(*where))
        with self._read() as conn:
            return [_ticket(r) for r in conn.execute(q)]

    def ahead_counts(self, ticket: Ticket, windows: Iterable[Window], ordering: Ordering,
                     my_lane: int | None) -> list[Counts]:
        """``Counts`` of each window's waiting queue around ``ticket``, from one grouped SQL statement.

        Needs every lane of ``ordering`` to carry its ``sql`` form (see ``kiosk.ordering.Lane``).
        """
        windows = tuple(windows)
        key = tuple(lane.name for lane in ordering.lanes)
        stmt = self._ahead.get(key)
        if stmt is None:
            stmt = self._ahead[key] = ahead_statement(ordering)
        params = dict(hall=self.hall, day=ticket.day, id=ticket.id, issued_at=ticket.issued_at, seq=ticket.seq,
                      services=sorted({s for w in windows for s in w.services}),
                      numbers=[w.number for w in windows])
        with self._read() as conn:
            groups = conn.execute(stmt, params).all()
        return window_counts(groups, windows, ordering, my_lane)

    def last_number(self, day: str, service: str, series: str = "") -> int | None:
        """The last sequence number issued for the service that day, if any."""
        with self._read() as conn:
            return conn.execute(_LAST, dict(hall=self.hall, day=day, service=service, series=series)).scalar()

    def waiting_counts(self, day: str) -> dict[str, int]:
        q = (sa.select(tickets.c.service, sa.func.count())
             .where(tickets.c.hall == self.hall, tickets.c.day == day,
                    tickets.c.status == TicketStatus.WAITING.value)
             .group_by(tickets.c.service))
        with self._read() as conn:
            return {s: n for s, n in conn.execute(q)}

    def recent_durations(self, service: str, limit: int = 20) -> list[float]:
        """Service times (start to finish) of the service's latest finished tickets."""
        with self._read() as conn:
            return [float(d) for (d,) in conn.execute(_DURATIONS, dict(hall=self.hall, service=service, limit=limit))]

    # ------------------------------------------------------------ writing
    def compare_and_set(self, ticket: Ticket, expected: Iterable[TicketStatus]) -> bool:
        """Save ``ticket`` only if its stored status is still one of ``expected``.

        Two windows pressing 叫号 at once can pick the same ticket; only one
        of them wins here, and the other picks again.
        """
        with self.engine.begin() as conn:
            result = conn.execute(
                tickets.update()
                .where(tickets.c.id == ticket.id, tickets.c.status.in_([s.value for s in expected]))
                .values(**{k: v for k, v in _values(ticket).items() if k != "id"}))
        return result.rowcount == 1

    def claim(self, ticket: Ticket, expected: Iterable[TicketStatus], state: WindowState,
              staff: str | None = None) -> bool:
        """A call in one transaction: ``ticket`` saved if still in ``expected``, stamped with ``staff``
        (who called it, for statistics and ratings), and the window's ``state`` saved with it."""
        values = {k: v for k, v in _values(ticket).items() if k != "id"}
        if staff:
            values["staff"] = staff
        with self.engine.begin() as conn:
            result = conn.execute(tickets.update()
                                  .where(tickets.c.id == ticket.id,
                                         tickets.c.status.in_([s.value for s in expected])).values(**values))
            if result.rowcount != 1:
                return False
            self._save_window_state(conn, state)
        return True

    def window_state(self, number: int) -> WindowState:
        with self._read() as conn:
            row = conn.execute(_WINDOW, {"hall": self.hall, "number": number}).first()
        if row is None:
            return WindowState(number)
        m = row._mapping
        return WindowState(number, bool(m["paused"]), m["current_ticket"], m["staff"], m["priority_streak"],
                           m["lane_streak"])

    def window_states(self) -> dict[int, WindowState]:
        """Every stored window state of the hall, in one read."""
        with self._read() as conn:
            rows = conn.execute(sa.select(window_states).where(window_states.c.hall == self.hall)).all()
        return {m["number"]: WindowState(m["number"], bool(m["paused"]), m["current_ticket"], m["staff"],
                                         m["priority_streak"], m["lane_streak"]) for m in (r._mapping for r in rows)}

    def paused_windows(self) -> set[int]:
        """Numbers of the hall's paused windows, in one read (the grid asks for every service)."""
        q = sa.select(window_states.c.number).where(window_states.c.hall == self.hall,
                                                     window_states.c.paused.is_(True))
        with self._read() as conn:
            return {n for (n,) in conn.execute(q)}

    def save_window_state(self, state: WindowState) -> None:
        with self.engine.begin() as conn:
            self._save_window_state(conn, state)

    def _save_window_state(self, conn: sa.Connection, state: WindowState) -> None:
        values = dict(paused=state.paused, current_ticket=state.current_ticket, staff=state.staff,
                      priority_streak=state.priority_streak, lane_streak=state.lane_streak)
        updated = conn.execute(window_states.update()
                               .where(window_states.c.hall == self.hall, window_states.c.number == state.number)
                               .values(**values)).rowcount
        if not updated:
            try:
                with conn.begin_nested():
                    conn.execute(window_states.insert().values(hall=self.hall, number=state.number, **values))
            except IntegrityError:  # another process inserted it first
                conn.execute(window_states.update()
                             .where(window_states.c.hall == self.hall, window_states.c.number == state.number)
                             .values(**values))
