"""The indexes of ``tickets`` (issue 17): each one is written by every ticket inserted, so each must serve a query
the product runs, and every query the product runs on ``tickets`` must be served by one.

The hall server runs in this process (FastAPI's ``TestClient`` on a real SQLite file, and on a real PostgreSQL)
so that every statement it sends can be captured from its engine: the routes of a day (tickets issued, called,
transferred to a window, finished, the grid, the lists, the display, a window's queue and duty, the county
overview, the reports, the phone page, offline tickets synced in) run, then each captured statement on
``tickets`` is EXPLAINed. SQLite has no statistics here (the product never runs ANALYZE), so its plans are
fixed and checked by index name; PostgreSQL's depend on its statistics, so there the check is only that
no statement needs a full scan of ``tickets`` (``enable_seqscan`` off: a Seq Scan then means no index can serve).
"""

from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import PASSWORD, TEST_HALL, db_url_for

# The indexes of tickets after every migration (queue step 3: ix_tickets_queue gone, ix_tickets_sent partial,
# ix_tickets_finished added), besides the primary key and the two unique constraints (id, key, number).
INDEXES = {"ix_tickets_waiting", "ix_tickets_sent", "ix_tickets_finished", "ix_tickets_token", "ix_tickets_report",
           "ix_tickets_qv", "ix_tickets_called"}
# Partial indexes: a new ticket (no window, never called, not finished) writes none of them.
PARTIAL = {"ix_tickets_sent": "window", "ix_tickets_finished": "finished_at", "ix_tickets_called": "called_at"}
DROPPED = {"ix_tickets_queue"}
# The one statement allowed to read every row: the backup's check that a file holds tickets at all is a count.
FULL_SCAN_OK = re.compile(r"^SELECT count\(\*\) FROM tickets$")
# SQLite: which index serves what (a statement matching the pattern must use every index named).
EXPECTED = [
    (r"sum\(CASE WHEN .*UNION ALL", {"ix_tickets_waiting", "ix_tickets_sent"}),  # people ahead (ahead_counts)
    (r"tickets\.finished_at - tickets\.started_at", {"ix_tickets_finished"}),  # latest service times
    (r"WHERE tickets\.hall = \? AND tickets\.qv > \?", {"ix_tickets_qv"}),  # the queue cache catching up
    (r"WHERE tickets\.token = \?", {"ix_tickets_token"}),  # the phone page (its hall, from the token alone)
    (r"WHERE tickets\.token = \? AND tickets\.hall = \? ORDER BY tickets\.generation DESC", {"ix_tickets_token"}),
    (r"GROUP BY tickets\.service$", {"ix_tickets_waiting"}),  # waiting counts (grid, display)
    (r"AS issued, .* GROUP BY", {"ix_tickets_report"}),  # the period report
    (r"SELECT tickets\.staff FROM tickets .*ORDER BY tickets\.called_at DESC", {"ix_tickets_called"}),  # window duty
]
# SQLite: statements that read a few rows in index order, never sorting what they read (a temporary B-tree).
NO_SORT = [r"SELECT tickets\.staff FROM tickets .*ORDER BY tickets\.called_at DESC"]  # window duty: the newest call


def _tickets_indexes(engine: sa.Engine) -> dict[str, str]:
    """{name: definition} of the indexes on tickets (the primary key's and unique constraints' left out)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                        "AND tbl_name = 'tickets' AND sql IS NOT NULL")).all()
        else:
            rows = conn.execute(sa.text("SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = "
                                        "'tickets' AND i.indexname NOT IN (SELECT conname FROM pg_constraint)")).all()
    return {name: sql for name, sql in rows}


def _background(engine: sa.Engine, hall: str) -> None:
    """Past days of a busy hall, so a full scan would cost something (and PostgreSQL's statistics see them)."""
    from kiosk.storage.schema import tickets

    rows, n = [], 0
    for d in range(1, 21):
        day = f"2020-01-{d:02d}"
        for i in range(1, 201):
            n += 1
            done = i % 7 != 0
            rows.append(dict(id=uuid.uuid4().hex, hall=hall, day=day, service=("labor", "medical")[i % 2],
                             number=f"{'AB'[i % 2]}{i:04d}", seq=i, series="", generation=0,
                             status="done" if done else "no_show", window=1 + i % 3, issued_at=1.5e9 + n,
                             called_at=1.5e9 + n + 60, started_at=1.5e9 + n + 70 if done else None,
                             finished_at=1.5e9 + n + 300 if done else None, call_count=1, staff="clerk",
                             token=uuid.uuid4().hex[:16], qv=0))
    with engine.begin() as conn:
        conn.execute(tickets.insert(), rows)
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE tickets"))


def _run_a_day(client, engine: sa.Engine, app) -> None:
    """The routes of a day, through the app; each answer must be a success."""
    from kiosk.domain import Ticket

    def ok(r, *codes):
        assert r.status_code in (codes or (200,)), (r.request.method, r.request.url, r.status_code, r.text)
        return r

    def login(name):
        return {"Authorization": "Bearer " + ok(client.post("/api/v1/auth/login", json={
            "username": name, "password": PASSWORD})).json()["token"]}

    boss, sup, clerk, clerk2, county = (login(n) for n in ("boss", "sup", "clerk", "clerk2", "county"))
    code = ok(client.post("/api/v1/terminals/enrollment-codes", json={}, headers=boss), 200, 201).json()["code"]
    terminal = {"Authorization": "Bearer " + ok(client.post("/api/v1/terminals/enroll", json={
        "code": code, "name": "dispenser-1"}), 201).json()["token"]}
    issued = [ok(client.post("/api/v1/tickets", json={"service": s, **k}, headers=terminal), 201).json()
              for s, k in (("labor", {}), ("labor", {"key": "k-1"}), ("medical", {}), ("medical", {}),
                           ("labor", {"priority": "elderly"}))]
    ok(client.post("/api/v1/tickets", json={"service": "labor", "key": "k-1"}, headers=terminal))  # a retry
    ok(client.get("/api/v1/services", headers=terminal))
    for query in ("", "?status=waiting", "?service=labor&newest_first=true", "?status=waiting&service=medical"):
        ok(client.get("/api/v1/tickets" + query, headers=sup))
    ok(client.get("/api/v1/display"))
    ok(client.post("/api/v1/windows/1/call-next", headers=clerk))
    ok(client.post("/api/v1/windows/1/start", headers=clerk))
    ok(client.post("/api/v1/windows/1/transfer", json={"window": 2}, headers=clerk))  # sent to window 2
    for t in issued:  # people ahead, the sent ticket among them
        ok(client.get(f"/api/v1/tickets/{t['id']}", headers=terminal))
    ok(client.post("/api/v1/windows/2/call-next", headers=clerk2))
    ok(client.post("/api/v1/windows/2/start", headers=clerk2))
    ok(client.post("/api/v1/windows/2/finish", headers=clerk2))
    ok(client.get("/api/v1/services", headers=terminal))  # the grid again: a service time now exists
    ok(client.post("/api/v1/tickets", json={"service": "labor"}, headers=terminal), 201)  # after the calls' writes
    ok(client.get("/api/v1/windows/1/queue", headers=clerk))
    ok(client.get("/api/v1/windows/1/duty", headers=clerk))
    ok(client.get("/api/v1/county", headers=county))
    ok(client.get("/api/v1/reports/period?period=month", headers=sup))
    ok(client.get("/api/v1/reports/daily", headers=sup))
    ok(client.get("/api/v1/sync/terminal", headers=terminal))  # the terminal's offline series
    with engine.connect() as conn:
        token = conn.execute(sa.text("SELECT token FROM tickets WHERE token IS NOT NULL AND qv > 0")).scalar()
    ok(client.get(f"/q/{token}"))
    rt = app.state.county.first
    day = rt.engine.today()
    offline = Ticket(id=uuid.uuid4().hex, number="AZ001", service="labor", day=day, seq=1, issued_at=rt.engine.clock(),
                     key="offline-1")
    assert rt.engine.store.insert_offline([(offline, "Z")])["offline-1"][0] == "applied"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def captured(request, tmp_path_factory):
    """(engine, [(statement, parameters)]) of the statements on tickets the server sent over a day."""
    from fastapi.testclient import TestClient

    from kiosk.storage.db import open_engine
    from server import accounts, hall_store
    from server.app import create_app

    tmp = tmp_path_factory.mktemp(f"indexes-{request.param}")
    db_url, cleanup = db_url_for(request.param, tmp)
    engine = open_engine(db_url)
    hall_store.prepare(engine)
    for name, role, window in (("boss", "admin", None), ("sup", "supervisor", None), ("clerk", "window", 1),
                               ("clerk2", "window", 2), ("county", "county-admin", None)):
        accounts.add_user(engine, name, role, PASSWORD, window=window)
    hall_file = tmp / "hall.toml"
    hall_file.write_text(TEST_HALL, encoding="utf-8")
    app = create_app(db_url, hall_file)
    db = app.state.county.db
    _background(db, app.state.county.first.code)
    seen: dict[str, object] = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\b(FROM|UPDATE) tickets\b", statement) and not executemany:
            seen.setdefault(statement, parameters)

    sa.event.listen(db, "before_cursor_execute", before)
    try:
        with TestClient(app) as client:
            _run_a_day(client, engine, app)  # its own reads on its own engine, not captured
    finally:
        sa.event.remove(db, "before_cursor_execute", before)
    yield db, list(seen.items())
    db.dispose()
    engine.dispose()
    cleanup()


def _plan(engine: sa.Engine, statement: str, parameters) -> list[str]:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return [row[3] for row in cur.fetchall()]
        cur.execute("SET enable_seqscan = off")
        cur.execute("EXPLAIN " + statement, parameters)
        return [row[0] for row in cur.fetchall()]
    finally:
        raw.rollback()
        raw.close()


def _indexes_in(plan: list[str]) -> set[str]:
    text = "\n".join(plan)
    return set(re.findall(r"INDEX (\w+)", text)) | set(re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\w+)",
                                                                  text)) | set(re.findall(r"Bitmap Index Scan on (\w+)",
                                                                                          text))


def test_every_query_on_tickets_uses_an_index(captured):
    engine, statements = captured
    assert len(statements) >= 25, [s for s, _ in statements]  # the day above ran the product's queries
    full = []
    for statement, parameters in statements:
        plan = _plan(engine, statement, parameters)
        flat = " ".join(statement.split())
        scans = [p for p in plan if re.search(r"^SCAN tickets\b(?! USING)", p.strip()) or "Seq Scan on tickets" in p]
        if scans and not FULL_SCAN_OK.match(flat):
            full.append((flat, plan))
        assert not _indexes_in(plan) & DROPPED, (flat, plan)
    assert full == []


# SQLite only: PostgreSQL picks among usable indexes by its statistics (its plans: the full-scan test above)
@pytest.mark.parametrize("captured", ["sqlite"], indirect=True)
def test_each_query_uses_the_index_made_for_it(captured):
    engine, statements = captured
    for pattern, names in EXPECTED:
        matching = [(s, p) for s, p in statements if re.search(pattern, " ".join(s.split()))]
        assert matching, f"no statement matched {pattern}: the product's query changed shape"
        for statement, parameters in matching:
            plan = _plan(engine, statement, parameters)
            assert names <= _indexes_in(plan), (pattern, " ".join(statement.split()), plan)
    for pattern in NO_SORT:
        matching = [(s, p) for s, p in statements if re.search(pattern, " ".join(s.split()))]
        assert matching, f"no statement matched {pattern}"
        for statement, parameters in matching:
            plan = _plan(engine, statement, parameters)
            assert not [p for p in plan if "TEMP B-TREE" in p], (" ".join(statement.split()), plan)


def test_each_index_serves_a_query_and_no_dropped_index_is_back(captured):
    engine, statements = captured
    present = _tickets_indexes(engine)
    assert set(present) == INDEXES, sorted(present)
    for name, column in PARTIAL.items():
        assert re.search(rf"WHERE \(?(tickets\.)?\"?{column}\"? IS NOT NULL", present[name]), present[name]
    if engine.dialect.name == "sqlite":
        used = set().union(*(_indexes_in(_plan(engine, s, p)) for s, p in statements))
        assert INDEXES - used == set(), "an index no query of the day used"


def _old_database(engine: sa.Engine) -> None:
    """A database as queue step 2 and token step 1 left it: ix_tickets_queue, a full ix_tickets_sent, the token's
    index on the token alone; a ticket sent to window 4."""
    from kiosk.storage.schema import QUEUE_MIGRATIONS, TOKEN_MIGRATIONS, migrate

    migrate(engine, "queue", QUEUE_MIGRATIONS[:2])
    migrate(engine, "ticket_token", TOKEN_MIGRATIONS[:1])
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_tickets_sent"))
        for name, cols in (("ix_tickets_queue", "hall, day, status, service"),
                           ("ix_tickets_sent", 'hall, day, status, "window", service, priority, transferred_from, '
                                               'issued_at, seq, id, "key"')):
            conn.execute(sa.text(f"CREATE INDEX {name} ON tickets ({cols})"))
        for i, window in enumerate((None, 4)):
            conn.execute(sa.text("INSERT INTO tickets (id, hall, day, service, number, seq, status, \"window\", "
                                 "issued_at) VALUES (:id, 'old', '2026-03-02', 'labor', :n, :seq, 'waiting', :w, 1)"),
                         {"id": f"old{i}", "n": f"A{i + 1:04d}", "seq": i + 1, "w": window})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_existing_database_loses_the_dropped_index_and_keeps_its_tickets(backend, tmp_path):
    from kiosk.storage.db import open_engine
    from kiosk.storage.queue_store import QueueStore
    from kiosk.storage.schema import QUEUE_MIGRATIONS, TOKEN_MIGRATIONS

    db_url, cleanup = db_url_for(backend, tmp_path)
    engine = open_engine(db_url)
    try:
        _old_database(engine)
        assert {"ix_tickets_queue", "ix_tickets_sent"} <= set(_tickets_indexes(engine))
        assert "WHERE" not in _tickets_indexes(engine)["ix_tickets_sent"]
        assert "hall" not in _tickets_indexes(engine)["ix_tickets_token"]
        store = QueueStore(engine, "old")  # opening the store migrates (a terminal's file, a server's database)
        present = _tickets_indexes(engine)
        assert set(present) == INDEXES and "window" in present["ix_tickets_sent"].split("WHERE")[1]
        assert re.search(r"\(token, hall, generation\)", present["ix_tickets_token"]), present["ix_tickets_token"]
        with engine.connect() as conn:
            versions = dict(conn.execute(sa.text("SELECT component, version FROM schema_versions")).all())
        assert (versions["queue"], versions["ticket_token"]) == (len(QUEUE_MIGRATIONS), len(TOKEN_MIGRATIONS))
        assert [t.number for t in store.waiting("2026-03-02", windows=[4])] == ["A0002"]  # through the new index
        assert sorted(t.number for t in store.find("2026-03-02")) == ["A0001", "A0002"]
    finally:
        engine.dispose()
        cleanup()
