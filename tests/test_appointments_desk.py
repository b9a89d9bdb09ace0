"""Check-in at a dispenser (embedded queue, injected clock): a code at 09:50 for a 10:00 booking gets a
ticket called before walk-ins; a swiped card checks in, or lands on the grid with the green channel
preselected for an elderly holder; one waiting ticket per person and service; and the ID number, name
and photo reach no database file, log or printed byte."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from devices.printer.escpos import render
from kiosk.appointments import AppointmentError, AppointmentSettings, ServiceSlots
from kiosk.appointments.store import clean_booking
from kiosk.idcard import parse_text

from .conftest import local_ts
from .idcard_fakes import PHOTO, id_number, sample_text

MONDAY = date(2026, 11, 23)


@pytest.fixture
def term(terminal_factory, sample_hall):
    t = terminal_factory()
    store = t.appointments._store
    store.save_settings(AppointmentSettings(services=(ServiceSlots("labor", 30, 4),), one_ticket_per_person=True),
                        sample_hall)
    return t


def book(term, slot="10:00-10:30", **kw):
    store = term.appointments._store
    kw.setdefault("name", "王小明")
    return store.book([clean_booking(term.hall, store.settings(), "labor", MONDAY, slot, **kw)], store.settings())[0]


def card(name="王小明", birth="19500101", number=None):
    return parse_text(sample_text(name, birth, number or id_number("330102" + birth + "123")), PHOTO)


def test_code_at_0950_for_1000_is_called_first(term, clock):
    appt = book(term)
    clock.now = local_ts(2026, 11, 23, 9, 20)
    walk_in = term.issue("labor", wait_for_print=True)
    clock.now = local_ts(2026, 11, 23, 9, 50)
    result = term.appointments.check_in_code(appt["code"])
    assert not result.late and result.outcome.number == "A002" and result.outcome.people_ahead == 0
    assert term.backend.call_next(1).id == result.outcome.ticket_id
    assert term.backend.call_next(1).id == walk_in.ticket_id
    with pytest.raises(AppointmentError) as again:
        term.appointments.check_in_code(appt["code"])
    assert again.value.code == "already_checked_in"
    with pytest.raises(AppointmentError) as short:
        term.appointments.check_in_code("12345")
    assert "6位数字" in str(short.value)


def test_paused_printer_refuses_before_the_appointment_is_used(term, clock):
    from devices.printer import PrinterStatus
    from kiosk.terminal import PAUSED_MESSAGE, PrinterPaused

    appt = book(term)
    clock.now = local_ts(2026, 11, 23, 9, 55)
    term.printer.state = PrinterStatus.PAPER_OUT
    with pytest.raises(PrinterPaused) as paused:  # a typed refusal (a VisitorError), not a matched string
        term.appointments.check_in_code(appt["code"])
    assert str(paused.value) == PAUSED_MESSAGE
    assert term.appointments._store.get(appt["id"])["status"] == "booked"
    term.printer.state = PrinterStatus.READY
    assert term.appointments.check_in_code(appt["code"]).outcome.number == "A001"


def test_late_code_gets_a_normal_ticket(term, clock):
    appt = book(term)
    clock.now = local_ts(2026, 11, 23, 10, 20)
    result = term.appointments.check_in_code(appt["code"])
    assert result.late and "超过预约时间" in result.message and "普通号" in result.message


def test_card_with_an_appointment_checks_in(term, clock):
    visitor = card("李四", "19800315")
    appt = book(term, name="李四", id_number=visitor.id_number)
    clock.now = local_ts(2026, 11, 23, 9, 55)
    swiped = term.appointments.swipe(visitor)
    assert swiped.checkin is not None and swiped.checkin.outcome.service_name == "劳动保障"
    assert term.appointments._store.get(appt["id"])["status"] == "checked_in"


def test_elderly_card_lands_on_the_green_channel(term, clock):
    clock.now = local_ts(2026, 11, 23, 9, 55)
    old = term.appointments.swipe(card("王小明", "19600101"))  # 66 on that day
    assert old.checkin is None and old.priority == "elderly" and old.message == ""
    young = term.appointments.swipe(card("张三", "19900101"))
    assert young.checkin is None and young.priority is None
    birthday = term.appointments.swipe(card("赵六", "19611124"))  # 65 tomorrow: not yet
    assert birthday.priority is None


def test_one_waiting_ticket_per_person_and_service(term, clock):
    clock.now = local_ts(2026, 11, 23, 9, 55)
    swiped = term.appointments.swipe(card())
    desk = term.appointments
    assert desk.refuse_second_ticket(swiped.person, "labor") is None
    outcome = term.issue("labor", swiped.priority, wait_for_print=True)
    desk.remember(swiped.person, "labor", outcome)
    assert desk.refuse_second_ticket(swiped.person, "labor") == f"您已取过劳动保障的号：{outcome.number}"
    assert desk.refuse_second_ticket(swiped.person, "medical") is None
    assert desk.refuse_second_ticket(term.appointments.swipe(card("李四", "19800315")).person, "labor") is None
    term.backend.call_next(1)
    term.backend.finish(1)
    assert desk.refuse_second_ticket(swiped.person, "labor") is None  # served: a new one is fine


def test_no_id_number_name_or_photo_in_files_logs_or_tickets(term, clock, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    number = id_number("11010519491231002")
    visitor = card("欧阳小明", "19491231", number)
    book(term, name="欧阳小明", id_number=number, slot="10:00-10:30")
    clock.now = local_ts(2026, 11, 23, 9, 58)
    checked = term.appointments.swipe(visitor)
    assert checked.checkin is not None
    grid = term.appointments.swipe(card("王小明", "19500101"))
    term.appointments.remember(grid.person, "medical", term.issue("medical", grid.priority, wait_for_print=True))
    printed = b"".join(render(doc) for doc in term.printer.printed)
    assert len(term.printer.printed) == 2
    secrets = [number.encode(), "欧阳小明".encode("gb18030"), "欧阳小明".encode(), PHOTO[:64]]
    for s in secrets:
        assert s not in printed
    term.close()
    for f in term.config.data_dir.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            for s in secrets:
                assert s not in data, f
    logged = caplog.text + "".join(f.read_text(errors="replace") for f in term.config.data_dir.rglob("*.log"))
    assert number not in logged and "欧阳小明" not in logged
