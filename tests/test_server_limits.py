"""What one client can take from a real server: body size, event streams, strict input, public events."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_server_support import start_server  # noqa: E402

PER_ADDRESS, TOTAL = 3, 5


@pytest.fixture(scope="module")
def hall(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("limits")
    saved = {k: os.environ.get(k) for k in ("KIOSK_MAX_STREAMS", "KIOSK_MAX_STREAMS_PER_ADDRESS")}
    os.environ.update(KIOSK_MAX_STREAMS=str(TOTAL), KIOSK_MAX_STREAMS_PER_ADDRESS=str(PER_ADDRESS))
    try:
        h = start_server(f"sqlite:///{tmp / 'server.db'}", tmp)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield h
    h.stop()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def port_of(hall) -> int:
    return int(hall.url.rsplit(":", 1)[1])


def stream_body(hall, head: bytes, chunk: bytes, total: int) -> tuple[bytes, int]:
    """Send ``head`` then up to ``total`` bytes of body until the server answers; (answer, bytes sent)."""
    s = socket.create_connection(("127.0.0.1", port_of(hall)), timeout=30)
    sent = 0
    try:
        s.sendall(head)
        s.setblocking(False)
        answer = b""
        while sent < total:
            try:
                got = s.recv(65536)
                if got:
                    answer += got
                    break
                break  # closed
            except BlockingIOError:
                pass
            try:
                sent += s.send(chunk)
            except (BlockingIOError, InterruptedError):
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                break
        s.setblocking(True)
        s.settimeout(30)
        try:
            while b"\r\n\r\n" not in answer or len(answer) < answer.index(b"\r\n\r\n") + 4 + 10:
                got = s.recv(65536)
                if not got:
                    break
                answer += got
        except (ConnectionResetError, socket.timeout):
            pass
        return answer, sent
    finally:
        s.close()


def test_a_declared_large_body_is_refused_before_it_is_read(hall):
    before = rss_kb(hall.process.pid)
    size = 200 * 1024 * 1024
    head = (f"POST /api/v1/terminals/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    answer, sent = stream_body(hall, head, b"x" * 65536, size)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"] == "too_large" and body["field"] == "body"
    assert sent < 64 * 1024 * 1024, sent  # the server answered long before the body was through
    assert rss_kb(hall.process.pid) - before < 30_000  # kB: the body was never held


def test_a_chunked_large_body_is_cut_off_at_the_limit(hall):
    before = rss_kb(hall.process.pid)
    head = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"a" * 65536
    chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
    answer, sent = stream_body(hall, head, chunk, 200 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 64 * 1024 * 1024, sent
    assert rss_kb(hall.process.pid) - before < 30_000


def test_bodies_under_the_limit_still_work(hall):
    # a sync batch of 1000 events is well under 1 MiB; a photo of up to 1 MB (its own limit) still goes in
    r = hall.api("PUT", "/api/v1/users/clerk/photo", data=b"\xff\xd8\xff" + b"0" * 900_000,
                 headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 204, r.text
    r = hall.api("PUT", "/api/v1/users/clerk/photo", data=b"\xff\xd8\xff" + b"0" * 1_100_000,
                 headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 413 and r.json()["field"] == "body"


def open_stream(hall, source: str, token: str | None = None) -> tuple[socket.socket, bytes]:
    s = socket.create_connection(("127.0.0.1", port_of(hall)), timeout=10, source_address=(source, 0))
    auth = f"Authorization: Bearer {hall.tokens[token]}\r\n" if token else ""
    s.sendall(f"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        got = s.recv(4096)
        if not got:
            break
        head += got
    if not head.startswith(b"HTTP/1.1 200"):  # a refusal: read its body too
        want = int(head.lower().split(b"content-length: ")[1].split(b"\r")[0])
        while len(head.split(b"\r\n\r\n", 1)[1]) < want:
            head += s.recv(4096)
    return s, head


def test_event_streams_are_capped_per_address_and_in_total(hall):
    held = []
    try:
        for _ in range(PER_ADDRESS):
            s, head = open_stream(hall, "127.0.0.1")
            held.append(s)
            assert head.startswith(b"HTTP/1.1 200"), head
        s, head = open_stream(hall, "127.0.0.1")
        s.close()
        assert head.startswith(b"HTTP/1.1 429") and b"per address" in head, head
        s, head = open_stream(hall, "127.0.0.1", token="terminal")  # a terminal behind that address (one NAT)
        held.append(s)                                               # is not counted with the anonymous ones
        assert head.startswith(b"HTTP/1.1 200"), head
        for _ in range(TOTAL - PER_ADDRESS - 1):  # another machine still gets its streams
            s, head = open_stream(hall, "127.0.0.2")
            held.append(s)
            assert head.startswith(b"HTTP/1.1 200"), head
        s, head = open_stream(hall, "127.0.0.3")  # but nobody gets past the total
        s.close()
        assert head.startswith(b"HTTP/1.1 429") and b"maximum" in head, head
        held.pop(0).close()  # a closed stream gives its slot back
        deadline = time.time() + 20
        while True:
            s, head = open_stream(hall, "127.0.0.3")
            if head.startswith(b"HTTP/1.1 200") or time.time() > deadline:
                break
            s.close()
            time.sleep(0.2)
        held.append(s)
        assert head.startswith(b"HTTP/1.1 200"), head
    finally:
        for s in held:
            s.close()


def read_event(s: socket.socket, kind: str) -> dict:
    buf = b""
    deadline = time.time() + 20
    while time.time() < deadline:
        buf += s.recv(65536)
        for block in buf.split(b"\n\n"):
            if f"event: {kind}".encode() in block:
                line = next(ln for ln in block.split(b"\n") if ln.startswith(b"data: "))
                return json.loads(line[6:])
    raise AssertionError(f"no {kind} event in {buf[-500:]!r}")


def test_anonymous_events_carry_no_green_channel_group(hall):
    # wait until the cap test's streams are gone
    deadline = time.time() + 20
    while True:
        public, head = open_stream(hall, "127.0.0.4")
        if head.startswith(b"HTTP/1.1 200") or time.time() > deadline:
            break
        public.close()
        time.sleep(0.2)
    staff, staff_head = open_stream(hall, "127.0.0.5", token="sup")
    try:
        assert head.startswith(b"HTTP/1.1 200") and staff_head.startswith(b"HTTP/1.1 200")
        r = hall.api("POST", "/api/v1/tickets", token="terminal", json={"service": "medical", "priority": "elderly"})
        assert r.status_code == 201, r.text
        seen = read_event(public, "ticket_issued")
        assert seen["ticket"]["number"] == r.json()["number"]
        assert "priority" not in seen["ticket"] and "elderly" not in json.dumps(seen)
        assert read_event(staff, "ticket_issued")["ticket"]["priority"] == "elderly"
    finally:
        public.close()
        staff.close()


@pytest.mark.parametrize("method,path,body,field", [
    ("POST", "/api/v1/ratings", {"key": "strict-1", "window": "1", "level": 5}, "window"),
    ("POST", "/api/v1/ratings", {"key": "strict-2", "window": 1, "level": "5"}, "level"),
    ("PUT", "/api/v1/services/spare", {"code": "spare", "name": "备用业务", "prefix": "D", "enabled": 0}, "enabled"),
    ("POST", "/api/v1/windows", {"number": "9", "name": "九号", "services": ["spare"]}, "number"),
    ("POST", "/api/v1/windows/1/transfer", {"window": 2.0}, "window"),
    ("POST", "/api/v1/terminals/heartbeat", {"outbox": "3"}, "outbox"),
    ("PATCH", "/api/v1/users/clerk", {"active": "false"}, "active"),
])
def test_no_coercion_of_input_types(hall, method, path, body, field):
    token = "terminal" if "heartbeat" in path else "sup" if "ratings" in path else "boss"
    r = hall.api(method, path, token=token, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()
    if "services" in path:
        assert all(s["enabled"] for s in hall.api("GET", "/api/v1/services").json() if s["code"] == "spare")
