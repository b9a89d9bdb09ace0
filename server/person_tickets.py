"""One waiting ticket per person and service, enforced by the hall server at issue time.

A dispenser that read an ID card sends ``person_key`` (the keyed hash of the ID number under the hall's
appointment secret, ``kiosk.idcard.person_key``: never the number) with ``POST /api/v1/tickets``. When
the hall's appointment setting ``one_ticket_per_person`` is on, a second ticket for the same person and
service that day is refused while the first is still waiting or called, whichever dispenser asks.
Only the keyed hash, the service and the ticket are stored.
"""

from __future__ import annotations

import sqlalchemy as sa

from kiosk.domain import TicketStatus
from kiosk.storage.db import reader
from kiosk.storage.schema import migrate

metadata = sa.MetaData()
person_tickets = sa.Table(
    "server_person_tickets", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("person_key", sa.String(64), primary_key=True),
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("ticket_id", sa.String(32), nullable=False),
    sa.Column("number", sa.String(16), nullable=False),
)


def _v1(conn: sa.Connection) -> None:
    person_tickets.create(conn, checkfirst=True)


MIGRATIONS = [_v1]
OPEN = (TicketStatus.WAITING, TicketStatus.CALLED)


def prepare(engine: sa.Engine) -> None:
    migrate(engine, "person_tickets", MIGRATIONS)


def held(engine: sa.Engine, hall: str, day: str, person: str, service: str) -> tuple[str, str] | None:
    """(ticket id, number) of the person's last ticket for the service that day, if any."""
    with reader(engine) as conn:
        row = conn.execute(sa.select(person_tickets.c.ticket_id, person_tickets.c.number).where(
            person_tickets.c.hall == hall, person_tickets.c.day == day, person_tickets.c.person_key == person,
            person_tickets.c.service == service)).first()
    return (row[0], row[1]) if row else None


def remember(engine: sa.Engine, hall: str, day: str, person: str, service: str, ticket_id: str,
             number: str) -> None:
    where = (person_tickets.c.hall == hall, person_tickets.c.day == day, person_tickets.c.person_key == person,
             person_tickets.c.service == service)
    with engine.begin() as conn:
        if not conn.execute(person_tickets.update().where(*where)
                            .values(ticket_id=ticket_id, number=number)).rowcount:
            conn.execute(person_tickets.insert().values(hall=hall, day=day, person_key=person, service=service,
                                                        ticket_id=ticket_id, number=number))
