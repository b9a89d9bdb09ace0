"""Render every dispenser screen to PNG in both orientations (for review and the README).

    python scripts/render_screens.py OUT_DIR            # normal type
    python scripts/render_screens.py --large OUT_DIR    # large type (长辈模式), files named *-large-*
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.offscreen import Harness, offscreen_environment  # noqa: E402

offscreen_environment()


def main(out: Path, large: bool = False) -> None:
    from devices.printer import FakePrinter, PrinterStatus
    from devices.voice import FakeVoice
    from kiosk.config import load_terminal
    from kiosk.terminal import build_terminal

    out.mkdir(parents=True, exist_ok=True)
    config = load_terminal(None)
    config.data_dir = Path(tempfile.mkdtemp(prefix="kiosk-render-"))
    if large:
        config.font_scale = "large"
    printer = FakePrinter()
    # a Monday morning, so the grid shows a hall at work (the header clock shows the real time)
    from datetime import datetime
    from zoneinfo import ZoneInfo

    monday = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    terminal = build_terminal(config, printer=printer, voice=FakeVoice(), clock=lambda: monday)
    for code, count in (("labor", 6), ("medical", 4), ("relief", 2), ("subsidy", 9)):
        for _ in range(count):
            terminal.backend.issue(code)
    for _ in range(3):
        terminal.issue("general", wait_for_print=True)
    h = Harness(terminal, (1920, 1080))
    for size, tag in (((1920, 1080), "landscape"), ((1080, 1920), "portrait")):
        tag = f"large-{tag}" if large else tag
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
    args = [a for a in sys.argv[1:] if a != "--large"]
    main(Path(args[0] if args else "out/screens"), large="--large" in sys.argv[1:])
