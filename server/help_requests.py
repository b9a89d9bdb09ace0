"""呼叫工作人员: help requests from terminals, open until a staff member dismisses them.

Kept in the database (table ``server_help_requests``, migration component
``help_requests``), so every server process on one PostgreSQL sees the same open
requests and a restart forgets none. One open request per terminal (the primary
key): presses within ``REPEAT_S`` of the last one are the same request; a press
later replaces it (asked again, shown again with the new time). A dismissed
request is deleted (the audit log keeps who asked and who answered).
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from kiosk.storage.schema import migrate

REPEAT_S = 60.0

metadata = sa.MetaData()
help_requests = sa.Table(
    "server_help_requests", metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("terminal_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(32), nullable=False, unique=True),
    sa.Column("terminal", sa.String(100), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("window", sa.Integer),
    sa.Column("at", sa.Float, nullable=False),
)


def _v1(conn: sa.Connection) -> None:
    help_requests.create(conn, checkfirst=True)


MIGRATIONS = [_v1]


def prepare(engine: sa.Engine) -> None:
    migrate(engine, "help_requests", MIGRATIONS)


_FIELDS = ("id", "terminal_id", "terminal", "mode", "window", "at")


def _out(row) -> dict:
    return {k: getattr(row, k) for k in _FIELDS}


class HelpDesk:
    def __init__(self, engine: sa.Engine, hall: str, clock=time.time):
        self.db = engine
        self.hall = hall
        self.clock = clock

    def ask(self, terminal_id: str, name: str, mode: str, window: int | None) -> tuple[dict, bool]:
        """The terminal's open request and whether it is new (False: a repeat within a minute)."""
        where = (help_requests.c.hall == self.hall, help_requests.c.terminal_id == terminal_id)
        for _ in range(3):  # two processes may insert this terminal's request at once: read it again
            now = self.clock()
            try:
                with self.db.begin() as conn:
                    row = conn.execute(sa.select(help_requests).where(*where)).first()
                    if row is not None and now - row.at < REPEAT_S:
                        return _out(row), False
                    request = {"id": uuid.uuid4().hex, "terminal_id": terminal_id, "terminal": name,
                               "mode": mode, "window": window, "at": now}
                    if row is not None:
                        conn.execute(help_requests.update().where(*where, help_requests.c.id == row.id)
                                     .values(**request))
                    else:
                        conn.execute(help_requests.insert().values(hall=self.hall, **request))
                    return request, True
            except sa.exc.IntegrityError:
                continue
        raise RuntimeError("help request: could not record it")

    def dismiss(self, request_id: str) -> dict | None:
        with self.db.begin() as conn:
            row = conn.execute(sa.select(help_requests).where(help_requests.c.hall == self.hall,
                                                              help_requests.c.id == request_id)).first()
            if row is None:
                return None
            gone = conn.execute(help_requests.delete().where(help_requests.c.id == request_id)).rowcount
        return _out(row) if gone else None

    def open_requests(self) -> list[dict]:
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(help_requests).where(help_requests.c.hall == self.hall)
                                .order_by(help_requests.c.at)).all()
        return [_out(r) for r in rows]
