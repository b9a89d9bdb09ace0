"""A ticket's number and row in one write transaction: ``UPDATE counters ... RETURNING`` then ``INSERT``.

``QueueStore.insert_numbered`` and ``QueueStore.issue_placed`` run ``number_and_insert`` inside their
transaction, after the hall's queue version was bumped (``kiosk.storage.queue_cache.bump``).
"""

from __future__ import annotations

import logging
from typing import Callable

import sqlalchemy as sa

from kiosk.domain import Ticket, TicketStatus

from .prepared import Prepared, multi_row
from .schema import counters, tickets

MAX_SKIPS = 20
ROWS_PER_INSERT = 32  # a shared commit's tickets per INSERT statement (each size is compiled once)
log = logging.getLogger(__name__)


class NumbersExhausted(Exception):
    """The service's range or daily cap is used up for the day."""


class KeyTaken(Exception):
    """A ticket with this idempotency key is already there (nothing was inserted)."""


class NumberTaken(Exception):
    """Too many numbers in a row were already held by other tickets (nothing was inserted)."""


TICKET_FIELDS = ("id", "number", "service", "day", "seq", "issued_at", "status", "priority", "window",
                 "called_at", "started_at", "finished_at", "call_count", "terminal", "key",
                 "transferred_from", "token")


def ticket_of(row) -> Ticket:
    m = row._mapping
    t = Ticket(**{f: m[f] for f in TICKET_FIELDS})
    t.status = TicketStatus(t.status)
    return t


def values_of(t: Ticket) -> dict:
    v = {f: getattr(t, f) for f in TICKET_FIELDS}
    v["status"] = t.status.value
    return v


# Built once: building a SQLAlchemy expression costs more than running it on SQLite.
_B = sa.bindparam
# (bound names differ from column names: an UPDATE reserves those for its SET clause)
_COUNTER_KEY = sa.and_(counters.c.hall == _B("k_hall"), counters.c.day == _B("k_day"),
                       counters.c.service == _B("k_service"), counters.c.series == _B("k_series"))
_COUNTER_NEXT = (counters.update().where(_COUNTER_KEY, counters.c.last < _B("limit"))
                 .values(last=counters.c.last + 1).returning(counters.c.last))
_COUNTER_EXISTS = sa.select(counters.c.last).where(_COUNTER_KEY)
BY_KEY = sa.select(tickets).where(tickets.c.key == _B("key"))
# A new ticket's row: every column it is given (``values_of`` and the store's own), in this order.
ROW_KEYS = ("hall", "series", "qv", *TICKET_FIELDS)


def insert_ignore(dialect: str, table: sa.Table):
    """``INSERT ... ON CONFLICT DO NOTHING`` for ``dialect`` (for tickets: ``RETURNING id``)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).on_conflict_do_nothing()
    if table is tickets:  # rowcount is not reliable here on every driver (psycopg: -1)
        stmt = stmt.returning(tickets.c.id)
    return stmt


def number_and_insert(conn: sa.Connection, hall: str, service: str, day: str, series: str, first: int, last: int,
                      cap: int | None, build: Callable[[int], Ticket], qv: int) -> Ticket:
    """The next number and the ticket's row, in ``conn``'s write transaction (see ``QueueStore.insert_numbered``)."""
    dialect = conn.dialect.name
    bound = dict(k_hall=hall, k_day=day, k_service=service, k_series=series,
                 limit=last if cap is None else min(last, first - 1 + cap))
    for _ in range(MAX_SKIPS + 1):
        seq = _NEXT.scalar(conn, bound)
        if seq is None:
            last_now = conn.execute(_COUNTER_EXISTS, bound).scalar()
            if last_now is None:
                conn.execute(_statement(dialect, counters).values(
                    hall=hall, day=day, service=service, series=series, last=first - 1))
            elif last_now >= bound["limit"]:
                raise NumbersExhausted(service)
            # else the day's counter row was created by another transaction after this UPDATE
            # began (PostgreSQL, READ COMMITTED: the UPDATE did not see it): update it now
            continue
        ticket = build(seq)
        values = dict(hall=hall, series=series, qv=qv, **values_of(ticket))
        if _INSERT.execute(conn, values).fetchone() is not None:  # RETURNING id: inserted
            return ticket
        if ticket.key and conn.execute(BY_KEY, {"key": ticket.key}).first() is not None:
            raise KeyTaken(ticket.key)
        log.error("number %s %s is already held by another ticket (offline series clash or old data): "
                  "skipped", day, ticket.number)
    raise NumberTaken(f"{MAX_SKIPS} numbers in a row of service '{service}' are already taken on {day}")


_statements: dict[tuple[str, str], object] = {}


def _statement(dialect: str, table: sa.Table):
    stmt = _statements.get((dialect, table.name))
    if stmt is None:
        stmt = _statements[(dialect, table.name)] = insert_ignore(dialect, table)
    return stmt


class Undo(Exception):
    """A shared batch could not be numbered in one go (a refusal, a number held, a new day): undo it."""


_COUNTER_RESERVE = (counters.update().where(_COUNTER_KEY, counters.c.last + _B("n") <= _B("limit"))
                    .values(last=counters.c.last + _B("n")).returning(counters.c.last))


def _insert_rows(dialect: str, rows: int):
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` of ``rows`` tickets (parameters ``multi_row``'s)."""
    stmt = insert_ignore(dialect, tickets)
    if rows == 1:
        return stmt
    return stmt.values([{k: _B(f"{k}_m{i}") for k in ROW_KEYS} for i in range(rows)])


# The hot statements, run on the DB-API cursor (``kiosk.storage.prepared``): one build per dialect.
_NEXT = Prepared(lambda dialect, rows: _COUNTER_NEXT)
_RESERVE = Prepared(lambda dialect, rows: _COUNTER_RESERVE)
_INSERT = Prepared(_insert_rows, ROW_KEYS)


def number_and_insert_many(conn: sa.Connection, hall: str, items: list[tuple], qv: int) -> list[Ticket]:
    """Several tickets in ``conn``'s write transaction with one counter ``UPDATE`` per service and one
    multi-row ``INSERT``; ``items`` are ``number_and_insert``'s arguments ``(service, day, series, first,
    last, cap, build)``. Raises ``Undo`` (roll back, then number each alone) unless all go in cleanly."""
    groups: dict[tuple, list[int]] = {}
    for i, (service, day, series, first, last, cap, _) in enumerate(items):
        limit = last if cap is None else min(last, first - 1 + cap)
        groups.setdefault((service, day, series, limit), []).append(i)
    made: list[Ticket | None] = [None] * len(items)
    for (service, day, series, limit), members in groups.items():
        top = _RESERVE.scalar(conn, dict(k_hall=hall, k_day=day, k_service=service, k_series=series,
                                         n=len(members), limit=limit))
        if top is None:  # no counter row yet, or too few numbers left: each alone says which
            raise Undo(service)
        for seq, i in zip(range(top - len(members) + 1, top + 1), members):
            made[i] = items[i][6](seq)
    rows = [dict(hall=hall, series=items[i][2], qv=qv, **values_of(t)) for i, t in enumerate(made)]
    inserted = 0
    for i in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[i:i + ROWS_PER_INSERT]
        inserted += len(_INSERT.execute(conn, multi_row(chunk), len(chunk)).fetchall())
    if inserted != len(rows):  # a key used before, or a number held by another ticket
        raise Undo("insert")
    return made
