"""Shared pieces of the terminal-sync tests (no tests here).

A real hall server (``python -m server``) that can be killed and started again
on the same port and database, and terminals enrolled with it, each with its
own terminal file and data folder.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import requests

from .test_server_support import PY, ROOT, Hall, env, start_server

TERMINAL_CLI = [PY, "-m", "kiosk", "terminal"]


class RestartableServer:
    def __init__(self, tmp: Path, db_url: str | None = None):
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.db_url = db_url or f"sqlite:///{tmp / 'server.db'}"
        self.hall: Hall = start_server(self.db_url, tmp)
        self.url = self.hall.url
        self.port = int(self.url.rsplit(":", 1)[1])
        self.starts = 1

    @classmethod
    def around(cls, hall: Hall) -> "RestartableServer":
        """A server some fixture already started with ``start_server(db_url, tmp)`` (a module's shared one)."""
        s = cls.__new__(cls)
        s.tmp, s.db_url, s.hall, s.url = hall.log.parent, hall.db_url, hall, hall.url  # its folder holds its log
        s.port = int(s.url.rsplit(":", 1)[1])
        s.starts = 1
        return s

    @property
    def running(self) -> bool:
        return self.hall.process.poll() is None

    def kill(self) -> None:
        """A hard stop (SIGKILL): no goodbye to anyone."""
        if self.running:
            self.hall.process.send_signal(signal.SIGKILL)
            self.hall.process.wait(10)

    def stop(self) -> None:
        if self.running:
            self.hall.stop()

    def start(self) -> None:
        assert not self.running
        self.starts += 1
        log = self.tmp / f"server-{self.port}-{self.starts}.log"
        deadline = time.time() + 120  # a restart on a loaded machine (parallel workers); not a timing check
        while True:
            with open(log, "wb") as out:
                proc = subprocess.Popen([PY, "-m", "server", "--db", self.db_url, "--host", "127.0.0.1",
                                         "--port", str(self.port), "--hall", str(self.tmp / "hall.toml")],
                                        stdout=out, stderr=subprocess.STDOUT, env=env(), cwd=ROOT)
            while proc.poll() is None and time.time() < deadline:
                try:
                    if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                        self.hall.process = proc
                        return
                except requests.RequestException:  # refused, or a slow first answer on a loaded machine
                    pass
                time.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
            if time.time() > deadline:
                raise RuntimeError(f"server did not restart:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.3)  # the port may still be held a moment: try again

    def code(self) -> str:
        r = self.hall.api("POST", "/api/v1/terminals/enrollment-codes", json={})
        assert r.status_code == 201, r.text
        return r.json()["code"]

    def tickets(self, day: str | None = None) -> list[dict]:
        params = {"limit": 5000}
        if day:
            params["date"] = day
        r = self.hall.api("GET", "/api/v1/tickets", params=params)
        assert r.status_code == 200, r.text
        return r.json()["tickets"]

    def ticket_count(self) -> int:
        """Straight from the database file (works while the server is busy or down)."""
        import sqlite3

        conn = sqlite3.connect(str(self.tmp / "server.db"), timeout=5)
        try:
            return conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
        except sqlite3.OperationalError:
            return -1
        finally:
            conn.close()


def terminal_file(tmp: Path, name: str, mode: str = "dispenser", printer: str = "none") -> Path:
    """A terminal file of its own, data folder beside it."""
    from kiosk.config_write import apply_settings, ensure_terminal_file

    path = tmp / name / "terminal.toml"
    ensure_terminal_file(path)
    apply_settings(path, {"terminal.data_dir": str(tmp / name / "data"), "terminal.name": name,
                          "terminal.mode": mode, "terminal.window": 1 if mode == "evaluator" else 0,
                          "printer.kind": printer},
                   log_dir=tmp / name / "data" / "logs")
    return path


def enrolled_terminal(server: RestartableServer, tmp: Path, name: str, **kw) -> Path:
    from kiosk.config import load_terminal
    from kiosk.sync import enroll

    path = terminal_file(tmp, name, **kw)
    enroll(server.url, server.code(), load_terminal(path), path=path)
    return path


def cli(path: Path, *args: str, timeout: float = 60, inproc: bool = False) -> subprocess.CompletedProcess:
    """``kiosk terminal ARGS --config PATH``: its own process, or with ``inproc`` the same main in this
    process (tests/cli_inproc.py; no ``timeout`` there, so only for commands that end by themselves)."""
    if inproc:
        from .cli_inproc import run_kiosk

        return run_kiosk("terminal", *args, "--config", str(path), env={"KIOSK_CONFIG": None})
    e = dict(env())
    e.pop("KIOSK_CONFIG", None)
    return subprocess.run([*TERMINAL_CLI, *args, "--config", str(path)], capture_output=True, text=True,
                          timeout=timeout, env=e, cwd=ROOT)


def build(path: Path, background: bool = True):
    from devices.printer import FakePrinter
    from devices.voice import FakeVoice
    from kiosk.config import load_terminal
    from kiosk.terminal import build_terminal

    return build_terminal(load_terminal(path), printer=FakePrinter(), voice=FakeVoice(), background=background)


def wait_for(condition, timeout: float = 10.0, step: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


def quick_backoff(monkeypatch) -> None:
    """Background threads retry within a second in tests (the product waits up to 15 s)."""
    from kiosk.sync import backend

    original = backend.RemoteBackend.__init__

    def init(self, *a, **kw):
        kw.setdefault("backoff_cap_s", 0.8)
        original(self, *a, **kw)

    monkeypatch.setattr(backend.RemoteBackend, "__init__", init)

