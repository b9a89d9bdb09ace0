"""How ``kiosk.storage.db.open_engine`` sets up SQLite for the issuing path (issue 17): a ticket batch's commit
creates no temporary file, and a transaction gets the connection the last one returned (its page cache current)."""

from __future__ import annotations

import sqlalchemy as sa


def test_statement_journals_stay_in_memory(tmp_path):
    from kiosk.storage.db import open_engine, reader

    engine = open_engine(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        with engine.begin() as conn:
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # MEMORY: no spill to a temp file
        with reader(engine) as conn:
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2
    finally:
        engine.dispose()


def test_the_connection_last_returned_is_the_next_one_out(tmp_path):
    from kiosk.storage.db import open_engine

    engine = open_engine(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        held = [engine.connect() for _ in range(4)]  # the pool holds several connections
        ids = [id(c.connection.dbapi_connection) for c in held]
        for c in held:
            c.close()
        for _ in range(3):  # returned last: ids[-1]; each transaction takes it again
            with engine.begin() as conn:
                conn.execute(sa.text("SELECT 1"))
                assert id(conn.connection.dbapi_connection) == ids[-1]
    finally:
        engine.dispose()
