"""Check-in in the core, with an injected clock: the clerk books 10:00, the visitor types the code at
09:50 and is called before the walk-ins; too early is refused, late gets a normal ticket; each
appointment checks in once; an offline check-in is applied once."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from kiosk.appointments import AppointmentError, AppointmentSettings, ServiceSlots
from kiosk.appointments.checkin import LANE, IssuedTicket, check_in, record_offline
from kiosk.appointments.store import AppointmentStore, clean_booking
from kiosk.queue import ServiceUnavailable

from .conftest import TZ, local_ts
from .idcard_fakes import id_number

MONDAY = date(2026, 11, 23)


@pytest.fixture
def desk(engine, sample_hall, clock):
    engine.add_lane(LANE)
    store = AppointmentStore(engine.store.engine, sample_hall.code, clock=clock)
    store.save_settings(AppointmentSettings(services=(ServiceSlots("labor", 30, 4),)), sample_hall)
    return engine, store


def book(store, hall, slot, **kw):
    kw.setdefault("name", "王小明")
    return store.book([clean_booking(hall, store.settings(), "labor", MONDAY, slot, **kw)], store.settings())[0]


def checkin(engine, store, clock, key, **who):
    def issue(service, k):
        got = engine.issue(service, None, k, "dispenser-1", check_in=True)  # the check-in's own key
        return IssuedTicket(got.ticket.id, got.ticket.number)

    return check_in(store.engine, store.hall, store.settings(), key=key,
                    now=datetime.fromtimestamp(clock(), TZ), issue=issue, **who)


def test_on_time_check_in_is_called_before_walk_ins(desk, sample_hall, clock):
    engine, store = desk
    appt = book(store, sample_hall, "10:00-10:30")
    clock.now = local_ts(2026, 11, 23, 9, 10)
    walk_ins = [engine.issue("labor").ticket for _ in range(3)]
    clock.now = local_ts(2026, 11, 23, 9, 50)
    result = checkin(engine, store, clock, "k1", code=appt["code"])
    assert result["outcome"] == "on_time" and "优先" in result["message"]
    ticket = engine.get_ticket(result["ticket_id"])
    assert ticket.number == "A004" and ticket.key == f"apt:{appt['id']}"
    assert engine.people_ahead(ticket) == 0
    assert engine.people_ahead(walk_ins[0]) == 1
    assert engine.call_next(1).id == ticket.id  # before A001..A003
    assert engine.call_next(1).id == walk_ins[0].id
    assert store.get(appt["id"])["status"] == "checked_in" and store.get(appt["id"])["ticket_number"] == "A004"


def test_too_early_is_refused_and_consumes_nothing(desk, sample_hall, clock):
    engine, store = desk
    appt = book(store, sample_hall, "10:00-10:30")
    clock.now = local_ts(2026, 11, 23, 9, 30)
    with pytest.raises(AppointmentError) as early:
        checkin(engine, store, clock, "k1", code=appt["code"])
    assert early.value.code == "too_early" and "09:45" in str(early.value)
    assert engine.store.last_number(engine.today(), "labor") is None
    clock.now = local_ts(2026, 11, 23, 9, 45)
    assert checkin(engine, store, clock, "k2", code=appt["code"])["outcome"] == "on_time"


def test_late_gets_a_normal_ticket_with_a_message(desk, sample_hall, clock):
    engine, store = desk
    appt = book(store, sample_hall, "10:00-10:30")
    clock.now = local_ts(2026, 11, 23, 10, 5)
    walk_in = engine.issue("labor").ticket
    clock.now = local_ts(2026, 11, 23, 10, 16)
    result = checkin(engine, store, clock, "k1", code=appt["code"])
    assert result["outcome"] == "late" and "普通号" in result["message"]
    ticket = engine.get_ticket(result["ticket_id"])
    assert engine.people_ahead(ticket) == 1
    assert engine.call_next(1).id == walk_in.id
    assert store.get(appt["id"])["late"]


def test_each_appointment_checks_in_once(desk, sample_hall, clock):
    engine, store = desk
    appt = book(store, sample_hall, "10:00-10:30")
    clock.now = local_ts(2026, 11, 23, 9, 55)
    first = checkin(engine, store, clock, "k1", code=appt["code"])
    again = checkin(engine, store, clock, "k1", code=appt["code"])  # the same request repeated
    assert again["repeated"] and again["ticket_id"] == first["ticket_id"]
    with pytest.raises(AppointmentError) as twice:  # another tap on another terminal
        checkin(engine, store, clock, "k2", code=appt["code"])
    assert twice.value.code == "already_checked_in" and first["ticket_number"] in str(twice.value)
    assert engine.store.last_number(engine.today(), "labor") == 1
    with pytest.raises(AppointmentError) as unknown:
        checkin(engine, store, clock, "k3", code="999999")
    assert unknown.value.status == 404 and "签到码" in str(unknown.value)
    cancelled = book(store, sample_hall, "10:30-11:00", name="李四")
    store.cancel(cancelled["id"])
    with pytest.raises(AppointmentError) as gone:
        checkin(engine, store, clock, "k4", code=cancelled["code"])
    assert gone.value.code == "cancelled"


def test_a_refused_ticket_frees_the_appointment(desk, sample_hall, clock):
    engine, store = desk
    appt = book(store, sample_hall, "10:00-10:30")
    clock.now = local_ts(2026, 11, 23, 9, 55)

    def closed(service, key):
        raise ServiceUnavailable("今日号已取完", "sold_out")

    with pytest.raises(ServiceUnavailable):
        check_in(store.engine, store.hall, store.settings(), key="k1", now=datetime.fromtimestamp(clock(), TZ),
                 issue=closed, code=appt["code"])
    assert store.get(appt["id"])["status"] == "booked"
    assert checkin(engine, store, clock, "k2", code=appt["code"])["outcome"] == "on_time"


def test_card_finds_the_persons_appointment(desk, sample_hall, clock):
    engine, store = desk
    number = id_number()
    appt = book(store, sample_hall, "10:00-10:30", id_number=number)
    clock.now = local_ts(2026, 11, 23, 10, 0)
    with pytest.raises(AppointmentError) as nobody:
        checkin(engine, store, clock, "k0", person=store.key_of(id_number("11010519491231002")))
    assert nobody.value.status == 404
    result = checkin(engine, store, clock, "k1", person=store.key_of(number))
    assert result["appointment"]["id"] == appt["id"] and result["outcome"] == "on_time"


def test_offline_check_in_is_applied_once(desk, sample_hall, clock):
    engine, store = desk
    appt = book(store, sample_hall, "10:00-10:30")
    args = dict(appointment_id=appt["id"], key="off-1", at=local_ts(2026, 11, 23, 9, 58), late=False,
                ticket_id="t1", ticket_number="AX001", terminal="dispenser-1")
    assert record_offline(store.engine, store.hall, **args) == "applied"
    assert record_offline(store.engine, store.hall, **args) == "duplicate"
    assert record_offline(store.engine, store.hall, **{**args, "key": "off-2"}) == "conflict"
    row = store.get(appt["id"])
    assert row["status"] == "checked_in" and row["ticket_number"] == "AX001"


@pytest.mark.parametrize("key", ["apt:x", "apt:", "apt-late:anything", "apt:0123456789abcdef0123456789abcdef"])
def test_a_client_key_of_a_check_ins_form_makes_no_ticket(desk, sample_hall, clock, key):
    """The appointment lane admits by key: a walk-in asking with ``apt:...`` (an embedded terminal's caller, or
    any other path into the engine) is refused, nothing consumed, and is never called first."""
    from kiosk.queue_errors import ReservedKey

    engine, store = desk
    clock.now = local_ts(2026, 11, 23, 9, 10)
    walk_in = engine.issue("labor").ticket
    with pytest.raises(ReservedKey) as refused:
        engine.issue("labor", None, key, "dispenser-1")
    assert refused.value.field == "key" and refused.value.code == "key_reserved" and "apt:" in str(refused.value)
    assert engine.store.by_key(key) is None and engine.issue("labor").ticket.number == "A002"  # A002: none consumed
    assert engine.call_next(1).id == walk_in.id


def test_a_check_ins_key_from_a_client_finds_the_check_ins_ticket(desk, sample_hall, clock):
    """A terminal that checked in online asks for its ticket by the check-in's key: it gets that ticket."""
    engine, store = desk
    appt = book(store, sample_hall, "10:00-10:30")
    clock.now = local_ts(2026, 11, 23, 9, 50)
    made = checkin(engine, store, clock, "k1", code=appt["code"])
    again = engine.issue("labor", None, f"apt:{appt['id']}", "dispenser-2")
    assert (again.ticket.id, again.created) == (made["ticket_id"], False)
