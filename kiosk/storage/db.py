"""Opening a database: SQLite (WAL, durable commits) or PostgreSQL, through SQLAlchemy."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


READ_ONLY = {"kiosk_read_only": True}  # execution option: a read-only transaction (plain BEGIN on SQLite)

_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _write_lock(path: str) -> threading.Lock:
    with _write_locks_guard:
        return _write_locks.setdefault(str(Path(path).resolve()) if path != ":memory:" else path, threading.Lock())


class _LockingConnection(sqlite3.Connection):
    """Releases the process's write lock for the file once its transaction ends."""

    holds_write_lock = False

    def _release(self) -> None:
        if self.holds_write_lock:
            self.holds_write_lock = False
            self.write_lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()


def reader(engine: sa.Engine) -> sa.Connection:
    """A connection for reads only: on SQLite it neither takes nor waits for the write lock."""
    return engine.connect().execution_options(**READ_ONLY)


def open_engine(url: str) -> sa.Engine:
    """An engine whose transactions are safe for number issuing on either backend.

    SQLite: WAL with ``synchronous=FULL`` so every commit (every issued ticket)
    survives a power cut, and ``BEGIN IMMEDIATE`` so two processes issuing at
    once queue on the write lock instead of failing on a lock upgrade. Within
    one process, writers first queue on a Python lock: SQLite's own busy
    handler sleeps in steps of up to 100 ms, which under a dozen concurrent
    writers costs far more than the writes. Connections marked ``READ_ONLY``
    (see ``reader``) begin a plain snapshot read and wait for nobody.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        lock = _write_lock(path or ":memory:")
        # LIFO: the connection a transaction just returned is the next one out, with its page cache still
        # current; in turn (FIFO) each of the pool's connections re-read from the file the pages the others
        # had changed since it last ran (38 reads per ticket batch on the server, against 4).
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False,
                                                     "factory": _LockingConnection},
                                  pool_size=16, max_overflow=32, pool_use_lifo=True)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            dbapi_conn.write_lock = lock
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            # Statement journals (and sorts, temporary b-trees) in memory: a ticket batch's INSERT follows the
            # queue version's and the counter's UPDATEs in one transaction, so SQLite keeps a statement journal
            # of the pages it changes, and past 64 KiB it spilled it to a new temporary file, created and
            # deleted on every commit (open, unlink, writes, close on the issuing path).
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        def begin(conn, sql: str) -> None:
            """``sql`` on the DB-API connection (no execution context for a BEGIN); an error goes
            through SQLAlchemy (``exec_driver_sql`` again), which raises it as its own."""
            try:
                conn.connection.dbapi_connection.execute(sql)
            except sqlite3.Error:
                conn.exec_driver_sql(sql)

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            if conn.get_execution_options().get("kiosk_read_only"):
                begin(conn, "BEGIN")
                return
            dbapi_conn = conn.connection.dbapi_connection
            # A timeout rather than a deadlock if a writer ever nests another writer:
            # then SQLite's busy timeout decides, as it did before this lock.
            if lock.acquire(timeout=30):
                dbapi_conn.holds_write_lock = True
            try:
                begin(conn, "BEGIN IMMEDIATE")
            except BaseException:
                dbapi_conn._release()
                raise

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # No ping before every checkout (a round trip per transaction): a connection the database dropped
    # fails its request once (503, "try again"), and SQLAlchemy then discards every pooled connection
    # older than that failure, so the next requests get fresh ones.
    # LIFO here too: the busiest connections stay in use, with their prepared statements (psycopg prepares a
    # statement a connection has run five times).
    return sa.create_engine(url, pool_pre_ping=False, pool_size=20, max_overflow=10, pool_recycle=3600,
                            pool_use_lifo=True)
