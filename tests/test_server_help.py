"""呼叫工作人员 on a real server: who may ask, who may dismiss, who hears of it, and the audit trail."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_server_support import BACKENDS, enroll_terminal, server_fixture  # noqa: E402


@pytest.fixture(scope="module", params=BACKENDS)
def hall(request, tmp_path_factory):
    h = server_fixture(request, tmp_path_factory)
    enroll_terminal(h, "1号取号机")
    return h


def read_events(hall, token, sink, stop, ready):
    headers = {"Authorization": f"Bearer {hall.tokens[token]}"} if token else {}
    with requests.get(hall.url + "/api/v1/events", headers=headers, stream=True, timeout=30) as r:
        ready.set()
        kind = None
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                sink.append((kind, json.loads(line[6:])))
            if stop.is_set():
                return


def test_only_terminals_ask_and_staff_alone_see_and_dismiss(hall):
    assert hall.api("POST", "/api/v1/terminals/help", token=None).status_code == 401
    for staff in ("clerk", "sup"):  # a person signed in is not a terminal
        r = hall.api("POST", "/api/v1/terminals/help", token=staff)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert hall.api("GET", "/api/v1/terminals/help", token=None).status_code == 401
    assert hall.api("GET", "/api/v1/terminals/help", token="terminal").status_code == 403

    staff_events, public_events, stop = [], [], threading.Event()
    for token, sink in (("clerk", staff_events), (None, public_events)):
        ready = threading.Event()
        threading.Thread(target=read_events, args=(hall, token, sink, stop, ready), daemon=True).start()
        assert ready.wait(10)
    time.sleep(0.3)

    r = hall.api("POST", "/api/v1/terminals/help", token="1号取号机")
    assert r.status_code == 201, r.text
    asked = r.json()
    assert asked["terminal"] == "1号取号机" and asked["repeated"] is False
    again = hall.api("POST", "/api/v1/terminals/help", token="1号取号机").json()  # pressed again at once
    assert again["repeated"] is True and again["id"] == asked["id"]

    listed = hall.api("GET", "/api/v1/terminals/help", token="clerk").json()
    assert [h["id"] for h in listed if h["terminal"] == "1号取号机"] == [asked["id"]]

    assert hall.api("POST", f"/api/v1/terminals/help/{asked['id']}/dismiss", token="1号取号机").status_code == 403
    assert hall.api("POST", f"/api/v1/terminals/help/{asked['id']}/dismiss", token=None).status_code == 401
    assert hall.api("POST", "/api/v1/terminals/help/not-an-id/dismiss", token="clerk").status_code == 422
    r = hall.api("POST", f"/api/v1/terminals/help/{asked['id']}/dismiss", token="clerk")
    assert r.status_code == 204, r.text
    assert not [h for h in hall.api("GET", "/api/v1/terminals/help", token="sup").json() if h["id"] == asked["id"]]

    deadline = time.time() + 10
    while time.time() < deadline and not any(k == "help_dismissed" for k, _ in staff_events):
        time.sleep(0.05)
    stop.set()
    hall.api("POST", "/api/v1/terminals/help", token="terminal")  # one more event lets the readers see `stop`
    requested = [d for k, d in staff_events if k == "help_requested"]
    assert len([d for d in requested if d["help"]["id"] == asked["id"]]) == 1  # the repeat raised no new alert
    assert any(k == "help_dismissed" and d["help"]["id"] == asked["id"] and d["by"] == "王芳"
               for k, d in staff_events)
    assert not any(k and k.startswith("help_") for k, _ in public_events)  # never on the hall TV

    rows = hall.api("GET", "/api/v1/audit", token="sup", params={"action": "terminal.help"}).json()
    assert any(r["action"] == "terminal.help" and r["role"] == "terminal" for r in rows), rows[:5]
    assert any(r["action"] == "terminal.help_dismiss" and r["actor"] == "clerk" and r["outcome"] == "ok"
               for r in rows), rows[:5]
