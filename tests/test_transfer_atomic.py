"""A transfer is one transaction (kiosk/calling.py ``transfer``, kiosk/storage/queue_store.py ``transfer``).

It writes three things: the ticket marked transferred, its continuation in the target queue, and the
window no longer holding it. Each was its own transaction, so a failure between them left the ticket
half-transferred: transferred with no continuation (the visitor in no queue), or the window still
showing a ticket that had moved on. Here the real SQLite file fails the second or the third write (a
trigger that aborts, as a full disk or a lost connection would) and everything must be as it was.
"""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from kiosk.domain import TicketStatus
from kiosk.storage.db import reader
from kiosk.storage.schema import tickets, window_states

FAILURES = {
    "continuation": "CREATE TRIGGER fail BEFORE INSERT ON tickets WHEN NEW.transferred_from IS NOT NULL "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    "window": "CREATE TRIGGER fail BEFORE UPDATE ON window_states "
              "BEGIN SELECT RAISE(ABORT, 'disk full'); END",
}


def rows(engine) -> tuple[list, list]:
    with reader(engine.store.engine) as conn:
        ticket_rows = conn.execute(sa.select(tickets).order_by(tickets.c.id)).mappings().all()
        window_rows = conn.execute(sa.select(window_states).order_by(window_states.c.number)).mappings().all()
    return [dict(r) for r in ticket_rows], [dict(r) for r in window_rows]


def database_file(engine) -> str:
    return engine.store.engine.url.database


@pytest.mark.parametrize("where", sorted(FAILURES))
def test_a_failure_in_the_middle_leaves_the_ticket_as_it_was(engine, where):
    engine.issue("medical")  # B001, window 2's
    called = engine.call_next(2)
    assert called is not None
    engine.start(2)  # 办理中: a ticket being served moves on too
    before = rows(engine)
    with sqlite3.connect(database_file(engine)) as db:
        db.execute(FAILURES[where])
    with pytest.raises(Exception, match="disk full"):
        engine.transfer(2, to_window=9)
    assert rows(engine) == before  # not one row changed, not even the queue version stamps
    ticket = engine.store.get(called.id)
    assert ticket.status in (TicketStatus.CALLED, TicketStatus.SERVING)
    assert engine.store.window_state(2).current_ticket == called.id
    assert engine.waiting_for(9) == []
    # once the fault is gone the same transfer goes through, whole
    with sqlite3.connect(database_file(engine)) as db:
        db.execute("DROP TRIGGER fail")
    continuation = engine.transfer(2, to_window=9)
    assert engine.store.get(called.id).status is TicketStatus.TRANSFERRED
    assert engine.store.window_state(2).current_ticket is None
    assert engine.waiting_for(9)[0].id == continuation.id
    assert engine.store.generation_of(continuation.id) == engine.store.generation_of(called.id) + 1

