"""Terminals with a real hall server: online, offline, back, and every ticket exactly once."""

from __future__ import annotations

import re
import signal
import stat
import subprocess
import threading

import pytest

from .sync_support import (TERMINAL_CLI, RestartableServer, build, cli, enrolled_terminal, quick_backoff,
                           terminal_file, wait_for)
from .test_server_support import BACKENDS, ROOT, db_url_for, env

NUMBER = re.compile(r"^[A-Z]{1,3}[0-9]+$")


@pytest.fixture
def server(tmp_path):
    s = RestartableServer(tmp_path / "server")
    yield s
    s.stop()


def test_cli_online_offline_restart_and_sync_exactly_once(server, tmp_path):
    path = terminal_file(tmp_path, "t1")
    r = cli(path, "enroll", "--server", server.url, "--code", server.code())
    assert r.returncode == 0, r.stderr
    assert "offline series X" in r.stdout
    text = path.read_text(encoding="utf-8")
    assert f'url = "{server.url}"' in text and 'series = "X"' in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the token
    token = re.search(r'token = "([^"]+)"', text).group(1)
    assert token not in (tmp_path / "t1" / "data" / "logs" / "settings.log").read_text(encoding="utf-8")

    # the enrollment above and the SIGKILL test below run `kiosk terminal` as its own process; the
    # eleven commands here run its main in this process (tests/cli_inproc.py), on the same files
    online = []
    for _ in range(2):
        r = cli(path, "issue", "labor", inproc=True)
        assert r.returncode == 0, r.stderr
        online.append(r.stdout.strip())
    assert online == ["A0001", "A0002"]

    server.kill()
    offline = []
    for service in ("labor", "medical", "labor"):
        r = cli(path, "issue", service, inproc=True)
        assert r.returncode == 0, r.stderr
        assert "离线" in r.stderr
        offline.append(r.stdout.strip())
    assert offline == ["AX0001", "BX001", "AX0002"]
    assert all(NUMBER.match(n) for n in online + offline)
    r = cli(path, "status", inproc=True)
    assert r.returncode == 0 and "OFFLINE" in r.stdout and "3 pending" in r.stdout, r.stdout
    r = cli(path, "sync", inproc=True)
    assert r.returncode == 1 and "3 event(s) still in the outbox" in r.stderr

    server.start()
    r = cli(path, "issue", "labor", inproc=True)  # online again, before the outbox went out
    assert r.returncode == 0 and r.stdout.strip() == "A0003" and "离线" not in r.stderr
    r = cli(path, "sync", inproc=True)
    assert r.returncode == 0, r.stderr
    assert "delivered 3 new" in r.stdout and "0 left" in r.stdout
    numbers = [t["number"] for t in server.tickets()]
    assert sorted(numbers) == sorted(online + offline + ["A0003"])
    assert len(numbers) == len(set(numbers))
    # offline tickets joined the queue where they arrived: before A0003, which the server issued later
    queue = server.hall.api("GET", "/api/v1/windows/1/queue", token="clerk").json()
    assert [t["number"] for t in queue["waiting"]] == ["A0001", "A0002", "AX0001", "AX0002", "A0003"]

    r = cli(path, "sync", inproc=True)  # a second sync changes nothing
    assert r.returncode == 0 and "delivered 0 new" in r.stdout
    assert sorted(t["number"] for t in server.tickets()) == sorted(numbers)
    r = cli(path, "status", inproc=True)
    assert "online" in r.stdout and "0 pending" in r.stdout


def test_sigkill_during_sync_then_again_is_still_exactly_once(server, tmp_path):
    path = enrolled_terminal(server, tmp_path, "t2")
    server.kill()
    term = build(path, background=False)
    numbers = [term.backend.issue("labor" if i % 2 else "medical").ticket.number for i in range(160)]
    term.close()
    assert len(set(numbers)) == 160 and all(n[1] == "X" for n in numbers)
    server.start()
    before = server.ticket_count()
    proc = subprocess.Popen([*TERMINAL_CLI, "sync", "--batch", "4", "--config", str(path)], env=env(), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: server.ticket_count() > before, 30, 0.002)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    delivered = server.ticket_count() - before
    assert 0 < delivered < 160, delivered  # killed in the middle
    r = cli(path, "sync", inproc=True)  # the killed one was its own process; the next two run here
    assert r.returncode == 0, r.stderr
    mine = [t["number"] for t in server.tickets() if t["number"] in set(numbers)]
    assert sorted(mine) == sorted(numbers)  # each exactly once
    r = cli(path, "sync", inproc=True)
    assert r.returncode == 0 and "delivered 0 new" in r.stdout
    assert server.ticket_count() == before + 160


@pytest.mark.parametrize("backend", BACKENDS)
def test_four_terminals_through_an_outage_never_collide(backend, tmp_path, monkeypatch):
    quick_backoff(monkeypatch)
    db_url, drop = db_url_for(backend, tmp_path)
    server = RestartableServer(tmp_path / "server", db_url)
    terms = []
    try:
        terms.extend(build(enrolled_terminal(server, tmp_path, f"d{i}")) for i in range(4))
        assert len({t.backend.series for t in terms}) == 4
        issued: list[str] = []
        lock = threading.Lock()

        def burst(n: int) -> None:
            def run(term):
                for i in range(n):
                    number = term.issue(("labor", "medical", "spare")[i % 3], wait_for_print=True).number
                    with lock:
                        issued.append(number)

            threads = [threading.Thread(target=run, args=(t,)) for t in terms]
            for th in threads:
                th.start()
            for th in threads:
                th.join(60)

        burst(3)
        assert all(t.status_marker() == "" for t in terms)
        server.kill()
        burst(5)
        assert all(t.status_marker() == "离线" for t in terms)
        offline = issued[12:]
        assert {n[1] for n in offline} == {t.backend.series for t in terms}  # prefix, series letter, digits
        server.start()
        # nobody pushes: each terminal notices the server and empties its outbox by itself
        assert wait_for(lambda: all(t.backend.online and t.backend.outbox.size() == 0 for t in terms), 30), \
            [(t.backend.online, t.backend.outbox.size()) for t in terms]
        assert wait_for(lambda: all(t.status_marker() == "" for t in terms), 5)
        burst(3)
        assert len(issued) == 44 and len(set(issued)) == 44
        on_server = [t["number"] for t in server.tickets()]
        assert len(on_server) == len(set(on_server)) == 44
        assert sorted(on_server) == sorted(issued)
    finally:
        for t in terms:
            t.close()
        server.stop()
        drop()
