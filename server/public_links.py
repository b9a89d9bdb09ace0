"""The hall's link key (kiosk.public_link) and finding a ticket by its public token."""

from __future__ import annotations

import time

import sqlalchemy as sa

from kiosk.domain import Ticket
from kiosk.public_link import new_link_key
from kiosk.storage.numbering import ticket_of
from kiosk.storage.schema import migrate, tickets

metadata = sa.MetaData()

link_keys = sa.Table(
    "public_link_keys", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("secret", sa.String(64), nullable=False),  # hex; terminals get it with their settings
    sa.Column("created_at", sa.Float, nullable=False),
)


def _v1(conn: sa.Connection) -> None:
    link_keys.create(conn, checkfirst=True)


def link_key(engine: sa.Engine, hall: str) -> str:
    """The hall's key, made on first use (several processes: the first insert wins)."""
    migrate(engine, "public_links", [_v1])
    q = sa.select(link_keys.c.secret).where(link_keys.c.hall == hall)
    with engine.connect() as conn:
        found = conn.execute(q).scalar()
    if found:
        return found
    try:
        with engine.begin() as conn:
            conn.execute(link_keys.insert().values(hall=hall, secret=new_link_key(), created_at=time.time()))
    except sa.exc.IntegrityError:
        pass
    with engine.connect() as conn:
        return conn.execute(q).scalar_one()


_BY_TOKEN = (sa.select(tickets).where(tickets.c.token == sa.bindparam("token"), tickets.c.hall == sa.bindparam("hall"))
             .order_by(tickets.c.generation.desc()).limit(1))


def ticket_by_token(engine: sa.Engine, hall: str, token: str) -> Ticket | None:
    """The ticket (its latest transfer continuation) a token names."""
    with engine.connect() as conn:
        row = conn.execute(_BY_TOKEN, {"token": token, "hall": hall}).first()
    return ticket_of(row) if row else None


def hall_of_token(engine: sa.Engine, token: str) -> str | None:
    """The hall of the ticket a public token names (tokens are random: one hall's)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(tickets.c.hall).where(tickets.c.token == token).limit(1)).scalar()
