"""POST /api/v1/tickets on its lean path (server/lean_route.py) answers as FastAPI's own handler does.

The lean path takes only ``Content-Type: application/json`` exactly; the same request sent as
``application/json; charset=utf-8`` goes through FastAPI's generic handler all the way. Every request here
is sent both ways to a real server and must get the same status and error body.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import server_fixture

LEAN, GENERIC = "application/json", "application/json; charset=utf-8"


@pytest.fixture(scope="module", params=[pytest.param("sqlite", id="sqlite")])
def hall(request, tmp_path_factory):
    return server_fixture(request, tmp_path_factory)


def test_the_ticket_route_takes_the_lean_path():
    """The route's shape is one the lean path serves (a changed signature would silently lose it)."""
    from server import api_queue
    from server.lean_route import LeanRoute, lean_shape

    route = next(r for r in api_queue.router.routes if r.path == "/api/v1/tickets" and "POST" in r.methods)
    assert isinstance(route, LeanRoute)
    assert lean_shape(route)[:4] == ("body", api_queue.TicketIn, "request", "act")


def both(hall, body: bytes, token: str | None = "terminal"):
    out = []
    for content_type in (LEAN, GENERIC):
        r = hall.api("POST", "/api/v1/tickets", token=token, data=body, headers={"Content-Type": content_type})
        out.append((r.status_code, r.json()))
    return out


@pytest.mark.parametrize("body", [b'{"service": "nope"}', b'{"service": "BAD CODE"}', b"{}", b"[1, 2]",
                                  b'{"service": "labor", "extra": 1}', b'{"service": 7}', b'{"service": "1" ',
                                  b"", b"null", b"\xff\xfe", b'{"service": "labor", "key": "a\\u0000b"}',
                                  b'{"service": "labor", "priority": "vip"}', b'{"service": "labor", "key": ""}',
                                  b'{"service": "labor", "person_key": "abc"}', b'"labor"'])
def test_refusals_are_fastapis(hall, body):
    lean, generic = both(hall, body)
    assert 400 <= lean[0] < 500 and lean == generic, (lean, generic)


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_the_credential_is_checked_before_the_body_as_fastapi_does(hall, token):
    for body in (b'{"service": "labor"}', b'{"service": "nope", "x": 1}'):
        lean, generic = both(hall, body, token)
        assert lean[0] == 401 and lean == generic, (lean, generic)
    lean, generic = both(hall, b"{bad", token)  # undecodable JSON: FastAPI answers 400 before asking who
    assert lean[0] == 400 and lean == generic


def test_tickets_and_repeated_keys_are_the_same_both_ways(hall):
    made = {}
    for content_type in (LEAN, GENERIC):
        r = hall.api("POST", "/api/v1/tickets", token="terminal", data=b'{"service": "labor", "key": "lean-1"}',
                     headers={"Content-Type": content_type})
        made[content_type] = (r.status_code, r.json())
    assert made[LEAN][0] == 201 and made[GENERIC][0] == 200  # the second is the key's repeat
    assert made[LEAN][1] == made[GENERIC][1]
    assert made[LEAN][1]["number"].startswith("A") and made[LEAN][1]["windows"]


def test_a_staff_ticket_on_the_lean_path_writes_its_audit_line(hall):
    r = hall.api("POST", "/api/v1/tickets", token="sup", data=b'{"service": "labor"}',
                 headers={"Content-Type": LEAN})
    assert r.status_code == 201, r.text
    rows = hall.api("GET", "/api/v1/audit", token="sup", params={"actor": "sup", "action": "ticket.issue"}).json()
    assert any(row["target"] == "service labor" and row["outcome"] == "ok" for row in rows), rows


def test_a_chunked_body_over_the_limit_is_cut_off_on_the_lean_path(hall):
    """The body limit (server/limits.py) refuses while the lean path reads the body: 413, as elsewhere."""
    from test_server_limits import stream_body

    head = (b"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + hall.tokens["terminal"].encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b" " * 65536
    answer, sent = stream_body(hall, head, b"%x\r\n" % len(piece) + piece + b"\r\n", 64 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"field":"body"' in answer.replace(b" ", b"")
