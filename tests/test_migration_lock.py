"""Every migration step runs under the migration lock (kiosk/storage/schema.py::migrate), so server processes
starting at once on one PostgreSQL (a county) never migrate at the same time.

Real ``python -m server`` processes on a real PostgreSQL: a fresh database, and the one-hall database of the
code before halls (tests/fixtures, see tests/test_server_migration.py). A guard in the database itself
(an event trigger on every schema change) refuses any CREATE / ALTER / DROP whose session does not hold the
lock, so a migration step run outside it fails the start-up wherever it hides (the queue_version step used to
run when a hall's QueueStore opened, after the start-up lock was let go). On SQLite a migration's
transaction is BEGIN IMMEDIATE: the file's write lock; two processes opening one fresh file at once are
checked too.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import (PY, ROOT, env, fresh_pg_database, require_pg, start_servers)  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
SERVERS = 4


def _guard(url: str) -> None:
    """An event trigger: a schema change by a session that does not hold the migration lock fails."""
    import psycopg

    from kiosk.storage.schema import MIGRATION_LOCK, lock_key

    key = lock_key(MIGRATION_LOCK)
    classid, objid = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF  # how pg_locks shows a bigint key
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f"""
            CREATE FUNCTION kiosk_test_ddl_guard() RETURNS event_trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                               AND pid = pg_backend_pid() AND classid::bigint = {classid}
                               AND objid::bigint = {objid} AND objsubid = 1) THEN
                    RAISE EXCEPTION 'schema change % outside the migration lock', tg_tag;
                END IF;
            END $$""")
        conn.execute("CREATE EVENT TRIGGER kiosk_test_ddl_guard ON ddl_command_start "
                     "EXECUTE FUNCTION kiosk_test_ddl_guard()")


def _versions(url: str) -> list[tuple[str, int]]:
    from kiosk.storage.db import open_engine

    engine = open_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text("SELECT component, version FROM schema_versions "
                                                           "ORDER BY component"))]
    finally:
        engine.dispose()


def _start_together(url: str, tmp: Path) -> list:
    """SERVERS server processes started at once on ``url``; each must come up (a failed migration stops one)."""
    dirs = [tmp / f"p{i}" for i in range(SERVERS)]
    for d in dirs:
        d.mkdir()
    halls = start_servers(*[dict(db_url=url, tmp=d, users=False) for d in dirs])
    for hall in halls:
        assert hall.api("GET", "/healthz", token=None).status_code == 200
    return halls


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["fresh", "old"])
def test_servers_starting_together_on_postgresql_migrate_one_at_a_time(database, tmp_path, request):
    import psycopg

    url, drop = fresh_pg_database(require_pg())
    request.addfinalizer(drop)
    tickets_before = None
    if database == "old":  # the layout before halls: most components (queue_version, county, ...) to migrate
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute(gzip.decompress((FIXTURES / "one_hall_v1.pgsql.gz").read_bytes()).decode())
            tickets_before = conn.execute("SELECT id, number, status FROM public.tickets ORDER BY id").fetchall()
            assert "queue_version" not in {r[0] for r in conn.execute("SELECT component FROM public.schema_versions")}
    _guard(url)
    halls = _start_together(url, tmp_path)
    try:
        for hall in halls:
            log = hall.log.read_text(errors="replace")
            assert "outside the migration lock" not in log and "Traceback" not in log, \
                [line for line in log.splitlines() if "rror" in line or "outside" in line]
        versions = _versions(url)
        components = [c for c, _ in versions]
        assert len(components) == len(set(components))  # one record per component
        from kiosk.storage.schema import QUEUE_VERSION_MIGRATIONS
        from server.period_stats import REPORT_MIGRATIONS

        got = dict(versions)
        assert got["queue_version"] == len(QUEUE_VERSION_MIGRATIONS) and got["reports"] == len(REPORT_MIGRATIONS)
        assert {"queue", "server", "county", "appointments", "ratings", "public_links", "staff_profile"} <= set(got)
        if tickets_before is not None:
            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
                assert conn.execute("SELECT id, number, status FROM tickets ORDER BY id").fetchall() == tickets_before
        for hall in halls:  # each process serves (the hall's queue read through it)
            r = hall.api("GET", "/api/v1/display", token=None)
            assert r.status_code == 200, r.text
    finally:
        for hall in halls:
            hall.stop()


@pytest.mark.postgres
def test_a_schema_change_outside_the_lock_is_caught_by_the_guard(request):
    """The guard above is real: the same DDL fails without the lock and passes with it."""
    from kiosk.storage.db import open_engine
    from kiosk.storage.schema import hold_migration_lock

    url, drop = fresh_pg_database(require_pg())
    request.addfinalizer(drop)
    _guard(url)
    engine = open_engine(url)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="outside the migration lock"):
            with engine.begin() as conn:
                conn.execute(sa.text("CREATE TABLE t (a INTEGER)"))
        with engine.begin() as conn:
            hold_migration_lock(conn)
            conn.execute(sa.text("CREATE TABLE t (a INTEGER)"))
    finally:
        engine.dispose()


OPEN_STORE = """
import sys
from kiosk.storage.db import open_engine
from kiosk.storage.queue_store import QueueStore
from kiosk.ratings.store import RatingStore
sys.stdin.readline()  # every process started: open together
engine = open_engine(sys.argv[1])
QueueStore(engine, "hall")
RatingStore(engine, "hall", "Asia/Shanghai")
print("ok")
"""


def test_terminals_opening_one_fresh_sqlite_file_at_once_migrate_it_once(tmp_path):
    """A terminal's own file: a migration's transaction holds the file's write lock (BEGIN IMMEDIATE)."""
    url = f"sqlite:///{tmp_path / 'terminal.db'}"
    procs = [subprocess.Popen([PY, "-c", OPEN_STORE, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env(), cwd=ROOT) for _ in range(SERVERS)]
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "ok", err[-2000:]
    versions = dict(_versions(url))
    from kiosk.storage.schema import QUEUE_MIGRATIONS, QUEUE_VERSION_MIGRATIONS

    assert versions["queue"] == len(QUEUE_MIGRATIONS) and versions["queue_version"] == len(QUEUE_VERSION_MIGRATIONS)
