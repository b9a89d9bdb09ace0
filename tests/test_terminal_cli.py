"""`kiosk terminal set-pin`: run as a real command, as an installer would."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from kiosk.config_write import DEPLOYED_TERMINAL_FILE
from kiosk.paths import SAMPLE_TERMINAL
from kiosk.pin import MAX_TRIES, PinGuard

from .cli_inproc import run_kiosk
from .conftest import ROOT


@pytest.fixture
def env(tmp_path):
    """A clean environment: HOME, data and config folders inside tmp_path."""
    e = {k: v for k, v in os.environ.items() if k not in ("KIOSK_CONFIG", "XDG_CONFIG_HOME")}
    e.update(HOME=str(tmp_path / "home"), KIOSK_DATA_DIR=str(tmp_path / "data"))
    return e


def set_pin_process(env, stdin: str, *args) -> subprocess.CompletedProcess:
    """The installed command, its own process."""
    return subprocess.run([sys.executable, "-m", "kiosk", "terminal", "set-pin", *map(str, args)],
                          input=stdin, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


def set_pin(env, stdin: str, *args) -> subprocess.CompletedProcess:
    """The same main in this process (tests/cli_inproc.py) with exactly ``env`` as its environment:
    no Python start-up per call. The first test and test_terminal_needs_an_action run real processes."""
    changes = {key: None for key in os.environ if key not in env} | env
    return run_kiosk("terminal", "set-pin", *args, stdin=stdin, env=changes)


def stored_hash(path: Path) -> str:
    return tomllib.loads(path.read_text(encoding="utf-8"))["security"]["pin_hash"]


def test_set_pin_creates_the_file_from_defaults_and_stores_a_hash(tmp_path, env):
    path = tmp_path / "etc" / "terminal.toml"
    result = set_pin_process(env, "270415\n", "--config", path)
    assert result.returncode == 0, result.stderr
    assert "created" in result.stdout and "PIN set" in result.stdout
    text = path.read_text(encoding="utf-8")
    assert "270415" not in text
    pin_hash = stored_hash(path)
    assert pin_hash.startswith("$argon2id$") and PasswordHasher().verify(pin_hash, "270415")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # everything but the hash is the shipped defaults, comments included
    sample = SAMPLE_TERMINAL.read_text(encoding="utf-8").splitlines()
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("pin_hash = "))
    assert lines[:at] + lines[at + 1:] == sample[:at] + sample[at + 1:]
    assert "# set with `kiosk terminal set-pin`" in lines[at]
    log = (tmp_path / "data" / "logs" / "settings.log").read_text(encoding="utf-8")
    assert 'security.pin_hash: "" -> ***' in log and "argon2" not in log


def test_set_pin_then_lockout_then_restart(tmp_path, env):
    path = tmp_path / "terminal.toml"
    assert set_pin(env, "864209", "--config", path).returncode == 0
    pin_hash = stored_hash(path)
    guard = PinGuard(tmp_path / "data", pin_hash)
    assert guard.verify("864209").ok
    for _ in range(MAX_TRIES):
        guard.verify("1111")
    assert not PinGuard(tmp_path / "data", pin_hash).verify("864209").ok  # "restarted", still locked
    # staff with a shell set a new PIN: the lock is lifted and only the new PIN opens
    assert set_pin(env, "975318", "--config", path).returncode == 0
    new_hash = stored_hash(path)
    assert new_hash != pin_hash
    guard = PinGuard(tmp_path / "data", new_hash)
    assert not guard.verify("864209").ok and guard.verify("975318").ok


@pytest.mark.parametrize("stdin", ["123\n", "123456789\n", "12a4\n", "\n", "", "１２３４\n", "12 34\n", "2468\n",
                                   "123456\n", "000000\n", "654321\n", "121212\n", "123123\n"])
def test_bad_pins_are_rejected_with_one_line_and_nothing_is_written(tmp_path, env, stdin):
    path = tmp_path / "terminal.toml"
    result = set_pin(env, stdin, "--config", path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kiosk: ") and ("6 digits" in lines[0] or "guessed first" in lines[0])
    assert "Traceback" not in result.stderr
    assert not path.exists()


def test_bad_pin_leaves_an_existing_file_alone(tmp_path, env):
    path = tmp_path / "terminal.toml"
    assert set_pin(env, "480317\n", "--config", path).returncode == 0
    before = path.read_bytes()
    assert set_pin(env, "24\n", "--config", path).returncode == 1
    assert path.read_bytes() == before


def test_a_broken_terminal_file_is_reported_not_rewritten(tmp_path, env):
    path = tmp_path / "terminal.toml"
    broken = SAMPLE_TERMINAL.read_text(encoding="utf-8").replace("idle_s = 30", "idle_s = 2")
    path.write_text(broken, encoding="utf-8")
    result = set_pin(env, "480317\n", "--config", path)
    assert result.returncode == 1
    line = result.stderr.strip()
    assert str(path) in line and "timeouts.idle_s" in line and len(line.splitlines()) == 1
    assert path.read_text(encoding="utf-8") == broken


def test_default_file_comes_from_kiosk_config(tmp_path, env):
    path = tmp_path / "from-env.toml"
    result = set_pin(dict(env, KIOSK_CONFIG=str(path)), "480317\n")
    assert result.returncode == 0, result.stderr
    assert stored_hash(path).startswith("$argon2id$")


@pytest.mark.skipif(DEPLOYED_TERMINAL_FILE.exists(), reason="this machine is a deployed terminal")
def test_default_file_is_in_the_users_config_folder(tmp_path, env):
    result = set_pin(env, "480317\n")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "home" / ".config" / "hall-kiosk" / "terminal.toml"
    assert str(path) in result.stdout and stored_hash(path).startswith("$argon2id$")


def test_terminal_needs_an_action(env):
    result = subprocess.run([sys.executable, "-m", "kiosk", "terminal"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "set-pin" in result.stderr


def test_run_refuses_a_size_that_is_no_window_size_before_opening_anything(tmp_path):
    for size, says in (("12x", "--size: must look like 1920x1080, not '12x'"),
                       ("0x100", "--size: 0x100 is no screen size"), ("800x1280x2", "must look like 1920x1080")):
        out = run_kiosk("run", "--windowed", "--size", size, env={"KIOSK_DATA_DIR": str(tmp_path)})
        assert out.returncode == 1 and says in out.stderr, (size, out.stderr)


def test_render_scripts_take_the_same_window_sizes():
    from kiosk.display import WindowSizeInvalid, window_size

    assert window_size("1080x1920") == (1080, 1920) and window_size("800X1280") == (800, 1280)
    for bad in ("abc", "99x1000", "1920x", "1920x1080x1"):
        with pytest.raises(WindowSizeInvalid):
            window_size(bad)
    out = subprocess.run([sys.executable, "scripts/render_screens.py", str(ROOT / "out" / "never"), "--size", "5x5"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2 and "5x5 is no screen size" in out.stderr and not (ROOT / "out" / "never").exists()
