"""The queue store keeps numbers whole: clashes skipped not stuck, offline tickets through the store,
who called a ticket written with the call."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kiosk.domain import Ticket
from kiosk.storage.db import reader
from kiosk.storage.schema import counters, tickets


def _offline(number: str, seq: int, key: str, day: str, service: str = "labor", n: int = 1) -> Ticket:
    return Ticket(id=f"{n:032x}", number=number, service=service, day=day, seq=seq, issued_at=1.0, key=key)


def test_a_number_already_held_is_skipped_and_the_counter_moves_on(engine):
    day = engine.today()
    assert engine.issue("labor").ticket.number == "A001"
    # a ticket already holds the next number (a stray offline ticket, an old database)
    assert engine.store.insert_offline([(_offline("A002", 2, "stray", day), "")]) == {
        "stray": ("applied", None, None)}
    third = engine.issue("labor").ticket
    assert third.number == "A003"  # not a 500, not the same clash on every later try
    assert engine.issue("labor").ticket.number == "A004"
    with reader(engine.store.engine) as conn:
        assert conn.execute(sa.select(counters.c.last).where(counters.c.service == "labor")).scalar() == 4
        numbers = sorted(conn.execute(sa.select(tickets.c.number).where(tickets.c.service == "labor")).scalars())
    assert numbers == ["A001", "A002", "A003", "A004"]


def test_every_number_taken_is_a_clear_refusal_and_changes_nothing(engine):
    from kiosk.queue import QueueError
    from kiosk.storage.queue_store import MAX_SKIPS

    day = engine.today()
    engine.store.insert_offline([(_offline(f"B{i:03d}", i, f"k{i}", day, "medical", i), "")
                                 for i in range(1, MAX_SKIPS + 2)])
    try:
        engine.issue("medical")
        raise AssertionError("issued although every number was taken")
    except QueueError as exc:
        assert exc.code == "number_taken" and "already taken" in str(exc)
    with reader(engine.store.engine) as conn:  # the refusal rolled back: the counter did not run away
        assert conn.execute(sa.select(counters.c.last).where(counters.c.service == "medical")).scalar() in (None, 0)


def test_offline_tickets_through_the_store_report_each_outcome(engine):
    day = engine.today()
    first = engine.store.insert_offline([(_offline("AX001", 1, "e1", day, n=1), "X"),
                                         (_offline("AX002", 2, "e2", day, n=2), "X"),
                                         (_offline("AX002", 2, "e3", day, n=3), "X"),  # same number, new key
                                         (_offline("AX003", 3, "e1", day, n=4), "X")])  # same key twice
    assert first == {"e1": ("applied", None, None), "e2": ("applied", None, None),
                     "e3": ("rejected", "number", f"AX002 is already taken on {day}")}  # e1 twice: the first
    again = engine.store.insert_offline([(_offline("AX001", 1, "e1", day, n=1), "X"),
                                         (_offline("AX009", 9, "e2", day, n=9), "X")])  # renumbered resend
    assert again == {"e1": ("duplicate", None, None), "e2": ("duplicate", None, None)}
    assert sorted(t.number for t in engine.store.find(day)) == ["AX001", "AX002"]
    waiting = engine.waiting_for(1)
    assert [t.number for t in waiting] == ["AX001", "AX002"]  # they joined the queue


def test_the_staff_stamp_is_written_with_the_call(engine):
    t = engine.issue("labor").ticket
    called = engine.call_next(1, staff="wangfang")
    assert called.id == t.id
    with reader(engine.store.engine) as conn:
        assert conn.execute(sa.select(tickets.c.staff).where(tickets.c.id == t.id)).scalar() == "wangfang"
    engine.issue("labor")
    n = engine.call_number(1, "A002", staff="lisi")
    with reader(engine.store.engine) as conn:
        assert conn.execute(sa.select(tickets.c.staff).where(tickets.c.id == n.id)).scalar() == "lisi"
    assert engine.store.window_state(1).staff == "lisi"


@pytest.mark.postgres
def test_postgres_counter_row_made_by_another_transaction_mid_issue_is_not_sold_out(tmp_path):
    """PostgreSQL, READ COMMITTED: the day's counter row committed by another issuer between this one's
    UPDATE (which cannot see it) and its next read must not read as 'numbers used up'."""
    import threading

    from sqlalchemy import event

    from kiosk.storage.db import open_engine
    from kiosk.storage.queue_store import QueueStore

    from .test_server_support import fresh_pg_database, require_pg

    url, drop = fresh_pg_database(require_pg())
    db_a, db_b = open_engine(url), open_engine(url)
    try:
        QueueStore(db_a, "h")
        store = QueueStore(db_b, "h")
        other = db_a.connect()
        tx = other.begin()
        other.execute(counters.insert().values(hall="h", day="2026-11-23", service="labor", series="", last=0))
        fired = []

        @event.listens_for(db_b, "after_cursor_execute")
        def _after(conn, cursor, statement, params, context, executemany):
            if statement.startswith("UPDATE counters") and not fired:
                fired.append(True)
                tx.commit()  # the other issuer commits its new counter row right now

        def build(seq):
            return Ticket(id=f"{seq:032x}", number=f"A{seq:03d}", service="labor", day="2026-11-23", seq=seq,
                          issued_at=1.0)

        ticket = store.insert_numbered("labor", "2026-11-23", "", 1, 999, None, build)
        assert fired and ticket.number == "A001"
        other.close()
    finally:
        db_a.dispose()
        db_b.dispose()
        drop()
