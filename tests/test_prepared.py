"""Hot statements on the DB-API cursor (kiosk/storage/prepared.py): inside the SQLAlchemy transaction, the
dialect's type processing applied, values fixed in the statement bound, SQLAlchemy's errors raised, and the
statements seen by cursor-execute listeners when there are any."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kiosk.storage.db import open_engine, sqlite_url
from kiosk.storage.prepared import Prepared, multi_row

md = sa.MetaData()
t = sa.Table("t", md, sa.Column("id", sa.Integer, primary_key=True), sa.Column("v", sa.Float),
             sa.Column("name", sa.String(8)))
INSERT = Prepared(lambda dialect, rows: t.insert() if rows == 1 else t.insert().values(
    [{k: sa.bindparam(f"{k}_m{i}") for k in ("id", "v", "name")} for i in range(rows)]), keys=("id", "v", "name"))
BUMP = Prepared(lambda dialect, rows: t.update().where(t.c.id == sa.bindparam("k")).values(v=t.c.v + 1)
                .returning(t.c.v))


@pytest.fixture
def engine(tmp_path):
    e = open_engine(sqlite_url(tmp_path / "p.db"))
    md.create_all(e)
    yield e
    e.dispose()


def rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(t).order_by(t.c.id))]


def test_rows_go_in_with_the_transaction_typed_as_sqlalchemy_would(engine):
    with engine.begin() as conn:
        INSERT.execute(conn, {"id": 1, "v": 2, "name": "a"})  # an int into a Float column: stored as 2.0
        INSERT.execute(conn, multi_row([{"id": 2, "v": 1.5, "name": "b"}, {"id": 3, "v": None, "name": "c"}]), 2)
        assert BUMP.scalar(conn, {"k": 1}) == 3.0  # "+ 1" is a value fixed in the statement
        assert BUMP.scalar(conn, {"k": 99}) is None
    got = rows(engine)
    assert got == [(1, 3.0, "a"), (2, 1.5, "b"), (3, None, "c")] and isinstance(got[0][1], float)


def test_an_error_is_sqlalchemys_and_the_transaction_is_undone(engine):
    with engine.begin() as conn:
        INSERT.execute(conn, {"id": 1, "v": 1.0, "name": "a"})
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            INSERT.execute(conn, {"id": 2, "v": 1.0, "name": "b"})
            INSERT.execute(conn, {"id": 1, "v": 1.0, "name": "again"})
    assert rows(engine) == [(1, 1.0, "a")]


def test_cursor_listeners_see_the_statements(engine):
    seen = []
    sa.event.listen(engine, "before_cursor_execute", lambda conn, cur, sql, params, ctx, many: seen.append(sql))
    with engine.begin() as conn:
        INSERT.execute(conn, {"id": 5, "v": 1.0, "name": "e"})
        assert BUMP.scalar(conn, {"k": 5}) == 2.0
    assert any(s.startswith("INSERT INTO t") for s in seen) and any(s.startswith("UPDATE t") for s in seen)
    assert rows(engine) == [(5, 2.0, "e")]
