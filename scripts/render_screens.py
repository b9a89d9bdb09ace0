"""Render every dispenser screen to PNG in both orientations (for review and the README).

    python scripts/render_screens.py OUT_DIR            # normal type
    python scripts/render_screens.py --large OUT_DIR    # large type (长辈模式), files named *-large-*
    python scripts/render_screens.py OUT_DIR --mode evaluator|staff [--large]
    python scripts/render_screens.py OUT_DIR --size 800x1280 [--large]   # one window size, files tagged 800x1280

``--mode evaluator`` renders the evaluator's screens (idle, rate, reasons, phone, thanks),
``--mode staff`` the PIN pads and the terminal settings (top and scrolled to the end).
Files are named ``<screen>-[large-]<landscape|portrait>.png``.
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.offscreen import Harness, offscreen_environment  # noqa: E402

offscreen_environment()


def render_evaluator(h, out: Path, tag: str) -> None:
    """The evaluator's five screens, driven through its session as a visitor would."""
    sm, session = h.sm, h.app.evaluator_session
    home = sm.get_screen("evaluator")
    session.state, session.prompt = "idle", None
    home.sync()
    h.screenshot(out / f"evaluator-idle-{tag}.png")
    session.ticket_finished(f"t-{tag}", "A017", "labor")
    home.sync()
    h.screenshot(out / f"evaluator-rate-{tag}.png")
    session._last_press = -1e9
    session.choose(1)
    session.toggle_reason(h.app.terminal.hall.rating_reasons[0][0])
    home.sync()
    h.screenshot(out / f"evaluator-reasons-{tag}.png")
    session.want_phone()
    for d in "1391234":
        session.type_phone(d)
    home.sync()
    h.screenshot(out / f"evaluator-phone-{tag}.png")
    session.phone_done(skip=True)
    session.reasons_done()
    home.sync()
    h.screenshot(out / f"evaluator-thanks-{tag}.png")
    session.state, session.prompt = "idle", None
    home.sync()


def render_staff(h, out: Path, tag: str) -> None:
    """The PIN pads and the terminal settings, top and scrolled to the end."""
    from kivy.uix.scrollview import ScrollView

    sm = h.sm
    for name in ("pin", "firstpin", "settings"):
        sm.current = name
        h.pump(5)
        h.screenshot(out / f"{name}-{tag}.png")
    scroll = next(w for w in sm.get_screen("settings").walk() if isinstance(w, ScrollView))
    scroll.scroll_y = 0
    h.screenshot(out / f"settings-end-{tag}.png")
    scroll.scroll_y = 1
    sm.current = h.app.home


def main() -> None:
    from kiosk.display import window_size

    from devices.printer import FakePrinter, PrinterStatus
    from devices.voice import FakeVoice
    from kiosk.config import load_terminal
    from kiosk.terminal import build_terminal

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="out/screens", type=Path)
    parser.add_argument("--mode", default="dispenser", choices=("dispenser", "evaluator", "staff"))
    parser.add_argument("--large", action="store_true", help="the large-type mode")
    parser.add_argument("--size", metavar="WxH", type=window_size, help="one window size instead of both orientations "
                        "(e.g. 800x1280: a small panel); files are tagged WxH")
    args = parser.parse_args()
    sizes = (((1920, 1080), "landscape"), ((1080, 1920), "portrait"))
    if args.size:
        w, h = args.size
        sizes = (((w, h), f"{w}x{h}"),)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    config = load_terminal(None)
    config.data_dir = Path(tempfile.mkdtemp(prefix="kiosk-render-"))
    if args.large:
        config.font_scale = "large"
    if args.mode == "evaluator":
        config.mode, config.window = "evaluator", 2
    if args.mode != "dispenser":
        terminal = build_terminal(config, printer=FakePrinter(), voice=FakeVoice())
        h = Harness(terminal, (1920, 1080))
        for size, tag in sizes:
            tag = f"large-{tag}" if args.large else tag
            h.resize(size)
            (render_evaluator if args.mode == "evaluator" else render_staff)(h, out, tag)
        h.close()
        print(f"rendered into {out}")
        return
    printer = FakePrinter()
    # a Monday morning, so the grid shows a hall at work (the header's clock says 10:00 too)
    import itertools
    from datetime import datetime
    from zoneinfo import ZoneInfo

    monday = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    # a millisecond per reading: tickets keep the order they were issued in (a clock that stands
    # still ties them, and the order, so the people ahead, would change from run to run)
    readings = itertools.count()
    terminal = build_terminal(config, printer=printer, voice=FakeVoice(),
                              clock=lambda: monday + next(readings) / 1000)
    for code, count in (("labor", 6), ("medical", 4), ("relief", 2), ("subsidy", 9)):
        for _ in range(count):
            terminal.backend.issue(code)
    for _ in range(3):
        terminal.issue("general", wait_for_print=True)
    h = Harness(terminal, (1920, 1080))
    for size, tag in sizes:
        tag = f"large-{tag}" if args.large else tag
        h.resize(size)
        sm = h.sm
        sm.current = "attract"
        h.screenshot(out / f"attract-{tag}.png")
        sm.current = "grid"
        h.screenshot(out / f"grid-{tag}.png")
        sm.current = "priority"
        h.screenshot(out / f"priority-{tag}.png")
        sm.get_screen("ticket").issue("general", None)
        h.wait(lambda: sm.get_screen("ticket").outcome.print_state != "printing")
        h.screenshot(out / f"ticket-{tag}.png")
        printer.state = PrinterStatus.PAPER_OUT
        sm.current = "grid"
        sm.get_screen("grid").show(terminal.grid())
        h.screenshot(out / f"grid-paused-{tag}.png")
        sm.current = "checkin"  # 预约取号: the check-in code keypad, a code half typed
        checkin = sm.get_screen("checkin")
        checkin.code = "483"
        h.screenshot(out / f"checkin-{tag}.png")
        checkin.code = ""
        printer.state = PrinterStatus.READY
        printer.fail_next_job = "no answer after the job"
        sm.get_screen("ticket").issue("general", None)
        h.wait(lambda: sm.get_screen("ticket").outcome.print_state == "failed")
        h.screenshot(out / f"ticket-failed-{tag}.png")
    h.close()
    print(f"rendered into {out}")


if __name__ == "__main__":
    main()
