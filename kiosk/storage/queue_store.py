"""The queue engine's storage: a small interface over the SQL tables.

The engine never writes SQL; it asks this store to number-and-insert a ticket
atomically, to compare-and-set a ticket's state, and to read queues. The same
store runs on the terminal's SQLite file and on the hall server's database.
The tables and migrations are ``kiosk.storage.schema``; people ahead counted in SQL
is ``kiosk.storage.ahead_counts``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kiosk.domain import Ticket, TicketStatus, Window
from kiosk.ordering import Counts, Lane, Ordering

from .ahead_counts import ahead_statement, window_counts
from .db import reader
from .group_commit import GroupCommit, Slot
from .numbering import (BY_KEY, MAX_SKIPS, KeyTaken, NumbersExhausted, NumberTaken,  # noqa: F401 (what the store raises)
                        number_and_insert, number_and_insert_many, ticket_of, values_of)
from .queue_cache import DURATIONS, Placement, QueueCache, WindowState, bump, window_state_of
from .schema import (LANE_STREAK_MIGRATIONS, QUEUE_MIGRATIONS, QUEUE_VERSION_MIGRATIONS, TOKEN_MIGRATIONS, counters,
                     migrate, tickets, window_states)


log = logging.getLogger(__name__)


# Statements on the per-ticket hot path are built once: building a SQLAlchemy
# expression costs more than running it on SQLite.
_B = sa.bindparam
_t = tickets.c
_GET = sa.select(tickets).where(_t.id == _B("id"), _t.hall == _B("hall"))
_LAST = sa.select(counters.c.last).where(counters.c.hall == _B("hall"), counters.c.day == _B("day"),
                                         counters.c.service == _B("service"), counters.c.series == _B("series"))
_WINDOW = sa.select(window_states).where(window_states.c.hall == _B("hall"), window_states.c.number == _B("number"))


class QueueStore:
    def __init__(self, engine: sa.Engine, hall_code: str):
        self.engine = engine
        self.hall = hall_code
        self._ahead: dict[tuple, object] = {}
        self._local = threading.local()
        migrate(engine, "queue", QUEUE_MIGRATIONS)
        migrate(engine, "ticket_token", TOKEN_MIGRATIONS)
        migrate(engine, "lane_streak", LANE_STREAK_MIGRATIONS)
        migrate(engine, "queue_version", QUEUE_VERSION_MIGRATIONS)
        self._cache = QueueCache(hall_code)  # the day's waiting queue in memory (kiosk.storage.queue_cache)
        self._group: GroupCommit = GroupCommit(self._issue_batch)  # tickets arriving together share a commit

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
        with self.engine.begin() as conn:
            return number_and_insert(conn, self.hall, service, day, series, first, last, cap, build,
                                     bump(conn, self.hall))

    def issue_placed(self, service: str, day: str, series: str, first: int, last: int, cap: int | None,
                     build: Callable[[int], Ticket], lanes: Sequence[Lane], now: float) -> tuple[Ticket, Placement]:
        """``insert_numbered`` and, from the same transaction, what placing the ticket needs: the waiting
        queue around it, the window states and its service's latest service times (``Placement``), taken
        from the queue held in memory (``kiosk.storage.queue_cache``) instead of counted again.

        One write transaction: the queue version bumped, the number taken, the ticket inserted (three
        statements), plus the rows other writers changed since this process last looked, if any.
        Tickets asked for while another commits share the next commit (``kiosk.storage.group_commit``).
        """
        return self._group.submit((service, day, series, first, last, cap, build, tuple(lanes), now))

    def issue_placed_async(self, service: str, day: str, series: str, first: int, last: int, cap: int | None,
                           build: Callable[[int], Ticket], lanes: Sequence[Lane], now: float) -> asyncio.Future:
        """``issue_placed`` from an event loop, without blocking it: its ``(Ticket, Placement)``, or its
        refusal, comes through the returned future once committed."""
        return self._group.submit_async((service, day, series, first, last, cap, build, tuple(lanes), now))

    def _issue_batch(self, slots: list[Slot]) -> None:
        """Tickets queued together (``GroupCommit``): one transaction, one version bump, one commit; each
        placed as of that commit. If any is refused or fails, the batch is undone and each runs alone."""
        days, lanes = {s.item[1] for s in slots}, {s.item[7] for s in slots}
        if len(slots) > 1 and len(days) == 1 and len(lanes) == 1:
            try:
                results = self._issue_together([s.item for s in slots])
            except sa.exc.SQLAlchemyError:  # database trouble, not a refusal: leave a trace of the batch's error
                log.warning("a shared commit of %d tickets failed; each is tried alone", len(slots), exc_info=True)
            except Exception:
                pass  # a refusal (sold out, a repeated key): each on its own below, to give each its own answer
            else:
                for s, result in zip(slots, results):
                    s.result = result
                return
        for s in slots:
            try:
                s.result = self._issue_together([s.item])[0]
            except Exception as exc:
                s.error = exc

    def _issue_together(self, items: list[tuple]) -> list[tuple[Ticket, Placement]]:
        cache, held = self._cache, False
        day, lanes, now = items[0][1], items[0][7], max(item[8] for item in items)
        try:
            with self.engine.begin() as conn:
                version = bump(conn, self.hall)
                if len(items) == 1:
                    made = [number_and_insert(conn, self.hall, *items[0][:7], version)]
                else:  # one counter UPDATE per service and one INSERT for them all (else each alone)
                    made = number_and_insert_many(conn, self.hall, [item[:7] for item in items], version)
                cache.lock.acquire()  # held until the commit is done: the cache then holds what committed
                held = True
                cache.sync(conn, version, day, lanes, now, made)
                out = [(t, cache.place(conn, t, lanes)) for t in made]
            return out
        except BaseException:
            if held:
                cache.invalidate()
            raise
        finally:
            if held:
                cache.lock.release()

    def insert(self, ticket: Ticket, generation: int = 0) -> Ticket:
        """Insert an already-numbered ticket (a transfer continuation or a synced one)."""
        with self.engine.begin() as conn:
            conn.execute(tickets.insert().values(hall=self.hall, generation=generation, qv=bump(conn, self.hall),
                                                 **values_of(ticket)))
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
            version = bump(conn, self.hall)
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
                    rows.append(dict(hall=self.hall, series=series, generation=0, qv=version, **values_of(t)))
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
            row = conn.execute(BY_KEY, {"key": key}).first()
        return ticket_of(row) if row and row.hall == self.hall else None

    def get(self, ticket_id: str) -> Ticket | None:
        with self._read() as conn:
            row = conn.execute(_GET, {"id": ticket_id, "hall": self.hall}).first()
        return ticket_of(row) if row else None

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
            return [ticket_of(r) for r in conn.execute(q)]

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
            return [ticket_of(r) for r in conn.execute(q)]

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

    def recent_durations(self, service: str) -> list[float]:
        """Service times (start to finish) of the service's latest finished tickets (``queue_cache.DURATIONS_KEPT``)."""
        with self._read() as conn:
            return [float(d) for _, _, d in conn.execute(DURATIONS, dict(hall=self.hall, service=service))]

    # ------------------------------------------------------------ writing
    def compare_and_set(self, ticket: Ticket, expected: Iterable[TicketStatus]) -> bool:
        """Save ``ticket`` only if its stored status is still one of ``expected``.

        Two windows pressing 叫号 at once can pick the same ticket; only one
        of them wins here, and the other picks again.
        """
        with self.engine.begin() as conn:
            return _save_if(conn, ticket, expected, bump(conn, self.hall))

    def claim(self, ticket: Ticket, expected: Iterable[TicketStatus], state: WindowState,
              staff: str | None = None) -> bool:
        """A call in one transaction: ``ticket`` saved if still in ``expected``, stamped with ``staff``
        (who called it, for statistics and ratings), and the window's ``state`` saved with it."""
        with self.engine.begin() as conn:
            version = bump(conn, self.hall)
            if not _save_if(conn, ticket, expected, version, **({"staff": staff} if staff else {})):
                return False
            self._save_window_state(conn, state, version)
        return True

    def transfer(self, moved: Ticket, expected: Iterable[TicketStatus], continuation: Ticket,
                 state: WindowState) -> bool:
        """A transfer in one transaction: ``moved`` saved if still in ``expected``, its ``continuation``
        inserted one generation on, and the window's ``state`` saved; a failure in between leaves all three
        as they were."""
        with self.engine.begin() as conn:
            version = bump(conn, self.hall)
            if not _save_if(conn, moved, expected, version):
                return False
            generation = conn.execute(sa.select(tickets.c.generation).where(tickets.c.id == moved.id)).scalar()
            conn.execute(tickets.insert().values(hall=self.hall, generation=(generation or 0) + 1, qv=version,
                                                 **values_of(continuation)))
            self._save_window_state(conn, state, version)
        return True

    def window_state(self, number: int) -> WindowState:
        with self._read() as conn:
            row = conn.execute(_WINDOW, {"hall": self.hall, "number": number}).first()
        return WindowState(number) if row is None else window_state_of(row)

    def window_states(self) -> dict[int, WindowState]:
        """Every stored window state of the hall, in one read."""
        with self._read() as conn:
            rows = conn.execute(sa.select(window_states).where(window_states.c.hall == self.hall)).all()
        return {row.number: window_state_of(row) for row in rows}

    def paused_windows(self) -> set[int]:
        """Numbers of the hall's paused windows, in one read (the grid asks for every service)."""
        q = sa.select(window_states.c.number).where(window_states.c.hall == self.hall,
                                                     window_states.c.paused.is_(True))
        with self._read() as conn:
            return {n for (n,) in conn.execute(q)}

    def save_window_state(self, state: WindowState) -> None:
        with self.engine.begin() as conn:
            self._save_window_state(conn, state, bump(conn, self.hall))

    def _save_window_state(self, conn: sa.Connection, state: WindowState, version: int) -> None:
        """In a transaction that bumped the hall's queue version to ``version``: that holds the hall's queue
        write lock, so no other process can insert this window's row between the UPDATE and the INSERT."""
        values = dict(paused=state.paused, current_ticket=state.current_ticket, staff=state.staff,
                      priority_streak=state.priority_streak, lane_streak=state.lane_streak, qv=version)
        updated = conn.execute(window_states.update()
                               .where(window_states.c.hall == self.hall, window_states.c.number == state.number)
                               .values(**values)).rowcount
        if not updated:
            conn.execute(window_states.insert().values(hall=self.hall, number=state.number, **values))


def _save_if(conn: sa.Connection, ticket: Ticket, expected: Iterable[TicketStatus], version: int, **extra) -> bool:
    """Save ``ticket`` (stamped with the queue ``version``, plus ``extra`` columns) only if its stored status
    is still one of ``expected``: the guard every write of a ticket another window may hold goes through."""
    values = {k: v for k, v in values_of(ticket).items() if k != "id"}
    result = conn.execute(tickets.update()
                          .where(tickets.c.id == ticket.id, tickets.c.status.in_([s.value for s in expected]))
                          .values(qv=version, **values, **extra))
    return result.rowcount == 1
