"""Under the kiosk unit, a terminal that cannot start shows 暂停服务 and starts again once the cause is gone
(``wiring/out_of_service.py``); in a shell it still refuses with one line and exit 1 (tests/test_corrupt_store.py,
tests/test_terminal_cli.py).

Real parts: ``python -m kiosk run`` on the offscreen window, a real SQLite file broken and then put right, and
systemd's side of ``$NOTIFY_SOCKET`` (a datagram socket this test binds, reading what the app sends).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from .conftest import ROOT


def _notify_socket(tmp_path: Path) -> tuple[socket.socket, str]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    return sock, path


def _kiosk_run(tmp_path: Path, data: Path, notify: str, *args: str, **extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("KIOSK_CONFIG", "XDG_CONFIG_HOME")}
    env.update({"KIOSK_DATA_DIR": str(data), "HOME": str(tmp_path / "home"), "SDL_VIDEODRIVER": "offscreen",
                "KIVY_HOME": str(tmp_path / "kivy"), "KIVY_NO_CONSOLELOG": "1", "NOTIFY_SOCKET": notify,
                "PYTHONPATH": str(ROOT), **extra})
    return subprocess.Popen([sys.executable, "-m", "kiosk", "run", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _garbage_queue(data: Path) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    path = data / "queue.db"
    path.write_bytes(bytes(range(256)) * 32)
    return path


def test_a_broken_queue_shows_the_sign_and_the_terminal_starts_once_it_is_put_right(tmp_path):
    sock, notify = _notify_socket(tmp_path)
    data = tmp_path / "data"
    broken = _garbage_queue(data)
    before = broken.read_bytes()
    proc = _kiosk_run(tmp_path, data, notify)
    try:
        ready = sock.recv(4096).decode()  # the page is up: systemd hears READY=1, with why in its status
        assert ready.startswith("READY=1") and "out of service" in ready and "queue.db" in ready, ready
        assert proc.poll() is None  # it waits, showing the page: no exit, so no restart loop
        time.sleep(1)
        assert proc.poll() is None and broken.read_bytes() == before  # nothing changed in the file
        broken.rename(data / "queue.db.broken")  # the technician moves it aside: a new empty queue
        out, err = proc.communicate(timeout=60)  # asked every 5 s: it exits for the unit to restart it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        sock.close()
    assert proc.returncode == 1, err
    assert "first-frame out-of-service" in out
    assert err.count("not a usable SQLite database") == 1 and "Traceback" not in err, err
    assert (data / "queue.db.broken").read_bytes() == before


def test_a_terminal_file_that_does_not_validate_shows_the_sign(tmp_path):
    sock, notify = _notify_socket(tmp_path)
    bad = tmp_path / "terminal.toml"
    bad.write_text('mode = "dispenser"\nname = "t1"\nidle_timeout_s = "soon"\n', encoding="utf-8")
    proc = _kiosk_run(tmp_path, tmp_path / "data", notify, "--config", str(bad), KIOSK_EXIT_AFTER_FIRST_FRAME="1")
    try:
        out, err = proc.communicate(timeout=120)
        ready = sock.recv(4096).decode()
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    assert proc.returncode == 1, err
    assert "first-frame out-of-service" in out
    assert f"{bad}:" in err and "Traceback" not in err, err  # the file:line refusal, on stderr as in a shell
    assert ready.startswith("READY=1") and "terminal.toml" in ready, ready

