"""Bad answers from a hall server keep the terminal's last good state, and the log says why.

A tiny fake server on 127.0.0.1 answers the pull routes well once, then with junk
JSON, 500s, truncated bodies and content that fails validation.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kiosk.config import load_terminal
from kiosk.hall_file import load_hall
from kiosk.paths import SAMPLE_GUIDES, SAMPLE_HALL
from kiosk.sync import RemoteBackend, Unreachable
from kiosk.wire.guidefiles import folder_to_files, validate_files
from kiosk.wire.hallcodec import hall_to_dict


class FakeHall:
    """Serves /api/v1/sync/{terminal,hall,guides} and /api/v1/services from ``self.answers``."""

    def __init__(self):
        self.answers: dict[str, tuple] = {}
        self.seen: list[tuple[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                fake.seen.append((path, self.headers.get("If-None-Match", "")))
                status, body, etag, cut = fake.answers.get(path, (404, b'{"error":"not_found"}', None, False))
                if etag and self.headers.get("If-None-Match") == f'"{etag}"':
                    self.send_response(304)
                    self.send_header("ETag", f'"{etag}"')
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body) + (1000 if cut else 0)))
                if etag:
                    self.send_header("ETag", f'"{etag}"')
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                if cut:
                    self.close_connection = True

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # a short poll: shutdown() waits for the loop to look (0.5 s by default, at every test's end)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def answer(self, path: str, body, etag: str | None = None, status: int = 200, cut: bool = False) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.answers[path] = (status, raw, etag, cut)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake():
    f = FakeHall()
    yield f
    f.close()


GOOD_HALL = hall_to_dict(load_hall(SAMPLE_HALL))
GOOD_HALL["hall"]["name"] = "青石镇便民服务中心（服务器）"
GOOD_FILES = folder_to_files(SAMPLE_GUIDES)
GOOD_DIGEST = validate_files(GOOD_FILES, load_hall(SAMPLE_HALL))[0].digest


def good(fake: FakeHall) -> None:
    fake.answer("/api/v1/sync/terminal", {"terminal_id": "a" * 32, "series": "X", "settings": {"timeouts.idle_s": 45},
                                          "settings_version": 1, "hall_version": 7}, etag="tX-1")
    fake.answer("/api/v1/sync/hall", {"version": 7, "hall": GOOD_HALL}, etag="h7")
    fake.answer("/api/v1/sync/guides", {"digest": GOOD_DIGEST, "files": GOOD_FILES}, etag=GOOD_DIGEST)
    fake.answer("/api/v1/services", [{"code": s["code"], "waiting": 4, "estimated_wait_s": 600, "open": True,
                                      "closed_code": "", "closed_reason": "", "windows": []}
                                     for s in GOOD_HALL["services"]])


def backend_for(fake: FakeHall, data: Path) -> RemoteBackend:
    config = load_terminal(None)
    config.data_dir, config.mode = data, "inquiry"
    config.server_url, config.server_token, config.server_series = fake.url, "t0ken", "X"
    return RemoteBackend(config, load_hall(SAMPLE_HALL), data)


def snapshot(b: RemoteBackend) -> dict:
    folder = b.content.guides_folder()
    return {"hall": b.hall.name, "hall_etag": b.hall_etag, "versions": b.content.versions(),
            "idle": b.config.timeouts.idle_s, "series": b.series,
            "guides": folder_to_files(folder) if folder else None,
            "waiting": {s.service.code: s.waiting for s in b.services()}}


def pull(b: RemoteBackend, kind: str):
    fn = {"terminal": b.pull_terminal, "hall": b.pull_hall, "guides": b.pull_guides,
          "services": b.refresh_services}[kind]
    try:
        return fn()
    except Unreachable as exc:
        b.went_offline(exc)  # what the live thread does
        return "unreachable"
    except Exception as exc:  # noqa: BLE001 - a BadAnswer from the counts is logged by the worker
        logging.getLogger("test").warning("services: %s", exc)
        return "bad"


def test_good_answers_are_taken_and_kept_on_disk(fake, tmp_path):
    good(fake)
    b = backend_for(fake, tmp_path / "data")
    for kind in ("terminal", "hall", "guides", "services"):
        assert pull(b, kind) is not False, kind
    assert b.hall.name.endswith("（服务器）") and b.hall_etag == "h7"
    assert b.config.timeouts.idle_s == 45
    assert b.content.versions()["guides"] == GOOD_DIGEST
    assert all(s.waiting == 4 for s in b.services())
    # a second pull sends the versions it holds and gets 304: nothing changes
    fake.seen.clear()
    assert not b.pull_hall() and not b.pull_guides() and not b.pull_terminal()
    assert ("/api/v1/sync/hall", '"h7"') in fake.seen and ("/api/v1/sync/guides", f'"{GOOD_DIGEST}"') in fake.seen
    b.close()
    # a restart with the server away: the saved copies, not the hall file
    fake.answer("/api/v1/sync/hall", b"", status=500)
    again = backend_for(fake, tmp_path / "data")
    assert again.hall.name.endswith("（服务器）") and again.config.timeouts.idle_s == 45
    from devices.printer import FakePrinter
    from devices.voice import FakeVoice
    from kiosk.terminal import Terminal

    term = Terminal(again.config, again.hall, again, FakePrinter(), FakeVoice())
    again.attach(term)
    assert term.guides.version == GOOD_DIGEST  # the inquiry screens read the server's last good guides
    again.close()


BAD = {
    "junk JSON": dict(body=b'{"hall": [1, 2,,, not json'),
    "500": dict(body=b'{"error":"boom"}', status=500),
    "truncated": dict(body=b'{"version": 8, "hall": {"hall": {"name": "x"', cut=True),
    "wrong shape": dict(body=[1, 2, 3]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_answers_keep_the_last_good_state_and_log_why(fake, tmp_path, caplog, case):
    good(fake)
    b = backend_for(fake, tmp_path / "data")
    for kind in ("terminal", "hall", "guides", "services"):
        pull(b, kind)
    before = snapshot(b)
    caplog.clear()
    for path in ("/api/v1/sync/terminal", "/api/v1/sync/hall", "/api/v1/sync/guides", "/api/v1/services"):
        fake.answer(path, etag="new-version", **BAD[case])
    with caplog.at_level(logging.WARNING):
        results = {kind: pull(b, kind) for kind in ("terminal", "hall", "guides", "services")}
    assert snapshot(b) == before, results
    text = caplog.text
    expected = {"junk JSON": "not JSON", "500": "HTTP 500", "truncated": "cut off",
                "wrong shape": "expected a JSON object"}[case]
    assert expected in text, text
    assert "keeping the last good copy" in text
    b.close()


def test_content_with_errors_is_refused_naming_file_and_field(fake, tmp_path, caplog):
    good(fake)
    b = backend_for(fake, tmp_path / "data")
    for kind in ("terminal", "hall", "guides"):
        pull(b, kind)
    before = snapshot(b)
    broken_hall = json.loads(json.dumps(GOOD_HALL))
    broken_hall["services"][0]["prefix"] = "a1"
    fake.answer("/api/v1/sync/hall", {"version": 8, "hall": broken_hall}, etag="h8")
    files = dict(GOOD_FILES)
    name = next(p for p in files if p.startswith("medical/"))
    files[name] = files[name].replace("case_type = ", "case_type = \"不存在的类型\"\nold_case_type = ", 1)
    fake.answer("/api/v1/sync/guides", {"digest": "x" * 64, "files": files}, etag="g2")
    fake.answer("/api/v1/sync/terminal", {"terminal_id": "a" * 32, "series": "X", "settings": {"timeouts.idle_s": 1},
                                          "settings_version": 2, "hall_version": 8}, etag="tX-2")
    with caplog.at_level(logging.WARNING):
        assert not b.pull_hall()
        assert not b.pull_guides()
        assert not b.pull_terminal()
    assert snapshot(b) == before
    assert "services[0].prefix" in caplog.text
    assert name in caplog.text and "case_type" in caplog.text
    assert "timeouts.idle_s" in caplog.text
    assert len(b.content.problems) == 3
    # unsafe paths never touch the disk
    fake.answer("/api/v1/sync/guides", {"digest": "y" * 64, "files": {"../../evil.toml": "x = 1"}}, etag="g3")
    assert not b.pull_guides() and "bad file path" in caplog.text
    assert not (tmp_path / "evil.toml").exists()
    b.close()


def test_an_unreadable_issue_answer_goes_offline_and_voids_the_request(fake, tmp_path):
    good(fake)
    b = backend_for(fake, tmp_path / "data")
    b.config.mode = "dispenser"
    pull(b, "services")
    fake.answer("/api/v1/tickets", b"<html>proxy error</html>")  # the server may have made a ticket
    issued = b.issue("general")
    assert issued.ticket.number.startswith("ZX") and b.status_marker() == "离线"
    kinds = [e.kind for e in b.outbox.pending()]
    assert kinds == ["void", "ticket"]
    void = b.outbox.pending()[0]
    assert void.key.startswith("void-") and len(void.payload["key"]) == 32
    b.close()


def test_a_crash_between_ticket_and_outbox_is_repaired_at_start(fake, tmp_path):
    import sqlalchemy as sa

    from kiosk.sync.outbox import outbox

    fake.close()  # no server at all
    b = backend_for(fake, tmp_path / "data")
    numbers = [b.issue("general").ticket.number for _ in range(3)]
    with b.db.begin() as conn:  # as if the process died right after the ticket's commit
        conn.execute(sa.delete(outbox).where(outbox.c.id == 2))
    assert b.outbox.size() == 2
    b.close()
    again = backend_for(fake, tmp_path / "data")
    assert again.outbox.size() == 3
    assert sorted(e.payload["number"] for e in again.outbox.pending()) == sorted(numbers)
    assert again.reconcile() == 0  # once
    again.close()


def test_content_sync_returns_what_it_pulled_and_touches_nothing_else(fake, tmp_path):
    """ContentSync knows only its client and folder: the caller gets the checked results to take into use."""
    from kiosk.sync.client import ServerClient
    from kiosk.sync.content import ContentSync, HallPull, TerminalPull

    good(fake)
    fake.answer("/api/v1/sync/terminal", {"terminal_id": "a" * 32, "series": "Y", "settings": {"timeouts.idle_s": 45},
                                          "link_key": "f" * 64}, etag="tY-1")
    cs = ContentSync(ServerClient(fake.url, "t0ken", 5.0), tmp_path / "sync")
    assert cs.pull_terminal("inquiry") == TerminalPull("Y", {"timeouts.idle_s": 45}, "f" * 64)
    got = cs.pull_hall("")
    assert isinstance(got, HallPull) and got.etag == "h7" and got.hall.name.endswith("（服务器）")
    content = cs.pull_guides(got.hall)
    assert content.digest == GOOD_DIGEST and len(content.guides) > 10
    assert cs.pull_hall("h7") is None and cs.pull_guides(got.hall) is None  # 304: nothing new
    assert cs.versions() == {"hall": "h7", "terminal": "tY-1", "guides": GOOD_DIGEST}
    assert cs.cached_terminal()["series"] == "Y" and cs.cached_hall()[1] == "h7"
    fake.answer("/api/v1/sync/hall", {"version": 8, "hall": {"hall": {}}}, etag="h8")  # invalid: rejected, None
    assert cs.pull_hall("h7") is None and cs.cached_hall()[1] == "h7" and cs.problems
