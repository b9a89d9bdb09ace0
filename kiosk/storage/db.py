"""Opening a database: SQLite (WAL, durable commits) or PostgreSQL, through SQLAlchemy."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def open_engine(url: str) -> sa.Engine:
    """An engine whose transactions are safe for number issuing on either backend.

    SQLite: WAL with ``synchronous=FULL`` so every commit (every issued ticket)
    survives a power cut, and ``BEGIN IMMEDIATE`` so two processes issuing at
    once queue on the write lock instead of failing on a lock upgrade.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return sa.create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=10)
