"""One queue order (kiosk/ordering.py) for calling and for "people ahead", checked on random queues."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain import PriorityRule, Ticket, TicketStatus, Window
from kiosk.ordering import Lane, Ordering, serves

from .conftest import FakeClock

SERVICES = ("labor", "medical", "family")
GROUPS = ("elderly", "disabled")

APT = "apt:"


def apt_lane(k: int | None) -> Lane:
    """Appointments: strict (k None) or interleaved with the rest, at most k in a row."""
    return Lane("appointment", lambda t, now: bool(t.key) and t.key.startswith(APT),
                lambda c: c.key.startswith(APT, autoescape=True), in_a_row=lambda: k)


apt_modes = st.one_of(st.none(), st.integers(1, 3))  # None: strict; N: interleaved, N in a row

rules = st.one_of(st.just(PriorityRule("none", 2)), st.just(PriorityRule("strict", 2)),
                  st.builds(PriorityRule, st.just("interleave"), st.integers(0, 3)))


@st.composite
def halls_windows(draw) -> list[Window]:
    n = draw(st.integers(1, 4))
    out = []
    for number in range(1, n + 1):
        services = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True))
        out.append(Window(number, f"{number}号窗口", tuple(services), draw(st.booleans())))
    return out


@st.composite
def queues(draw):
    windows = draw(halls_windows())
    numbers = [w.number for w in windows]
    size = draw(st.integers(0, 25))
    tickets = []
    for i in range(size):
        transferred = draw(st.booleans()) and draw(st.booleans())
        tickets.append(Ticket(
            id=f"{i:032x}", number=f"A{i:03d}", service=draw(st.sampled_from(SERVICES)), day="2026-11-23",
            seq=draw(st.integers(1, 5)), issued_at=float(draw(st.integers(0, 6))),
            priority=draw(st.one_of(st.none(), st.sampled_from(GROUPS))),
            window=draw(st.sampled_from(numbers)) if transferred and draw(st.booleans()) else None,
            transferred_from="f" * 32 if transferred else None,
            key=f"{APT}{i}" if draw(st.integers(0, 3)) == 0 else None))
    streaks = {n: draw(st.integers(0, 3)) for n in numbers}
    lane_streaks = {n: draw(st.integers(0, 4)) for n in numbers}
    paused = set(draw(st.lists(st.sampled_from(numbers), max_size=len(numbers), unique=True)))
    return windows, tickets, streaks, paused, draw(rules), draw(apt_modes), lane_streaks


@settings(max_examples=400, deadline=None)
@given(queues())
def test_position_counts_what_order_lists(q):
    windows, tickets, streaks, paused, rule, apt_k, lane_streaks = q
    ordering = Ordering(rule).with_lane(apt_lane(apt_k))
    for w in windows:
        order = ordering.order(w, tickets, streaks[w.number], lane_streak=lane_streaks[w.number])
        assert [t.id for t in order] == [t.id for t in sorted(order, key=lambda t: 0)]  # a list, no repeats
        assert {t.id for t in order} == {t.id for t in tickets if serves(w, t)}
        for i, t in enumerate(order):
            assert ordering.position(w, t, tickets, streaks[w.number], lane_streak=lane_streaks[w.number]) == i
    for t in tickets:
        serving = [w for w in windows if serves(w, t)]
        open_ = [w for w in serving if w.number not in paused] or serving
        if not open_:
            continue
        expected = min(ordering.order(w, tickets, streaks[w.number], lane_streak=lane_streaks[w.number]).index(t)
                       for w in open_)
        assert ordering.people_ahead(t, windows, tickets, streaks, paused, lane_streaks=lane_streaks) == expected


def test_interleaved_appointments_by_hand():
    """At most 2 appointments in a row, then a walk-in; transfers still first; the window's streak counts."""
    w = Window(1, "1号窗口", ("labor",))
    mk = lambda i, **kw: Ticket(f"{i:032x}", f"A{i:03d}", "labor", "2026-11-23", i, float(i), **kw)  # noqa: E731
    ts = [mk(1), mk(2), mk(3, key="apt:3"), mk(4, key="apt:4"), mk(5, key="apt:5"), mk(6, transferred_from="f" * 32)]
    strict = Ordering().with_lane(apt_lane(None))
    assert [t.number for t in strict.order(w, ts)] == ["A006", "A003", "A004", "A005", "A001", "A002"]
    mixed = Ordering().with_lane(apt_lane(2))
    assert [t.number for t in mixed.order(w, ts)] == ["A006", "A003", "A004", "A001", "A005", "A002"]
    assert [t.number for t in mixed.order(w, ts, lane_streak=1)] == ["A006", "A003", "A001", "A004", "A005",
                                                                      "A002"]
    assert [t.number for t in mixed.order(w, ts, lane_streak=2)] == ["A006", "A001", "A003", "A004", "A002",
                                                                      "A005"]
    assert [mixed.people_ahead(t, [w], ts) for t in ts] == [3, 5, 1, 2, 4, 0]
    with pytest.raises(ValueError, match="last lane"):
        mixed.with_lane(Lane("vip", lambda t, now: False), after="appointment")  # after the interleaved lane: refused


def test_interleave_order_by_hand():
    w = Window(2, "2号窗口", ("medical",), green_channel=True)
    mk = lambda i, prio: Ticket(f"{i:032x}", f"B{i:03d}", "medical", "2026-11-23", i, float(i),  # noqa: E731
                                priority="elderly" if prio else None)
    ts = [mk(1, False), mk(2, True), mk(3, True), mk(4, True), mk(5, False)]
    order = Ordering(PriorityRule("interleave", 2)).order(w, ts, streak=0)
    assert [t.number for t in order] == ["B002", "B003", "B001", "B004", "B005"]
    # one priority call already made: only one more before a normal ticket
    order = Ordering(PriorityRule("interleave", 2)).order(w, ts, streak=1)
    assert [t.number for t in order] == ["B002", "B001", "B003", "B004", "B005"]


def test_a_plugged_lane_goes_after_transfers_and_counts_in_people_ahead():
    w = Window(1, "1号窗口", ("labor",))
    mk = lambda i, **kw: Ticket(f"{i:032x}", f"A{i:03d}", "labor", "2026-11-23", i, float(i), **kw)  # noqa: E731
    ts = [mk(1), mk(2, transferred_from="f" * 32), mk(3, key="appt-3")]
    ordering = Ordering().with_lane(Lane("appointment", lambda t, now: bool(t.key and t.key.startswith("appt"))))
    assert [lane.name for lane in ordering.lanes] == ["transferred", "appointment"]
    assert [t.number for t in ordering.order(w, ts)] == ["A002", "A003", "A001"]
    assert [ordering.people_ahead(t, [w], ts) for t in ts] == [2, 0, 1]


# ------------------------------------------------- the engine: calling and people ahead agree

actions = st.lists(st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(SERVICES), st.one_of(st.none(), st.sampled_from(GROUPS))),
    st.tuples(st.just("appointment"), st.sampled_from(SERVICES)),
    st.tuples(st.just("call"), st.integers(1, 4)),
    st.tuples(st.just("transfer"), st.integers(1, 4), st.integers(1, 4)),
), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(windows=halls_windows(), rule=rules, steps=actions, pause=st.lists(st.integers(1, 4), max_size=2),
       apt_k=apt_modes, via=st.lists(st.booleans(), min_size=30, max_size=30))
def test_engine_people_ahead_is_the_calling_position(sample_hall, windows, rule, steps, pause, apt_k, via):
    """Each new ticket's people ahead (from the queue held in memory) is its calling position at once, and
    stays so for every waiting ticket. Two engines on one database stand for two server processes: each
    step goes through either, so each one's memory must catch the other's writes."""
    from kiosk.queue import QueueEngine, QueueError
    from kiosk.storage.db import open_engine, sqlite_url
    from kiosk.storage.queue_store import QueueStore

    clock = FakeClock()
    hall = replace(sample_hall, windows=tuple(windows), priority_rule=rule)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_engine(sqlite_url(Path(tmp) / "q.db"))
        engine = QueueEngine(hall, QueueStore(db, hall.code), clock=clock)
        other = QueueEngine(hall, QueueStore(db, hall.code), clock=clock)
        for e in (engine, other):
            e.add_lane(apt_lane(apt_k))  # appointments: strict or interleaved (the window's streak is kept)
        numbers = [w.number for w in windows]

        def position(t) -> int | None:
            """``t``'s calling position now: its index in the order of the windows that reach it first."""
            paused = {n for n, st in engine.store.window_states().items() if st.paused}
            serving = [w.number for w in windows if serves(w, t)]
            open_ = [n for n in serving if n not in paused] or serving
            return min(([x.id for x in engine.waiting_for(n)].index(t.id) for n in open_), default=None)

        for step, second in zip(steps, via):
            clock.advance(7)
            e = other if second else engine
            try:
                issued = None
                if step[0] == "issue":
                    issued = e.issue(step[1], step[2])
                elif step[0] == "appointment":
                    issued = e.issue(step[1], key=f"{APT}{clock()}", check_in=True)  # a check-in's ticket
                elif step[0] == "call" and step[1] in numbers:
                    e.call_next(step[1])
                elif step[0] == "transfer" and step[1] in numbers and step[2] in numbers and step[1] != step[2]:
                    e.transfer(step[1], to_window=step[2])
                if issued is not None and (at := position(issued.ticket)) is not None:
                    assert issued.people_ahead == at, (issued, step)
            except QueueError:
                pass  # nobody to transfer, a paused window: not what this test is about
        for n in pause:
            if n in numbers:
                engine.set_paused(n, True)
        paused = {n for n in pause if n in numbers}
        waiting = engine.store.find(engine.today(), statuses=[TicketStatus.WAITING])
        orders = {w.number: [t.id for t in engine.waiting_for(w.number)] for w in windows}
        for t in waiting:
            serving = [w.number for w in windows if serves(w, t)]
            open_ = [n for n in serving if n not in paused] or serving
            if not open_:
                continue
            assert engine.people_ahead(t) == min(orders[n].index(t.id) for n in open_), (t, orders)
        # and calling follows that order: one window calling alone takes its list front to back
        free = next((n for n in numbers if n not in paused), None)
        if free is not None:
            called = []
            while (t := engine.call_next(free)) is not None:
                called.append(t.id)
            assert called == orders[free]
        db.dispose()


def test_a_transferred_priority_call_does_not_eat_the_interleave_streak(engine):
    hall = replace(engine.hall, priority_rule=PriorityRule("interleave", 2),
                   windows=(Window(1, "1号窗口", ("labor",), True), Window(2, "2号窗口", ("medical",), True)))
    engine.hall = hall
    engine.issue("medical", "elderly")
    engine.call_next(2)
    moved = engine.transfer(2, to_window=1)  # a priority visitor sent on to window 1: called there first
    p1, p2 = engine.issue("labor", "elderly").ticket, engine.issue("labor", "elderly").ticket
    n1 = engine.issue("labor").ticket
    expected = [t.id for t in engine.waiting_for(1)]
    assert expected == [moved.id, p1.id, p2.id, n1.id]
    assert [engine.people_ahead(t) for t in (moved, p1, p2, n1)] == [0, 1, 2, 3]
    assert [engine.call_next(1).id for _ in range(4)] == expected


def test_a_lane_without_sql_is_placed_by_loading_the_queue(engine):
    """A plugged lane with no SQL form: people ahead comes from the loaded queue, still the calling order."""
    engine.add_lane(Lane("vip", lambda t, now: t.priority == "elderly"))  # no sql=...
    assert engine.ordering.lanes[-1].sql is None
    normal = engine.issue("labor").ticket
    vip = engine.issue("labor", "elderly").ticket
    order = [t.id for t in engine.waiting_for(1)]
    assert order == [vip.id, normal.id]
    assert [engine.people_ahead(t) for t in (vip, normal)] == [0, 1]


def test_an_older_database_gets_the_lane_streak_column(tmp_path, sample_hall):
    """A queue database from before interleaved lanes: opening it adds window_states.lane_streak."""
    import sqlalchemy as sa

    from kiosk.queue import QueueEngine
    from kiosk.storage.db import open_engine, sqlite_url
    from kiosk.storage.queue_store import QueueStore
    from kiosk.storage.schema import counters, schema_versions, tickets, window_states

    db = open_engine(sqlite_url(tmp_path / "old.db"))
    ddl = str(sa.schema.CreateTable(window_states).compile(dialect=db.dialect))
    old = "\n".join(line for line in ddl.splitlines() if not line.strip().startswith("lane_streak "))
    with db.begin() as conn:
        conn.exec_driver_sql(old)
        for table in (tickets, counters, schema_versions):
            table.create(conn)
        conn.execute(schema_versions.insert().values(component="queue", version=1))
        assert "lane_streak" not in {c["name"] for c in sa.inspect(conn).get_columns("window_states")}
    engine = QueueEngine(sample_hall, QueueStore(db, sample_hall.code), clock=FakeClock())
    engine.add_lane(apt_lane(1))
    walk_in = engine.issue("labor").ticket
    apt = [engine.issue("labor", key=f"{APT}{i}", check_in=True).ticket for i in range(2)]  # check-ins
    assert [engine.call_next(1).id for _ in range(3)] == [apt[0].id, walk_in.id, apt[1].id]
    assert engine.store.window_state(1).lane_streak == 1
    db.dispose()
