"""The terminal under cage, the deploy's kiosk compositor, fills the output.

cage runs as on a kiosk box (deploy/kiosk-terminal.service) but with wlroots'
headless backend and software renderer, so no GPU or monitor is needed; the app
is an X11 client of Xwayland, as there. After the app's READY=1, `grim` takes
screenshots until the attract screen is drawn; then the picture must be the app
edge to edge: the header's blue across the whole top edge, no black band on any
side. The app then gets SIGTERM and cage ends with it.

cage refuses to run as root. As root (CI), the test runs it as a system user
`kiosk-ci` it creates, with a copy of the tree and a venv made from Debian's
python3 (root's own Python may live where other users cannot read), cached in
/var/cache/hall-kiosk-tests between runs.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow

USER = "kiosk-ci"
CACHE = Path("/var/cache/hall-kiosk-tests")
TOOLS = ("cage", "grim", "Xwayland")
BLUE = (11, 79, 156)  # screens/theme.py: the header
# what the package installs (pyproject's [tool.setuptools.packages.find] include, less the globs)
PACKAGES = tuple(p.rstrip("*") for p in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"]["find"]["include"])


def need_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        reason = f"{', '.join(missing)} not installed (bash scripts/setup.sh --test installs them)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def readable_venv() -> Path:
    """A venv other users can run, from Debian's python3, with the project's dependencies."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    key = hashlib.sha256(("\n".join(deps) + os.path.realpath("/usr/bin/python3")).encode()).hexdigest()[:12]
    venv = CACHE / f"cage-venv-{key}"
    if (venv / "ok").exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, timeout=300)
    r = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *deps],
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    subprocess.run(["chmod", "-R", "a+rX", str(venv)], check=True)
    (venv / "ok").write_text("")
    return venv


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    """(command prefix, python, source tree, work dir) for a non-root run of the app."""
    need_tools()
    if os.geteuid() != 0:
        work = tmp_path_factory.mktemp("cage")
        return [], sys.executable, ROOT, work
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", USER], check=True)
    # Xwayland's socket folder as a booted box has it (wlroots refuses one owned by another user)
    os.makedirs("/tmp/.X11-unix", exist_ok=True)
    os.chown("/tmp/.X11-unix", 0, 0)
    os.chmod("/tmp/.X11-unix", 0o1777)
    venv = readable_venv()
    work = Path(tempfile_dir())
    src = work / "src"
    for name in PACKAGES:
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["chown", "-R", f"{USER}:", str(work)], check=True)
    yield ["runuser", "-u", USER, "--"], str(venv / "bin" / "python"), src, work
    shutil.rmtree(work, ignore_errors=True)


def tempfile_dir() -> str:
    import tempfile

    path = tempfile.mkdtemp(prefix="kiosk-cage-", dir="/var/tmp")
    os.chmod(path, 0o755)
    return path


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def descendants(pid: int) -> list[int]:
    out = []
    for child in children(pid):
        out += [child, *descendants(child)]
    return out


def test_terminal_fills_the_output_under_cage(runner):
    from PIL import Image

    prefix, python, src, work = runner
    run = work / "run"
    run.mkdir(mode=0o700)
    if prefix:
        subprocess.run(["chown", f"{USER}:", str(run)], check=True)
    notify = run / "notify.sock"
    sd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sd.bind(str(notify))
    os.chmod(notify, 0o777)
    sd.settimeout(1)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(run), "LANG": "C.UTF-8", "XDG_RUNTIME_DIR": str(run),
           "WLR_BACKENDS": "headless", "WLR_RENDERER": "pixman", "WLR_LIBINPUT_NO_DEVICES": "1",
           "KIOSK_DATA_DIR": str(run / "data"), "KIVY_HOME": str(run / "kivy"), "PYTHONPATH": str(src),
           "NOTIFY_SOCKET": str(notify)}
    as_user = [*prefix, "env", "-i", *[f"{k}={v}" for k, v in env.items()]]
    terminal_file = run / "terminal.toml"  # a set-up box: with a PIN, so it starts on the attract screen
    r = subprocess.run([*as_user, python, "-m", "kiosk", "terminal", "set-pin", "--config", str(terminal_file)],
                       input="482913\n", capture_output=True, text=True, timeout=120, cwd=work)
    assert r.returncode == 0, r.stderr
    log = open(work / "cage.log", "wb")
    cage = subprocess.Popen([*as_user, "cage", "-d", "--", python, "-m", "kiosk", "run", "--config", str(terminal_file)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=work)

    def tail() -> str:
        return (work / "cage.log").read_text(errors="replace")[-3000:]

    try:
        deadline = time.monotonic() + 120
        ready = False
        while not ready:
            assert cage.poll() is None, "cage ended:\n" + tail()
            assert time.monotonic() < deadline, "no READY=1 within 120 s:\n" + tail()
            try:
                ready = sd.recv(4096).startswith(b"READY=1")
            except TimeoutError:
                pass
        shot = run / "shot.png"
        deadline = time.monotonic() + 60
        while True:  # the first frames may still be on their way
            r = subprocess.run([*prefix, "env", f"XDG_RUNTIME_DIR={run}", "WAYLAND_DISPLAY=wayland-0",
                                "grim", str(shot)], capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stderr + tail()
            image = Image.open(shot).convert("RGB")
            w, h = image.size
            top = [image.getpixel((x, 4)) for x in range(w)]
            if all(p == BLUE for p in top) or time.monotonic() > deadline:
                break
            time.sleep(1)
        bad_top = sum(1 for p in top if p != BLUE)
        assert bad_top == 0, f"the header covers {w - bad_top} of {w} px of the top edge ({shot})"
        edges = [image.getpixel((x, h - 1)) for x in range(w)] + [image.getpixel((0, y)) for y in range(h)] \
            + [image.getpixel((w - 1, y)) for y in range(h)]
        black = sum(1 for p in edges if max(p) < 24)
        assert black == 0, f"{black} black pixels on the bottom, left and right edges ({shot})"
        grid = [image.getpixel((x, y)) for x in range(0, w, 16) for y in range(0, h, 16)]
        assert sum(1 for p in grid if max(p) < 24) / len(grid) < 0.02, "a black area in the picture"
        pids = [p for p in descendants(cage.pid)
                if Path(f"/proc/{p}/cmdline").read_text(errors="replace").startswith(python)]
        assert pids, "the app is not running under cage"
        os.kill(pids[-1], 15)
        cage.wait(timeout=30)  # cage leaves with its app
    finally:
        if cage.poll() is None:  # cage (under runuser), the app and Xwayland: none may outlive the test
            for pid in reversed(descendants(cage.pid)):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            cage.kill()
            cage.wait()
        sd.close()
        log.close()
