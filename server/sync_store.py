"""What the hall server keeps for terminal sync (component "sync" in ``schema_versions``).

- ``sync_terminal_series``: each dispensing terminal's offline series letter (see
  ``assign_series``), unique per hall among live terminals.
- ``sync_applied``: idempotency keys of applied outbox events that are not
  tickets (a ticket's own ``key`` column is its record).
- ``sync_terminal_health``: heartbeat fields beyond the ``terminals`` columns.
- ``sync_terminal_settings``: setting overrides a supervisor pushes to a terminal.
- ``sync_guide_content``: the hall's guide content, as the files of a guide folder.

Offline numbering: an offline ticket is ``service prefix + series letter + digits``
(``AX001``). Online numbers are ``prefix + digits`` with no letter after the
prefix, so they differ from every offline number unless a two-letter prefix ends
in the series letter (``AX`` online vs ``A``+``X`` offline): series letters are
therefore never the second letter of a two-letter prefix, and a two-letter prefix
ending in an assigned letter is refused. I and O are never used (1 and 0).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import date, timedelta

import sqlalchemy as sa

from kiosk.storage.schema import migrate, tickets

log = logging.getLogger(__name__)

sync_metadata = sa.MetaData()

# Preferred first: letters late in the alphabet are rarely service prefixes.
SERIES_LETTERS = "XYZWVUTSRQPNMLKJHGFEDCBA"

terminal_series = sa.Table(
    "sync_terminal_series", sync_metadata,
    sa.Column("terminal_id", sa.String(32), primary_key=True),
    sa.Column("hall", sa.String(32), nullable=False),
    sa.Column("letter", sa.String(1), nullable=False),
    sa.Column("assigned_at", sa.Float, nullable=False),
    sa.UniqueConstraint("hall", "letter", name="uq_sync_series_letter"),
)

applied = sa.Table(
    "sync_applied", sync_metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("terminal", sa.String(32)),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("applied_at", sa.Float, nullable=False),
    sa.Column("result", sa.Text, nullable=False, server_default="{}"),
)

terminal_health = sa.Table(
    "sync_terminal_health", sync_metadata,
    sa.Column("terminal_id", sa.String(32), primary_key=True),
    sa.Column("crash_loop", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("crashes_10min", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(200), nullable=False, server_default=""),
    sa.Column("last_crash_at", sa.Float),
    sa.Column("reported_online", sa.Boolean),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("idcard", sa.String(16)),  # the ID card reader: ok | unplugged | no_answer | ... (none: no reader)
)

terminal_settings = sa.Table(
    "sync_terminal_settings", sync_metadata,
    sa.Column("terminal_id", sa.String(32), primary_key=True),
    sa.Column("settings", sa.Text, nullable=False),  # JSON {"timeouts.idle_s": 60, ...}
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

guide_content = sa.Table(
    "sync_guide_content", sync_metadata,
    sa.Column("hall", sa.String(32), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("files", sa.Text, nullable=False),  # JSON {"catalogue.toml": "...", "medical/x.toml": "..."}
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False, server_default=""),
)


def _sync_v1(conn: sa.Connection) -> None:
    sync_metadata.create_all(conn, checkfirst=True)


def _sync_v2(conn: sa.Connection) -> None:
    """The ID card reader's state in a terminal's health (a database made by v1 lacks the column)."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("sync_terminal_health")}
    if "idcard" not in columns:
        conn.execute(sa.text("ALTER TABLE sync_terminal_health ADD COLUMN idcard VARCHAR(16)"))


SYNC_MIGRATIONS = [_sync_v1, _sync_v2]

_prepared: set[str] = set()
_prepared_lock = threading.Lock()


def prepare(engine: sa.Engine) -> None:
    """Create or upgrade the sync tables (once per engine and process)."""
    key = str(engine.url) + f"#{id(engine)}"
    with _prepared_lock:
        if key in _prepared:
            return
        migrate(engine, "sync", SYNC_MIGRATIONS)
        _prepared.add(key)


# ------------------------------------------------------------------ series

class SeriesExhausted(Exception):
    pass


def _two_letter_seconds(conn: sa.Connection, hall: str) -> set[str]:
    from .schema import hall_services

    prefixes = conn.execute(sa.select(hall_services.c.prefix).where(hall_services.c.hall == hall)).scalars()
    return {p[1] for p in prefixes if len(p) == 2}


def series_in_use(conn: sa.Connection, hall: str) -> dict[str, str]:
    """letter -> terminal id, for live (not revoked) terminals of the hall."""
    from .schema import terminals

    try:
        rows = conn.execute(sa.select(terminal_series.c.letter, terminal_series.c.terminal_id)
                            .join(terminals, terminals.c.id == terminal_series.c.terminal_id)
                            .where(terminal_series.c.hall == hall, terminals.c.revoked.is_(False)))
        return {letter: tid for letter, tid in rows}
    except sa.exc.DBAPIError:  # the sync tables do not exist yet (nothing assigned)
        return {}


def series_of(conn: sa.Connection, terminal_id: str) -> str:
    row = conn.execute(sa.select(terminal_series.c.letter)
                       .where(terminal_series.c.terminal_id == terminal_id)).first()
    return row[0] if row else ""


def assign_series(engine: sa.Engine, hall: str, terminal_id: str, today: str) -> str:
    """The terminal's series letter, assigning a free one on first use.

    Free: not held by a live terminal, not the second letter of a two-letter
    prefix, and not seen in tickets of today or yesterday (a revoked terminal's
    offline tickets may still arrive under it).
    """
    for _ in range(5):
        with engine.begin() as conn:
            mine = series_of(conn, terminal_id)
            if mine:
                return mine
            held = set(series_in_use(conn, hall))
            recent_days = [today, (date.fromisoformat(today) - timedelta(days=1)).isoformat()]
            seen = set(conn.execute(sa.select(tickets.c.series).distinct()
                                    .where(tickets.c.hall == hall, tickets.c.day.in_(recent_days),
                                           tickets.c.series != "")).scalars())
            banned = held | seen | _two_letter_seconds(conn, hall)
            free = [c for c in SERIES_LETTERS if c not in banned]
            if not free:
                raise SeriesExhausted("no free offline series letter left in this hall; revoke unused terminals")
            letter = free[0]
            # a revoked terminal's row may still hold the letter: it is free now
            conn.execute(terminal_series.delete().where(terminal_series.c.hall == hall,
                                                        terminal_series.c.letter == letter))
            try:
                with conn.begin_nested():
                    conn.execute(terminal_series.insert().values(terminal_id=terminal_id, hall=hall, letter=letter,
                                                                 assigned_at=time.time()))
            except sa.exc.IntegrityError:
                continue  # another enrollment took it meanwhile: pick again
            log.info("terminal %s gets offline series %s", terminal_id, letter)
            return letter
    raise SeriesExhausted("could not assign an offline series letter, try again")


# ------------------------------------------------------------------ health

HEALTH_FIELDS = ("crash_loop", "crashes_10min", "last_error", "last_crash_at", "reported_online", "idcard")


def save_health(engine: sa.Engine, terminal_id: str, values: dict) -> None:
    values = {k: v for k, v in values.items() if k in HEALTH_FIELDS and v is not None}
    if not values:
        return
    values["updated_at"] = time.time()
    with engine.begin() as conn:
        if not conn.execute(terminal_health.update().where(terminal_health.c.terminal_id == terminal_id)
                            .values(**values)).rowcount:
            conn.execute(terminal_health.insert().values(terminal_id=terminal_id, **values))


def health_by_terminal(engine: sa.Engine) -> dict[str, dict]:
    with engine.connect() as conn:
        out = {r.terminal_id: dict(r._mapping) for r in conn.execute(sa.select(terminal_health))}
        for tid, letter in conn.execute(sa.select(terminal_series.c.terminal_id, terminal_series.c.letter)):
            out.setdefault(tid, {})["series"] = letter
    return out


# ---------------------------------------------------------------- settings

def terminal_overrides(engine: sa.Engine, terminal_id: str) -> tuple[dict, int]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(terminal_settings.c.settings, terminal_settings.c.version)
                           .where(terminal_settings.c.terminal_id == terminal_id)).first()
    return (json.loads(row[0]), row[1]) if row else ({}, 0)


def save_overrides(engine: sa.Engine, terminal_id: str, settings: dict) -> int:
    with engine.begin() as conn:
        row = conn.execute(sa.select(terminal_settings.c.version)
                           .where(terminal_settings.c.terminal_id == terminal_id)).first()
        text = json.dumps(settings, ensure_ascii=False, sort_keys=True)
        if row:
            version = row[0] + 1
            conn.execute(terminal_settings.update().where(terminal_settings.c.terminal_id == terminal_id)
                         .values(settings=text, version=version, updated_at=time.time()))
        else:
            version = 1
            conn.execute(terminal_settings.insert().values(terminal_id=terminal_id, settings=text, version=1,
                                                           updated_at=time.time()))
    return version


# ------------------------------------------------------------------ guides

def guide_files(engine: sa.Engine, hall: str) -> tuple[str, dict] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(guide_content.c.digest, guide_content.c.files)
                           .where(guide_content.c.hall == hall)).first()
    return (row[0], json.loads(row[1])) if row else None


def save_guide_files(engine: sa.Engine, hall: str, digest: str, files: dict, by: str) -> None:
    text = json.dumps(files, ensure_ascii=False, sort_keys=True)
    with engine.begin() as conn:
        values = dict(digest=digest, files=text, updated_at=time.time(), updated_by=by)
        if not conn.execute(guide_content.update().where(guide_content.c.hall == hall).values(**values)).rowcount:
            conn.execute(guide_content.insert().values(hall=hall, **values))
