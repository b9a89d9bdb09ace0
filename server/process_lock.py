"""Locks between server processes: who may serve a SQLite file, and short sections on PostgreSQL.

- ``hold_sqlite(url)``: SQLite serves one process. ``kiosk serve`` takes an
  exclusive ``flock`` on ``<database file>.serve.lock`` for its lifetime (the kernel
  lets go when the process dies, even by SIGKILL); a second server on the same
  file stops with one line (``SqliteInUse``). ``kiosk admin`` commands and
  backups do not take it: they may run beside the server, as before.
- ``exclusive(engine, name)``: a section run by one process at a time (PostgreSQL
  session advisory lock on a pooled connection, released when the section ends or
  the connection drops; on SQLite a thread lock, the server being one process).
  Used for the start-up (seeding the hall into an empty database) and the one-ticket-per-person check.
  Every migration step takes its own lock, in its transaction, wherever it runs
  (``kiosk/storage/schema.py::migrate``, ``MIGRATION_LOCK``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path

import sqlalchemy as sa

from kiosk.storage.schema import lock_key


class SqliteInUse(Exception):
    pass


_held: dict[str, object] = {}
_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):]
    return None if not path or path == ":memory:" else Path(path)


def hold_sqlite(url: str) -> None:
    """Claim the SQLite file for this process; raises ``SqliteInUse`` with the reason when another has it."""
    path = sqlite_path(url)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_file = path.with_name(path.name + ".serve.lock")
    key = str(lock_file.resolve())
    if key in _held:
        return
    f = open(lock_file, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        pid = f.read().strip() or "?"
        f.close()
        raise SqliteInUse(f"{path} is already served by another server process (pid {pid}); SQLite serves "
                          "one process: stop that one, or use PostgreSQL (--db postgresql://...) for several") \
            from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    _held[key] = f


@contextlib.contextmanager
def exclusive(engine: sa.Engine, name: str):
    """Run the ``with`` body in one process (and thread) at a time for this ``name``."""
    if engine.dialect.name != "postgresql":
        with _guard:
            lock = _thread_locks.setdefault(name, threading.Lock())
        with lock:
            yield
        return
    key = lock_key(name)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
