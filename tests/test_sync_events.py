"""Live data from a real hall server: the event stream, waiting counts, heartbeat, content routes."""

from __future__ import annotations

import time

import pytest

from .sync_support import RestartableServer, build, enrolled_terminal, quick_backoff, wait_for


@pytest.fixture
def server(tmp_path):
    """A server of this test's own: it stops and starts it."""
    s = RestartableServer(tmp_path / "server")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One server for the tests that never stop it (their tickets, services and terminals differ)."""
    s = RestartableServer(tmp_path_factory.mktemp("events") / "server")
    yield s
    s.stop()


def _called(events: list, number: str, kind: str = "ticket_called") -> float | None:
    for at, k, data in events:
        if k == kind and (data.get("ticket") or {}).get("number") == number:
            return at
    return None


def test_calls_reach_the_terminal_and_the_stream_survives_a_restart(server, tmp_path, monkeypatch):
    quick_backoff(monkeypatch)
    term = build(enrolled_terminal(server, tmp_path, "eval", mode="evaluator"))
    try:
        events: list = []
        assert term.subscribe(lambda kind, data: events.append((time.monotonic(), kind, data)))
        assert wait_for(lambda: term.backend.events_connected, 10)

        number = server.hall.api("POST", "/api/v1/tickets", json={"service": "labor"}).json()["number"]
        sent = time.monotonic()
        r = server.hall.api("POST", "/api/v1/windows/1/call-next", token="clerk")
        assert r.status_code == 200 and r.json()["ticket"]["number"] == number
        # delivered by the stream (how fast: bench/sync_drain.py call_to_terminal_ms; no wall-clock bound here)
        assert wait_for(lambda: _called(events, number) is not None, 15)
        assert _called(events, number) >= sent
        r = server.hall.api("POST", "/api/v1/windows/1/finish", token="clerk")
        assert r.status_code == 200
        # the evaluator is prompted by ticket_finished, with the ticket and the window
        assert wait_for(lambda: _called(events, number, "ticket_finished") is not None, 15)
        finished = next(d for _, k, d in events if k == "ticket_finished")
        assert finished["window"] == 1 and finished["ticket"]["id"]

        server.stop()
        assert wait_for(lambda: not term.backend.events_connected, 10)
        server.start()
        assert wait_for(lambda: term.backend.events_connected, 15)  # reconnected by itself
        number = server.hall.api("POST", "/api/v1/tickets", json={"service": "labor"}).json()["number"]
        sent = time.monotonic()
        assert server.hall.api("POST", "/api/v1/windows/1/call-next", token="clerk").status_code == 200
        # delivered by the stream (how fast: bench/sync_drain.py call_to_terminal_ms; no wall-clock bound here)
        assert wait_for(lambda: _called(events, number) is not None, 15)
        assert _called(events, number) >= sent
        # the evaluator's idle screen: the clerk who called is on duty
        assert wait_for(lambda: (term.duty()["staff"] or {}).get("name") == "王芳", 5)
    finally:
        term.close()


def test_waiting_counts_follow_the_server_and_health_shows_on_the_terminal_list(shared, tmp_path, monkeypatch):
    server = shared
    quick_backoff(monkeypatch)
    term = build(enrolled_terminal(server, tmp_path, "disp"))
    try:
        def waiting(code: str) -> int:
            return next(b.waiting for b in term.grid().buttons if b.code == code)

        assert waiting("medical") == 0
        for _ in range(3):  # issued elsewhere (another terminal, a clerk)
            server.hall.api("POST", "/api/v1/tickets", json={"service": "medical"})
        assert wait_for(lambda: waiting("medical") == 3, 2.0)
        term.issue("medical", wait_for_print=True)
        assert waiting("medical") >= 4

        def row():
            rows = server.hall.api("GET", "/api/v1/terminals", token="sup").json()
            return next((t for t in rows if t["name"] == "disp"), None)

        assert wait_for(lambda: (row() or {}).get("printer_state") is not None, 10)
        t = row()
        assert t["online"] and t["mode"] == "dispenser" and t["printer_state"] == "none"
        assert t["series"] == term.backend.series and t["outbox"] == 0 and t["version"]
        assert t["crash_loop"] is False and t["last_sync"]
        # the terminals page script shows the new columns
        js = server.hall.http.get(server.url + "/static/admin.js").text
        assert "t.series" in js and "t.crash_loop" in js
    finally:
        term.close()


def test_server_guide_and_settings_routes_validate_and_use_etags(shared, tmp_path):
    server = shared
    api = server.hall.api
    term_token = server.hall.tokens["terminal"]
    r = api("GET", "/api/v1/sync/guides", token=term_token)
    assert r.status_code == 200 and r.headers["ETag"].strip('"') == r.json()["digest"]
    files = r.json()["files"]
    assert "catalogue.toml" in files and len(files) >= 40
    again = api("GET", "/api/v1/sync/guides", token=term_token, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    # the shipped guides name services of the sample hall, not of this test hall: refused, file and field named
    r = api("PUT", "/api/v1/sync/guides", token="sup", json={"files": files})
    assert r.status_code == 422
    first = r.json()["errors"][0]
    assert first["file"].endswith(".toml") and first["field"] in ("service", "window") and first["line"] > 0
    r = api("PUT", "/api/v1/sync/guides", token="sup", json={"files": {"../x.toml": "a = 1"}})
    assert r.status_code == 422 and "bad file path" in r.json()["message"]
    assert api("PUT", "/api/v1/sync/guides", token=term_token, json={"files": files}).status_code == 403

    r = api("GET", "/api/v1/sync/hall", token=term_token)
    assert r.status_code == 200 and r.json()["hall"]["hall"]["code"] == "testhall"
    assert api("GET", "/api/v1/sync/hall", token=term_token,
               headers={"If-None-Match": r.headers["ETag"]}).status_code == 304

    me = api("GET", "/api/v1/sync/terminal", token=term_token, params={"mode": "dispenser"}).json()
    assert len(me["series"]) == 1
    bad = api("PUT", f"/api/v1/sync/terminals/{me['terminal_id']}/settings", token="sup",
              json={"settings": {"timeouts.idle_s": 1}})
    assert bad.status_code == 422 and bad.json()["field"] == "timeouts.idle_s"
    bad = api("PUT", f"/api/v1/sync/terminals/{me['terminal_id']}/settings", token="sup",
              json={"settings": {"server.url": "http://evil"}})
    assert bad.status_code == 422 and bad.json()["field"] == "server.url"
    ok = api("PUT", f"/api/v1/sync/terminals/{me['terminal_id']}/settings", token="sup",
             json={"settings": {"timeouts.idle_s": 45}})
    assert ok.status_code == 200
    me2 = api("GET", "/api/v1/sync/terminal", token=term_token).json()
    assert me2["settings"] == {"timeouts.idle_s": 45.0} and me2["series"] == me["series"]
    # a two-letter prefix ending in an assigned series letter would collide with offline numbers
    r = api("POST", "/api/v1/services", token="sup",
            json={"code": "clash", "name": "冲突", "prefix": "A" + me["series"]})
    assert r.status_code == 409 and r.json()["field"] == "prefix"
    # an offline ticket that does not follow the scheme is refused, named, and nothing is stored
    r = api("POST", "/api/v1/sync/batch", token=term_token, json={"events": [
        {"key": "k1", "kind": "ticket", "payload": {"id": "0" * 32, "number": "A0001", "service": "labor",
                                                    "day": "2026-01-05", "seq": 1, "series": me["series"],
                                                    "issued_at": 1.7e9}}]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "rejected"
    assert r.json()["results"][0]["field"] == "number"
    # a ticket request whose answer the terminal never got is voided (cancelled) once, by its key
    t = api("POST", "/api/v1/tickets", token=term_token, json={"service": "labor", "key": "lost-answer-1"}).json()
    void = {"events": [{"key": "void-lost-answer-1", "kind": "void", "payload": {"key": "lost-answer-1"}}]}
    r = api("POST", "/api/v1/sync/batch", token=term_token, json=void)
    assert r.json()["results"][0] == {"key": "void-lost-answer-1", "status": "applied", "field": None,
                                      "error": None, "number": t["number"]}
    assert api("POST", "/api/v1/sync/batch", token=term_token, json=void).json()["results"][0]["status"] == "duplicate"
    listed = api("GET", "/api/v1/tickets", params={"status": "cancelled"}).json()["tickets"]
    assert [x["number"] for x in listed] == [t["number"]]


class _Chunks:
    """What ``read_events`` reads: a response's ``iter_content``, here bytes cut at awkward places."""

    def __init__(self, raw: bytes, size: int):
        self.parts = [raw[i:i + size] for i in range(0, len(raw), size)]

    def iter_content(self, chunk_size=None):
        yield from self.parts


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_the_event_stream_parser_reads_ids_kinds_and_data_across_chunks(size):
    from kiosk.sync.events import read_events

    raw = (": keep-alive\n\n"
           "id: 41\r\nevent: ticket_called\r\ndata: {\"window\": 2, \"name\": \"劳动保障\"}\r\n\r\n"
           "event: config_changed\ndata: {\"version\":\ndata:  7}\n\n"
           "data: [1, 2]\n\n"
           "id: 43\nevent: odd\ndata: not json\n\n"
           "event: unfinished\ndata: {}\n").encode("utf-8")
    got = list(read_events(_Chunks(raw, size)))
    assert got == [("41", "ticket_called", {"window": 2, "name": "劳动保障"}),
                   ("41", "config_changed", {"version": 7}),
                   ("41", "message", {"value": [1, 2]}),
                   ("43", "odd", {"raw": "not json"})]  # the event cut off at the end is not handed on
