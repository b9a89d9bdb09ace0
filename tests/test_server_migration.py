"""A one-hall database made by the code before halls were first-class opens unchanged (issue 13).

The fixtures in ``tests/fixtures`` were made by ``tests/fixtures/make_one_hall_db.py`` running the
tree of commit af2b8c6 (main just before the county model): that commit's own server, driven over
its API, on SQLite and on PostgreSQL; the databases were dumped to SQL (sqlite3 ``.dump``, pg_dump
``--inserts``). Each test loads a dump into a fresh database, starts today's server on it and checks
that staff, terminals, tickets, ratings, follow-ups, photos and audit lines all belong to the one
hall and work as before.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import BACKENDS, fresh_pg_database, require_pg, start_server  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


def _load(backend: str, tmp: Path) -> tuple[str, dict, callable]:
    if backend == "sqlite":
        meta = json.loads((FIXTURES / "one_hall_v1.sqlite.json").read_text(encoding="utf-8"))
        path = tmp / "old.db"
        with sqlite3.connect(path) as conn:
            conn.executescript(gzip.decompress((FIXTURES / "one_hall_v1.sqlite.sql.gz").read_bytes()).decode())
        return f"sqlite:///{path}", meta, lambda: None
    import psycopg

    meta = json.loads((FIXTURES / "one_hall_v1.pgsql.json").read_text(encoding="utf-8"))
    url, drop = fresh_pg_database(require_pg())
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(gzip.decompress((FIXTURES / "one_hall_v1.pgsql.gz").read_bytes()).decode())
    return url, meta, drop


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_one_hall_database_opens_unchanged(backend, tmp_path, request):
    from kiosk.storage.db import open_engine
    from server.schema import enrollment_codes, terminals, users
    from server.security_schema import audit_log

    url, meta, drop = _load(backend, tmp_path)
    request.addfinalizer(drop)
    engine = open_engine(url)
    with engine.begin() as conn:
        assert "hall" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}  # really the old layout
        # the fixture's terminal token was good for 30 days from when it was made: time has passed since
        conn.execute(sa.text("UPDATE terminals SET token_expires_at = :t"), {"t": time.time() + 86400})
    engine.dispose()

    hall = start_server(url, tmp_path, users=False)
    request.addfinalizer(hall.stop)
    health = hall.api("GET", "/healthz", token=None).json()
    assert (health["hall"], health["hall_version"]) == (meta["hall"], meta["hall_version"])
    boss = hall.login("boss", meta["password"])
    assert hall.api("GET", "/api/v1/auth/me", token=boss).json()["hall"] == meta["hall"]
    assert sorted(u["username"] for u in hall.api("GET", "/api/v1/users", token=boss).json()) == ["boss", "clerk"]
    assert hall.login("clerk", meta["password"])
    # the terminals keep working with the tokens they hold, in the one hall
    term = meta["terminal_token"]
    assert hall.api("GET", "/api/v1/halls", token=term).json() == [{"code": meta["hall"], "name": "测试镇便民服务中心"}]
    assert hall.api("GET", "/api/v1/services", token=term).status_code == 200
    listed = {t["id"]: t for t in hall.api("GET", "/api/v1/terminals", token=boss).json()}
    assert meta["terminal_id"] in listed and listed[meta["terminal_id"]]["name"] == "取号机-1"
    # the day's tickets, the bad rating and its follow-up, the photo, the audit trail
    day = meta["day"]
    got = hall.api("GET", f"/api/v1/tickets?date={day}", token=boss).json()["tickets"]
    assert sorted(t["number"] for t in got) == meta["tickets"]
    assert sorted(t["status"] for t in got) == ["done", "waiting", "waiting"]
    ratings = hall.api("GET", f"/api/v1/ratings?from={day}&to={day}", token=boss).json()
    assert [(r["id"], r["followup_id"]) for r in ratings] == [(meta["rating_id"], meta["followup_id"])]
    assert [f["id"] for f in hall.api("GET", "/api/v1/followups", token=boss).json()] == [meta["followup_id"]]
    assert len(hall.api("GET", "/api/v1/users/clerk/photo", token=boss).content) == meta["photo_len"]
    audit = hall.api("GET", f"/api/v1/audit?from={day}&to={day}", token=boss).json()
    assert {"auth.login", "terminal.enrollment_code", "window.call_next", "user.photo"} <= {a["action"] for a in audit}
    # a new ticket from the old dispenser
    assert hall.api("POST", "/api/v1/tickets", token=term, json={"service": "medical"}).status_code == 201
    # every hall-owned row has the hall; the migration is recorded once
    engine = open_engine(url)
    with engine.connect() as conn:
        for table in (users, terminals, enrollment_codes, audit_log):
            halls = set(conn.execute(sa.select(table.c.hall)).scalars())
            assert halls == {meta["hall"]}, (table.name, halls)
        assert conn.execute(sa.text("SELECT version FROM schema_versions WHERE component = 'county'")).scalar() == 1
    engine.dispose()
