"""A ticket reported as issued survives the process being killed (SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from kiosk.storage.db import open_engine, sqlite_url
from kiosk.storage.queue_store import QueueStore

from .conftest import ROOT

ISSUER = textwrap.dedent("""
    import sys
    from kiosk.hall_file import load_hall
    from kiosk.paths import SAMPLE_HALL
    from kiosk.queue import QueueEngine
    from kiosk.storage.db import open_engine, sqlite_url
    from kiosk.storage.queue_store import QueueStore
    hall = load_hall(SAMPLE_HALL)
    engine = QueueEngine(hall, QueueStore(open_engine(sqlite_url(sys.argv[1])), hall.code))
    while True:
        t = engine.issue("general").ticket
        print(t.id, t.number, flush=True)   # reported only after the commit returned
""")


def test_reported_tickets_survive_sigkill(tmp_path):
    db = tmp_path / "queue.db"
    proc = subprocess.Popen([sys.executable, "-c", ISSUER, str(db)], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    reported = []
    try:
        for line in proc.stdout:
            reported.append(line.split())
            if len(reported) == 40:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert len(reported) == 40
    store = QueueStore(open_engine(sqlite_url(db)), "qingshi")
    for ticket_id, number in reported:
        stored = store.get(ticket_id)
        assert stored is not None and stored.number == number
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: fsync at each commit
