"""The queue engine's storage: a small interface over the SQL tables.

The engine never writes SQL; it asks this store to number-and-insert a ticket
atomically, to compare-and-set a ticket's state, and to read queues. The same
store runs on the terminal's SQLite file and on the hall server's database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kiosk.domain import Ticket, TicketStatus

from .db import reader
from .schema import QUEUE_MIGRATIONS, TOKEN_MIGRATIONS, counters, migrate, tickets, window_states


class NumbersExhausted(Exception):
    """The service's range or daily cap is used up for the day."""


@dataclass
class WindowState:
    number: int
    paused: bool = False
    current_ticket: str | None = None
    staff: str | None = None
    priority_streak: int = 0


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
_COUNTER_FOR_UPDATE = sa.select(counters.c.last).where(_COUNTER_KEY).with_for_update()
_COUNTER_SET = counters.update().where(_COUNTER_KEY).values(last=_B("new_last"))
_WINDOW = sa.select(window_states).where(window_states.c.hall == _B("hall"), window_states.c.number == _B("number"))
_DURATIONS = (sa.select(_t.finished_at - _t.started_at)
              .where(_t.hall == _B("hall"), _t.service == _B("service"), _t.status == TicketStatus.DONE.value,
                     _t.started_at.is_not(None), _t.finished_at.is_not(None))
              .order_by(_t.finished_at.desc()).limit(_B("limit")))


class QueueStore:
    def __init__(self, engine: sa.Engine, hall_code: str):
        self.engine = engine
        self.hall = hall_code
        migrate(engine, "queue", QUEUE_MIGRATIONS)
        migrate(engine, "ticket_token", TOKEN_MIGRATIONS)

    # ------------------------------------------------------------ issuing
    def insert_numbered(self, service: str, day: str, series: str, first: int, last: int,
                        cap: int | None, build: Callable[[int], Ticket]) -> Ticket:
        """Allocate the next number and insert the ticket in one transaction.

        The counter row is locked (``FOR UPDATE`` on PostgreSQL; SQLite's
        ``BEGIN IMMEDIATE`` locks the file), so numbers have no duplicate and
        no gap under concurrent issuers. A refusal changes nothing.
        """
        key = dict(hall=self.hall, day=day, service=service, series=series)
        bound = {f"k_{k}": v for k, v in key.items()}
        with self.engine.begin() as conn:
            row = conn.execute(_COUNTER_FOR_UPDATE, bound).first()
            if row is None:
                self._insert_counter(conn, key, first - 1)
                row = conn.execute(_COUNTER_FOR_UPDATE, bound).first()
            issued = row[0] - first + 1
            seq = row[0] + 1
            if seq > last or (cap is not None and issued >= cap):
                raise NumbersExhausted(service)
            conn.execute(_COUNTER_SET, dict(bound, new_last=seq))
            ticket = build(seq)
            conn.execute(tickets.insert(), dict(hall=self.hall, series=series, **_values(ticket)))
        return ticket

    def _insert_counter(self, conn: sa.Connection, key: dict, start: int) -> None:
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        conn.execute(insert(counters).values(last=start, **key).on_conflict_do_nothing())

    def insert(self, ticket: Ticket, generation: int = 0) -> Ticket:
        """Insert an already-numbered ticket (a transfer continuation or a synced one)."""
        with self.engine.begin() as conn:
            conn.execute(tickets.insert().values(hall=self.hall, generation=generation, **_values(ticket)))
        return ticket

    def generation_of(self, ticket_id: str) -> int:
        with reader(self.engine) as conn:
            return conn.execute(sa.select(tickets.c.generation).where(tickets.c.id == ticket_id)).scalar_one()

    # ------------------------------------------------------------ reading
    def by_key(self, key: str) -> Ticket | None:
        with reader(self.engine) as conn:
            row = conn.execute(_BY_KEY, {"key": key}).first()
        return _ticket(row) if row else None

    def get(self, ticket_id: str) -> Ticket | None:
        with reader(self.engine) as conn:
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
        with reader(self.engine) as conn:
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
        with reader(self.engine) as conn:
            return [_ticket(r) for r in conn.execute(q)]

    def last_number(self, day: str, service: str, series: str = "") -> int | None:
        """The last sequence number issued for the service that day, if any."""
        with reader(self.engine) as conn:
            return conn.execute(_LAST, dict(hall=self.hall, day=day, service=service, series=series)).scalar()

    def waiting_counts(self, day: str) -> dict[str, int]:
        q = (sa.select(tickets.c.service, sa.func.count())
             .where(tickets.c.hall == self.hall, tickets.c.day == day,
                    tickets.c.status == TicketStatus.WAITING.value)
             .group_by(tickets.c.service))
        with reader(self.engine) as conn:
            return {s: n for s, n in conn.execute(q)}

    def recent_durations(self, service: str, limit: int = 20) -> list[float]:
        """Service times (start to finish) of the service's latest finished tickets."""
        with reader(self.engine) as conn:
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

    def window_state(self, number: int) -> WindowState:
        with reader(self.engine) as conn:
            row = conn.execute(_WINDOW, {"hall": self.hall, "number": number}).first()
        if row is None:
            return WindowState(number)
        m = row._mapping
        return WindowState(number, bool(m["paused"]), m["current_ticket"], m["staff"], m["priority_streak"])

    def window_states(self) -> dict[int, WindowState]:
        """Every stored window state of the hall, in one read."""
        with reader(self.engine) as conn:
            rows = conn.execute(sa.select(window_states).where(window_states.c.hall == self.hall)).all()
        return {m["number"]: WindowState(m["number"], bool(m["paused"]), m["current_ticket"], m["staff"],
                                         m["priority_streak"]) for m in (r._mapping for r in rows)}

    def paused_windows(self) -> set[int]:
        """Numbers of the hall's paused windows, in one read (the grid asks for every service)."""
        q = sa.select(window_states.c.number).where(window_states.c.hall == self.hall,
                                                     window_states.c.paused.is_(True))
        with reader(self.engine) as conn:
            return {n for (n,) in conn.execute(q)}

    def save_window_state(self, state: WindowState) -> None:
        values = dict(paused=state.paused, current_ticket=state.current_ticket, staff=state.staff,
                      priority_streak=state.priority_streak)
        with self.engine.begin() as conn:
            updated = conn.execute(window_states.update()
                                   .where(window_states.c.hall == self.hall,
                                          window_states.c.number == state.number)
                                   .values(**values)).rowcount
            if not updated:
                try:
                    with conn.begin_nested():
                        conn.execute(window_states.insert().values(hall=self.hall, number=state.number,
                                                                   **values))
                except IntegrityError:  # another process inserted it first
                    conn.execute(window_states.update()
                                 .where(window_states.c.hall == self.hall,
                                        window_states.c.number == state.number).values(**values))
