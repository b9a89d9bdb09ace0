"""The terminal on a real X server (Xvfb), with and without a window manager.

Full screen (`kiosk run`) must take the screen's size and orientation: an xwd screenshot of the
whole screen is the attract screen edge to edge, in portrait (1080x1920, no window manager) and in
landscape (1920x1080 under openbox). A tap injected with xdotool (XTEST, the X server's own pointer)
on the attract screen opens the service grid; the tiles are found in the next screenshot, and a tap
on the last tile drawn issues a ticket for that tile's service in the terminal's SQLite file: the
touch landed where the tile was drawn. Escape does not leave the full-screen kiosk.

`kiosk run --windowed` under openbox: a window of the asked size inside the screen, taps land
where drawn through the window manager's frame, and closing the window (Alt+F4, the window
manager's close: WM_DELETE_WINDOW) ends the app with exit code 0. (Escape ending --windowed is
tests/test_dispenser_ui.py's.)

The terminal runs on the real clock with a copy of the sample hall that is always open (the sample
hall closes at 17:30 Beijing time and on weekends).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import ROOT
from .x11_shots import (always_open_hall, need_tools, service_codes, shoot_until_filled, wait_for_ticket,
                        wait_for_tiles, wait_ready, xwd_image)

pytestmark = pytest.mark.slow

TOOLS = ("Xvfb", "xdotool", "xwd", "openbox")


@contextmanager
def x_server(size: str, wm: bool):
    """An Xvfb screen of ``size`` (WxH) on a free display, with openbox when ``wm``: yields DISPLAY."""
    need_tools(TOOLS)
    read_fd, write_fd = os.pipe()
    # -noreset: an X server resets when its last client leaves, dropping a client that connects meanwhile.
    # The xprop polls below come and go while openbox connects: openbox was dropped and exited 1 with
    # nothing on stderr (4 of 400 Xvfb+openbox starts, 6 at once at load 15; with -noreset 0 of 600)
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{size}x24", "-nolisten", "tcp",
                             "-noreset"], pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    wm_proc = wm_log = None
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()  # Xvfb writes the display number once it accepts clients
        assert number.isdigit(), f"Xvfb did not start (exit {xvfb.poll()})"
        display = f":{number}"
        if wm:
            wm_log = tempfile.TemporaryFile()  # openbox's own words when it does not start
            wm_proc = subprocess.Popen(["openbox", "--sm-disable"], env=dict(os.environ, DISPLAY=display),
                                       stdout=subprocess.DEVNULL, stderr=wm_log)
            deadline = time.monotonic() + 30
            while b"_NET_SUPPORTING_WM_CHECK(WINDOW)" not in subprocess.run(
                    ["xprop", "-root", "-display", display, "_NET_SUPPORTING_WM_CHECK"],
                    capture_output=True).stdout:
                if wm_proc.poll() is not None or time.monotonic() >= deadline:
                    wm_log.seek(0)
                    pytest.fail(f"openbox did not start (exit {wm_proc.poll()}): "
                                f"{wm_log.read().decode(errors='replace')[-2000:]}")
                time.sleep(0.1)
        yield display
    finally:
        for proc in (wm_proc, xvfb):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if wm_log is not None:
            wm_log.close()


class Terminal:
    """`kiosk run` on ``display`` for a set-up box (PIN set, always-open hall), started until READY=1."""

    def __init__(self, display: str, tmp: Path, *args: str):
        from kiosk.pin import hash_pin

        self.display, self.data = display, tmp / "data"
        hall = always_open_hall(tmp / "hall.toml")
        self.codes = service_codes(hall)
        text = (ROOT / "config" / "terminal.toml").read_text(encoding="utf-8")
        text = re.sub(r'^hall_file = ""', f'hall_file = "{hall}"', text, flags=re.M)
        text = re.sub(r'^pin_hash = ""', f'pin_hash = "{hash_pin("482913")}"', text, flags=re.M)
        (tmp / "terminal.toml").write_text(text, encoding="utf-8")
        notify = tmp / "notify.sock"
        self.sd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sd.bind(str(notify))
        self.sd.settimeout(1)
        env = {k: v for k, v in os.environ.items()
               if k not in ("SDL_VIDEODRIVER", "WAYLAND_DISPLAY", "KIOSK_CONFIG")}
        env.update(DISPLAY=display, PYTHONPATH=str(ROOT), KIOSK_DATA_DIR=str(self.data),
                   KIVY_HOME=str(tmp / "kivy"), NOTIFY_SOCKET=str(notify))
        self.log = tmp / "terminal.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(tmp / "terminal.toml"),
                                      *args], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "wb"))
        wait_ready(self.sd, self.proc, self.tail)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def xdotool(self, *args: str) -> str:
        r = subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=self.display),
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def tap(self, x: int, y: int, window: str | None = None) -> None:
        where = ["--window", window] if window else []
        self.xdotool("mousemove", *where, str(x), str(y))
        self.xdotool("click", "1")

    def wait_exit(self, timeout: float = 20) -> int | None:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.sd.close()


def tap_last_tile(term: Terminal, shoot, window: str | None = None) -> None:
    """From the attract screen: tap its middle (any touch starts), then the last tile drawn; a ticket
    for that tile's service must be in the terminal's database."""
    image = shoot()
    def tap_middle():
        term.tap(image.width // 2, image.height // 2, window)

    tap_middle()
    grid, found = wait_for_tiles(shoot, len(term.codes), retap=tap_middle)
    assert len(found) == len(term.codes), \
        f"{len(found)} tiles drawn, the hall has {len(term.codes)} services:\n{term.tail()}"
    left, top, right, bottom = found[-1]
    term.tap((left + right) // 2, (top + bottom) // 2, window)
    tickets = wait_for_ticket(term.data / "queue.db")
    if tickets != [term.codes[-1]]:
        grid.save(term.data.parent / "grid.png")
        shoot().save(term.data.parent / "after-tap.png")
    assert tickets == [term.codes[-1]], f"a tap on the last tile ({found[-1]}) issued {tickets}, not one ticket " \
        f"for {term.codes[-1]} (screenshots: {term.data.parent}):\n{term.tail()}"


@pytest.mark.parametrize("size,wm", [pytest.param("1080x1920", False, id="portrait-no-wm"),
                                     pytest.param("1920x1080", True, id="landscape-openbox")])
def test_full_screen_fills_the_x_screen_and_taps_land_where_drawn(tmp_path, size, wm):
    with x_server(size, wm) as display:
        term = Terminal(display, tmp_path)
        try:
            def shoot():
                return xwd_image(display)

            image, problems = shoot_until_filled(shoot)
            assert image.size == tuple(int(n) for n in size.split("x"))
            assert not problems, f"{size}{' openbox' if wm else ''}: {'; '.join(problems)}\n{term.tail()}"
            term.xdotool("key", "Escape")  # a kiosk in full screen stays: only --windowed leaves on Escape
            tap_last_tile(term, shoot)
            assert term.proc.poll() is None, "the full-screen terminal ended (on Escape?)"
            term.proc.send_signal(signal.SIGTERM)
            assert term.wait_exit() == 0, term.tail()
        finally:
            term.close()


def test_windowed_under_a_window_manager_taps_land_and_closing_the_window_ends_it(tmp_path):
    with x_server("1920x1080", wm=True) as display:
        term = Terminal(display, tmp_path, "--windowed", "--size", "1280x720")
        try:
            window = term.xdotool("search", "--sync", "--onlyvisible", "--pid", str(term.proc.pid)).split()[0]
            geometry = term.xdotool("getwindowgeometry", window)
            assert "Geometry: 1280x720" in geometry, geometry

            def shoot():
                return xwd_image(display, window)

            image, problems = shoot_until_filled(shoot)
            assert image.size == (1280, 720)
            assert not problems, "; ".join(problems)
            tap_last_tile(term, shoot, window)
            term.xdotool("key", "alt+F4")  # openbox: close the window (WM_DELETE_WINDOW)
            assert term.wait_exit() == 0, "closing the window did not end --windowed:\n" + term.tail()
        finally:
            term.close()

