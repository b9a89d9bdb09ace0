"""The hall (services, windows, calendar) kept in the server's database.

On an empty database the hall file is loaded once; from then on the database
is the truth, so supervisors (pages, API) and `kiosk admin add-service` can
change it while the server runs. Every change bumps ``hall_settings.version``
in the same transaction; the running server rebuilds its ``Hall`` when it sees
a new version.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from kiosk.hall_file import load_hall
from kiosk.hall_model import parse_hours
from kiosk.domain import Hall, PriorityGroup, PriorityRule, Service, Window
from kiosk.storage.schema import migrate

from .schema import SERVER_MIGRATIONS, hall_services, hall_settings, hall_windows


class HallEditError(Exception):
    """A refused change; ``field`` names the offending input."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


def prepare(engine: sa.Engine) -> None:
    """Create or upgrade the server's tables (the queue's come with QueueStore)."""
    from kiosk.storage.schema import QUEUE_MIGRATIONS

    migrate(engine, "queue", QUEUE_MIGRATIONS)
    from kiosk.storage.schema import TOKEN_MIGRATIONS

    migrate(engine, "ticket_token", TOKEN_MIGRATIONS)
    from kiosk.storage.schema import LANE_STREAK_MIGRATIONS

    migrate(engine, "lane_streak", LANE_STREAK_MIGRATIONS)
    migrate(engine, "server", SERVER_MIGRATIONS)
    from . import sync_store  # terminal sync: series letters, applied keys, guide content

    sync_store.prepare(engine)
    from . import security_schema  # terminal scopes, audit log, sign-in throttle

    security_schema.prepare(engine)
    from . import person_tickets  # one waiting ticket per person (keyed hash) and service

    person_tickets.prepare(engine)
    from . import daily_reports, pause_log  # the reports: pauses of windows, frozen daily reports
    from kiosk.ratings import RATING_MIGRATIONS  # the reports read the ratings from the start

    migrate(engine, "ratings", RATING_MIGRATIONS)
    pause_log.prepare(engine)
    daily_reports.prepare(engine)
    from . import period_stats  # the reports' covering indexes

    period_stats.prepare(engine)
    from . import event_relay, help_requests  # events between server processes; 呼叫工作人员

    event_relay.prepare(engine)
    help_requests.prepare(engine)
    from .schema import COUNTY_MIGRATIONS  # staff, terminals, codes, audit lines belong to a hall

    migrate(engine, "county", COUNTY_MIGRATIONS)


# ------------------------------------------------------------------ codec

def _settings_json(hall: Hall) -> str:
    return json.dumps({
        "timezone": hall.timezone,
        "closed_weekdays": sorted(hall.closed_weekdays),
        "closed_dates": sorted(d.isoformat() for d in hall.closed_dates),
        "open_dates": sorted(d.isoformat() for d in hall.open_dates),
        "default_service_minutes": hall.default_service_minutes,
        "green_channel": hall.green_channel,
        "priority_groups": [[g.code, g.name, g.icon] for g in hall.priority_groups],
        "priority_rule": [hall.priority_rule.mode, hall.priority_rule.max_in_a_row],
        "walk_in_ratings": hall.walk_in_ratings,
        "rating_reasons": [list(r) for r in hall.rating_reasons],
        "public_url": hall.public_url,
    }, ensure_ascii=False)


def _service_values(svc: Service, position: int) -> dict:
    return dict(code=svc.code, position=position, name=svc.name, prefix=svc.prefix,
                range_start=svc.range_start, range_end=svc.range_end, daily_cap=svc.daily_cap,
                hours=svc.hours_text(), icon=svc.icon, average_minutes=svc.average_minutes,
                enabled=svc.enabled, description=svc.description,
                closed_weekdays=None if svc.closed_weekdays is None else json.dumps(sorted(svc.closed_weekdays)),
                observe_holidays=svc.observe_holidays)


def _service_from(m) -> Service:
    return Service(code=m["code"], name=m["name"], prefix=m["prefix"], range_start=m["range_start"],
                   range_end=m["range_end"], daily_cap=m["daily_cap"],
                   hours=parse_hours(m["hours"]) if m["hours"] else (), icon=m["icon"],
                   average_minutes=m["average_minutes"], enabled=bool(m["enabled"]),
                   description=m["description"],
                   closed_weekdays=None if m["closed_weekdays"] is None
                   else frozenset(json.loads(m["closed_weekdays"])),
                   observe_holidays=bool(m["observe_holidays"]))


def _window_values(w: Window) -> dict:
    return dict(number=w.number, name=w.name, services=json.dumps(list(w.services)),
                green_channel=w.green_channel)


# ------------------------------------------------------------- load / seed

def hall_code(conn: sa.Connection) -> str | None:
    """The first hall (by code); None on an empty database."""
    return conn.execute(sa.select(hall_settings.c.code).order_by(hall_settings.c.code).limit(1)).scalar()


def hall_codes(conn: sa.Connection) -> list[str]:
    return list(conn.execute(sa.select(hall_settings.c.code).order_by(hall_settings.c.code)).scalars())


def hall_names(conn: sa.Connection) -> dict[str, str]:
    """code -> name of every hall, in code order."""
    return {r.code: r.name for r in conn.execute(sa.select(hall_settings.c.code, hall_settings.c.name)
                                                   .order_by(hall_settings.c.code))}


def exists(conn: sa.Connection, code: str) -> bool:
    return conn.execute(sa.select(hall_settings.c.code).where(hall_settings.c.code == code)).first() is not None


def version(conn: sa.Connection, code: str) -> int:
    return conn.execute(sa.select(hall_settings.c.version).where(hall_settings.c.code == code)).scalar_one()


def seed(engine: sa.Engine, hall_file: Path | str) -> bool:
    """Load the hall file into an empty database; True if it did."""
    with engine.begin() as conn:
        if hall_code(conn) is not None:
            return False
    hall = load_hall(Path(hall_file))
    with engine.begin() as conn:
        if hall_code(conn) is not None:  # another process seeded meanwhile
            return False
        conn.execute(hall_settings.insert().values(code=hall.code, name=hall.name,
                                                   settings=_settings_json(hall), version=1))
        _insert_parts(conn, hall)
        from .schema import adopt_orphans

        adopt_orphans(conn, hall.code)  # staff added before the first hall was loaded work in it
    return True


def _insert_parts(conn: sa.Connection, hall: Hall) -> None:
    for i, svc in enumerate(hall.services):
        conn.execute(hall_services.insert().values(hall=hall.code, **_service_values(svc, i)))
    for w in hall.windows:
        conn.execute(hall_windows.insert().values(hall=hall.code, **_window_values(w)))


def save_hall(engine: sa.Engine, hall: Hall) -> tuple[bool, int]:
    """Add ``hall`` (keyed by its code), or make the stored hall equal to it; (created, new version).

    One transaction: a running server sees the old hall or the new one, and
    rebuilds it at its next version check. Tickets, ratings and staff stay.
    """
    with engine.begin() as conn:
        current = conn.execute(sa.select(hall_settings.c.version)
                               .where(hall_settings.c.code == hall.code)).scalar()
        if current is None:
            conn.execute(hall_settings.insert().values(code=hall.code, name=hall.name,
                                                       settings=_settings_json(hall), version=1))
            _insert_parts(conn, hall)
            if len(hall_codes(conn)) == 1:
                from .schema import adopt_orphans

                adopt_orphans(conn, hall.code)
            return True, 1
        if not hall.public_url:  # set on the admin page, not in the file: keep it
            old = json.loads(conn.execute(sa.select(hall_settings.c.settings)
                                          .where(hall_settings.c.code == hall.code)).scalar_one())
            hall = replace(hall, public_url=old.get("public_url", ""))
        conn.execute(hall_services.delete().where(hall_services.c.hall == hall.code))
        conn.execute(hall_windows.delete().where(hall_windows.c.hall == hall.code))
        _insert_parts(conn, hall)
        conn.execute(hall_settings.update().where(hall_settings.c.code == hall.code)
                     .values(name=hall.name, settings=_settings_json(hall), version=current + 1))
        return False, current + 1


def load(conn: sa.Connection, code: str) -> tuple[Hall, int]:
    row = conn.execute(sa.select(hall_settings).where(hall_settings.c.code == code)).one()._mapping
    s = json.loads(row["settings"])
    services = tuple(_service_from(r._mapping) for r in conn.execute(
        sa.select(hall_services).where(hall_services.c.hall == code).order_by(hall_services.c.position)))
    windows = tuple(Window(r.number, r.name, tuple(json.loads(r.services)), bool(r.green_channel))
                    for r in conn.execute(sa.select(hall_windows).where(hall_windows.c.hall == code)
                                          .order_by(hall_windows.c.number)))
    hall = Hall(
        name=row["name"], code=code, timezone=s["timezone"], services=services, windows=windows,
        closed_weekdays=frozenset(s["closed_weekdays"]),
        closed_dates=frozenset(date.fromisoformat(d) for d in s["closed_dates"]),
        open_dates=frozenset(date.fromisoformat(d) for d in s["open_dates"]),
        default_service_minutes=s["default_service_minutes"], green_channel=s["green_channel"],
        priority_groups=tuple(PriorityGroup(*g) for g in s["priority_groups"]),
        priority_rule=PriorityRule(*s["priority_rule"]), walk_in_ratings=s["walk_in_ratings"],
        rating_reasons=tuple(tuple(r) for r in s["rating_reasons"]),
        public_url=s.get("public_url", ""),
    )
    return hall, row["version"]


# ------------------------------------------------------------------ edits

def _bump(conn: sa.Connection, code: str) -> None:
    conn.execute(hall_settings.update().where(hall_settings.c.code == code)
                 .values(version=hall_settings.c.version + 1))


def _check_service(conn: sa.Connection, code: str, svc: Service, creating: bool) -> None:
    hall, _ = load(conn, code)
    existing = hall.service(svc.code)
    if creating and existing:
        raise HallEditError("code", f"service '{svc.code}' already exists", 409)
    if not creating and not existing:
        raise HallEditError("code", f"unknown service '{svc.code}'", 404)
    clash = next((s for s in hall.services if s.prefix == svc.prefix and s.code != svc.code), None)
    if clash:
        raise HallEditError("prefix", f"prefix '{svc.prefix}' is already used by service '{clash.code}'", 409)
    if len(svc.prefix) == 2:
        from .sync_store import series_in_use

        if svc.prefix[1] in series_in_use(conn, code):  # "AX001" would also be terminal X's offline A001
            raise HallEditError("prefix", f"prefix '{svc.prefix}' ends in '{svc.prefix[1]}', the offline series "
                                          "letter of an enrolled terminal; choose another prefix", 409)
    if svc.range_start > svc.range_end:
        raise HallEditError("range", "range start is after its end")


def add_service(engine: sa.Engine, code: str, svc: Service, windows: list[int] = ()) -> Hall:
    """Add a service (and let ``windows`` serve it) in one transaction."""
    with engine.begin() as conn:
        _check_service(conn, code, svc, creating=True)
        hall, _ = load(conn, code)
        for n in windows:
            if hall.window(n) is None:
                raise HallEditError("windows", f"unknown window {n}", 404)
        position = len(hall.services)
        conn.execute(hall_services.insert().values(hall=code, **_service_values(svc, position)))
        for n in windows:
            w = hall.window(n)
            if svc.code not in w.services:
                _save_window(conn, code, replace(w, services=w.services + (svc.code,)))
        _bump(conn, code)
        return load(conn, code)[0]


def update_service(engine: sa.Engine, code: str, svc: Service) -> Hall:
    with engine.begin() as conn:
        _check_service(conn, code, svc, creating=False)
        conn.execute(hall_services.update()
                     .where(hall_services.c.hall == code, hall_services.c.code == svc.code)
                     .values(**{k: v for k, v in _service_values(svc, 0).items() if k != "position"}))
        _bump(conn, code)
        return load(conn, code)[0]


def _save_window(conn: sa.Connection, code: str, w: Window) -> None:
    values = _window_values(w)
    done = conn.execute(hall_windows.update()
                        .where(hall_windows.c.hall == code, hall_windows.c.number == w.number)
                        .values(**values)).rowcount
    if not done:
        conn.execute(hall_windows.insert().values(hall=code, **values))


def save_window(engine: sa.Engine, code: str, w: Window, creating: bool) -> Hall:
    with engine.begin() as conn:
        hall, _ = load(conn, code)
        if creating and hall.window(w.number):
            raise HallEditError("number", f"window {w.number} already exists", 409)
        if not creating and not hall.window(w.number):
            raise HallEditError("number", f"unknown window {w.number}", 404)
        for i, s in enumerate(w.services):
            if hall.service(s) is None:
                raise HallEditError(f"services[{i}]", f"unknown service '{s}'")
        _save_window(conn, code, w)
        _bump(conn, code)
        return load(conn, code)[0]


def set_public_url(engine: sa.Engine, code: str, url: str) -> Hall:
    """The address phones use to reach this server (ticket and guide QR codes); '' turns the QR off."""
    from kiosk.public_link import check_public_url

    url = url.strip().rstrip("/")
    problem = check_public_url(url)
    if problem:
        raise HallEditError("public_url", problem)
    with engine.begin() as conn:
        row = conn.execute(sa.select(hall_settings.c.settings).where(hall_settings.c.code == code)).scalar_one()
        settings = json.loads(row)
        settings["public_url"] = url
        conn.execute(hall_settings.update().where(hall_settings.c.code == code)
                     .values(settings=json.dumps(settings, ensure_ascii=False)))
        _bump(conn, code)
        return load(conn, code)[0]
