"""Public ticket tokens on SQLite and PostgreSQL: issued with every server ticket, found again by the
phone page, kept across a transfer, made offline with the hall's key; guessed ones refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import BACKENDS, server_fixture  # noqa: E402

from kiosk.public_link import TOKEN_RE, check_public_url, make_token, ticket_url, token_day  # noqa: E402


@pytest.fixture(scope="module", params=BACKENDS)
def hall(request, tmp_path_factory):
    return server_fixture(request, tmp_path_factory)


def state(hall, token):
    return requests.get(f"{hall.url}/api/v1/public/tickets/{token}", timeout=10)


def test_token_follows_the_ticket_through_a_transfer(hall):
    t = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "labor"}).json()
    assert TOKEN_RE.match(t["token"])
    assert state(hall, t["token"]).json()["state"] == "waiting"
    while True:
        called = hall.api("POST", "/api/v1/windows/1/call-next", token="sup").json()["ticket"]
        if called["number"] == t["number"]:
            break
        hall.api("POST", "/api/v1/windows/1/finish", token="sup")
    s = state(hall, t["token"]).json()
    assert (s["state"], s["window"], s["status_text"]) == ("called", 1, "请到 1 号窗口")
    r = hall.api("POST", "/api/v1/windows/1/transfer", token="clerk", json={"service": "medical"})
    assert r.status_code == 200, r.text
    s = state(hall, t["token"]).json()
    assert (s["state"], s["number"], s["service"]) == ("waiting", t["number"], "medical")


def test_offline_token_reads_syncing_and_a_forged_one_404(hall):
    info = hall.api("GET", "/api/v1/sync/terminal", token="terminal", params={"mode": "dispenser"}).json()
    today = hall.api("GET", "/api/v1/tickets", token="terminal").json()["date"]
    good = make_token(info["link_key"], today)
    assert state(hall, good).json() == {"state": "syncing", "hall": "测试镇便民服务中心", "status_text": "正在同步"}
    forged = make_token("00" * 32, today)
    assert state(hall, forged).status_code == 404
    assert requests.get(f"{hall.url}/q/{forged}", timeout=10).status_code == 404


def test_token_rules():
    key = "ab" * 32
    t = make_token(key, "2026-03-09")
    assert TOKEN_RE.match(t) and t != make_token(key, "2026-03-09")  # random part
    assert token_day(key, t, "2026-03-09") == "2026-03-09"
    assert token_day(key, t, "2026-03-10") == "2026-03-09"
    assert token_day(key, t, "2026-03-08") == "2026-03-09"  # a terminal clock a day ahead
    assert token_day(key, t, "2026-06-01") is None  # too old to be still syncing
    assert token_day("cd" * 32, t, "2026-03-09") is None
    tampered = ("B" if t[5] != "B" else "C").join((t[:5], t[6:]))
    assert token_day(key, tampered, "2026-03-09") is None
    assert ticket_url("http://h:8080/", t) == f"http://h:8080/q/{t}"
    assert ticket_url("", t) is None and ticket_url("http://h", None) is None
    assert check_public_url("https://hall.example.gov.cn") is None and check_public_url("") is None
    for bad in ("hall.example", "javascript:alert(1)", "http://h/?a=1", "http://h x"):
        assert check_public_url(bad), bad


def test_a_database_from_before_tokens_gets_the_column(tmp_path):
    """A terminal or server upgraded in place: the token migration adds the column and its index."""
    import sqlalchemy as sa

    from kiosk.domain import Hall, Service
    from kiosk.queue import QueueEngine
    from kiosk.storage.db import open_engine, sqlite_url
    from kiosk.storage.queue_store import QueueStore
    from kiosk.storage.schema import counters, schema_versions, tickets, window_states

    engine = open_engine(sqlite_url(tmp_path / "old.db"))
    ddl = str(sa.schema.CreateTable(tickets).compile(dialect=engine.dialect))
    old_ddl = "\n".join(line for line in ddl.splitlines() if not line.strip().startswith("token "))
    with engine.begin() as conn:
        conn.exec_driver_sql(old_ddl)
        for table in (counters, window_states, schema_versions):
            table.create(conn)
        conn.execute(schema_versions.insert().values(component="queue", version=1))
        assert "token" not in {c["name"] for c in sa.inspect(conn).get_columns("tickets")}
    hall = Hall(name="旧库", code="old", services=(Service(code="labor", name="劳动保障", prefix="A"),))
    engine_q = QueueEngine(hall, QueueStore(engine, "old"), token_maker=lambda day: make_token("ef" * 32, day))
    t = engine_q.issue("labor").ticket
    assert TOKEN_RE.match(t.token) and engine_q.get_ticket(t.id).token == t.token
    with engine.connect() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("tickets")}
    assert "ix_tickets_token" in indexes


def test_config_check_names_a_bad_public_url(tmp_path):
    from kiosk import paths
    from kiosk.config import check_file
    from kiosk.hall_file import load_hall

    text = paths.SAMPLE_HALL.read_text(encoding="utf-8")
    good = tmp_path / "good.toml"
    good.write_text(text.replace('# public_url = "http://192.168.1.10:8080"', 'public_url = "http://192.168.1.10:8080/"'),
                    encoding="utf-8")
    assert check_file(good) == [] and load_hall(good).public_url == "http://192.168.1.10:8080"
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('# public_url = "http://192.168.1.10:8080"', 'public_url = "hall.local"'),
                   encoding="utf-8")
    errors = check_file(bad)
    assert len(errors) == 1 and errors[0].field == "hall.public_url" and errors[0].line > 1, errors


def test_a_ticket_from_an_earlier_day_reads_expired(hall):
    import time
    import uuid
    from datetime import date, timedelta

    info = hall.api("GET", "/api/v1/sync/terminal", token="terminal", params={"mode": "dispenser"}).json()
    today = hall.api("GET", "/api/v1/tickets", token="terminal").json()["date"]
    day = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    token = make_token(info["link_key"], day)
    event = {"key": uuid.uuid4().hex, "kind": "ticket",
             "payload": {"id": uuid.uuid4().hex, "number": f"A{info['series']}077", "service": "labor", "day": day,
                         "seq": 77, "series": info["series"], "issued_at": time.time() - 86400, "token": token}}
    r = hall.api("POST", "/api/v1/sync/batch", token="terminal", json={"events": [event]})
    assert r.json()["results"][0]["status"] == "applied", r.text
    s = state(hall, token).json()
    assert (s["state"], s["status_text"], s["people_ahead"], s["window"]) == ("expired", "已失效", 0, None)
