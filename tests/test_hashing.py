"""argon2 costs: the tests hash cheaply (KIOSK_INSECURE_TEST_HASH, set in conftest);
a real process, without that variable, hashes passwords and PINs with the strong costs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from argon2 import PasswordHasher

from kiosk.hashing import TEST_ENV, password_hasher

from .conftest import ROOT

STRONG = "m=65536,t=3,p=4"


def production_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != TEST_ENV}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_tests_run_with_cheap_costs():
    assert os.environ.get(TEST_ENV) == "1"
    assert "m=8,t=1,p=1" in password_hasher().hash("x")


def test_staff_password_uses_strong_costs_in_production(tmp_path):
    db = tmp_path / "server.db"
    r = subprocess.run([sys.executable, "-m", "kiosk", "admin", "add-user", "wang", "--role", "admin",
                        "--password-stdin", "--db", f"sqlite:///{db}"], input="s3cret-passw0rd-9\n",
                       capture_output=True, text=True, env=production_env(), cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    (stored,) = sqlite3.connect(db).execute("SELECT password_hash FROM users WHERE username='wang'").fetchone()
    assert stored.startswith("$argon2id$") and STRONG in stored
    assert PasswordHasher().verify(stored, "s3cret-passw0rd-9")


def test_pin_uses_strong_costs_in_production():
    code = "from kiosk.pin import hash_pin; print(hash_pin('482913'))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=production_env(),
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    stored = r.stdout.strip()
    assert stored.startswith("$argon2id$") and STRONG in stored and "482913" not in stored
