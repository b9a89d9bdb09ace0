"""Appointments in the core: slots, capacity, codes, moving, the check-in rule, CSV import and
statistics, on a real SQLite file with an injected clock."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from kiosk.appointments import AppointmentError, AppointmentSettings, ServiceSlots, Slot, judge, slots_for
from kiosk.appointments.csvimport import parse as parse_csv
from kiosk.appointments.stats import appointment_stats
from kiosk.appointments.store import AppointmentStore, clean_booking
from kiosk.idcard import person_key
from kiosk.storage.db import open_engine, sqlite_url

from .conftest import TZ, local_ts
from .idcard_fakes import id_number

MONDAY = date(2026, 11, 23)
SETTINGS = AppointmentSettings(services=(ServiceSlots("labor", 30, 2), ServiceSlots("medical", 60, 3)))


@pytest.fixture
def store(tmp_path, sample_hall, clock):
    s = AppointmentStore(open_engine(sqlite_url(tmp_path / "server.db")), sample_hall.code, clock=clock)
    s.save_settings(SETTINGS, sample_hall)
    return s


def book(store, hall, slot="10:00-10:30", service="labor", day=MONDAY, **kw):
    kw.setdefault("name", "王小明")
    return store.book([clean_booking(hall, store.settings(), service, day, slot, **kw)], store.settings())[0]


def test_slots_follow_service_hours_and_the_calendar(sample_hall):
    labor = sample_hall.service("labor")  # 08:30-12:00 14:00-17:30
    slots = slots_for(sample_hall, labor, SETTINGS, MONDAY)
    assert slots[0] == Slot(time(8, 30), time(9, 0)) and slots[-1] == Slot(time(17, 0), time(17, 30))
    assert len(slots) == 7 + 7
    assert slots_for(sample_hall, labor, SETTINGS, date(2026, 11, 28)) == []  # Saturday: hall closed
    assert slots_for(sample_hall, sample_hall.service("family"), SETTINGS, MONDAY) == []  # takes no bookings


def test_capacity_is_kept_and_a_cancel_frees_a_place(store, sample_hall):
    first = book(store, sample_hall)
    book(store, sample_hall, name="李四")
    with pytest.raises(AppointmentError) as full:
        book(store, sample_hall, name="张三")
    assert full.value.code == "full" and full.value.status == 409
    slot = next(s for s in store.slots(sample_hall, "labor", MONDAY) if s["slot"] == "10:00-10:30")
    assert (slot["booked"], slot["free"]) == (2, 0)
    store.cancel(first["id"])
    assert book(store, sample_hall, name="张三")["status"] == "booked"


def test_codes_are_six_digits_and_unique_per_day(store, sample_hall):
    settings = AppointmentSettings(services=(ServiceSlots("labor", 5, 500),))
    store.save_settings(settings, sample_hall)
    slots = slots_for(sample_hall, sample_hall.service("labor"), settings, MONDAY)[:6]
    rows = store.book([clean_booking(sample_hall, settings, "labor", MONDAY, s.label, name=f"人{i}{j}")
                       for i, s in enumerate(slots) for j in range(100)], settings)
    codes = [r["code"] for r in rows]
    assert len(codes) == 600 and len(set(codes)) == 600
    assert all(len(c) == 6 and c.isdigit() and c[0] != "0" for c in codes)


def test_bad_bookings_name_the_field(store, sample_hall):
    cases = [(dict(service="nope"), "service"), (dict(slot="10:10-10:40"), "slot"), (dict(slot="10-11"), "slot"),
             (dict(day=date(2026, 11, 28)), "day"), (dict(service="family"), "service"),
             (dict(phone="call me"), "phone"), (dict(id_number="330102195001011230"), "id_number"),
             (dict(name="", phone="", id_number=""), "name")]
    for change, field in cases:
        args = dict(service="labor", day=MONDAY, slot="10:00-10:30", name="王小明") | change
        with pytest.raises(AppointmentError) as exc:
            clean_booking(sample_hall, SETTINGS, args.pop("service"), args.pop("day"), args.pop("slot"), **args)
        assert exc.value.field == field, (change, exc.value)
    with pytest.raises(AppointmentError) as past:
        clean_booking(sample_hall, SETTINGS, "labor", MONDAY, "10:00-10:30", name="王", today=date(2026, 11, 24))
    assert past.value.field == "day"
    at = datetime.combine(MONDAY, time(10, 30), tzinfo=TZ)  # the 10:00-10:30 slot has just ended
    with pytest.raises(AppointmentError) as ended:
        clean_booking(sample_hall, SETTINGS, "labor", MONDAY, "10:00-10:30", name="王", now=at)
    assert ended.value.field == "slot" and "ended" in str(ended.value)
    assert clean_booking(sample_hall, SETTINGS, "labor", MONDAY, "10:30-11:00", name="王", now=at).slot.label \
        == "10:30-11:00"  # the slot running now can still be booked
    with pytest.raises(AppointmentError) as yesterday:
        clean_booking(sample_hall, SETTINGS, "labor", MONDAY, "15:00-15:30", name="王",
                      now=datetime.combine(date(2026, 11, 24), time(9, 0), tzinfo=TZ))
    assert yesterday.value.field == "day"


def test_slots_say_which_have_ended(store, sample_hall, clock):
    clock.now = local_ts(2026, 11, 23, 10, 30)  # Monday 10:30
    ended = {s["slot"]: s["ended"] for s in store.slots(sample_hall, "labor", MONDAY)}
    assert ended["10:00-10:30"] and not ended["10:30-11:00"] and not ended["17:00-17:30"]
    assert not any(s["ended"] for s in store.slots(sample_hall, "labor", date(2026, 11, 24)))


def test_move_refuses_a_slot_that_has_ended(store, sample_hall, clock):
    a = book(store, sample_hall, "15:00-15:30")
    clock.now = local_ts(2026, 11, 23, 11, 0)  # Monday 11:00: the 10:00-10:30 slot is over
    with pytest.raises(AppointmentError) as exc:
        store.move(a["id"], sample_hall, None, "10:00-10:30", None)
    assert exc.value.field == "slot"
    assert store.get(a["id"])["slot"] == "15:00-15:30"


def test_privacy_name_masked_id_hashed(store, sample_hall):
    number = id_number()
    row = book(store, sample_hall, name="王小明", id_number=number)
    assert row["name_masked"] == "王*明" and row["has_id"]
    raw = open(store.engine.url.database, "rb").read()
    assert number.encode() not in raw and "王小明".encode() not in raw
    assert store.key_of(number) == person_key(store.secret(), number)
    with pytest.raises(AppointmentError) as twice:  # one booking per person and service a day
        book(store, sample_hall, slot="11:00-11:30", name="王小明", id_number=number)
    assert twice.value.code == "duplicate"


def test_move_checks_capacity_and_redraws_the_code_on_a_new_day(store, sample_hall):
    a = book(store, sample_hall)
    b = book(store, sample_hall, slot="11:00-11:30")
    book(store, sample_hall, slot="11:00-11:30", name="李四")
    with pytest.raises(AppointmentError) as full:
        store.move(a["id"], sample_hall, None, "11:00-11:30", None)
    assert full.value.code == "full"
    assert store.get(a["id"])["slot"] == "10:00-10:30" and store.get(a["id"])["status"] == "booked"  # unchanged
    moved = store.move(a["id"], sample_hall, None, "14:00-14:30", None)
    assert moved["slot"] == "14:00-14:30" and moved["code"] == a["code"]
    later = store.move(b["id"], sample_hall, "2026-11-24", None, None)
    assert later["day"] == "2026-11-24" and len(later["code"]) == 6
    store.cancel(a["id"])
    with pytest.raises(AppointmentError) as gone:
        store.move(a["id"], sample_hall, None, "15:00-15:30", None)
    assert gone.value.code == "wrong_state"


def test_check_in_rule_window_and_late():
    s = AppointmentSettings(before_min=15, after_min=15)
    slot = Slot(time(10, 0), time(10, 30))
    at = lambda hh, mm, d=MONDAY: datetime.combine(d, time(hh, mm), tzinfo=TZ)  # noqa: E731
    assert judge(MONDAY, slot, at(9, 44), s).outcome == "too_early"
    assert "09:45" in judge(MONDAY, slot, at(9, 44), s).message
    assert judge(MONDAY, slot, at(9, 45), s).outcome == "on_time"
    assert judge(MONDAY, slot, at(9, 50), s).outcome == "on_time"
    assert judge(MONDAY, slot, at(10, 15), s).outcome == "on_time"
    late = judge(MONDAY, slot, at(10, 16), s)
    assert late.outcome == "late" and late.issues_ticket and "普通号" in late.message
    assert judge(MONDAY, slot, at(10, 0, date(2026, 11, 24)), s).outcome == "not_today"


CSV_OK = """date,slot,service,name,phone,id_number,ref
2026-11-23,10:00-10:30,labor,王小明,13800138000,{id},ZJ-1
2026-11-23,10:00-10:30,labor,李四,13900139000,,ZJ-2
2026-11-23,08:30-09:30,medical,张三,,,ZJ-3
"""


def test_csv_import_all_or_nothing_with_every_bad_row_named(store, sample_hall):
    settings = store.settings()
    good = CSV_OK.format(id=id_number()).encode()
    bookings, lines, errors = parse_csv(good, sample_hall, settings)
    assert errors == [] and lines == [2, 3, 4] and len(bookings) == 3
    bad = (CSV_OK.format(id=id_number())
           + "2026-11-23,10:00-10:30,labor,赵六,,,ZJ-4\n"   # line 5: the slot is full (2 places)
           + "2026-11-23,10:10-10:40,labor,钱七,,,ZJ-5\n"   # line 6: not a slot
           + "2026-13-01,10:00-10:30,labor,孙八,,,ZJ-6\n"   # line 7: not a date
           + "2026-11-23,10:30-11:00,nope,周九,,,ZJ-7\n").encode()  # line 8: unknown service
    _, _, errors = parse_csv(bad, sample_hall, settings)
    assert [(e.line, e.field) for e in errors] == [(5, "slot"), (6, "slot"), (7, "date"), (8, "service")]
    assert str(errors[0]).startswith("line 5: slot: ")


def test_csv_headers_in_chinese_and_gb18030(sample_hall):
    text = "预约日期,预约时段,事项编码,姓名,手机号\n2026-11-23,10:00-10:30,labor,王小明,13800138000\n"
    bookings, _, errors = parse_csv(text.encode("gb18030"), sample_hall, SETTINGS)
    assert errors == [] and bookings[0].name == "王小明"
    _, _, errors = parse_csv(b"when,what\n1,2\n", sample_hall, SETTINGS)
    assert {e.field for e in errors} >= {"when", "date", "slot", "service"} and all(e.line == 1 for e in errors)
    _, _, errors = parse_csv(text.encode(), sample_hall, SETTINGS, day=date(2026, 11, 24))
    assert errors[0].field == "date" and errors[0].line == 2


def test_csv_capacity_counts_what_is_already_booked(store, sample_hall):
    book(store, sample_hall)
    with store.engine.connect() as conn:
        counts = store.booked_counts(conn, MONDAY, "labor")
    _, _, errors = parse_csv(CSV_OK.format(id="").encode(), sample_hall, store.settings(),
                             booked=lambda d, s: counts if s == "labor" else {})
    assert [(e.line, e.field) for e in errors] == [(3, "slot")]


def test_stats_per_day_and_service(store, sample_hall, clock):
    a = book(store, sample_hall, slot="09:00-09:30")
    book(store, sample_hall, slot="10:00-10:30")
    c = book(store, sample_hall, slot="11:00-11:30")
    store.cancel(c["id"])
    book(store, sample_hall, service="medical", slot="08:30-09:30")
    from kiosk.appointments.tables import appointments

    with store.engine.begin() as conn:
        conn.execute(appointments.update().where(appointments.c.id == a["id"])
                     .values(status="checked_in", checked_in_at=clock(), late=False))
    clock.now = local_ts(2026, 11, 23, 10, 10)  # 10:00 booking: window open until 10:15
    rows = appointment_stats(store.engine, store.hall, MONDAY, MONDAY, store.now(), store.settings())
    labor = next(r for r in rows if r["service"] == "labor")
    assert (labor["booked"], labor["checked_in"], labor["late"], labor["no_show"], labor["pending"],
            labor["cancelled"]) == (2, 1, 0, 0, 1, 1)
    medical = next(r for r in rows if r["service"] == "medical")
    assert (medical["booked"], medical["no_show"]) == (1, 1)  # 08:30 + 15 min passed at 10:10
