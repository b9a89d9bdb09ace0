"""Backups: `kiosk admin backup` while the server runs, `kiosk admin restore` into a fresh database, a fresh
server finds every ticket, rating and follow-up; the server's daily backup with rotation."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from .test_server_support import BACKENDS, Hall, db_url_for, enroll_terminal, kiosk_cli, start_server


def _fill(hall: Hall) -> None:
    """Tickets of two services, one called and finished, a bad rating (a follow-up) and a walk-in rating."""
    for service in ("labor", "medical", "labor", "spare"):
        assert hall.api("POST", "/api/v1/tickets", json={"service": service}).status_code == 201
    called = hall.api("POST", "/api/v1/windows/1/call-next", token="clerk").json()["ticket"]
    assert hall.api("POST", "/api/v1/windows/1/finish", token="clerk").status_code == 200
    reason = hall.api("GET", "/api/v1/rating-reasons", token="terminal").json()[0]["code"]
    evaluator = enroll_terminal(hall, "eval1", "evaluator", 1)  # only window 1's evaluator rates window 1
    r = hall.api("POST", "/api/v1/ratings", token=evaluator,
                 json={"key": uuid.uuid4().hex, "ticket": called["id"], "level": 1, "reasons": [reason],
                       "phone": "13800138000"})
    assert r.status_code == 201, r.text
    r = hall.api("POST", "/api/v1/ratings", token=evaluator, json={"key": uuid.uuid4().hex, "window": 1, "level": 5})
    assert r.status_code == 201, r.text


def _snapshot(hall: Hall) -> dict:
    tickets = hall.api("GET", "/api/v1/tickets", params={"limit": 5000}).json()["tickets"]
    ratings = hall.api("GET", "/api/v1/ratings", token="sup").json()
    followups = hall.api("GET", "/api/v1/followups", token="sup").json()
    return {"tickets": sorted((t["id"], t["number"], t["status"], t["window"]) for t in tickets),
            "ratings": sorted((r["id"], r["level"], tuple(r["reasons"])) for r in ratings),
            "followups": sorted((f["id"], f["state"], f["due_date"], f["rating"]["id"]) for f in followups)}


def _login_all(hall: Hall, terminal_token: str) -> None:
    for name in ("boss", "sup", "clerk"):
        hall.tokens[name] = hall.login(name)
    hall.tokens["admin"] = hall.tokens["boss"]
    hall.tokens["terminal"] = terminal_token  # the terminal's token lives in the database: it survives too


@pytest.mark.parametrize("backend", BACKENDS)
def test_backup_while_running_then_restore_into_a_fresh_server(backend, tmp_path):
    db_url, drop = db_url_for(backend, tmp_path / "a")
    (tmp_path / "a").mkdir(exist_ok=True)
    hall = start_server(db_url, tmp_path / "a")
    restored: Hall | None = None
    new_url, drop_new = db_url_for(backend, tmp_path / "b")
    (tmp_path / "b").mkdir(exist_ok=True)
    try:
        _fill(hall)
        before = _snapshot(hall)
        assert len(before["tickets"]) == 4 and len(before["ratings"]) == 2 and len(before["followups"]) == 1
        out = tmp_path / "backups"
        r = kiosk_cli("admin", "backup", "--db", db_url, "--out", str(out))  # the server keeps running
        assert r.returncode == 0, r.stderr
        [made] = [p for p in out.iterdir()]
        assert made.name.startswith("hall-backup-") and made.suffix == (".sqlite" if backend == "sqlite" else ".pgdump")
        assert f"backup {made}" in r.stdout
        assert hall.api("POST", "/api/v1/tickets", json={"service": "labor"}).status_code == 201  # after it

        r = kiosk_cli("admin", "restore", str(made), "--db", new_url)
        assert r.returncode == 0, r.stderr
        restored = start_server(new_url, tmp_path / "b", users=False)
        _login_all(restored, hall.tokens["terminal"])
        assert _snapshot(restored) == before  # every ticket, rating and follow-up; nothing from after
        # the restored hall works on: numbering carries on after the restored tickets
        r = restored.api("POST", "/api/v1/tickets", json={"service": "labor"})
        assert r.status_code == 201 and r.json()["number"] == "A0003"

        # a database holding tickets is not overwritten by accident
        r = kiosk_cli("admin", "restore", str(made), "--db", new_url)
        assert r.returncode == 1 and "already holds tickets" in r.stderr and "--force" in r.stderr
    finally:
        hall.stop()
        if restored is not None:
            restored.stop()
        drop()
        drop_new()


def test_cli_errors_are_one_line(tmp_path):
    r = kiosk_cli("admin", "restore", str(tmp_path / "nope.sqlite"), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert r.returncode == 1 and "no such backup file" in r.stderr and "Traceback" not in r.stderr
    r = kiosk_cli("admin", "backup", "--db", f"sqlite:///{tmp_path / 'missing.db'}", "--out", str(tmp_path / "o"))
    assert r.returncode == 1 and "no such database file" in r.stderr and "Traceback" not in r.stderr


def test_the_server_backs_up_daily_beside_a_sqlite_database(tmp_path):
    hall = start_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not list((tmp_path / "backups").glob("hall-backup-*.sqlite")):
            time.sleep(0.05)
        assert len(list((tmp_path / "backups").glob("hall-backup-*.sqlite"))) == 1  # made at start
    finally:
        hall.stop()


def test_daily_backup_makes_one_a_day_and_keeps_the_newest(tmp_path):
    from server.backup import DailyBackup, backups

    from .conftest import FakeClock

    db = tmp_path / "server.db"
    from kiosk.storage.db import open_engine
    from server import hall_store

    engine = open_engine(f"sqlite:///{db}")
    hall_store.prepare(engine)
    engine.dispose()
    clock = FakeClock()
    daily = DailyBackup(f"sqlite:///{db}", tmp_path / "bk", keep=3, clock=clock)
    first = daily.run_once()
    assert first is not None and first.exists()
    clock.advance(3600)
    assert daily.run_once() is None  # already one today
    made = [first]
    for _ in range(4):
        clock.advance(86400)
        made.append(daily.run_once())
    kept = backups(tmp_path / "bk")
    assert kept == sorted(made[-3:], key=lambda p: p.name, reverse=True)  # the newest three
    assert not any(p.exists() for p in made[:2])
    # a stale half-written file from a crash is cleared too
    part = tmp_path / "bk" / "hall-backup-20260101-000000.sqlite.part"
    part.write_bytes(b"x")
    os.utime(part, (time.time() - 7200, time.time() - 7200))
    clock.advance(86400)
    daily.run_once()
    assert not part.exists() and len(backups(tmp_path / "bk")) == 3
    assert not list(Path(tmp_path / "bk").glob("*-wal"))
