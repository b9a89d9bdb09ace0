"""Terminal memory over many tickets, beside a bare Kivy app at the same size and font (issue 17).

Targets: RSS after 1,000 tickets <= 1.25x the bare app's RSS after the same number of taps,
measured in the same run; growth <= 2 MB per 1,000 tickets counted from the first ticket
(its one-off jump is reported beside it).

Each side runs in a child process of its own, so each RSS is that program's alone:
- app: the dispenser as `kiosk run` builds it with no config (embedded queue on a temporary
  SQLite file, the shipped preview printer that saves every ticket's bytes and picture), its App
  on the offscreen window at 1920x1080; each ticket is a tap on 综合受理 in the service grid,
  the ticket screen drawn, the print finished, back to the grid.
- baseline: a bare Kivy window at 1920x1080 with one button in the same CJK font (64 px); each
  tap changes its text to a ticket number and draws one frame.
Where strace exists, a third child counts how often the app opens the font file during start-up
and its first ticket (one open per face is the target).

    .venv/bin/python bench/memory.py [--tickets 1000]    (or $BENCH_TICKETS)

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SIZE = (1920, 1080)
CHECKPOINTS = (1, 10, 100, 1000)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _environment() -> None:
    from tests.offscreen import offscreen_environment

    offscreen_environment()
    os.environ["KIOSK_DATA_DIR"] = tempfile.mkdtemp(prefix="kiosk-bench-memory-")


def app_side(total: int) -> dict:
    """The dispenser: RSS before the first ticket, after it, at checkpoints and after ``total``."""
    _environment()
    from dataclasses import replace

    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    from devices.voice import NullVoice
    from kiosk.config import load_terminal
    from tests.offscreen import Harness
    from wiring.terminal import open_terminal

    # the hall's clock runs from a working Monday 09:00 (the sample hall is closed at night and on weekends)
    anchor, started = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp(), time.time()
    config = load_terminal(None)
    # a loaded machine can take longer than a visitor's idle timeouts between two taps: they would send
    # the screen home mid-run; this bench measures memory, not timeouts
    config.timeouts.ticket_screen_s = config.timeouts.idle_s = 3600.0
    terminal = open_terminal(config, voice=NullVoice(),  # as `kiosk run`: the shipped preview printer
                             clock=lambda: anchor + time.time() - started)
    h = Harness(terminal, SIZE)
    # 综合受理 (general) is open at all hours with no cap; no green-channel question, so one tap
    # goes from the grid to the ticket. Its shipped range ends at Z999: widened for 1,000 tickets.
    services = tuple(replace(s, range_end=9999) if s.code == "general" else s for s in terminal.hall.services)
    terminal.hall = replace(terminal.hall, green_channel=False, services=services)
    terminal.backend.hall = terminal.hall
    grid, ticket = h.sm.get_screen("grid"), h.sm.get_screen("ticket")
    h.sm.current = "grid"
    h.pump(3)
    rss = {"0": rss_mb()}
    for i in range(1, total + 1):
        h.sm.current = "grid"
        h.pump(1)
        grid._busy_until = 0  # each loop is a new visitor, not a double tap
        card = grid._card_by_code["general"]
        touch = UnitTestTouch(*card.to_window(*card.center))
        touch.touch_down()
        touch.touch_up()
        EventLoop.idle()
        assert h.sm.current == "ticket", f"ticket {i}: the tap reached {h.sm.current!r}, not the ticket screen"
        h.wait(lambda: ticket.outcome.print_state != "printing", timeout=30)
        assert ticket.outcome.print_state == "printed", ticket.outcome.print_state
        if i in CHECKPOINTS or i == total:
            rss[str(i)] = rss_mb()
    issued = len(list((Path(os.environ["KIOSK_DATA_DIR"]) / "tickets").glob("*.bin")))
    h.close()
    return {"rss_mb": rss, "tickets_printed": issued}


def bare_side(total: int) -> dict:
    """The baseline: a bare Kivy window, same size, same font, the same number of taps."""
    _environment()
    from kivy.config import Config

    Config.set("graphics", "width", str(SIZE[0]))
    Config.set("graphics", "height", str(SIZE[1]))
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch
    from kivy.uix.button import Button

    from kiosk.paths import FONT_PATH

    EventLoop.ensure_window()
    Window.size = SIZE
    button = Button(text="综合受理", font_name=str(FONT_PATH), font_size=64)
    count = [0]

    def issue(*_):
        count[0] += 1
        button.text = f"您的号码 Z{count[0]:04d}"

    button.bind(on_release=issue)
    Window.add_widget(button)
    for _ in range(3):
        EventLoop.idle()
    rss = {"0": rss_mb()}
    for i in range(1, total + 1):
        touch = UnitTestTouch(*button.to_window(*button.center))
        touch.touch_down()
        touch.touch_up()
        EventLoop.idle()
        if i in CHECKPOINTS or i == total:
            rss[str(i)] = rss_mb()
    assert count[0] == total, count
    return {"rss_mb": rss}


def child(side: str, total: int, strace_to: str | None = None) -> dict:
    cmd = [sys.executable, __file__, "--side", side, "--tickets", str(total)]
    if strace_to:
        cmd = ["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", strace_to, *cmd]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=7200, env=env)
    if out.returncode != 0:
        raise SystemExit(f"memory bench: the {side} side failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def font_opens() -> int | None:
    """How often the app opens the CJK font file from start to its first ticket printed."""
    if not shutil.which("strace"):
        return None
    from kiosk.paths import FONT_PATH

    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "strace.log"
        child("app", 1, strace_to=str(log))
        name = Path(FONT_PATH).name
        return sum(1 for line in log.read_text(errors="replace").splitlines()
                   if name in line and "ENOENT" not in line and "= -1" not in line)


def main(total: int) -> None:
    app = child("app", total)
    bare = child("bare", total)
    a, b = app["rss_mb"], bare["rss_mb"]
    end = str(total)
    ratio = a[end] / b[end]
    growth_from_first = (a[end] - a["1"]) * 1000 / max(1, total - 1)
    first_jump = a["1"] - a["0"]
    load = os.getloadavg()
    print(json.dumps({
        "bench": "memory", "tickets": total, "size": f"{SIZE[0]}x{SIZE[1]}",
        "rss_mb": {k: round(v, 1) for k, v in a.items()},
        "first_ticket_jump_mb": round(first_jump, 1),
        "growth_mb_per_1000_from_first": round(growth_from_first, 2),
        "tickets_printed": app["tickets_printed"],
        "baseline": "bare Kivy window, same size, one button in the same CJK font, the same number of taps "
                    "each redrawing its text; its own process, same run",
        "baseline_rss_mb": {k: round(v, 1) for k, v in b.items()},
        "rss_ratio_to_baseline": round(ratio, 3),
        "font_file_opens_start_to_first_ticket": font_opens(),
        "target_rss_ratio": 1.25, "target_growth_mb_per_1000": 2,
        "met": ratio <= 1.25 and growth_from_first <= 2,
        "loadavg_1m": round(load[0], 2),
    }, ensure_ascii=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=int(os.environ.get("BENCH_TICKETS", "1000")))
    parser.add_argument("--side", choices=("app", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        try:
            result = (app_side if args.side == "app" else bare_side)(args.tickets)
        except BaseException:  # the app's crash handler would end the process silently
            print(traceback.format_exc(), file=sys.__stderr__, flush=True)
            os._exit(1)
        print(json.dumps(result), file=sys.__stdout__, flush=True)
    else:
        main(args.tickets)
