"""`kiosk serve` and `kiosk admin` from the command line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
from cli_inproc import run_kiosk  # noqa: E402
from test_server_support import CLI_SHIM, PY, ROOT, env, free_port, kiosk_cli  # noqa: E402


def test_admin_commands(tmp_path):
    # in this process (tests/cli_inproc.py): thirteen answers without thirteen Python start-ups;
    # `kiosk serve` below and tests/test_hashing.py run `kiosk admin` as its own process
    db = f"sqlite:///{tmp_path / 'server.db'}"
    ok = run_kiosk("admin", "add-user", "boss", "--role", "admin", "--password-stdin", "--db", db,
                   stdin="a long password\n")
    assert ok.returncode == 0, ok.stderr
    for args, stdin, words in [
        (["add-user", "boss", "--role", "admin", "--password-stdin"], "another password\n", "already exists"),
        (["add-user", "w1", "--role", "window", "--password-stdin"], "short\n", "at least 10"),
        (["add-user", "bad name!", "--role", "window", "--password-stdin"], "long enough pw\n", "name"),
        (["add-service", "--code", "X", "--name", "n", "--prefix", "Q"], "", "--code"),
        (["add-service", "--code", "x", "--name", "n", "--prefix", "q"], "", "--prefix"),
        (["add-service", "--code", "x", "--name", "n", "--prefix", "Q", "--range", "9-1"], "", "--range"),
        (["add-service", "--code", "x", "--name", "n", "--prefix", "Q", "--hours", "8-12"], "", "--hours"),
        (["add-service", "--code", "x", "--name", "n", "--prefix", "A"], "", "prefix 'A' is already used"),
        (["add-service", "--code", "x", "--name", "n", "--prefix", "Q", "--windows", "77"], "", "unknown window"),
    ]:
        out = run_kiosk("admin", *args, "--db", db, stdin=stdin)
        assert out.returncode == 1, (args, out.stdout, out.stderr)
        assert out.stderr.count("\n") == 1 and words in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr
    code = run_kiosk("admin", "enrollment-code", "--name", "dispenser-1", "--db", db)
    assert code.returncode == 0 and len(code.stdout.strip()) == 14  # XXXX-XXXX-XXXX
    added = run_kiosk("admin", "add-service", "--code", "pension", "--name", "养老认证", "--prefix", "L",
                      "--range", "1-300", "--daily-cap", "50", "--hours", "08:30-12:00", "--windows", "1,9", "--db", db)
    assert added.returncode == 0, added.stderr
    unreachable = run_kiosk("admin", "enrollment-code", "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert unreachable.returncode == 1 and "cannot open the database" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr


def test_serve_runs_the_sample_hall_by_default(tmp_path):
    port = free_port()
    data = tmp_path / "data"
    proc = subprocess.Popen([PY, "-c", CLI_SHIM, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env={**env(), "KIOSK_DATA_DIR": str(data)}, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.time() < deadline, proc.stdout.read().decode()
                time.sleep(0.2)
        assert health["hall"] == "qingshi"  # the shipped sample hall, loaded into an empty database
        assert (data / "server.db").exists()
        # no default admin: nobody can sign in until `kiosk admin add-user`
        r = requests.post(f"http://127.0.0.1:{port}/api/v1/auth/login",
                          json={"username": "admin", "password": "admin123"}, timeout=10)
        assert r.status_code == 401
    finally:
        proc.terminate()
        proc.wait(15)
    assert proc.returncode in (0, -15)


def test_serve_rejects_bad_flags_in_one_line(tmp_path, monkeypatch):
    import uvicorn

    def would_serve(*args, **kwargs):
        raise AssertionError("kiosk serve took a bad flag and started serving")

    # the flags' checks in this process (tests/cli_inproc.py); if one let a bad flag through, the
    # test fails here instead of serving forever
    monkeypatch.setattr(uvicorn, "run", would_serve)
    monkeypatch.setattr(uvicorn.Server, "run", would_serve)
    for args, words in [(["--port", "70000"], "--port"), (["--db", "mysql://x"], "--db"),
                        (["--hall", str(tmp_path / "missing.toml")], "--hall")]:
        out = run_kiosk("serve", "--host", "127.0.0.1", *args)
        assert out.returncode == 1 and words in out.stderr and out.stderr.count("\n") == 1, out.stderr
    # a hall file that does not validate is found after the database is opened: its own process
    bad_hall = tmp_path / "hall.toml"
    bad_hall.write_text("[hall]\nname = 'x'\n", encoding="utf-8")
    out = kiosk_cli("serve", "--host", "127.0.0.1", "--port", str(free_port()), "--db",
                    f"sqlite:///{tmp_path / 's.db'}", "--hall", str(bad_hall))
    assert out.returncode == 1 and "services" in out.stderr and "Traceback" not in out.stderr, out.stderr
