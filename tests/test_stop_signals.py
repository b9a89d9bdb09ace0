"""`kiosk run` (full screen) and `kiosk serve` end on SIGTERM and SIGINT, closing their databases.

systemd stops a unit with SIGTERM and waits (deploy units: TimeoutStopSec); a person at a
console presses Ctrl+C. Both processes are real: the terminal on Kivy's offscreen window in
full-screen mode, ready once it sends systemd's READY=1 to our socket; the server with an event
stream held open. A cleanly closed SQLite database has checkpointed and removed its -wal file;
a process that had to be killed leaves it behind. The 3 s promise itself comes from the
terminal's own deadline (wiring.app.STOP_GRACE_S); the time measured here is only printed,
the machine may be loaded.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from wiring.app import STOP_GRACE_S

from .conftest import ROOT
from .test_server_support import free_port

pytestmark = pytest.mark.slow

SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]


def kiosk(args, data_dir, tmp_path, **env_extra) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), KIOSK_DATA_DIR=str(data_dir), SDL_VIDEODRIVER="offscreen",
               KIVY_HOME=str(tmp_path / "kivy"), **env_extra)
    env.pop("KIOSK_CONFIG", None)
    return subprocess.Popen([sys.executable, "-m", "kiosk", *args], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "stderr.txt", "wb"))


def stop(proc: subprocess.Popen, sig: int) -> tuple[int, float]:
    start = time.monotonic()
    proc.send_signal(sig)
    try:
        code = proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"still running 15 s after {signal.Signals(sig).name}; killed")
    return code, time.monotonic() - start


@pytest.mark.parametrize("sig", SIGNALS)
def test_full_screen_terminal_stops_on_signal_and_closes_its_database(tmp_path, sig):
    data = tmp_path / "data"
    notify = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sd:
        sd.bind(str(notify))
        sd.settimeout(90)
        proc = kiosk(["run"], data, tmp_path, NOTIFY_SOCKET=str(notify))
        try:
            message = sd.recv(4096).decode()  # the first screen is up
        except TimeoutError:
            proc.kill()
            pytest.fail("no READY=1 within 90 s: " + (tmp_path / "stderr.txt").read_text(errors="replace")[-2000:])
        try:
            assert message.startswith("READY=1")
            assert (data / "queue.db-wal").exists()  # ready means the queue database is open
        except AssertionError:
            proc.kill()
            proc.wait()
            raise
        code, took = stop(proc, sig)
        after = sd.recv(4096).decode()
        while not after.startswith("STOPPING=1"):  # watchdog pings may come first
            after = sd.recv(4096).decode()
    print(f"kiosk run exited {took:.2f} s after {signal.Signals(sig).name}")
    assert code == 0
    assert not (data / "queue.db-wal").exists(), "the queue database was not closed"
    log = next((data / "logs").glob("*.log")).read_text(encoding="utf-8")
    assert f"stopped by signal {int(sig)}" in log  # the clean path, not the forced exit
    assert "did not stop within" not in log


def test_the_terminal_has_a_deadline_under_systemds():
    assert STOP_GRACE_S < 3


@pytest.mark.parametrize("sig", SIGNALS)
def test_server_stops_on_signal_with_an_event_stream_open(tmp_path, sig):
    data = tmp_path / "data"
    port = free_port()
    proc = kiosk(["serve", "--host", "127.0.0.1", "--port", str(port)], data, tmp_path)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "stderr.txt").read_text()
        time.sleep(0.1)
    stream = requests.get(url + "/api/v1/events", stream=True, timeout=30)
    assert stream.status_code == 200
    assert (data / "server.db-wal").exists()
    code, took = stop(proc, sig)
    stream.close()
    print(f"kiosk serve exited {took:.2f} s after {signal.Signals(sig).name}")
    # uvicorn re-raises the signal once it has shut down: death by SIGTERM or 130 after
    # Ctrl+C, which systemd and shells count as a clean stop
    assert code in (0, -int(sig), 128 + int(sig))
    assert not (data / "server.db-wal").exists(), "the server database was not closed"
