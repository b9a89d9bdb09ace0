"""The running halls: one database, and per hall a queue engine (the terminal's own code) and event hub.

A county server holds many halls (``County``); each request works on one
``HallRuntime``, resolved from its credential or its ``/api/v1/halls/{hall}/``
path (``server/halls.py::hall_runtime``) and built on first use.

A hall is editable while the server runs. Each request asks ``queue()``,
which compares the database's hall version (one primary-key read) with the
one the engine was built from and swaps in a rebuilt ``Hall`` when it moved.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import sqlalchemy as sa
from zoneinfo import ZoneInfo


from kiosk import paths
from kiosk.queue import QueueEngine
from kiosk.storage.db import open_engine, reader
from kiosk.storage.queue_store import QueueStore

from . import hall_store, staff_profile
from .events import EventHub
from .process_lock import exclusive


class County:
    """The server's database and the runtimes of its halls, each built on first use.

    On an empty database the hall file (default: the shipped sample hall) is
    loaded, so a one-hall server starts as before; `kiosk admin add-hall` adds more.
    """

    def __init__(self, db_url: str, hall_file: Path | str | None = None):
        self.db = open_engine(db_url)
        with exclusive(self.db, "kiosk-serve-start"):  # server processes starting at once: one migrates
            hall_store.prepare(self.db)
            staff_profile.prepare(self.db)  # staff photos (server/api_staff.py)
            self.seeded = hall_store.seed(self.db, hall_file or paths.SAMPLE_HALL)
        self._halls: dict[str, HallRuntime] = {}
        self._lock = threading.Lock()
        self.on_new_hall = []  # callbacks(HallRuntime): the app adds the appointments' lane and the event relay
        self.first = self.hall(self.codes()[0])  # built now: a broken hall fails at start, not on a request

    def codes(self) -> list[str]:
        with reader(self.db) as conn:
            return hall_store.hall_codes(conn)

    def names(self) -> dict[str, str]:
        with reader(self.db) as conn:
            return hall_store.hall_names(conn)

    def hall(self, code: str) -> HallRuntime | None:
        """The hall's runtime, or None if no such hall (one added by another process is found)."""
        found = self._halls.get(code)
        if found is not None:
            return found
        with self._lock:
            found = self._halls.get(code)
            if found is None:
                with reader(self.db) as conn:
                    if not hall_store.exists(conn, code):
                        return None
                found = HallRuntime(self.db, code)
                for callback in self.on_new_hall:
                    callback(found)
                self._halls[code] = found
        return found

    def only(self) -> HallRuntime | None:
        """The one hall of a one-hall server; None when it holds several."""
        codes = self.codes()
        return self.hall(codes[0]) if len(codes) == 1 else None

    def running(self) -> list[HallRuntime]:
        return list(self._halls.values())

    def close(self) -> None:
        for rt in self.running():
            rt.hub.close_all()
        self.db.dispose()


class HallRuntime:
    """One hall: its queue engine, event hub, help desk, rating store, link key and page fonts."""

    def __init__(self, db: sa.Engine, code: str):
        from kiosk.public_link import make_token
        from kiosk.ratings.store import RatingStore

        from . import public_links
        from .help_requests import HelpDesk
        from .webfont import WebFonts

        self.db = db
        self.code = code
        with self.db.connect() as conn:
            hall, self.version = hall_store.load(conn, self.code)
        self.link_key = public_links.link_key(self.db, self.code)
        # the rating tables were migrated at startup (hall_store.prepare), never on a request's path
        self.ratings = RatingStore(self.db, self.code, hall.timezone)
        self.hub = EventHub()
        self.help = HelpDesk(self.db, self.code)
        self.engine = QueueEngine(hall, QueueStore(self.db, hall.code),
                                  token_maker=lambda day: make_token(self.link_key, day))
        self.webfont = WebFonts()
        self.engine.listeners.append(self.hub.publish)
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._announced = None  # a hall version another process already announced (config_changed)

    def on_relayed(self, hall: str, event) -> None:
        """An event from the relay (``server/event_relay.py``): another process's hall edit makes the next
        ``queue()`` check the version, even on the ticket path."""
        if hall == self.code and event.kind == "config_changed":
            self._announced = event.data.get("version")
            self._checked_at = 0.0

    # An edit through this process reloads at once (``reload``); one made by another process (`kiosk admin`,
    # a second server) is seen by the next request that checks, and by issuing within this many seconds.
    HALL_CHECK_S = 1.0

    def queue(self, fresh: bool = True) -> QueueEngine:
        """The queue engine, its hall rebuilt first if someone changed it.

        ``fresh=False`` (the ticket hot path) trusts the version held in memory if it
        was checked within ``HALL_CHECK_S``; the check is a read-only transaction
        (no write lock).
        """
        now = time.monotonic()
        if fresh or now - self._checked_at > self.HALL_CHECK_S:  # (``check_due``)
            with reader(self.db) as conn:
                current = hall_store.version(conn, self.code)
            self._checked_at = now
            if current != self.version:
                self.reload()
        return self.engine

    def check_due(self) -> bool:
        """Whether ``queue(fresh=False)`` would read the hall's version now (then call it from a worker thread)."""
        return time.monotonic() - self._checked_at > self.HALL_CHECK_S

    def reload(self) -> None:
        with self._lock:
            with self.db.connect() as conn:
                hall, version = hall_store.load(conn, self.code)
            if version == self.version:
                return
            self.engine.tz = ZoneInfo(hall.timezone)
            self.ratings.tz = self.engine.tz
            self.engine.hall = hall  # one attribute swap: a request in flight sees the old or the new hall
            self.version = version
        if version != self._announced:  # not yet told to every process by the one that made the edit
            self.hub.publish("config_changed", {"version": version})

    # ------------------------------------------------------------ web font
    def guide_files(self) -> tuple[str, dict]:
        """(digest, {path: TOML text}) of the guide content terminals pull (the shipped one at first)."""
        from .api_sync import _guides

        return _guides(self)

    def refresh_webfont(self):
        """Rebuild the pages' font slices if the hall or the guides changed (background thread)."""
        from . import sync_store

        self.queue()
        with self.db.connect() as conn:
            digest = conn.execute(sa.select(sync_store.guide_content.c.digest)
                                  .where(sync_store.guide_content.c.hall == self.code)).scalar()

        def content():
            return self.engine.hall, list(self.guide_files()[1].values())

        return self.webfont.refresh((self.version, digest), content)

    def close(self) -> None:
        self.hub.close_all()
