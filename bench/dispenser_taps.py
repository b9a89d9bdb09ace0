"""What `bench/tap_to_ticket.py` and `bench/memory.py` share: the dispenser driven by real taps, the bare
Kivy window they compare with, and the process's resident memory.

- ``Dispenser``: the dispenser as `kiosk run` builds it with no config (embedded queue on a temporary
  SQLite file, the shipped preview printer saving every ticket's bytes and picture), its App on the
  offscreen window; ``tap()`` is one visitor: a touch on 综合受理 in the service grid, the ticket screen
  drawn (the returned milliseconds), the print finished, back to the grid.
- ``BareWindow``: the baseline, a bare Kivy window at the same size with one button in the same CJK
  font (64 px); ``tap()`` changes its text to a ticket number and draws one frame.

Each side runs in a process of its own (``run_side``), so each memory figure is that program's alone.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1920, 1080)
SERVICE = "general"  # 综合受理: open at all hours with no cap


def rss_mb() -> float:
    """This process's resident set (VmRSS), MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def environment(prefix: str) -> None:
    """Offscreen Kivy with a temporary KIVY_HOME, and a fresh terminal data folder."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.offscreen import offscreen_environment

    offscreen_environment()
    os.environ["KIOSK_DATA_DIR"] = tempfile.mkdtemp(prefix=prefix)
    from kivy.config import Config

    from wiring.kivy_setup import multisamples

    # the anti-aliasing `kiosk run` picks on this box (0 on software GL), for the app and the bare window alike
    Config.set("graphics", "multisamples", str(multisamples()))


def open_bench_terminal():
    """The terminal as `kiosk run` opens it with no config (the preview printer, no voice), on a hall clock from
    a working Monday 09:00."""
    from devices.voice import NullVoice
    from kiosk.config import load_terminal
    from wiring.terminal import open_terminal

    # the hall's clock runs from a working Monday 09:00 (the sample hall is closed at night and on weekends)
    anchor = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    started = time.time()
    config = load_terminal(None)
    # a loaded machine can take longer than a visitor's idle timeouts between two taps: they would
    # send the screen home mid-run; the benches measure taps and memory, not timeouts
    config.timeouts.ticket_screen_s = config.timeouts.idle_s = 3600.0
    return open_terminal(config, voice=NullVoice(),  # as `kiosk run`: the preview printer
                         clock=lambda: anchor + time.time() - started)


def ready_for_taps(terminal) -> None:
    """综合受理 one tap from the grid to the ticket, 1,000 times in a row."""
    from dataclasses import replace

    # no green-channel question, so one tap goes from the grid to the ticket; the shipped range
    # ends at Z999: widened for 1,000 tickets
    services = tuple(replace(s, range_end=9999) if s.code == SERVICE else s for s in terminal.hall.services)
    terminal.hall = replace(terminal.hall, green_channel=False, services=services)
    terminal.backend.hall = terminal.hall


class Dispenser:
    """The shipped dispenser on the offscreen window, ready for taps on 综合受理."""

    def __init__(self, size: tuple[int, int] = SIZE):
        from tests.offscreen import Harness

        self.terminal = open_bench_terminal()
        self.h = Harness(self.terminal, size)
        ready_for_taps(self.terminal)
        self.grid, self.ticket = self.h.sm.get_screen("grid"), self.h.sm.get_screen("ticket")
        self.h.sm.current = "grid"
        self.h.pump(3)
        self.count = 0

    def tap(self) -> float:
        """One visitor: tap 综合受理, the ticket screen drawn, the print done. Milliseconds from the
        touch to the ticket screen's first frame."""
        from kivy.base import EventLoop

        h, grid, ticket = self.h, self.grid, self.ticket
        h.sm.current = "grid"
        h.pump(1)
        grid._busy_until = 0  # each loop is a new visitor, not a double tap
        card = grid._card_by_code[SERVICE]
        touch = Touch(*card.to_window(*card.center))
        start = time.perf_counter()
        touch.touch_down()
        touch.touch_up()  # the issue and the screen switch happen here
        EventLoop.idle()  # one frame: the ticket screen drawn
        ms = (time.perf_counter() - start) * 1000
        self.count += 1
        assert h.sm.current == "ticket", f"ticket {self.count}: the tap reached {h.sm.current!r}, not the ticket screen"
        h.wait(lambda: ticket.outcome.print_state != "printing" and not _printing(), timeout=30)
        assert ticket.outcome.print_state == "printed", ticket.outcome.print_state
        return ms

    def tickets_saved(self) -> int:
        """Tickets the preview printer saved (its .bin files)."""
        return len(list((Path(os.environ["KIOSK_DATA_DIR"]) / "tickets").glob("*.bin")))

    def close(self) -> None:
        self.h.close()


def Touch(x: float, y: float):
    """A finger at window position (x, y): ``touch_down()``, ``touch_up()``. Kivy's own ``UnitTestTouch`` lives in
    ``kivy.tests.common``, whose import pulls in pytest and pygments (8-10 MB resident): both sides of a memory
    comparison would carry that, which no kiosk does, so the benches inject touches with this class instead."""
    return _touch_class()(x, y)


@functools.cache  # the class is made once, after Kivy is set up
def _touch_class():
    from kivy.base import EventLoop
    from kivy.input.motionevent import MotionEvent

    class BenchTouch(MotionEvent):
        def __init__(self, x, y):
            win = EventLoop.window
            super().__init__("BenchTouch", 99, {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)},
                             is_touch=True, type_id="touch")
            self.profile = ["pos"]

        def depack(self, args):
            self.sx, self.sy = args["x"], args["y"]
            super().depack(args)

        def touch_down(self):
            EventLoop.post_dispatch_input("begin", self)

        def touch_up(self):
            EventLoop.post_dispatch_input("end", self)

    return BenchTouch


def _printing() -> bool:
    """A print job's worker thread (``kiosk/terminal.py``) is still running: its ticket is not done until it
    ends (it returns the heap the picture freed after the print state changes)."""
    import threading

    return any(t.name.startswith("print-") and t.is_alive() for t in threading.enumerate())


class BareWindow:
    """The baseline: a bare Kivy window, the same size, one button in the same CJK font."""

    def __init__(self, size: tuple[int, int] = SIZE):
        from kivy.config import Config

        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
        from kivy.base import EventLoop
        from kivy.core.window import Window
        from kivy.uix.button import Button

        from kiosk.paths import FONT_PATH

        EventLoop.ensure_window()
        Window.size = size
        self.button = Button(text="综合受理", font_name=str(FONT_PATH), font_size=64)
        self.count = 0
        self.button.bind(on_release=self._issue)
        Window.add_widget(self.button)
        for _ in range(3):
            EventLoop.idle()

    def _issue(self, *_):
        self.count += 1
        self.button.text = f"您的号码 Z{self.count:04d}"

    def tap(self) -> float:
        """Tap the button: its text changes and one frame is drawn. Milliseconds."""
        from kivy.base import EventLoop

        touch = Touch(*self.button.to_window(*self.button.center))
        before = self.count
        start = time.perf_counter()
        touch.touch_down()
        touch.touch_up()
        EventLoop.idle()  # one frame: the new text drawn
        ms = (time.perf_counter() - start) * 1000
        assert self.count == before + 1, "the tap did not reach the button"
        return ms


def run_side(script: str, args: list[str], strace_to: str | None = None, timeout: float = 7200) -> dict:
    """Run ``script`` with ``args`` in a process of its own; its last stdout line is JSON."""
    cmd = [sys.executable, script, *args]
    if strace_to:
        cmd = ["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", strace_to, *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if out.returncode != 0:
        raise SystemExit(f"{Path(script).name} {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def side_main(fn, *args) -> None:
    """A side's entry: its JSON result on the real stdout, or its traceback and exit 1 (the App's crash
    handler would otherwise end the process silently)."""
    import traceback

    try:
        result = fn(*args)
    except BaseException:
        print(traceback.format_exc(), file=sys.__stderr__, flush=True)
        os._exit(1)
    print(json.dumps(result), file=sys.__stdout__, flush=True)
