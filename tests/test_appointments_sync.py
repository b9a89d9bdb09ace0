"""Check-in on a terminal linked to a real hall server: online (the server claims and issues, the terminal
prints the same ticket), offline (today's list kept on the terminal, an offline ticket in the appointment
lane), and back online: the check-in and its ticket are applied exactly once."""

from __future__ import annotations

import pytest

from kiosk.idcard import parse_text

from .idcard_fakes import PHOTO, id_number, sample_text
from .sync_support import RestartableServer, build, enrolled_terminal
from .test_server_appointments import BASE, HALL, SETTINGS
from .test_server_support import hall_slot, hall_today, start_server


@pytest.fixture
def server(tmp_path):
    s = RestartableServer.__new__(RestartableServer)
    s.tmp = tmp_path / "server"
    s.tmp.mkdir()
    s.db_url = f"sqlite:///{s.tmp / 'server.db'}"
    s.hall = start_server(s.db_url, s.tmp, HALL)
    s.url = s.hall.url
    s.port = int(s.url.rsplit(":", 1)[1])
    s.starts = 1
    assert s.hall.api("PUT", BASE + "/settings", token="sup", json=SETTINGS).status_code == 200
    yield s
    s.stop()


def current_slot() -> tuple[str, str]:
    slot, day = hall_slot()
    if slot.startswith("23:5"):
        pytest.skip("too close to midnight for a same-day slot")
    return slot, day


def test_online_then_offline_check_in_applied_once(server, tmp_path):
    slot, day = current_slot()
    number = id_number("33010219800315001")
    body = {"service": "allday", "day": day, "slot": slot}
    a = server.hall.api("POST", BASE, token="clerk", json={**body, "name": "王小明"}).json()
    b = server.hall.api("POST", BASE, token="clerk", json={**body, "name": "李四", "id_number": number}).json()
    term = build(enrolled_terminal(server, tmp_path, "t1"), background=False)
    try:
        desk = term.appointments
        online = desk.check_in_code(a["code"])
        assert not online.late and online.outcome.number == "E001"
        tickets = server.tickets(day)
        assert [t["number"] for t in tickets] == ["E001"]  # the terminal's request returned the same ticket
        assert server.hall.api("GET", f"{BASE}/{a['id']}", token="clerk").json()["status"] == "checked_in"

        assert desk.refresh()  # today's list, kept for offline check-in
        server.stop()
        visitor = parse_text(sample_text("李四", "19800315", number), PHOTO)
        offline = desk.swipe(visitor)
        assert offline.checkin is not None and not offline.checkin.late
        off_number = offline.checkin.outcome.number
        assert off_number.startswith("E") and off_number != "E001" and term.status_marker()
        twice = desk.swipe(visitor)  # the same card again, still offline: the grid, told why
        assert twice.checkin is None and "已经签到" in twice.message
        with pytest.raises(Exception) as code_twice:
            desk.check_in_code(b["code"])
        assert "已经签到" in str(code_twice.value)

        server.start()
        walk_in = server.hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "allday"}).json()
        result = term.backend.push()
        assert (result.rejected, result.sent, result.duplicates) == (0, 2, 0), vars(result)  # ticket + check-in
        assert term.backend.push().sent == 0
        row = server.hall.api("GET", f"{BASE}/{b['id']}", token="clerk").json()
        assert row["status"] == "checked_in" and row["ticket_number"] == off_number
        numbers = [t["number"] for t in server.tickets(day)]
        assert sorted(numbers) == sorted(["E001", off_number, walk_in["number"]])
        order = [server.hall.api("POST", "/api/v1/windows/5/call-next", token="sup").json()["ticket"]["number"]
                 for _ in range(3)]
        assert order == ["E001", off_number, walk_in["number"]]  # both appointments before the walk-in
        again = server.hall.api("POST", BASE + "/checkins", token="terminal", json={
            "key": "another-terminal", "appointment_id": b["id"], "at": 1.0,
            "late": False, "ticket_id": "t", "ticket_number": off_number}).json()
        assert again["status"] == "conflict"  # a second check-in never replaces the first
        stats = server.hall.api("GET", BASE + "/stats", token="sup", params={"from": day, "to": day}).json()
        assert next(r for r in stats if r["service"] == "allday")["checked_in"] == 2

        # an unplugged reader shows on the supervisor's terminal list
        from devices.idcard.fake import FakeIdReader

        term.idcard_reader, term.idcard_state = FakeIdReader(), "unplugged"
        term.backend.send_heartbeat()
        listed = server.hall.api("GET", "/api/v1/terminals", token="sup").json()
        assert next(t for t in listed if t["name"] == "t1")["idcard"] == "unplugged"
    finally:
        term.close()
    # the ID number and the name never reached the server's database, its log or the terminal's files
    files = [f for f in list(server.tmp.rglob("*")) + list((tmp_path / "t1").rglob("*")) if f.is_file()]
    assert len(files) > 3
    for f in files:
        data = f.read_bytes()
        assert number.encode() not in data and "李四".encode() not in data, f


def test_today_is_kept_in_the_background_for_an_outage(server, tmp_path, monkeypatch):
    from .sync_support import quick_backoff, wait_for

    quick_backoff(monkeypatch)  # back online within a second of the restart, not the product's up to 15 s
    slot, day = current_slot()
    a = server.hall.api("POST", BASE, token="clerk", json={"service": "allday", "day": day, "slot": slot,
                                                           "name": "王小明"}).json()
    term = build(enrolled_terminal(server, tmp_path, "t2"), background=True)
    try:
        assert wait_for(lambda: (term.backend.state.get("appointments_today") or {}).get("day") == day)
        server.stop()  # nobody asked for the list: the terminal fetched it by itself
        result = term.appointments.check_in_code(a["code"])
        assert not result.late and result.outcome.number[1].isalpha()  # E + the offline series letter + digits
        server.start()
        assert wait_for(lambda: server.hall.api("GET", f"{BASE}/{a['id']}", token="clerk").json()["status"]
                        == "checked_in", timeout=30)
    finally:
        term.close()


def test_a_second_dispenser_refuses_a_second_ticket_for_the_same_card(server, tmp_path):
    """one_ticket_per_person across dispensers: the card's keyed hash goes with the ticket request and the
    server refuses the second one, with the message the visitor sees at a single dispenser."""
    from kiosk.terminal import VisitorError

    r = server.hall.api("PUT", BASE + "/settings", token="sup", json={**SETTINGS, "one_ticket_per_person": True})
    assert r.status_code == 200
    card = parse_text(sample_text("王小明", "19500101", id_number("33010219500101123")), PHOTO)
    t1 = build(enrolled_terminal(server, tmp_path, "t1"), background=False)
    t2 = build(enrolled_terminal(server, tmp_path, "t2"), background=False)
    try:
        person = t1.appointments.key_of(card)
        assert person == t2.appointments.key_of(card) and card.id_number not in person
        first = t1.issue("allday", person=person, wait_for_print=True)
        assert t2.appointments.refuse_second_ticket(person, "allday") is None  # t2 has no record of it ...
        with pytest.raises(VisitorError) as refused:  # ... the server has
            t2.issue("allday", person=person, wait_for_print=True)
        assert str(refused.value) == f"您已取过全天业务的号：{first.number}"
        day = hall_today().isoformat()
        assert [t["number"] for t in server.tickets(day)] == [first.number]  # the refusal consumed nothing
    finally:
        t1.close()
        t2.close()
