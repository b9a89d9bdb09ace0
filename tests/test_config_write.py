"""apply_settings: validated like `kiosk config check`, atomic, comments kept, logged with secrets masked."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import time
import tomllib

import pytest

from kiosk.config import ConfigInvalid, check_file
from kiosk.config_write import SETTINGS_LOG, apply_settings, ensure_terminal_file
from kiosk.paths import SAMPLE_TERMINAL

from .conftest import ROOT

SAMPLE = SAMPLE_TERMINAL.read_text(encoding="utf-8")


@pytest.fixture
def term(tmp_path):
    path = tmp_path / "etc" / "terminal.toml"
    path.parent.mkdir()
    path.write_text(SAMPLE, encoding="utf-8")
    return path


@pytest.fixture
def log_dir(tmp_path):
    return tmp_path / "logs"


def comment_lines(text: str) -> list[str]:
    return [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]


def leftovers(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name != "terminal.toml"]


def test_changes_are_written_and_returned(term, log_dir):
    cfg = apply_settings(term, {"printer.kind": "serial", "printer.port": "/dev/ttyUSB0",
                                "printer.baud": 19200, "timeouts.idle_s": 60,
                                "terminal.font_scale": "large", "voice.volume": 40}, log_dir=log_dir)
    assert (cfg.printer.kind, cfg.printer.port, cfg.printer.baud) == ("serial", "/dev/ttyUSB0", 19200)
    assert cfg.timeouts.idle_s == 60.0 and cfg.font_scale == "large" and cfg.voice_volume == 40
    assert cfg.source == term
    data = tomllib.loads(term.read_text(encoding="utf-8"))
    assert data["printer"]["port"] == "/dev/ttyUSB0" and data["voice"]["volume"] == 40
    assert check_file(term) == []
    assert leftovers(term.parent) == []


def test_comments_and_untouched_lines_are_kept(term, log_dir):
    apply_settings(term, {"printer.port": "/dev/ttyS0", "timeouts.idle_s": 45}, log_dir=log_dir)
    new = term.read_text(encoding="utf-8")
    assert comment_lines(new) == comment_lines(SAMPLE)
    changed = [(a, b) for a, b in zip(SAMPLE.splitlines(), new.splitlines()) if a != b]
    assert len(new.splitlines()) == len(SAMPLE.splitlines())
    assert [b.split("#")[0].strip() for _, b in changed] == ['port = "/dev/ttyS0"', "idle_s = 45"]
    for old, line in changed:  # the comment stays in its column
        assert line.index("#") == old.index("#")


def test_a_missing_key_and_section_are_added(term, log_dir):
    text = SAMPLE.replace("[voice]\nenabled = true\nvolume = 80\n", "")
    assert text != SAMPLE
    term.write_text(text, encoding="utf-8")
    cfg = apply_settings(term, {"voice.volume": 55, "printer.host": "192.168.1.50"}, log_dir=log_dir)
    assert cfg.voice_volume == 55 and cfg.printer.host == "192.168.1.50"
    assert "volume: 80 -> 55" in (log_dir / SETTINGS_LOG).read_text()  # old = the default in force


@pytest.mark.parametrize("changes, field, message", [
    ({"timeouts.idle_s": 1}, "timeouts.idle_s", "between 5 and 3600"),
    ({"printer.baud": 1234}, "printer.baud", "must be one of"),
    ({"printer.baud": "9600"}, "printer.baud", "must be an integer"),
    ({"terminal.mode": "casino"}, "terminal.mode", "must be one of"),
    ({"server.url": "hall-server:8080"}, "server.url", "http://"),
    ({"printer.kind": "serial"}, "printer.port", "needs a port"),  # cross-field rule
    ({"terminal.mode": "evaluator"}, "terminal.window", "bound to a window"),
    ({"terminal.hall_file": "no-such-hall.toml"}, "terminal.hall_file", "file not found"),
    ({"printer.colour": "red"}, "printer.colour", "unknown setting"),
    ({"volume": 3}, "volume", "unknown setting"),
    ({"voice.volume": None}, "voice.volume", "cannot store"),
    ({"voice.volume": 50, "timeouts.idle_s": 99999}, "timeouts.idle_s", "between"),  # all or nothing
])
def test_invalid_change_names_the_field_and_writes_nothing(term, log_dir, changes, field, message):
    before = term.read_bytes()
    inode = term.stat().st_ino
    with pytest.raises(ConfigInvalid) as caught:
        apply_settings(term, changes, log_dir=log_dir)
    errors = caught.value.errors
    assert any(e.field == field and message in e.message for e in errors), errors
    assert all(e.file == str(term) for e in errors)  # the real file, not the temp copy
    assert term.read_bytes() == before and term.stat().st_ino == inode
    assert leftovers(term.parent) == []
    assert not (log_dir / SETTINGS_LOG).exists()


def test_error_line_points_at_the_field(term, log_dir):
    with pytest.raises(ConfigInvalid) as caught:
        apply_settings(term, {"timeouts.idle_s": 2}, log_dir=log_dir)
    line = next(n for n, text in enumerate(SAMPLE.splitlines(), 1) if text.startswith("idle_s"))
    assert caught.value.errors[0].line == line


def test_missing_file_is_an_error(tmp_path, log_dir):
    with pytest.raises(ConfigInvalid) as caught:
        apply_settings(tmp_path / "nope.toml", {"voice.volume": 5}, log_dir=log_dir)
    assert "file not found" in str(caught.value)


def test_each_change_is_logged_with_old_and_new_and_secrets_masked(term, log_dir):
    apply_settings(term, {"printer.port": "/dev/ttyUSB1", "server.token": "tok-SECRET-123",
                          "security.pin_hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"},
                   log_dir=log_dir)
    apply_settings(term, {"server.token": "tok-SECRET-456"}, log_dir=log_dir)
    lines = (log_dir / SETTINGS_LOG).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4
    port, token, pin, token2 = lines
    assert 'printer.port: "" -> "/dev/ttyUSB1"' in port and str(term) in port
    assert port[:4].isdigit() and "T" in port.split()[0]  # ISO time first
    assert 'server.token: "" -> ***' in token
    assert 'security.pin_hash: "" -> ***' in pin
    assert "server.token: *** -> ***" in token2
    text = "\n".join(lines)
    assert "SECRET" not in text and "argon2" not in text


def test_unchanged_values_write_and_log_nothing(term, log_dir):
    inode = term.stat().st_ino
    cfg = apply_settings(term, {"voice.volume": 80, "printer.kind": "preview"}, log_dir=log_dir)
    assert cfg.voice_volume == 80
    assert term.stat().st_ino == inode
    assert not (log_dir / SETTINGS_LOG).exists()


def test_file_mode_is_kept(term, log_dir):
    os.chmod(term, 0o640)
    apply_settings(term, {"voice.volume": 10}, log_dir=log_dir)
    assert stat.S_IMODE(term.stat().st_mode) == 0o640


def test_ensure_creates_from_defaults_private_and_never_overwrites(tmp_path):
    path = tmp_path / "new" / "dir" / "terminal.toml"
    assert ensure_terminal_file(path) == path
    assert path.read_text(encoding="utf-8") == SAMPLE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it will hold a server token
    path.write_text(SAMPLE.replace("volume = 80", "volume = 7"), encoding="utf-8")
    ensure_terminal_file(path)
    assert "volume = 7" in path.read_text(encoding="utf-8")


# ------------------------------------------------------------- kill during the write

WRITER = r"""
import os, sys, time
from pathlib import Path
from kiosk.config import check_file
from kiosk.config_write import apply_settings
import kiosk.config_write as cw

real_write = os.write


def slow_write(fd, data):  # a slow SD card: a write takes long enough for a kill to land in it
    written = real_write(fd, bytes(data[:4096]))
    time.sleep(0.005)
    return written


def in_place(path, data, **kw):  # the mistake the test must catch: rewriting the file itself
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.close(fd)


path, log_dir = Path(sys.argv[1]), Path(sys.argv[2])
if sys.argv[3] == "in-place":
    cw.write_atomic = in_place
check_file(path)  # imports done once: every writer below is forked warm and writes at once
for _ in sys.stdin:  # a line per round: fork a writer, tell its pid, wait until it is killed
    pid = os.fork()
    if pid == 0:
        os.write = slow_write
        real_write(1, f"ready {os.getpid()}\n".encode())
        value = 60
        while True:
            apply_settings(path, {"timeouts.idle_s": value}, log_dir=log_dir)
            value = 90 if value == 60 else 60
    _, status = os.waitpid(pid, 0)
    real_write(1, f"ended {os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1}\n".encode())
"""


def kill_during_writes(term, log_dir, base: str, rounds: int, mode: str = "atomic") -> list[str]:
    """Kill a writer at random moments; return what was wrong with the file each time.

    One Python process starts (and imports) once; each round it forks a writer, a process of its own
    that the test kills with a real SIGKILL at a random moment of its write loop (a file write with
    its log line takes about 0.2 s here: the 0-0.4 s window lands anywhere in one)."""
    versions = {base.replace("idle_s = 30 ", f"idle_s = {v} ") for v in (30, 60, 90)}
    assert len(versions) == 3
    problems = []
    rng = random.Random(8)
    parent = subprocess.Popen([sys.executable, "-c", WRITER, str(term), str(log_dir), mode],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = None
    try:
        for _ in range(rounds):
            parent.stdin.write("go\n")
            parent.stdin.flush()
            word, pid = parent.stdout.readline().split()
            assert word == "ready"
            time.sleep(rng.uniform(0, 0.4))
            os.kill(int(pid), signal.SIGKILL)
            assert parent.stdout.readline().split() == ["ended", str(int(signal.SIGKILL))]
            pid = None
            text = term.read_bytes().decode("utf-8", "replace")  # a torn write may cut a character
            if text not in versions:
                problems.append("neither the old nor a new version")
            elif check_file(term):
                problems.append("does not validate")
    finally:
        if pid is not None:  # a round that failed: its writer must not outlive the test
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        parent.stdin.close()
        parent.wait(timeout=30)
        parent.stdout.close()
    return problems


@pytest.fixture
def big_term(term):
    """A terminal file with long pasted notes, so a kill mid-write is likely."""
    text = SAMPLE + "".join(f"# note {i}: {'说明' * 30}\n" for i in range(800))
    term.write_text(text, encoding="utf-8")
    return term, text


def test_sigkill_during_writes_leaves_old_or_new_file(big_term, log_dir):
    term, text = big_term
    assert kill_during_writes(term, log_dir, text, rounds=25) == []
    apply_settings(term, {"voice.volume": 1}, log_dir=log_dir)  # the next writer cleans up
    assert leftovers(term.parent) == []


@pytest.mark.skipif(not os.environ.get("KIOSK_TEST_MUTANTS"), reason="checks the test itself")
def test_the_kill_test_catches_in_place_writes(big_term, log_dir):
    term, text = big_term
    assert kill_during_writes(term, log_dir, text, rounds=25, mode="in-place") != []


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand files to another user")
def test_root_keeps_the_kiosk_user_as_owner(tmp_path, log_dir):
    """`sudo kiosk terminal set-pin` must not leave a file the kiosk user cannot read."""
    folder = tmp_path / "etc-hall-kiosk"
    folder.mkdir()
    os.chown(folder, 65534, 65534)
    path = ensure_terminal_file(folder / "terminal.toml")
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)
    apply_settings(path, {"voice.volume": 20}, log_dir=log_dir)
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, 65534)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
