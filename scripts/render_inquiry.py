"""Render every inquiry screen to PNG in both orientations (for review and the README).

    python scripts/render_inquiry.py OUT_DIR [--mode inquiry|combined] [--large] [--size WxH]

Files are named ``<screen>-[large-]<landscape|portrait>.png``, as render_screens.py names them;
``--large`` renders the large-type mode (font_scale = "large") into the ``large-`` files, so both
runs can share one folder. ``policy-enlarged`` is a policy with its own 大字 button pressed.
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.offscreen import Harness, offscreen_environment  # noqa: E402

offscreen_environment()

GUIDE = "dibao-shenqing"


def render(h, out: Path, tag: str) -> list[Path]:
    """Every inquiry screen in the harness's current window size; returns the files."""
    sm = h.sm
    catalogue = h.app.terminal.guides
    guide = catalogue.guide(GUIDE) or catalogue.guides()[0]
    files = []

    def shot(name: str) -> None:
        h.pump(5)
        files.append(Path(h.screenshot(out / f"{name}-{tag}.png")))

    sm.current = "inquiry"
    shot("home")
    home = sm.get_screen("inquiry")
    home.open_category(guide.category)
    shot("category")
    sm.get_screen("category").open_guide(guide, "category")
    shot("guide")
    screen = sm.get_screen("guide")
    screen.print_notice()
    h.wait(lambda: "已打印" in screen.status.text or "失败" in screen.status.text)
    shot("guide-printed")
    screen.pager.page(-1)
    shot("guide-page2")
    home.open_search()
    shot("search-empty")
    search = sm.get_screen("search")
    for key in "DBSQ":
        search.press(key)
    shot("search-dbsq")
    if search.page.swap:  # a 4:3 or 5:4 landscape: the results in place of the keyboard (查看 N 项)
        search.toggle_results()
        shot("search-dbsq-list")
    search.clear()
    for key in "YL":
        search.press(key)
    shot("search-yl")
    search.clear()
    for key in "QXZ":
        search.press(key)
    shot("search-nohit")
    sm.current = "policies"
    shot("policies")
    policies = catalogue.policies()
    if policies:
        sm.get_screen("policies").open_policy(policies[0])
        shot("policy")
        sm.get_screen("policy").toggle_size()
        shot("policy-enlarged")
    return files


def main() -> None:
    from kiosk.display import window_size

    from devices.printer import FakePrinter
    from devices.voice import FakeVoice
    from kiosk.config import load_terminal
    from kiosk.terminal import build_terminal

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="out/inquiry", type=Path)
    parser.add_argument("--mode", default="combined", choices=("inquiry", "combined"))
    parser.add_argument("--large", action="store_true", help="the large-type mode")
    parser.add_argument("--size", metavar="WxH", type=window_size, help="one window size instead of both orientations "
                        "(e.g. 800x1280: a small panel); files are tagged WxH")
    args = parser.parse_args()
    sizes = (((1920, 1080), "landscape"), ((1080, 1920), "portrait"))
    if args.size:
        w, h = args.size
        sizes = (((w, h), f"{w}x{h}"),)
    args.out.mkdir(parents=True, exist_ok=True)
    config = load_terminal(None)
    config.mode = args.mode
    config.font_scale = "large" if args.large else "normal"
    config.data_dir = Path(tempfile.mkdtemp(prefix="kiosk-render-"))
    terminal = build_terminal(config, printer=FakePrinter(), voice=FakeVoice())
    h = Harness(terminal, (1920, 1080))
    large = "large-" if args.large else ""
    for size, tag in sizes:
        h.resize(size)
        render(h, args.out, large + tag)
    h.close()
    print(f"rendered into {args.out}")


if __name__ == "__main__":
    main()
