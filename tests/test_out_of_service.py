"""Under the kiosk unit, a terminal that cannot start shows 暂停服务 and starts again once the cause is gone
(``wiring/out_of_service.py``); in a shell it still refuses with one line and exit 1 (tests/test_corrupt_store.py,
tests/test_terminal_cli.py, and here the hall file's refusals, which come before Kivy starts).

Real parts: ``python -m kiosk run`` on the offscreen window, a real SQLite file broken and then put right, real
terminal and hall files, and systemd's side of ``$NOTIFY_SOCKET`` (a datagram socket this test binds, reading what
the app sends).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from wiring.out_of_service import RECHECK_S

from .conftest import ROOT


def _notify_socket(tmp_path: Path) -> tuple[socket.socket, str]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    return sock, path


def _kiosk_run(tmp_path: Path, data: Path, notify: str | None, *args: str, python: tuple[str, ...] = ("-m", "kiosk"),
               **extra: str) -> subprocess.Popen:
    """``kiosk run ARGS`` as the unit runs it (``notify``: its $NOTIFY_SOCKET; None: as in a shell)."""
    env = {k: v for k, v in os.environ.items() if k not in ("KIOSK_CONFIG", "XDG_CONFIG_HOME", "NOTIFY_SOCKET")}
    env.update({"KIOSK_DATA_DIR": str(data), "HOME": str(tmp_path / "home"), "SDL_VIDEODRIVER": "offscreen",
                "KIVY_HOME": str(tmp_path / "kivy"), "KIVY_NO_CONSOLELOG": "1", "PYTHONPATH": str(ROOT), **extra})
    if notify is not None:
        env["NOTIFY_SOCKET"] = notify
    return subprocess.Popen([sys.executable, *python, "run", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _garbage_queue(data: Path) -> Path:
    data.mkdir(parents=True, exist_ok=True)
    path = data / "queue.db"
    path.write_bytes(bytes(range(256)) * 32)
    return path



@contextmanager
def _stopped(proc, sock):
    """Whatever the body asserts, the terminal process is gone and the notify socket closed after it."""
    try:
        yield
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        sock.close()

@pytest.mark.slow  # a whole terminal process with Kivy
def test_a_broken_queue_shows_the_sign_and_the_terminal_starts_once_it_is_put_right(tmp_path):
    sock, notify = _notify_socket(tmp_path)
    data = tmp_path / "data"
    broken = _garbage_queue(data)
    before = broken.read_bytes()
    proc = _kiosk_run(tmp_path, data, notify)
    with _stopped(proc, sock):
        ready = sock.recv(4096).decode()  # the page is up: systemd hears READY=1, with why in its status
        assert ready.startswith("READY=1") and "out of service" in ready and "queue.db" in ready, ready
        assert proc.poll() is None  # it waits, showing the page: no exit, so no restart loop
        time.sleep(1)
        assert proc.poll() is None and broken.read_bytes() == before  # nothing changed in the file
        broken.rename(data / "queue.db.broken")  # the technician moves it aside: a new empty queue
        out, err = proc.communicate(timeout=60)  # asked every 5 s: it exits for the unit to restart it
    assert proc.returncode == 1, err
    assert "first-frame out-of-service" in out
    assert err.count("not a usable SQLite database") == 1 and "Traceback" not in err, err
    assert (data / "queue.db.broken").read_bytes() == before


@pytest.mark.slow  # a whole terminal process with Kivy
def test_a_terminal_file_that_does_not_validate_shows_the_sign(tmp_path):
    sock, notify = _notify_socket(tmp_path)
    bad = tmp_path / "terminal.toml"
    bad.write_text('mode = "dispenser"\nname = "t1"\nidle_timeout_s = "soon"\n', encoding="utf-8")
    proc = _kiosk_run(tmp_path, tmp_path / "data", notify, "--config", str(bad), KIOSK_EXIT_AFTER_FIRST_FRAME="1")
    with _stopped(proc, sock):
        out, err = proc.communicate(timeout=120)
        ready = sock.recv(4096).decode()
    assert proc.returncode == 1, err
    assert "first-frame out-of-service" in out
    assert f"{bad}:" in err and "Traceback" not in err, err  # the file:line refusal, on stderr as in a shell
    assert ready.startswith("READY=1") and "terminal.toml" in ready, ready



# ---------------------------------------------------------------- the hall file the terminal file names

GOOD_HALL = (ROOT / "config" / "hall.toml").read_text(encoding="utf-8")
WRONG_TYPE = GOOD_HALL.replace("default_service_minutes = 8", 'default_service_minutes = "eight"')
WRONG_TYPE_LINE = GOOD_HALL[:GOOD_HALL.index("default_service_minutes = 8")].count("\n") + 1

# ``python -m kiosk`` with an audit hook that writes a line to OUT each time the file TARGET is opened
COUNT_OPENS = """
import os, runpy, sys
target, out = sys.argv[1], os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, os.PathLike)) and os.fspath(args[0]) == target:
        os.write(out, b"open\\n")
sys.addaudithook(hook)
sys.argv = ["kiosk", *sys.argv[3:]]
runpy.run_module("kiosk", run_name="__main__")
"""


def _terminal_naming(tmp_path: Path, hall: str) -> Path:
    """A terminal file (with a PIN, as a set-up box) that names the hall file ``hall`` (relative to it)."""
    path = tmp_path / "terminal.toml"
    path.write_text(f'[terminal]\nmode = "dispenser"\nname = "t1"\nhall_file = "{hall}"\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("case", ["toml-syntax", "wrong-type", "missing", "folder", "not-a-hall-file", "unreachable"])
def test_a_bad_hall_file_is_refused_in_a_shell_before_kivy_starts(tmp_path, case):
    """One line naming the file, line and field, exit 1, and Kivy never started (it would have made its
    folder, $KIVY_HOME): so under the unit the page, not a crash, follows."""
    hall = tmp_path / "hall.toml"
    terminal = _terminal_naming(tmp_path, "hall.toml")
    if case == "toml-syntax":
        hall.write_text(GOOD_HALL.replace('code = "qingshi"', "code = qingshi"), encoding="utf-8")
        line = GOOD_HALL[:GOOD_HALL.index('code = "qingshi"')].count("\n") + 1
        expected = f"{hall}:{line}: -: TOML syntax error: "
    elif case == "wrong-type":
        hall.write_text(WRONG_TYPE, encoding="utf-8")
        expected = f"{hall}:{WRONG_TYPE_LINE}: hall.default_service_minutes: must be a number, not 'eight'"
    elif case == "missing":  # the line to change is the terminal file's
        expected = f"{terminal}:4: terminal.hall_file: file not found: {hall}"
    elif case == "folder":
        hall.mkdir()
        expected = f"{terminal}:4: terminal.hall_file: a folder, not a hall file: {hall}"
    elif case == "unreachable":  # its folder cannot be looked into: a folder the terminal's user may not enter
        # gives EACCES, which root never gets; a name longer than the file system allows fails the same way
        hall = tmp_path / ("x" * 300) / "hall.toml"
        terminal = _terminal_naming(tmp_path, f"{'x' * 300}/hall.toml")
        expected = f"{terminal}:4: terminal.hall_file: cannot read: [Errno 36] File name too long: "
    else:  # e.g. the terminal file named where the hall file should be
        hall.write_text((ROOT / "config" / "terminal.toml").read_text(encoding="utf-8"), encoding="utf-8")
        expected = f"{terminal}:4: terminal.hall_file: not a hall file (no [hall], services or windows): {hall}"
    proc = _kiosk_run(tmp_path, tmp_path / "data", None, "--config", str(terminal))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), err
    assert not (tmp_path / "kivy").exists(), "Kivy was started before the hall file was refused"
    assert not (tmp_path / "data").exists()  # nothing made or changed for a terminal that did not start


@pytest.mark.slow  # a whole terminal process with Kivy
def test_a_bad_hall_file_shows_the_sign_until_it_is_fixed_and_the_restart_reads_it_once(tmp_path):
    """Under the unit: a hall file with a field that does not validate shows 暂停服务 (systemd hears READY=1
    with the file's line), a fix that is still wrong keeps it, the right file ends it for the unit's restart;
    the restarted terminal reaches its first frame having opened the hall file once (the hall refused or
    passed before Kivy is the one the terminal is built from)."""
    sock, notify = _notify_socket(tmp_path)
    hall = tmp_path / "hall.toml"
    hall.write_text(WRONG_TYPE, encoding="utf-8")
    terminal = _terminal_naming(tmp_path, "hall.toml")
    data = tmp_path / "data"
    proc = _kiosk_run(tmp_path, data, notify, "--config", str(terminal))
    with _stopped(proc, sock):
        ready = sock.recv(4096).decode()
        assert ready.startswith("READY=1") and "out of service" in ready, ready
        assert f"{hall}:{WRONG_TYPE_LINE}:" in ready, ready
        hall.unlink()  # the technician takes it away: still no hall (now refused at the terminal file's line)
        time.sleep(RECHECK_S + 1.5)  # at least one recheck on the missing file
        assert proc.poll() is None, proc.communicate()
        hall.write_text(GOOD_HALL, encoding="utf-8")
        out, err = proc.communicate(timeout=60)  # the next recheck passes: exit for the unit to restart it
    assert proc.returncode == 1, err
    assert "first-frame out-of-service" in out
    assert err.count("hall.default_service_minutes: must be a number") == 1 and "Traceback" not in err, err

    opens = tmp_path / "opens.txt"
    proc = _kiosk_run(tmp_path, data, None, "--config", str(terminal),
                      python=("-c", COUNT_OPENS, str(hall), str(opens)), KIOSK_EXIT_AFTER_FIRST_FRAME="1")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "first-frame" in out and "out-of-service" not in out, out
    assert opens.read_text().splitlines() == ["open"], "the hall file was not read exactly once at start"


@pytest.mark.ui
def test_a_refusal_of_many_lines_leaves_the_sign_on_the_screen(terminal_factory, harness_factory):
    """A hall file with 32 errors: the page shows the first lines and how many more the journal has, and the
    sign, the visitors' text and those lines all stay on the screen in every orientation (all 32 pushed the
    sign off the top)."""
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import Screen

    from screens.out_of_service import OutOfServicePage
    from wiring.out_of_service import SHOWN_LINES, shown_problem

    problem = "\n".join(f"/etc/hall-kiosk/hall.toml:{4 + 11 * n}: services[{n}].name: unknown section (known: hall, "
                        f"priority, services, windows, priority_groups, rating_reasons)" for n in range(32))
    shown = shown_problem(problem)
    assert shown.splitlines()[:-1] == problem.splitlines()[:SHOWN_LINES - 1]
    assert shown.splitlines()[-1] == f"... and {32 - SHOWN_LINES + 1} more: journalctl -u kiosk-terminal shows them all"
    assert shown_problem("one line") == "one line"
    h = harness_factory(terminal_factory(), (1920, 1080))
    for size in ((1920, 1080), (1080, 1920), (800, 1280)):
        h.resize(size)  # the App's scale follows; the page is made at it, as wait_out_of_service makes it
        page = OutOfServicePage(technician=shown)
        screen = Screen(name=f"out-of-service-{size}")
        screen.add_widget(page)
        h.sm.add_widget(screen)
        h.sm.current = screen.name
        h.pump()
        labels = sorted((w for w in page.walk() if isinstance(w, Label)), key=lambda w: -w.top)
        assert [w.text for w in labels] == ["暂停服务", page.visitors, shown]
        for upper, lower in zip(labels, labels[1:]):
            assert lower.top <= upper.y + 1, (size, upper.text, lower.text)  # one below the other
        for label in labels:
            assert label.height >= label.texture_size[1] - 1 and label.width <= size[0], (size, label.text)
            assert label.y >= -1 and label.top <= size[1] + 1, (size, label.text, label.y, label.top)
        h.keep(f"out-of-service-{size[0]}x{size[1]}")
