"""A terminal with several addresses of one county server (issue 13 point 4): `server.url` is a list,
`kiosk terminal enroll` keeps it, and when the process it talks to dies the terminal carries on through
the next one, online (no offline ticket), event stream included.

Real server processes on one real PostgreSQL; the first is SIGKILLed."""

from __future__ import annotations

import signal
import time

import pytest
import tomlkit

from .sync_support import build, cli, quick_backoff, terminal_file, wait_for
from .test_server_support import db_url_for, start_server

pytestmark = pytest.mark.postgres


def _set_urls(path, urls):
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    doc["server"]["url"] = urls
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def test_a_terminal_fails_over_to_the_next_address_and_keeps_its_stream(tmp_path, monkeypatch):
    quick_backoff(monkeypatch)
    db_url, drop = db_url_for("postgres", tmp_path)
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
    a = start_server(db_url, tmp_path / "a")
    b = start_server(db_url, tmp_path / "b", users=False)
    b.tokens = a.tokens
    term = None
    try:
        path = terminal_file(tmp_path, "disp")
        _set_urls(path, [a.url, b.url])
        code = a.api("POST", "/api/v1/terminals/enrollment-codes", json={}).json()["code"]
        out = cli(path, "enroll", "--server", a.url, "--code", code)
        assert out.returncode == 0, out.stderr
        server = tomlkit.parse(path.read_text(encoding="utf-8"))["server"]
        assert list(server["url"]) == [a.url, b.url] and server["token"]  # the list stays, the token is written

        term = build(path)
        events: list = []
        term.subscribe(lambda kind, data: events.append((kind, data)))
        assert wait_for(lambda: term.backend.events_connected, 15)
        first = term.backend.issue("labor").ticket
        assert term.backend.online is True and term.backend.client.url == a.url

        a.process.send_signal(signal.SIGKILL)  # the process it talks to dies
        a.process.wait(10)
        second = term.backend.issue("labor").ticket  # through b, online: a server number, not the offline series
        assert term.backend.online is True and term.backend.client.url == b.url
        assert int(second.number[1:]) == int(first.number[1:]) + 1
        numbers = [t["number"] for t in b.api("GET", "/api/v1/tickets").json()["tickets"]]
        assert first.number in numbers and second.number in numbers

        assert wait_for(lambda: term.backend.events_connected, 20)  # the stream moved to b by itself
        r = b.api("POST", "/api/v1/windows/1/call-next", token="clerk")
        assert r.status_code == 200, r.text
        called = r.json()["ticket"]["number"]
        assert wait_for(lambda: any(k == "ticket_called" and d["ticket"]["number"] == called for k, d in events), 20)
    finally:
        if term is not None:
            term.close()
        b.stop()
        a.stop()
        drop()


def test_a_list_of_addresses_is_checked_like_one(tmp_path):
    path = terminal_file(tmp_path, "bad")
    _set_urls(path, ["http://192.168.1.10:8080", "192.168.1.11:8080"])
    out = cli(path, "status", inproc=True)  # its main in this process (the enrollment above is a real one)
    assert out.returncode != 0
    assert "server.url: [1] '192.168.1.11:8080' must be an http:// or https:// address" in out.stderr
    _set_urls(path, [])
    out = cli(path, "status", inproc=True)
    assert out.returncode != 0 and "server.url: give at least one address" in out.stderr
