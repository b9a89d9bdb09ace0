"""The running hall: database, queue engine (the terminal's own code), event hub.

The hall is editable while the server runs. Each request asks ``queue()``,
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


class HallRuntime:
    def __init__(self, db_url: str, hall_file: Path | str | None = None):
        self.db = open_engine(db_url)
        from kiosk.public_link import make_token
        from kiosk.ratings.store import RatingStore

        from . import public_links
        from .webfont import WebFonts

        with exclusive(self.db, "kiosk-serve-start"):  # server processes starting at once: one migrates
            hall_store.prepare(self.db)
            staff_profile.prepare(self.db)  # staff photos (server/api_staff.py)
            self.seeded = hall_store.seed(self.db, hall_file or paths.SAMPLE_HALL)
            with self.db.connect() as conn:
                self.code = hall_store.hall_code(conn)
                hall, self.version = hall_store.load(conn, self.code)
            self.link_key = public_links.link_key(self.db, self.code)
            # the rating tables are migrated here, at startup, never on a request's path
            self.ratings = RatingStore(self.db, self.code, hall.timezone)
        self.hub = EventHub()
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
        if fresh or now - self._checked_at > self.HALL_CHECK_S:
            with reader(self.db) as conn:
                current = hall_store.version(conn, self.code)
            self._checked_at = now
            if current != self.version:
                self.reload()
        return self.engine

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
        self.db.dispose()
