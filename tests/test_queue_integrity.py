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


def _in_own_loop(coroutine_fn):
    """``asyncio.run(coroutine_fn())`` on a thread of its own, as the server's event loop is: in the test
    worker's main thread a Playwright sync browser left by an earlier test module keeps a loop marked
    running, and asyncio.run refuses to start there."""
    import asyncio
    import threading

    out: dict = {}

    def run() -> None:
        try:
            out["value"] = asyncio.run(coroutine_fn())
        except BaseException as exc:  # handed to the test's thread
            out["error"] = exc

    thread = threading.Thread(target=run, name="event-loop")
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


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


def _issue_at_once(engine, threads: int, each: int, **kw) -> tuple[list, list]:
    """``threads`` threads issuing ``each`` tickets through one engine at once: (issued, refusals)."""
    import threading

    from kiosk.queue import QueueError

    issued, refused, start = [], [], threading.Barrier(threads)

    def run() -> None:
        start.wait()
        for _ in range(each):
            try:
                issued.append(engine.issue("labor", **kw))
            except QueueError as exc:
                refused.append(exc.code)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return issued, refused


def test_tickets_issued_at_once_share_commits_and_keep_numbers_and_places(engine):
    """Many threads at once (their tickets share commits, kiosk/storage/group_commit.py): no duplicate, no
    gap, and each ticket's people ahead is its place in the queue when it was committed (the clock
    stands still, so issue order is number order and the place is seq - 1)."""
    from sqlalchemy import event

    commits = []
    event.listen(engine.store.engine, "commit", lambda conn: commits.append(1))
    issued, refused = _issue_at_once(engine, 8, 25)
    assert refused == []
    seqs = sorted(i.ticket.seq for i in issued)
    assert seqs == list(range(1, 201))
    assert all(i.people_ahead == i.ticket.seq - 1 for i in issued)
    assert [t.seq for t in engine.waiting_for(1)] == list(range(1, 201))
    assert len(commits) <= 200  # (fewer when tickets met in a batch; never more than one each)


def test_a_refusal_inside_a_shared_batch_leaves_the_others_whole(engine):
    """The daily cap runs out while threads issue at once: exactly the cap is issued, numbered 1..cap,
    the rest refused as sold out, nothing consumed by a refused one."""
    from dataclasses import replace

    svc = engine.hall.service("labor")
    engine.hall = replace(engine.hall, services=tuple(replace(s, daily_cap=50) if s is svc else s
                                                      for s in engine.hall.services))
    issued, refused = _issue_at_once(engine, 8, 10)
    assert sorted(i.ticket.seq for i in issued) == list(range(1, 51))
    assert refused == ["sold_out"] * 30
    assert all(i.people_ahead == i.ticket.seq - 1 for i in issued)
    with reader(engine.store.engine) as conn:
        assert conn.execute(sa.select(counters.c.last).where(counters.c.service == "labor")).scalar() == 50


def test_a_repeated_key_inside_a_shared_batch_returns_its_ticket(engine):
    first = engine.issue("labor", key="k-1")
    issued, refused = _issue_at_once(engine, 6, 5, key="k-1")
    assert refused == [] and {i.ticket.id for i in issued} == {first.ticket.id}
    assert not any(i.created for i in issued)
    assert engine.issue("labor").ticket.seq == 2  # the repeats consumed no number


def test_tickets_from_an_event_loop_share_commits_with_threads_and_keep_numbers_and_places(engine):
    """``QueueEngine.issue_async`` (the hall server's path: the commit on the group commit's leader thread)
    while threads issue through ``issue``: no duplicate, no gap, each placed as of its commit, and the
    event loop's tickets met others in shared commits."""
    import asyncio
    import threading

    from sqlalchemy import event

    commits = []
    event.listen(engine.store.engine, "commit", lambda conn: commits.append(1))

    async def many() -> list:
        return list(await asyncio.gather(*[engine.issue_async("labor") for _ in range(60)]))

    threaded: dict = {}
    worker = threading.Thread(target=lambda: threaded.update(done=_issue_at_once(engine, 4, 10)))
    worker.start()
    from_loop = _in_own_loop(many)
    worker.join()
    assert threaded["done"][1] == []
    issued = from_loop + threaded["done"][0]
    assert sorted(i.ticket.seq for i in issued) == list(range(1, 101))
    assert all(i.people_ahead == i.ticket.seq - 1 for i in issued)
    assert all(i.created and i.windows for i in from_loop)
    assert len(commits) < 100  # 60 tickets asked for at once from the loop cannot each have had their own


def test_refusals_and_repeated_keys_from_an_event_loop(engine):
    """Through ``issue_async``: the daily cap refuses the rest as sold out consuming nothing; a repeated key
    returns its ticket (also when the service has sold out since), an unknown service is refused."""
    import asyncio
    from dataclasses import replace

    from kiosk.queue import QueueError, ServiceUnavailable, UnknownService

    svc = engine.hall.service("labor")
    engine.hall = replace(engine.hall, services=tuple(replace(s, daily_cap=5) if s is svc else s
                                                      for s in engine.hall.services))

    async def run() -> tuple[list, list, object, object]:
        first = await engine.issue_async("labor", key="k-1")
        results = await asyncio.gather(*[engine.issue_async("labor") for _ in range(7)], return_exceptions=True)
        again = await engine.issue_async("labor", key="k-1")  # sold out now: the key's ticket all the same
        with pytest.raises(UnknownService):
            await engine.issue_async("nope")
        return [r for r in results if not isinstance(r, Exception)], \
            [r for r in results if isinstance(r, Exception)], first, again

    ok, refused, first, again = _in_own_loop(run)
    assert sorted(i.ticket.seq for i in ok) == [2, 3, 4, 5]
    assert len(refused) == 3 and all(isinstance(e, ServiceUnavailable) and e.code == "sold_out" for e in refused)
    assert isinstance(refused[0], QueueError)
    assert again.ticket.id == first.ticket.id and not again.created and first.created
    with reader(engine.store.engine) as conn:
        assert conn.execute(sa.select(counters.c.last).where(counters.c.service == "labor")).scalar() == 5
