"""Inquiry search on screen: keystroke to results drawn (issue 17, point 2: p95 <= 80 ms).

A real touch on a key of the on-screen keyboard (touch down and up through the window),
then frames until the result list shows the guides ``search()`` returns for the new query
and a frame has been drawn after that (Kivy's offscreen SDL window on this machine's
software GL, 1920x1080 landscape, the combined terminal's search screen). Every keystroke
counts: letters, 删除 and 清空 between queries. Run twice: on the shipped sample guides and
on 5,000 generated ones (bench/guide_search.py's set).

"Drawn" means every result row in view (wholly or in part) shows its rendered text. Rows wholly
below the fold keep their text unrendered until the visitor scrolls (the landscape column shows
3-5 of 20 rows); that cost is not hidden: after each whole query the bench touches 下一页 and
times it until the rows then in view are drawn (``page_down_*``, not in the keystroke figures).

Baselines, in the same run:
  - ``search_only``: ``GuideCatalogue.search`` alone on the same keystrokes (the floor the
    screen adds to; issue 17 measured 2 ms against 469 ms on screen). It reuses the query the
    keystroke just compiled (0.1-0.8 ms: bench/guide_search.py times searches compiled afresh);
  - ``bare_frame``: a bare Kivy window at the same size with the same CJK font, in a
    child process: a tap on a button sets one label's text, one frame drawn and finished
    (glFinish, as the app does) -- the cost of any keystroke that draws anything. Measured
    before and after the screen runs (the machine's load moves), both reported.

Each figure also comes as CPU time of the process per keystroke (``*_cpu_*``, every thread,
software GL's included): seven agents share this machine's two cores, and wall time is then
about CPU time x load / cores; the load average is in the JSON line.

    .venv/bin/python bench/search_screen.py [--guides 5000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.offscreen import Harness, offscreen_environment  # noqa: E402

offscreen_environment()
from wiring.kivy_setup import multisamples  # noqa: E402

# the anti-aliasing `kiosk run` picks on this box (0 on software GL), for the screen and the baseline alike
MULTISAMPLES = multisamples()
from kivy.config import Config  # noqa: E402

Config.set("graphics", "multisamples", str(MULTISAMPLES))

SIZE = (1920, 1080)
TARGET_P95_MS = 80
# what visitors type (pinyin initials and full pinyin of the sample's guides), letter by letter
QUERIES = ("dbsq", "ylbx", "yanglao", "shebaoka", "hukou", "gjj", "canji", "zhaijidi", "qxz")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * (len(ordered) - 1)))))]


def figures(ms: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 95), 1),
            "max_ms": round(max(ms), 1)}


def keys() -> list[str]:
    """The keystrokes in order: each query typed, one 删除, then 清空."""
    out = []
    for q in QUERIES:
        out += list(q.upper()) + ["删除", "清空"]
    return out


def bare(total: int) -> None:
    """The baseline, run as `search_screen.py --bare N`: one JSON line of its tap-to-frame times."""
    from kivy.config import Config

    Config.set("graphics", "width", str(SIZE[0]))
    Config.set("graphics", "height", str(SIZE[1]))
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    from kiosk.paths import FONT_PATH

    EventLoop.ensure_window()
    Window.size = SIZE
    from screens.kivy_fixes import finish_gl_after_each_frame

    finish_gl_after_each_frame()  # as the kiosk app does: "drawn" means the GL work is done
    box = BoxLayout()
    button = Button(text="D", font_name=str(FONT_PATH), font_size=56, size_hint_x=.3)
    shown = Label(text="", font_name=str(FONT_PATH), font_size=40)
    count = [0]

    def press(*_):
        count[0] += 1
        shown.text = f"找到 {count[0] % 20} 项 · 最低生活保障申请"

    button.bind(on_release=press)
    box.add_widget(button)
    box.add_widget(shown)
    Window.add_widget(box)
    for _ in range(3):
        EventLoop.idle()
    times, cpu = [], []
    for _ in range(total):
        x, y = button.to_window(*button.center)
        touch = UnitTestTouch(x, y)
        start, start_cpu = time.perf_counter(), time.process_time()
        touch.touch_down()
        touch.touch_up()
        EventLoop.idle()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    print(json.dumps({**figures(times), **{f"cpu_{k}": v for k, v in figures(cpu).items()}}))


def run_bare(total: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--bare", str(total)], capture_output=True, text=True,
                         timeout=1800, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if out.returncode != 0:
        raise SystemExit(f"bare baseline failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def expected_items(catalogue, query: str) -> list:
    if not query:
        return list(catalogue.hot())
    return [h.guide for h in catalogue.search(query, limit=20)]


def measure(h, rounds: int) -> tuple[list[float], list[float], int, list[float], list[float], list[float]]:
    """(keystroke-to-drawn ms, search()-only ms, frames per keystroke at most, CPU ms of the process per
    keystroke, 下一页-to-drawn ms after each whole query, its CPU ms) over ``rounds`` passes. The page
    downs are not keystrokes: the keystroke figures leave them out."""
    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    catalogue = h.app.terminal.guides
    h.sm.get_screen("inquiry").open_search()
    h.pump(5)
    search = h.sm.get_screen("search")
    on_screen, alone, most_frames, cpu, paged, paged_cpu = [], [], 0, [], [], []
    typed = keys()
    for _ in range(rounds):
        for n, key in enumerate(typed):
            whole_query = n + 1 < len(typed) and typed[n + 1] == "删除"
            button = search.keys[key]
            x, y = button.to_window(*button.center)
            touch = UnitTestTouch(x, y)
            query = search.query[:-1] if key == "删除" else "" if key == "清空" else search.query + key.lower()
            want = [g.id for g in expected_items(catalogue, query)]
            start, start_cpu = time.perf_counter(), time.process_time()
            touch.touch_down()
            touch.touch_up()
            frames = 0
            while True:  # frames until the list shows this query's results, then that frame is drawn
                EventLoop.idle()
                frames += 1
                if search.query == query and shown_ids(search) == want and settled(search):
                    break
                if time.perf_counter() - start > 10:
                    raise SystemExit(f"results for {query!r} never drawn: {shown_ids(search)[:3]} vs {want[:3]}")
            on_screen.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)  # all threads: software GL's too
            most_frames = max(most_frames, frames)
            t = time.perf_counter()
            if query:
                catalogue.search(query, limit=20)
            alone.append((time.perf_counter() - t) * 1000)
            pager = search.pager
            if whole_query and pager.opacity and not pager.down.disabled:
                start, start_cpu = time.perf_counter(), time.process_time()
                page_down(search, start)
                paged.append((time.perf_counter() - start) * 1000)
                paged_cpu.append((time.process_time() - start_cpu) * 1000)
    return on_screen, alone, most_frames, cpu, paged, paged_cpu


def shown_ids(search) -> list:
    return [r.item.id for r in search.rows if r.parent is not None]


def settled(search) -> bool:
    """Every row in view (wholly or in part) has its text rendered at its laid-out width (nothing left for
    a later frame). Rows wholly below the fold may hold their text unrendered (``RowButton.deferred``)
    until the visitor scrolls: ``page_down_*`` measures that cost, on its own."""
    scroll = search.scroll
    view_bottom = scroll.to_window(scroll.x, scroll.y)[1]
    for row in search.rows:
        if row.parent is None:
            continue
        if row.to_window(row.x, row.top)[1] <= view_bottom:
            continue  # below the fold
        title = row.ids.title
        if (row.deferred or title.texture is None or title.text != row.text or title.text_size[0] != title.width
                or title.height != title.texture_size[1]):
            return False
    return True


def page_down(search, start: float) -> int:
    """Frames from a touch on 下一页 until the rows then in view are drawn (the rows below the fold render)."""
    from kivy.base import EventLoop
    from kivy.tests.common import UnitTestTouch

    key = search.pager.down
    x, y = key.to_window(*key.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()
    frames = 0
    while True:
        EventLoop.idle()
        frames += 1
        if search.scroll.scroll_y < 1 and settled(search):
            return frames
        if time.perf_counter() - start > 10:
            raise SystemExit(f"page down on {search.query!r} never drawn")


def run(guides: int | None, rounds: int) -> dict:
    from devices.voice import NullVoice
    from kiosk.config import load_terminal
    from wiring.terminal import open_terminal

    config = load_terminal(None)
    config.mode = "combined"
    terminal = open_terminal(config, voice=NullVoice())  # the shipped preview printer
    if guides:
        sys.path.insert(0, str(ROOT / "bench"))
        from guide_search import generate

        from kiosk.guides import GuideCatalogue

        base = terminal.guides
        started = time.perf_counter()
        terminal._guides = GuideCatalogue(generate(base.content, guides))
        build_s = time.perf_counter() - started
    h = Harness(terminal, SIZE)
    try:
        on_screen, alone, frames, cpu, paged, paged_cpu = measure(h, rounds)
    finally:
        h.close()
    out = {"guides": len(terminal.guides.content.guides), "keystrokes": len(on_screen),
           **{f"keystroke_to_drawn_{k}": v for k, v in figures(on_screen).items()},
           **{f"keystroke_cpu_{k}": v for k, v in figures(cpu).items()},
           "most_frames_per_keystroke": frames,
           "page_downs": len(paged),
           **({f"page_down_to_drawn_{k}": v for k, v in figures(paged).items()} if paged else {}),
           **({f"page_down_cpu_{k}": v for k, v in figures(paged_cpu).items()} if paged else {}),
           **{f"search_only_{k}": round(v, 2) for k, v in figures(alone).items()}}
    if guides:
        out["index_build_s"] = round(build_s, 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guides", type=int, default=5000, help="the large set (0: sample guides only)")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the keystrokes")
    parser.add_argument("--bare", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare is not None:
        bare(args.bare)
        return
    before = run_bare(40)
    sample = run(None, args.rounds)
    large = run(args.guides, args.rounds) if args.guides else None
    after = run_bare(40)
    worst = max(sample["keystroke_to_drawn_p95_ms"], large["keystroke_to_drawn_p95_ms"] if large else 0)
    print(json.dumps({
        "bench": "search_screen", "window": f"{SIZE[0]}x{SIZE[1]} offscreen SDL, software GL",
        "multisamples": MULTISAMPLES,
        "what": "real touch on a key of the search screen until its results are drawn (every keystroke)",
        "sample": sample, "large": large,
        "baseline": "bare Kivy window, same size and CJK font: tap a button, one label's text changes, one frame; "
                    "and search() alone on the same keystrokes (search_only_*)",
        "baseline_bare_frame_before": before, "baseline_bare_frame_after": after,
        "cpu_note": "cpu_*: CPU time of the process (every thread, software GL's too) per keystroke: on a "
                    "shared machine wall time is about CPU time x load / cores",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "target_p95_ms": TARGET_P95_MS, "met": worst <= TARGET_P95_MS,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
