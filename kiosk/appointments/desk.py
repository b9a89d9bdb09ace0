"""Check-in at a dispenser (no Kivy): a 6-digit code or a swiped ID card -> the appointment's ticket, or
the service grid (green channel preselected for elderly card holders), and the one-ticket-per-person rule.

Where appointments come from:
- embedded terminal: its own database (``AppointmentStore`` on the queue file), checked in locally;
- hall server online: ``POST /api/v1/appointments/checkin`` claims it and issues the ticket there; the
  terminal then asks for the same ticket by its key (idempotent) to show and print it;
- hall server unreachable: today's list kept from ``GET /api/v1/appointments/today`` (refreshed every
  minute), judged here, an offline ticket keyed ``apt:<id>:...`` (the appointment lane admits it on the
  server too), and an outbox event the server applies once.

Privacy: a card's ID number is turned into ``person_key`` at once and nothing else of it is kept; the
one-ticket rule stores that hash with the ticket it got.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import sqlalchemy as sa

from kiosk.idcard import IdCard, person_key
from kiosk.storage.db import reader
from kiosk.storage.schema import metadata, migrate

from .checkin import IssuedTicket, check_in, ticket_key
from .rules import AppointmentError, AppointmentSettings, Slot, judge

if TYPE_CHECKING:
    from kiosk.terminal import Terminal, TicketOutcome

log = logging.getLogger(__name__)
REFRESH_S = 60.0

person_tickets = sa.Table(
    "person_tickets", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("person_key", sa.String(64), primary_key=True),
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("ticket_id", sa.String(32), nullable=False),
    sa.Column("number", sa.String(12), nullable=False),
)
_DESK_MIGRATIONS = [lambda conn: person_tickets.create(conn, checkfirst=True)]


@dataclass
class CheckinResult:
    outcome: "TicketOutcome"
    late: bool
    message: str  # for the visitor


@dataclass
class CardResult:
    """What a swipe leads to: a checked-in ticket, or the grid (with the green channel preselected)."""

    checkin: CheckinResult | None = None
    priority: str | None = None  # green-channel group preselected on the grid
    person: str = ""  # the keyed hash, for the one-ticket rule when the visitor then picks a service
    message: str = ""  # why an appointment of this card did not check in, if it has one


class CheckinDesk:
    def __init__(self, terminal: "Terminal"):
        self.terminal = terminal
        self.backend = terminal.backend
        self.remote = getattr(self.backend, "client", None) is not None
        self.db = self.backend.db if self.remote else self.backend.store.engine
        migrate(self.db, "desk", _DESK_MIGRATIONS)
        self._store = None
        self._last_refresh = 0.0
        if not self.remote:
            from .store import AppointmentStore

            self._store = AppointmentStore(self.db, terminal.hall.code, terminal.hall.timezone, clock=terminal.clock)

    # ------------------------------------------------------------ reading
    def now(self) -> datetime:
        from zoneinfo import ZoneInfo

        return datetime.fromtimestamp(self.terminal.clock(), ZoneInfo(self.terminal.hall.timezone))

    def today_list(self) -> dict:
        """{"day", "settings", "secret", "appointments": [...]}: the server's (cached) or our own."""
        if not self.remote:
            store = self._store
            rows = store.list(self.now().date())
            return {"day": self.now().date().isoformat(), "settings": store.settings().to_dict(),
                    "secret": store.secret(), "appointments": rows}
        cached = self.backend.state.get("appointments_today") or {}
        if cached.get("day") != self.now().date().isoformat() or \
                self.terminal.clock() - self._last_refresh > REFRESH_S:
            self.refresh()
            cached = self.backend.state.get("appointments_today") or cached
        return cached

    def refresh(self) -> bool:
        """Pull today's list from the server (remote only); False when it did not answer."""
        if not self.remote:
            return True
        from kiosk.sync.client import ServerError, parse_json

        try:
            body = parse_json(self.backend.client.request("GET", "/api/v1/appointments/today", timeout=(1.0, 3.0)))
        except ServerError as exc:
            log.info("appointments: today's list not refreshed (%s)", exc)
            return False
        self._last_refresh = self.terminal.clock()
        old = self.backend.state.get("appointments_today") or {}
        if old.get("day") == body.get("day"):  # keep what was checked in here offline and not yet synced
            local = {a["id"]: a for a in old.get("appointments", []) if a.get("local")}
            for a in body.get("appointments", []):
                if a["id"] in local and a["status"] == "booked":
                    a.update(status="checked_in", local=True)
        self.backend.state.set("appointments_today", body)
        return True

    def settings(self, fresh: bool = True) -> AppointmentSettings:
        """``fresh=False``: what is known now, without asking the server (for the UI thread)."""
        data = self.today_list() if fresh or not self.remote else (self.backend.state.get("appointments_today") or {})
        return AppointmentSettings.from_dict(data.get("settings") or {})

    # ------------------------------------------------------------ background refresh (hall server only)
    def start(self) -> None:
        """Keep today's list fresh every minute, so a terminal that loses the server can still check in."""
        if not self.remote or getattr(self, "_thread", None) is not None:
            return
        import threading

        self._stop = threading.Event()

        def loop() -> None:
            while True:
                self.refresh()
                if self._stop.wait(REFRESH_S):
                    return

        self._thread = threading.Thread(target=loop, name="kiosk-appointments", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if getattr(self, "_thread", None) is not None:
            self._stop.set()
            self._thread.join(timeout=5)
            self._thread = None

    def key_of(self, card: IdCard) -> str:
        secret = self.today_list().get("secret")
        if not secret:
            raise AppointmentError("secret", "暂时无法识别身份证，请输入签到码或直接取号", "no_secret", 503)
        return person_key(secret, card.id_number)

    # ------------------------------------------------------------ check-in
    def check_in_code(self, code: str) -> CheckinResult:
        code = "".join(ch for ch in code if ch.isdigit())
        if len(code) != 6:
            raise AppointmentError("code", "签到码是6位数字，请重新输入")
        return self._check_in(code=code)

    def _printer_ready(self) -> None:
        """Refuse before an appointment is claimed when no ticket could come out."""
        from kiosk.terminal import PrinterPaused

        if not self.terminal.printer_status().can_print:
            raise PrinterPaused()

    def swipe(self, card: IdCard) -> CardResult:
        person = self.key_of(card)
        settings = self.settings()
        message = ""
        try:
            return CardResult(checkin=self._check_in(person=person), person=person)
        except AppointmentError as exc:
            if exc.code != "not_found":
                message = str(exc)  # e.g. too early: the visitor reads why, and may take a normal ticket
        elderly = card.age_on(self.now().date()) >= settings.elderly_age
        return CardResult(priority=self._elderly_group() if elderly else None, person=person, message=message)

    def _elderly_group(self) -> str | None:
        groups = self.terminal.priority_groups
        if not groups:
            return None
        return next((g.code for g in groups if g.code == "elderly"), groups[0].code)

    def _check_in(self, code: str | None = None, person: str | None = None) -> CheckinResult:
        self._printer_ready()
        if not self.remote:
            return self._check_in_embedded(code, person)
        from kiosk.sync.client import Refused, ServerError, parse_json

        key = uuid.uuid4().hex
        if self.backend.online is not False:
            try:
                body = parse_json(self.backend.client.request(
                    "POST", "/api/v1/appointments/checkin", json_body={"key": key, "code": code, "person_key": person},
                    timeout=(1.0, 3.0)))
            except Refused as exc:
                raise AppointmentError(exc.field or "code", exc.message or "暂时无法签到，请联系工作人员", exc.code,
                                       exc.status) from None
            except ServerError as exc:
                log.warning("appointment check-in online failed (%s); checking in offline", exc)
                self.backend.went_offline(exc)
            else:
                late = body["outcome"] == "late"
                outcome = self.terminal.issue(body["service"], key=ticket_key(body["appointment_id"], not late))
                self._mark_local(body["appointment_id"], local=False)
                return CheckinResult(outcome, late, body["message"])
        return self._check_in_offline(code, person)

    def _check_in_embedded(self, code: str | None, person: str | None) -> CheckinResult:
        store = self._store
        outcomes = {}

        def issue(service: str, key: str) -> IssuedTicket:
            outcome = self.terminal.issue(service, key=key, check_in=True)
            outcomes["it"] = outcome
            return IssuedTicket(outcome.ticket_id, outcome.number)

        result = check_in(store.engine, store.hall, store.settings(), key=uuid.uuid4().hex, now=self.now(),
                          issue=issue, code=code, person=person, terminal=self.terminal.config.name)
        return CheckinResult(outcomes["it"], result["outcome"] == "late", result["message"])

    def _check_in_offline(self, code: str | None, person: str | None) -> CheckinResult:
        data = self.backend.state.get("appointments_today") or {}
        today = self.now().date()
        if data.get("day") != today.isoformat():
            raise AppointmentError("code", "暂时无法核对预约，请直接取号或联系工作人员", "no_list", 503)
        settings = AppointmentSettings.from_dict(data.get("settings") or {})
        rows = [a for a in data.get("appointments", [])
                if (code is not None and a["code"] == code) or (person is not None and a.get("person_key") == person)]
        if not rows:
            raise AppointmentError("code" if code else "person_key",
                                   "没有找到这个签到码的今日预约，请核对后重新输入" if code else "没有找到您今天的预约",
                                   "not_found", 404)
        row = next((a for a in rows if a["status"] == "booked"), rows[0])
        if row["status"] == "cancelled":
            raise AppointmentError("code", "这个预约已经取消，请取普通号或联系工作人员", "cancelled", 409)
        if row["status"] == "checked_in":
            raise AppointmentError("code", "这个预约已经签到过了", "already_checked_in", 409)
        start, end = row["slot"].split("-")
        verdict = judge(today, Slot(time.fromisoformat(start), time.fromisoformat(end)), self.now(), settings)
        if not verdict.issues_ticket:
            raise AppointmentError("code", verdict.message, verdict.outcome, 409)
        late = verdict.outcome == "late"
        offline_key = f"{ticket_key(row['id'], not late)}:{uuid.uuid4().hex[:8]}"
        outcome = self.terminal.issue(row["service"], key=offline_key, offline_key=offline_key)
        self._mark_local(row["id"], local=True)
        self.backend.outbox.put("appointment_checkin", {
            "key": offline_key, "appointment_id": row["id"], "at": self.terminal.clock(), "late": late,
            "ticket_id": outcome.ticket_id, "ticket_number": outcome.number}, f"checkin-{offline_key}"[:64])
        log.info("appointment %s checked in offline -> %s", row["id"], outcome.number)
        return CheckinResult(outcome, late, verdict.message)

    def _mark_local(self, appointment_id: str, local: bool) -> None:
        data = self.backend.state.get("appointments_today") or {}
        for a in data.get("appointments", []):
            if a["id"] == appointment_id:
                a["status"] = "checked_in"
                a["local"] = local
        if data:
            self.backend.state.set("appointments_today", data)

    # ------------------------------------------------------------ one ticket per person
    def refuse_second_ticket(self, person: str, service: str) -> str | None:
        """The visitor's message when the hall allows one waiting ticket per person and service and this
        card already has one (e.g. 您已取过劳动保障的号：A017), else None."""
        if not person or not self.settings(fresh=False).one_ticket_per_person:
            return None
        with reader(self.db) as conn:
            row = conn.execute(sa.select(person_tickets.c.ticket_id, person_tickets.c.number).where(
                person_tickets.c.day == self.now().date().isoformat(), person_tickets.c.person_key == person,
                person_tickets.c.service == service)).first()
        if row is None:
            return None
        ticket = self.backend.get_ticket(row.ticket_id)
        if ticket is not None and ticket.status.value not in ("waiting", "called"):
            return None  # served, missed or cancelled: a new one is fine
        svc = self.terminal.hall.service(service)
        return f"您已取过{svc.name if svc else service}的号：{row.number}"

    def remember(self, person: str, service: str, outcome: "TicketOutcome") -> None:
        if not person:
            return
        values = dict(day=self.now().date().isoformat(), person_key=person, service=service,
                      ticket_id=outcome.ticket_id, number=outcome.number)
        with self.db.begin() as conn:
            if not conn.execute(person_tickets.update().where(
                    person_tickets.c.day == values["day"], person_tickets.c.person_key == person,
                    person_tickets.c.service == service).values(ticket_id=outcome.ticket_id,
                                                                number=outcome.number)).rowcount:
                conn.execute(person_tickets.insert().values(**values))


def today_of(data: dict) -> date | None:
    try:
        return date.fromisoformat(data.get("day", ""))
    except ValueError:
        return None
