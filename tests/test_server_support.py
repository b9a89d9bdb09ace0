"""Shared harness for the hall-server tests (no tests here).

Each server runs as a real ``python -m server`` (uvicorn) process on
127.0.0.1 at a free port, on a fresh SQLite file or a fresh PostgreSQL
database. PostgreSQL comes from ``KIOSK_TEST_PG_URL``; when that is unset the
harness starts a throwaway cluster with ``scripts/ci_postgres.sh`` and skips
the PostgreSQL variant only if that fails. Under ``CI=true`` it fails instead.
"""

from __future__ import annotations

import atexit
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
sys.path.insert(0, str(ROOT))

TEST_HALL = """
[hall]
name = "测试镇便民服务中心"
code = "testhall"
timezone = "Asia/Shanghai"
closed_weekdays = []
green_channel = true

[priority]
rule = "strict"

[[priority_groups]]
code = "elderly"
name = "65岁以上老人"

[[services]]
code = "labor"
name = "劳动保障"
prefix = "A"
range = [1, 9999]
average_minutes = 5

[[services]]
code = "medical"
name = "医疗保障"
prefix = "B"
range = [1, 999]

[[services]]
code = "small"
name = "限号业务"
prefix = "C"
range = [1, 99]
daily_cap = 2

[[services]]
code = "spare"
name = "备用业务"
prefix = "D"
range = [1, 999]

[[windows]]
number = 1
name = "劳动保障"
services = ["labor"]

[[windows]]
number = 2
name = "医疗保障"
services = ["medical", "small"]
green_channel = true

[[windows]]
number = 3
name = "综合受理"
services = ["labor", "medical"]

[[windows]]
number = 4
name = "备用窗口"
services = ["spare"]
"""

PASSWORD = "correct horse 42"

# Runs `kiosk ...` through wiring.cli.main. Command groups other people have not
# landed yet are stubbed, only while they are missing.
CLI_SHIM = """
import importlib.util, sys, types
for name in ("run", "config", "guides", "printer", "terminal", "ticket", "serve", "admin"):
    if importlib.util.find_spec("wiring.cli." + name) is None:
        m = types.ModuleType("wiring.cli." + name)
        m.register = lambda sub: None
        sys.modules[m.__name__] = m
from wiring.cli import main
sys.exit(main(sys.argv[1:]))
"""


def hall_today(days_ago: int = 0):
    """The test halls' date today (Asia/Shanghai, their time zone), ``days_ago`` days back: what
    their server calls today. Tests run with TZ=UTC, where ``date.today()`` is a day behind from
    16:00 to 24:00 UTC."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=days_ago)


def other_day_zone() -> str:
    """A browser time zone whose date is not the halls' date right now, so a page that takes "today"
    from the browser machine instead of the hall shows the wrong day at any hour. UTC-12 is 20 hours
    behind Shanghai (another date while Shanghai's clock reads before 20:00), UTC+14 six ahead
    (another date from 18:00)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return "Etc/GMT+12" if datetime.now(ZoneInfo("Asia/Shanghai")).hour < 19 else "Pacific/Kiritimati"


def hall_slot() -> tuple[str, str]:
    """The test halls' current 5-minute appointment slot ("HH:MM-HH:MM") and its day, in their time zone."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    start = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    return f"{start:%H:%M}-{start + timedelta(minutes=5):%H:%M}", start.date().isoformat()


def env(**extra: str) -> dict:
    e = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **extra)
    return e


def kiosk_cli(*args: str, stdin: str = "", timeout: float = 60, inproc: bool = False) -> subprocess.CompletedProcess:
    """``kiosk ARGS``: its own process, or with ``inproc`` the same main in this process (tests/cli_inproc.py:
    for set-up steps and answers; each file keeps real runs of its commands too)."""
    if inproc:
        from tests.cli_inproc import run_kiosk

        return run_kiosk(*args, stdin=stdin, timeout=timeout)
    return subprocess.run([PY, "-c", CLI_SHIM, *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env(), cwd=ROOT)


def kiosk_clis(*commands: tuple[str, ...], stdin: str = "", timeout: float = 60) -> list[subprocess.CompletedProcess]:
    """Several independent `kiosk ...` commands at once (each its own process, each given ``stdin``), their
    results in order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda args: kiosk_cli(*args, stdin=stdin, timeout=timeout), commands))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ PostgreSQL

_pg_started: dict = {}


def pg_base_url() -> str | None:
    url = os.environ.get("KIOSK_TEST_PG_URL")
    if url:
        return url
    if "url" in _pg_started:
        return _pg_started["url"]
    _pg_started["url"] = None
    try:
        out = subprocess.run(["sh", str(ROOT / "scripts" / "ci_postgres.sh")], capture_output=True, text=True,
                             timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        _pg_started["error"] = out.stderr.strip().splitlines()[-1:] or ["?"]
        return None
    found = dict(re.findall(r"export (\w+)='([^']*)'", out.stdout))
    _pg_started["url"] = found["KIOSK_TEST_PG_URL"]
    try:  # the cluster lives for the whole session: not a process a test left behind
        from tests.process_guard import allow_process

        allow_process(int(Path(found["KIOSK_PG_DIR"], "data", "postmaster.pid").read_text().split()[0]))
    except (OSError, ValueError, IndexError):
        pass
    atexit.register(subprocess.run, ["sh", str(ROOT / "scripts" / "ci_postgres.sh"), "stop", found["KIOSK_PG_DIR"]],
                    capture_output=True)
    return _pg_started["url"]


def require_pg() -> str:
    url = pg_base_url()
    if url is None:
        reason = f"PostgreSQL unavailable: KIOSK_TEST_PG_URL unset and it could not start ({_pg_started.get('error')})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


def fresh_pg_database(base: str) -> tuple[str, callable]:
    """A new empty database on the test server; returns its URL and a dropper."""
    import psycopg

    name = f"kiosk_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", base.split("://", 1)[1], count=1)
    url = base.split("://", 1)[0] + "://" + url

    def drop():
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def db_url_for(backend: str, tmp: Path) -> tuple[str, callable]:
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'server.db'}", lambda: None
    return fresh_pg_database(require_pg())


# ---------------------------------------------------------------------- server

@dataclass
class Hall:
    url: str
    db_url: str
    process: subprocess.Popen
    log: Path
    tokens: dict = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)

    def api(self, method: str, path: str, token: str | None = "admin", **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        return self.http.request(method, self.url + path, headers=headers, timeout=30, **kw)

    def login(self, username: str, password: str = PASSWORD) -> str:
        r = self.http.post(self.url + "/api/v1/auth/login", json={"username": username, "password": password},
                           timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def db(self):
        from kiosk.storage.db import open_engine

        return open_engine(self.db_url)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


_PREPARING = threading.Lock()


def _add_test_users(engine) -> None:
    """The test accounts: window staff act on their own window only (clerk at window 1, clerk2 at window 2)."""
    from server import accounts, hall_store

    hall_store.prepare(engine)
    for name, role, window in (("boss", "admin", None), ("sup", "supervisor", None), ("clerk", "window", 1),
                               ("clerk2", "window", 2)):
        accounts.add_user(engine, name, role, PASSWORD, display_name={"clerk": "王芳"}.get(name, name),
                          window=window)
    engine.dispose()


def start_server(db_url: str, tmp: Path, hall_text: str = TEST_HALL, users: bool = True,
                 server_env: dict | None = None) -> Hall:
    """A server on ``db_url`` with the test accounts and a terminal; ``server_env``: more environment for
    its process."""
    hall_file = tmp / "hall.toml"
    hall_file.write_text(hall_text, encoding="utf-8")
    if users:  # accounts go in before start, as an installer would do with `kiosk admin add-user`
        from kiosk.storage.db import open_engine

        with _PREPARING:  # start_servers' threads: SQLAlchemy's schema objects are shared (not thread-safe DDL)
            _add_test_users(open_engine(db_url))
    for attempt in range(3):
        hall = _launch(db_url, hall_file, tmp, server_env or {})
        if hall is not None:
            break
    else:
        raise RuntimeError("server did not start: its port was taken three times")
    if users:
        for name in ("boss", "sup", "clerk", "clerk2"):
            hall.tokens[name] = hall.login(name)
        hall.tokens["admin"] = hall.tokens["boss"]
        code = hall.api("POST", "/api/v1/terminals/enrollment-codes", json={}).json()["code"]
        r = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": code, "name": "dispenser-1"})
        assert r.status_code == 201, r.text
        hall.tokens["terminal"] = r.json()["token"]
    return hall


def start_servers(*servers: dict) -> list[Hall]:
    """Several ``start_server(**kwargs)`` at once, each on its own database: their start-ups overlap."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(servers)) as pool:
        futures = [pool.submit(start_server, **kw) for kw in servers]
    started = [f for f in futures if f.exception() is None]
    if len(started) < len(futures):
        for f in started:
            f.result().stop()
        raise next(f.exception() for f in futures if f.exception() is not None)
    return [f.result() for f in futures]


def _kill_if_running(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def _launch(db_url: str, hall_file: Path, tmp: Path, server_env: dict) -> Hall | None:
    """A server process on a free port, answering /healthz; None when another process took the port
    between free_port() and the server's bind (parallel test workers make that possible)."""
    port = free_port()
    log = tmp / f"server-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([PY, "-m", "server", "--db", db_url, "--host", "127.0.0.1", "--port", str(port),
                                 "--hall", str(hall_file)], stdout=out, stderr=subprocess.STDOUT, env=env(**server_env), cwd=ROOT)
    atexit.register(_kill_if_running, proc)  # a fixture that failed before its stop() leaves no orphan
    hall = Hall(f"http://127.0.0.1:{port}", db_url, proc, log)
    # wait for the server to answer or die; the limit only turns a hang into a failure (a start-up
    # took over 60 s with the machine's load at 12 on 2 cores)
    deadline = time.time() + 300
    while True:
        try:
            if requests.get(hall.url + "/healthz", timeout=2).status_code == 200:
                return hall
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            hall.stop()
            text = log.read_text(errors="replace")
            if "address already in use" in text.lower():
                return None
            raise RuntimeError(f"server did not start:\n{text[-3000:]}")
        time.sleep(0.05)


def enroll_terminal(hall: Hall, name: str, mode: str = "dispenser", window: int | None = None) -> str:
    """A new terminal's token: a supervisor's code made for ``mode`` (and ``window``), spent by the terminal."""
    body = {"name": name, "mode": mode, **({"window": window} if window else {})}
    r = hall.api("POST", "/api/v1/terminals/enrollment-codes", token="sup", json=body)
    assert r.status_code == 201, r.text
    r = hall.api("POST", "/api/v1/terminals/enroll", token=None, json={"code": r.json()["code"], "name": name})
    assert r.status_code == 201, r.text
    assert r.json()["mode"] == mode and r.json()["window"] == window
    hall.tokens[name] = r.json()["token"]
    return hall.tokens[name]


def server_fixture(request, tmp_path_factory) -> Hall:
    """Body of the backend-parametrized server fixtures in the test modules."""
    backend = request.param
    tmp = tmp_path_factory.mktemp(f"hall-{backend}")
    db_url, drop = db_url_for(backend, tmp)
    hall = start_server(db_url, tmp)
    request.addfinalizer(drop)
    request.addfinalizer(hall.stop)
    return hall


BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
