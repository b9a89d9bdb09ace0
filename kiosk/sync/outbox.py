"""The terminal's durable outbox and its small sync state, in the terminal's SQLite file.

The file is the terminal's queue database (WAL, ``synchronous=FULL``: see
``kiosk.storage.db.open_engine``), so an event put here survives a power cut
the moment ``put`` returns, and offline tickets and their outbox rows live in
one file (``reconcile`` re-adds a ticket whose row a crash kept from being
written).

Every event has an idempotency key: putting the same key twice stores it once,
and the server applies each key once, so delivering "at least once" from here
is "exactly once" on the server. Rows stay after delivery (state ``sent``) for
a few days, then are pruned.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import sqlalchemy as sa

from kiosk.storage.db import reader
from kiosk.storage.schema import migrate, tickets

outbox_metadata = sa.MetaData()

outbox = sa.Table(
    "outbox", outbox_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # ticket | void | rating | ...
    sa.Column("payload", sa.Text, nullable=False),  # JSON
    sa.Column("tag", sa.String(32)),  # tickets: the service code (for waiting counts)
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("state", sa.String(10), nullable=False, server_default="pending"),  # pending | sent | rejected
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("done_at", sa.Float),
    sa.Index("ix_outbox_state", "state", "id"),
)

sync_state = sa.Table(
    "sync_state", outbox_metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),  # JSON
)


def _v1(conn: sa.Connection) -> None:
    outbox_metadata.create_all(conn, checkfirst=True)


OUTBOX_MIGRATIONS = [_v1]
KEEP_SENT_S = 3 * 86400
_PENDING = sa.select(outbox.c.id, outbox.c.key, outbox.c.kind, outbox.c.payload).where(
    outbox.c.state == "pending").order_by(outbox.c.id).limit(sa.bindparam("limit"))


@dataclass(frozen=True)
class Event:
    id: int
    key: str
    kind: str
    payload: dict


class Outbox:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.clock = clock
        self.on_put: Callable[[], None] | None = None  # wakes the sync worker
        migrate(engine, "outbox", OUTBOX_MIGRATIONS)

    def put(self, kind: str, payload: dict, key: str, tag: str | None = None) -> bool:
        """Store one event durably; False when that key is already stored (nothing changes)."""
        if not key or len(key) > 64:
            raise ValueError("an outbox key is 1-64 characters")
        if kind == "rating" and "key" not in payload:
            payload = dict(payload, key=key)
        added = self.put_many([(kind, payload, key, tag)])
        if added and self.on_put:
            self.on_put()
        return bool(added)

    def put_many(self, events: Iterable[tuple[str, dict, str, str | None]]) -> int:
        rows = [dict(kind=k, payload=json.dumps(p, ensure_ascii=False), key=key, tag=tag, created_at=self.clock())
                for k, p, key, tag in events]
        if not rows:
            return 0
        stmt = outbox.insert().prefix_with("OR IGNORE") if self.engine.dialect.name == "sqlite" else outbox.insert()
        with self.engine.begin() as conn:
            return conn.execute(stmt, rows).rowcount

    def pending(self, limit: int = 500) -> list[Event]:
        with reader(self.engine) as conn:
            rows = conn.execute(_PENDING, {"limit": limit}).all()
        out = []
        for r in rows:
            try:
                payload = json.loads(r.payload)
            except ValueError:
                payload = {}
            out.append(Event(r.id, r.key, r.kind, payload))
        return out

    def finish(self, outcomes: list[tuple[str, str, str | None]]) -> None:
        """[(key, "sent" | "rejected", error)] in one durable transaction."""
        if not outcomes:
            return
        now = self.clock()
        stmt = (outbox.update().where(outbox.c.key == sa.bindparam("k"))
                .values(state=sa.bindparam("s"), error=sa.bindparam("e"), done_at=now,
                        attempts=outbox.c.attempts + 1))
        with self.engine.begin() as conn:
            conn.execute(stmt, [{"k": k, "s": s, "e": e} for k, s, e in outcomes])

    def note_failure(self, keys: list[str], error: str) -> None:
        if not keys:
            return
        with self.engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.key.in_(keys))
                         .values(attempts=outbox.c.attempts + 1, error=error[:500]))

    def size(self) -> int:
        with reader(self.engine) as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                .where(outbox.c.state == "pending")).scalar_one()

    def counts(self) -> dict[str, int]:
        with reader(self.engine) as conn:
            return {s: n for s, n in conn.execute(sa.select(outbox.c.state, sa.func.count())
                                                  .group_by(outbox.c.state))}

    def rejected(self, limit: int = 20) -> list[tuple[str, str, str]]:
        with reader(self.engine) as conn:
            return [(r.key, r.kind, r.error or "") for r in conn.execute(
                sa.select(outbox.c.key, outbox.c.kind, outbox.c.error).where(outbox.c.state == "rejected")
                .order_by(outbox.c.id.desc()).limit(limit))]

    def pending_by_tag(self, kind: str = "ticket") -> dict[str, int]:
        with reader(self.engine) as conn:
            return {t: n for t, n in conn.execute(
                sa.select(outbox.c.tag, sa.func.count()).where(outbox.c.state == "pending", outbox.c.kind == kind)
                .group_by(outbox.c.tag))}

    def prune(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(outbox.delete().where(outbox.c.state == "sent",
                                                      outbox.c.done_at < self.clock() - KEEP_SENT_S)).rowcount

    def missing_tickets(self, store_hall: str, since_day: str) -> list[dict]:
        """Offline tickets (a series letter) with no outbox row: a crash came between the two writes."""
        q = (sa.select(tickets).outerjoin(outbox, outbox.c.key == tickets.c.key)
             .where(tickets.c.hall == store_hall, tickets.c.series != "", tickets.c.day >= since_day,
                    tickets.c.key.is_not(None), outbox.c.id.is_(None)))
        with reader(self.engine) as conn:
            return [dict(r._mapping) for r in conn.execute(q)]


class SyncState:
    """Small named values: last sync, clock offset, services snapshot."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def get(self, name: str, default=None):
        with reader(self.engine) as conn:
            row = conn.execute(sa.select(sync_state.c.value).where(sync_state.c.name == name)).first()
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except ValueError:
            return default

    def set(self, name: str, value) -> None:
        text = json.dumps(value, ensure_ascii=False)
        with self.engine.begin() as conn:
            if not conn.execute(sync_state.update().where(sync_state.c.name == name).values(value=text)).rowcount:
                conn.execute(sync_state.insert().values(name=name, value=text))
