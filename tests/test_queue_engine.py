"""Queue engine: numbering, ranges, caps, hours, midnight reset, priority, lifecycle."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain import TicketStatus
from kiosk.queue import QueueEngine, ServiceUnavailable, UnknownService, WindowError

from .conftest import FakeClock, local_ts


def with_services(engine: QueueEngine, **changes_by_code) -> QueueEngine:
    services = tuple(replace(s, **changes_by_code.get(s.code, {})) for s in engine.hall.services)
    engine.hall = replace(engine.hall, services=services)
    return engine


def test_numbers_use_prefix_and_run_per_service(engine):
    assert [engine.issue("labor").ticket.number for _ in range(3)] == ["A001", "A002", "A003"]
    assert engine.issue("medical").ticket.number == "B001"
    assert engine.issue("labor").ticket.number == "A004"


def test_range_start_and_width(engine):
    with_services(engine, labor={"range_start": 100, "range_end": 1200})
    assert engine.issue("labor").ticket.number == "A0100"  # four digits because the range reaches 1200


def test_range_end_refuses_without_consuming(engine):
    with_services(engine, labor={"range_start": 1, "range_end": 2, "daily_cap": None})
    engine.issue("labor"), engine.issue("labor")
    with pytest.raises(ServiceUnavailable, match="今日号已取完"):
        engine.issue("labor")
    state = next(s for s in engine.services() if s.service.code == "labor")
    assert not state.availability.open and state.availability.reason == "今日号已取完"
    assert len(engine.store.find(engine.today(), services=["labor"])) == 2


def test_daily_cap(engine):
    with_services(engine, labor={"daily_cap": 3})
    numbers = [engine.issue("labor").ticket.number for _ in range(3)]
    assert numbers == ["A001", "A002", "A003"]
    with pytest.raises(ServiceUnavailable) as err:
        engine.issue("labor")
    assert err.value.code == "sold_out"


def test_opening_hours_and_lunch_break(engine, clock):
    clock.now = local_ts(2026, 11, 23, 12, 30)  # lunch break between 12:00 and 14:00
    with pytest.raises(ServiceUnavailable) as err:
        engine.issue("labor")
    assert err.value.code == "outside_hours"
    assert "08:30-12:00 14:00-17:30" in str(err.value)
    assert engine.issue("general").ticket.number == "Z001"  # open at all hours
    clock.now = local_ts(2026, 11, 23, 14, 0)
    assert engine.issue("labor").ticket.number == "A001"


def test_closed_days_weekend_holiday_and_working_weekend(engine, clock):
    clock.now = local_ts(2026, 11, 22, 10, 0)  # a Sunday
    with pytest.raises(ServiceUnavailable, match="今日不办公"):
        engine.issue("labor")
    assert engine.issue("general").ticket.number == "Z001"  # 周末不打烊 duty service
    clock.now = local_ts(2026, 10, 1, 10, 0)  # National Day, a closed date
    with pytest.raises(ServiceUnavailable):
        engine.issue("medical")
    clock.now = local_ts(2026, 10, 10, 10, 0)  # Saturday made a working day (调休)
    assert engine.issue("medical").ticket.number == "B001"


def test_numbers_restart_after_local_midnight(engine, clock):
    clock.now = local_ts(2026, 11, 23, 17, 0)
    assert engine.issue("general").ticket.number == "Z001"
    clock.now = local_ts(2026, 11, 23, 23, 59, 59)
    assert engine.issue("general").ticket.number == "Z002"
    clock.now = local_ts(2026, 11, 24, 0, 0, 1)  # 16:00 UTC the day before: local day counts
    assert engine.issue("general").ticket.number == "Z001"


def test_unknown_service(engine):
    with pytest.raises(UnknownService):
        engine.issue("nope")


def test_people_ahead_and_estimate_from_defaults_then_real_durations(engine, clock):
    first = engine.issue("relief")
    second = engine.issue("relief")
    assert (first.people_ahead, second.people_ahead) == (0, 1)
    # relief: 12 minutes configured, two open windows (4 and 9) share the queue
    assert second.estimated_wait_s == 12 * 60 // 2
    engine.call_next(4)
    clock.advance(60)
    engine.start(4)
    clock.advance(240)  # a real service took 4 minutes
    engine.finish(4)
    third = engine.issue("relief")
    assert third.people_ahead == 1
    assert third.estimated_wait_s == 240 // 2


def test_paused_window_does_not_count_for_estimates(engine):
    engine.issue("relief")
    two_windows = engine.issue("relief").estimated_wait_s
    engine.set_paused(9, True)
    # two people ahead instead of one, and one window instead of two: four times the wait
    assert engine.issue("relief").estimated_wait_s == 4 * two_windows
    with pytest.raises(WindowError):
        engine.call_next(9)


def test_strict_priority_calls_green_channel_first(engine):
    engine.hall = replace(engine.hall, priority_rule=replace(engine.hall.priority_rule, mode="strict"))
    normal = [engine.issue("medical") for _ in range(2)]
    prio = engine.issue("medical", priority="elderly")
    assert prio.ticket.number == "B003"  # keeps its own number
    assert prio.people_ahead == 0
    assert [t.number for t in engine.waiting_for(2)] == ["B003", "B001", "B002"]
    assert engine.call_next(2).number == "B003"
    # window 3 does not serve the green channel for its own queue: plain arrival order there
    assert normal[0].ticket.number == "B001"


def test_interleave_lets_normal_tickets_through(engine):
    # sample hall: interleave with at most two priority calls in a row
    engine.issue("medical")  # B001
    for _ in range(4):
        engine.issue("medical", priority="disabled")  # B002..B005
    called = [engine.call_next(2).number for _ in range(5)]
    assert called == ["B002", "B003", "B001", "B004", "B005"]


def test_window_without_green_channel_ignores_priority(engine):
    engine.issue("labor")
    engine.issue("labor", priority="veteran")
    assert [t.number for t in engine.waiting_for(1)] == ["A001", "A002"]


def test_lifecycle_timestamps(engine, clock):
    t = engine.issue("family").ticket
    assert t.status is TicketStatus.WAITING and t.issued_at == clock.now
    clock.advance(30)
    called = engine.call_next(3)
    assert called.id == t.id and called.status is TicketStatus.CALLED and called.called_at == clock.now
    clock.advance(10)
    recalled = engine.recall(3)
    assert recalled.call_count == 2
    clock.advance(20)
    started = engine.start(3)
    assert started.status is TicketStatus.SERVING and started.started_at == clock.now
    clock.advance(300)
    done = engine.finish(3)
    assert done.status is TicketStatus.DONE and done.finished_at - done.started_at == 300
    assert engine.call_next(3) is None


def test_no_show_then_call_by_number(engine):
    engine.issue("family")
    engine.call_next(3)
    assert engine.no_show(3).status is TicketStatus.NO_SHOW
    again = engine.call_number(3, "C001")  # the visitor came back
    assert again.status is TicketStatus.CALLED and again.call_count == 2


def test_call_next_finishes_the_open_ticket(engine):
    engine.issue("family"), engine.issue("family")
    first = engine.call_next(3)
    engine.call_next(3)
    assert engine.store.get(first.id).status is TicketStatus.DONE


def test_transfer_keeps_number_and_goes_first(engine):
    engine.issue("medical")  # B001
    engine.issue("general")  # Z001
    engine.issue("general")  # Z002
    moved = engine.call_next(2)
    cont = engine.transfer(2, to_window=9)
    assert cont.number == moved.number and cont.transferred_from == moved.id
    assert engine.store.get(moved.id).status is TicketStatus.TRANSFERRED
    assert engine.waiting_for(9)[0].id == cont.id
    assert engine.waiting_for(5) == []  # reserved for window 9, not shown elsewhere


def test_cancel_only_waiting(engine):
    t = engine.issue("legal").ticket
    assert engine.cancel(t.id).status is TicketStatus.CANCELLED
    with pytest.raises(Exception):
        engine.cancel(t.id)


def test_idempotency_key_returns_same_ticket(engine):
    a = engine.issue("land", key="k-1")
    b = engine.issue("land", key="k-1")
    assert a.ticket.id == b.ticket.id
    assert len(engine.store.find(engine.today(), services=["land"])) == 1


def test_events_are_emitted(engine):
    seen = []
    engine.listeners.append(lambda kind, data: seen.append(kind))
    engine.issue("family")
    engine.call_next(3)
    engine.finish(3)
    assert seen == ["ticket_issued", "ticket_called", "ticket_finished"]


def test_two_windows_never_get_the_same_ticket(engine):
    engine.issue("labor")  # served by windows 1 and 9
    a = engine.call_next(1)
    b = engine.call_next(9)
    assert a is not None and b is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["labor", "medical", "general"]),
                          st.integers(min_value=0, max_value=6 * 3600)), min_size=1, max_size=40))
def test_numbers_never_repeat_within_service_and_day(tmp_path_factory, sample_hall, steps):
    from kiosk.storage.db import open_engine, sqlite_url
    from kiosk.storage.queue_store import QueueStore

    db = tmp_path_factory.mktemp("prop") / "q.db"
    clock = FakeClock(local_ts(2026, 11, 23, 8, 0))
    engine = QueueEngine(sample_hall, QueueStore(open_engine(sqlite_url(db)), sample_hall.code), clock=clock)
    issued = []
    for code, delay in steps:
        clock.advance(delay)
        try:
            issued.append(engine.issue(code).ticket)
        except ServiceUnavailable:
            continue
    keys = [(t.day, t.service, t.number) for t in issued]
    assert len(keys) == len(set(keys))
    for (day, service) in {(t.day, t.service) for t in issued}:
        seqs = [t.seq for t in issued if (t.day, t.service) == (day, service)]
        assert seqs == list(range(1, len(seqs) + 1))  # consecutive: no gap either
