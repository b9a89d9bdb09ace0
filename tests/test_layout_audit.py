"""The layout audit (PRODUCT.md section 5): every visitor screen and state, both orientations,
normal type, large type (长辈模式) and high contrast, with zero findings; in normal and large type
also on a small panel (800x1280, 1280x800) and on 4:3 and 5:4 panels (1024x768, 1280x1024).

Each mode gets one App; the styles are switched the way a visitor switches them (the
screens are built again) and the orientations by resizing the window. The checks live in
``screens/audit.py``: text cut, spilling or shortened with "…", texts overlapping,
touch targets under 120 px or closer than 24 px, and contrast measured from the pixels.

The pictures are the frames the window showed, read back (``Harness.picture``). With
``$KIOSK_AUDIT_DIR`` set every picture is kept there as an artefact; without it only the
pictures of screens with findings are written (to a pytest temp dir): encoding some 200 full-HD PNGs
nobody opens cost about a minute of CPU per run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devices.printer import FakePrinter, PrinterStatus

from .conftest import FakeClock, local_ts

pytestmark = [pytest.mark.ui, pytest.mark.slow]

SIZES = {"landscape": (1920, 1080), "portrait": (1080, 1920)}
# a small panel (a common kiosk/tablet size) in both orientations: the screens reflow for it in both
# type sizes; high contrast changes colours, not sizes, so it is audited at the full-HD sizes only
SMALL = {"800x1280": (800, 1280), "1280x800": (1280, 800)}
# 4:3 and 5:4 hall panels (15" 1024x768, 17"/19" 1280x1024): landscape, nearly square; the search swaps
# its keyboard and results there, and short bodies in large type move what they cannot stack
PANELS = {"1024x768": (1024, 768), "1280x1024": (1280, 1024)}
STYLES = {"normal": (False, False), "large": (True, False), "contrast": (False, True)}


def sizes(style: str) -> dict[str, tuple[int, int]]:
    """The window sizes a style is audited at."""
    return SIZES | SMALL | PANELS if style in ("normal", "large") else SIZES


KEEP_ALL = bool(os.environ.get("KIOSK_AUDIT_DIR"))


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    where = os.environ.get("KIOSK_AUDIT_DIR")
    path = Path(where) if where else tmp_path_factory.mktemp("layout-audit")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Auditor:
    def __init__(self, h, mode: str, out: Path):
        self.h, self.mode, self.out = h, mode, out
        self.findings: list[str] = []
        self.count = 0

    def resize(self, size) -> None:
        """The window at ``size``; at another scale the App builds its screens again (next frame)."""
        self.h.window.size = size
        self.h.settle(3)
        assert self.h.app.scale == min(size) / 1080

    def style(self, name: str) -> None:
        from screens import theme

        app = self.h.app
        app.visitor_large, app.visitor_contrast = STYLES[name]
        app._apply_style()
        self.h.settle(2)
        assert (app.text_scale > 1) == STYLES[name][0] and theme.high_contrast == STYLES[name][1]
        self.style_name = name

    def check(self, state: str, orientation: str) -> None:
        from screens import theme
        from screens.audit import audit_screen

        h = self.h
        h.settle(3)
        large, contrast = STYLES[self.style_name]  # still the style this picture is filed under
        assert (h.app.text_scale > 1) == large and theme.high_contrast == contrast, (self.style_name, state)
        screen = h.sm.current_screen
        picture = h.picture(settle=0)  # the frame the window shows (Harness.picture)
        tag = f"{self.mode}-{self.style_name}-{orientation}-{state}"
        least = 10.0 if self.style_name == "contrast" else 7.0
        found = audit_screen(screen, tag, picture, min_contrast=least)
        if found or KEEP_ALL:
            picture.save(self.out / f"{tag}.png")
        self.findings += found
        self.count += 1


def make_harness(terminal_factory, harness_factory, mode: str, clock: FakeClock, printer=None, window: int = 0):
    term = terminal_factory(printer=printer or FakePrinter())
    term.config.mode = mode
    if window:
        term.config.window = window
    # the screens' own clock stands still: an audit slower than a timeout (a loaded machine) must
    # not send the visitor home, ending the style it is auditing
    return harness_factory(term, SIZES["landscape"], monotonic=FakeClock(0.0))


def report(auditor: Auditor) -> None:
    assert auditor.count > 0
    print(f"\n{auditor.count} screens audited; pictures {'' if KEEP_ALL else 'of screens with findings '}in {auditor.out}")
    assert not auditor.findings, f"{len(auditor.findings)} findings:\n" + "\n".join(auditor.findings)


def test_dispenser_screens_hold_their_text(terminal_factory, harness_factory, clock, out_dir):
    clock.now = local_ts(2026, 11, 23, 10, 0)
    printer = FakePrinter()
    h = make_harness(terminal_factory, harness_factory, "dispenser", clock, printer)
    term = h.app.terminal
    for _ in range(3):
        term.backend.issue("labor")
    a = Auditor(h, "dispenser", out_dir)
    sm = h.sm
    for style in STYLES:
        a.style(style)
        for orientation, size in sizes(style).items():
            a.resize(size)
            sm.current = "attract"
            a.check("attract", orientation)
            sm.current = "grid"
            grid = sm.get_screen("grid")
            grid.show(term.grid())
            a.check("grid", orientation)
            if grid.pages > 1:
                grid.turn(+1)
                a.check("grid-page2", orientation)
                grid.turn(-1)
            grid._show_countdown(12)
            a.check("grid-warning", orientation)
            grid._show_countdown(0)
            clock.now = local_ts(2026, 11, 23, 12, 30)  # lunch: every service closed, with its hours
            grid.show(term.grid())
            a.check("grid-closed", orientation)
            clock.now = local_ts(2026, 11, 23, 10, 0)
            printer.state = PrinterStatus.PAPER_OUT
            grid.show(term.grid())
            a.check("grid-paused", orientation)
            printer.state = PrinterStatus.READY
            grid.message.text = "该业务今日号源已满，请明天再来或咨询工作人员"
            grid.show(term.grid())
            a.check("grid-message", orientation)
            grid.message.text = ""
            sm.get_screen("priority").service_code = "general"
            sm.current = "priority"
            a.check("priority", orientation)
            if sm.has_screen("checkin"):  # 预约取号: the 6-digit keypad
                sm.current = "checkin"
                a.check("checkin", orientation)
            ticket = sm.get_screen("ticket")
            ticket.issue("general", "elderly")
            assert h.wait(lambda: ticket.outcome.print_state == "printed")
            a.check("ticket-green-channel", orientation)
            printer.fail_next_job = "no answer after the job"
            ticket.issue("labor", None)
            assert h.wait(lambda: ticket.outcome.print_state == "failed")
            a.check("ticket-print-failed", orientation)
    report(a)


def test_capped_service_says_so_without_cutting(terminal_factory, harness_factory, clock, out_dir):
    clock.now = local_ts(2026, 11, 23, 10, 0)
    h = make_harness(terminal_factory, harness_factory, "dispenser", clock)
    term = h.app.terminal
    cap = term.hall.service("legal").daily_cap
    for _ in range(cap):
        term.backend.issue("legal")
    a = Auditor(h, "dispenser-capped", out_dir)
    for style in ("normal", "large"):
        a.style(style)
        for orientation, size in sizes(style).items():
            a.resize(size)
            h.sm.current = "grid"
            grid = h.sm.get_screen("grid")
            grid.show(term.grid())
            assert not grid._card_by_code["legal"].enabled
            a.check("grid-capped", orientation)
    report(a)


def test_evaluator_screens_hold_their_text(terminal_factory, harness_factory, clock, out_dir):
    h = make_harness(terminal_factory, harness_factory, "evaluator", clock, window=2)
    session = h.app.evaluator_session
    a = Auditor(h, "evaluator", out_dir)
    sm = h.sm
    for style in STYLES:
        for orientation, size in sizes(style).items():
            a.resize(size)
            session.state, session.prompt = "idle", None
            a.style(style)  # a finished rating ends the visitor's session (and style): choose it again
            sm.get_screen("evaluator").sync()
            a.check("idle", orientation)
            session.ticket_finished(f"t-{style}-{orientation}", "A017", "labor")
            sm.get_screen("evaluator").sync()
            a.check("rate", orientation)
            session._last_press = -1e9
            session.choose(1)
            session.toggle_reason("not-told-once")
            sm.get_screen("evaluator").sync()
            a.check("reasons", orientation)
            sm.current_screen.overlay.text = "12 秒后返回首页"
            a.check("reasons-warning", orientation)
            sm.current_screen.overlay.text = ""
            session.want_phone()
            for d in "1391234":
                session.type_phone(d)
            sm.get_screen("evaluator").sync()
            a.check("phone", orientation)
            session.phone_done(skip=True)
            session.reasons_done()
            sm.get_screen("evaluator").sync()
            a.check("thanks", orientation)
    report(a)


def test_inquiry_screens_hold_their_text(terminal_factory, harness_factory, clock, out_dir):
    clock.now = local_ts(2026, 11, 23, 10, 0)
    h = make_harness(terminal_factory, harness_factory, "combined", clock)
    from screens import theme

    term = h.app.terminal
    catalogue = term.guides
    longest = max(catalogue.guides(), key=lambda g: len(g.materials) + len(g.steps) + len(g.conditions)
                  + len(g.notes))
    a = Auditor(h, "inquiry", out_dir)
    sm = h.sm
    for style in STYLES:
        a.style(style)
        for orientation, size in sizes(style).items():
            a.resize(size)
            sm.current = "inquiry"
            a.check("home", orientation)
            first = catalogue.categories()[0]
            sm.get_screen("category").show(first.code)
            sm.current = "category"
            a.check("category", orientation)
            guide = sm.get_screen("guide")
            guide.show(longest, "inquiry")
            sm.current = "guide"
            a.check("guide-long", orientation)
            guide.print_button.disabled = True
            guide._set_status("正在打印告知单，请稍候…", theme.INK)
            a.check("guide-printing", orientation)
            guide.print_button.disabled = False
            search = sm.get_screen("search")

            def check_search(state: str) -> None:
                a.check(state, orientation)
                if search.page.swap:  # 4:3 / 5:4: the results take the keyboard's place (查看 N 项)
                    search.toggle_results()
                    a.check(f"{state}-list", orientation)
                    search.toggle_results()

            search.clear()
            sm.current = "search"
            check_search("search-hot")
            for key in "DB":
                search.press(key)
            check_search("search-results")
            search.clear()
            for key in "ZZZQ":
                search.press(key)
            check_search("search-none")
            sm.current = "policies"
            a.check("policies", orientation)
            policies = catalogue.policies()
            if policies:
                sm.get_screen("policy").show(policies[0])
                sm.current = "policy"
                a.check("policy", orientation)
            sm.get_screen("priority").service_code = "general"
            sm.current = "grid"
            sm.get_screen("grid").show(term.grid())
            a.check("grid", orientation)
    report(a)


@pytest.mark.parametrize("font_scale", ["normal", "large"])
def test_staff_screens_hold_their_text(terminal_factory, harness_factory, out_dir, font_scale):
    """The PIN pads and the settings form, scrolled from top to end. Staff screens keep the
    terminal's own type size (a visitor's 长辈模式 does not rebuild them), so each size gets its App."""
    from screens.widgets import measure

    term = terminal_factory(printer=FakePrinter())
    term.config.font_scale = font_scale
    h = harness_factory(term, SIZES["landscape"], monotonic=FakeClock(0.0))
    a = Auditor(h, "staff", out_dir)
    a.style_name = font_scale  # what Auditor.check files the pictures under (and checks the App is in)
    sm = h.sm
    for orientation, size in sizes(font_scale).items():
        a.resize(size)
        for name in ("pin", "firstpin", "settings"):
            sm.current = name
            a.check(name, orientation)
        settings = sm.get_screen("settings")
        for field in (settings.server, settings.code, settings.new_pin, settings.new_pin_again):
            room = field.width - field.padding[0] - field.padding[2]  # a hint wider than its field is cut
            assert measure(field.hint_text, field.font_size)[0] <= room, (font_scale, orientation, field.hint_text)
        scroll = settings.scroll
        for y, state in ((0.5, "settings-middle"), (0.0, "settings-end")):
            scroll.scroll_y = y
            a.check(state, orientation)
        sm.current = h.app.home
    report(a)


def test_the_audit_sees_texts_drawn_over_each_other(harness_factory, terminal_factory):
    """The overlap check reports two texts drawn over each other, not a text inside the widget it
    labels (it once skipped every pair: ``walk()`` goes on past a widget's own children)."""
    from kivy.uix.button import Button
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import Screen

    from screens.audit import audit_screen

    h = harness_factory(terminal_factory(printer=FakePrinter()), SIZES["landscape"], monotonic=FakeClock(0.0))
    screen = Screen(name="overlap-probe")
    layer = FloatLayout()
    screen.add_widget(layer)
    box = dict(size_hint=(None, None), size=(800, 160), font_size=48)
    layer.add_widget(Label(text="请触摸屏幕取号", pos=(100, 100), **box))
    layer.add_widget(Label(text="老年人可优先办理", pos=(160, 140), **box))
    button = Button(text="返回首页", pos=(100, 600), **box)
    # a text drawn inside the widget it labels (centred on the button, over its own text) is no overlap
    button.add_widget(Label(text="返回", pos=(400, 630), size_hint=(None, None), size=(200, 100), font_size=32))
    layer.add_widget(button)
    h.sm.add_widget(screen)
    h.sm.current = "overlap-probe"
    h.pump(3)
    found = [f for f in audit_screen(screen, "probe") if "overlaps" in f]
    assert found == ["probe: '请触摸屏幕取号' overlaps '老年人可优先办理'"], found


def test_the_audit_sees_a_target_reaching_out_of_the_window(harness_factory, terminal_factory):
    """A key whose words still show but whose box runs off the window's edge is a finding (字号放大 on a
    portrait panel in large type was 37 px past the right edge, no text cut); a key inside is none."""
    from kivy.uix.button import Button
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.screenmanager import Screen

    from screens.audit import audit_screen

    h = harness_factory(terminal_factory(printer=FakePrinter()), SIZES["landscape"], monotonic=FakeClock(0.0))
    screen = Screen(name="edge-probe")
    layer = FloatLayout()
    screen.add_widget(layer)
    box = dict(size_hint=(None, None), size=(300, 160), font_size=48)
    layer.add_widget(Button(text="字号", pos=(1700, 400), **box))  # 80 px past the right edge, words inside
    layer.add_widget(Button(text="返回", pos=(100, 400), **box))
    h.sm.add_widget(screen)
    h.sm.current = "edge-probe"
    h.pump(3)
    found = [f for f in audit_screen(screen, "probe") if "out of the window" in f]
    assert found == ["probe: target '字号' reaches out of the window"], found


@pytest.mark.parametrize("mode", ["dispenser", "combined"])
def test_screens_follow_the_window_to_a_small_panel(terminal_factory, harness_factory, clock, out_dir, mode):
    """A terminal built at full HD in large type whose window becomes 800x1280 (a resized window, a panel
    found after start) builds its screens again at the new scale. Screens kept at the old scale showed
    the attract's date drawn over the header (its body's spacer squeezed below zero), 土地与宅基地
    spilling out of its tile and the guide's 上一页 drawn over the header and the guide's title."""
    clock.now = local_ts(2026, 11, 23, 10, 0)
    term = terminal_factory(printer=FakePrinter())
    term.config.mode, term.config.font_scale = mode, "large"
    h = harness_factory(term, SIZES["landscape"], monotonic=FakeClock(0.0))
    a = Auditor(h, f"rescaled-{mode}", out_dir)
    a.style("large")
    sm = h.sm
    if mode == "dispenser":
        sm.current = "grid"  # every screen a visitor meets is built before the window changes
    else:
        sm.get_screen("guide")
    a.resize(SMALL["800x1280"])
    if mode == "dispenser":
        sm.current = "attract"
        a.check("attract", "800x1280")
    else:
        home = sm.get_screen("inquiry")
        sm.current = "inquiry"
        tile = home.tiles["land"]
        home.scroll.scroll_to(tile, padding=0, animate=False)
        a.check("home-land-tile", "800x1280")
        catalogue = term.guides
        guide = sm.get_screen("guide")
        guide.show(next(g for g in catalogue.guides() if g.name == "最低生活保障申请"), "inquiry")
        sm.current = "guide"
        h.settle(3)  # laid out: the pager knows how far the guide reaches
        guide.pager.page(-1)
        assert guide.scroll.scroll_y < 1
        a.check("guide-page2", "800x1280")
    sm.current = "grid"
    sm.get_screen("grid").show(term.grid())
    a.check("grid", "800x1280")
    report(a)
