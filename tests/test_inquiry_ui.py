"""The inquiry screens (查询机) driven by real touches on the offscreen window."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from devices.printer import FakePrinter, PrinterStatus
from devices.voice import FakeVoice, NullVoice

pytestmark = pytest.mark.ui

LANDSCAPE, PORTRAIT = (1920, 1080), (1080, 1920)
DIBAO = "dibao-shenqing"


@pytest.fixture
def ui(terminal_factory, harness_factory):
    """Harnesses on inquiry (or combined) terminals; conftest builds dispenser configs."""

    def make(mode="inquiry", printer=None, voice=None, size=LANDSCAPE, font_scale="normal", **timeouts):
        term = terminal_factory(printer=printer, **timeouts)
        term.config.mode = mode
        term.config.font_scale = font_scale
        if voice is not None:
            term.voice = voice
        return harness_factory(term, size)

    return make


def plain(markup: str) -> str:
    """A label's words without Kivy markup tags."""
    return re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", markup).replace("&bl;", "[").replace("&br;", "]") \
        .replace("&amp;", "&")


def screen(h, name):
    return h.sm.get_screen(name)


def type_keys(h, text):
    search = screen(h, "search")
    for ch in text:
        h.tap(search.keys[ch])


def open_search(h):
    """home -> 查找: the search screen, drawn."""
    screen(h, "inquiry").open_search()
    h.pump()
    return screen(h, "search")


def open_dibao(h):
    """home -> 社会救助 tile -> the 低保 row: the guide screen, by taps."""
    h.tap(screen(h, "inquiry").tiles["assistance"])
    assert h.sm.current == "category"
    row = next(r for r in screen(h, "category").rows if r.item.id == DIBAO)
    h.tap(row)
    assert h.sm.current == "guide"
    return screen(h, "guide")


def tickets(h):
    term = h.app.terminal
    return term.backend.store.find(term.backend.today())


def test_home_category_guide_print_notice(ui):
    printer = FakePrinter()
    h = ui(printer=printer)
    assert h.sm.current == "inquiry"
    home = screen(h, "inquiry")
    assert home.ticket_button is None  # an inquiry-only terminal hands out no tickets
    assert len(home.tiles) == len(h.app.terminal.guides.categories()) >= 8
    assert [b.item.id for b in home.hot_buttons][:1] == [DIBAO]
    guide_screen = open_dibao(h)
    guide = guide_screen.guide
    assert guide.id == DIBAO and "最低生活保障申请" in plain(guide_screen.title.text)
    section_titles = [plain(panel.children[-1].text) for panel in guide_screen.sections.children[::-1]]
    assert section_titles[:3] == ["办理条件", "申请材料", "办理流程"]
    assert {"办理时限", "收费标准", "受理窗口", "咨询电话", "法定依据"} <= set(section_titles)
    h.tap(guide_screen.print_button)
    assert h.wait(lambda: "已打印" in guide_screen.status.text)
    assert len(printer.printed) == 1
    text = printer.printed[0].plain_text()
    assert "一次性告知单" in text
    for m in guide.materials:
        assert m.name in text
    assert "原件及复印件" in text and "4号窗口" in text
    # back goes where the visitor came from, home goes home
    h.tap(guide_screen.back_button)
    assert h.sm.current == "category"
    h.tap(screen(h, "category").home_button)
    assert h.sm.current == "inquiry"


def test_print_failure_is_told_in_chinese(ui):
    printer = FakePrinter(PrinterStatus.PAPER_OUT)
    h = ui(printer=printer)
    guide_screen = open_dibao(h)
    h.tap(guide_screen.print_button)
    assert h.wait(lambda: "失败" in guide_screen.status.text)
    assert "缺纸" in guide_screen.status.text
    printer.state = PrinterStatus.READY
    printer.fail_next_job = "no answer after the job"  # a driver's English must not reach the visitor
    guide_screen._busy_until = 0
    h.tap(guide_screen.print_button)
    assert h.wait(lambda: "失败" in guide_screen.status.text and not guide_screen.print_button.disabled)
    assert not re.search("[A-Za-z]", guide_screen.status.text)
    assert printer.printed == []


def test_typing_dbsq_finds_dibao_and_opens_it(ui):
    h = ui()
    h.tap(screen(h, "inquiry").search_button)
    assert h.sm.current == "search"
    search = screen(h, "search")
    assert plain(search.results_title.text) == "热门事项" and search.rows  # suggestions before typing
    type_keys(h, "D")
    assert search.query == "d" and search.rows  # results follow every key
    type_keys(h, "BSQ")
    assert search.query == "dbsq" and search.field_label.text == "DBSQ"
    first = search.rows[0]
    assert first.item.id == DIBAO and first.item.name == "最低生活保障申请"
    assert "低保" in plain(first.detail)  # the keyword that matched is shown
    h.tap(first)
    assert h.sm.current == "guide" and screen(h, "guide").guide.id == DIBAO
    h.tap(screen(h, "guide").back_button)  # back to the results, still typed
    assert h.sm.current == "search" and search.query == "dbsq"
    h.tap(search.keys["删除"])
    assert search.query == "dbs"
    h.tap(search.keys["清空"])
    assert search.query == "" and plain(search.results_title.text) == "热门事项"


def test_a_4_3_panel_swaps_the_keyboard_and_the_results(ui):
    """1024x768 (and 1280x1024): beside even the 8-key keyboard the results had some 160 px, a name one
    character a line and 上一页 under its key. There the results take the keyboard's place: 查看 N 项 and
    继续输入 in the top row switch them, each across the window's width; typing goes on where it was."""
    h = ui(size=(1024, 768), font_scale="large")
    search = open_search(h)
    page = search.page
    assert page.swap and page.typing and search.switch_button.parent is page.ids.top.__self__
    results = page.ids.results.__self__
    assert search.keyboard.parent is page and results.parent is None  # not drawn, not in the way of a tap
    assert search.switch_button.text == "热门事项"
    type_keys(h, "DBSQ")
    assert search.switch_button.text == "查看 1 项"
    h.tap(search.switch_button)
    assert not page.typing and search.switch_button.text == "继续输入"
    assert search.keyboard.parent is None and results.parent is page
    assert results.x == page.x and results.width == page.width  # the whole width
    first = search.rows[0]
    assert first.item.id == DIBAO and plain(first.detail).endswith("4号窗口")
    assert "\n" not in first.detail  # the keyword and the window on one line: room for them
    h.tap(search.switch_button)  # 继续输入: the keyboard again, the letters kept
    assert page.typing and search.query == "dbsq"
    type_keys(h, "ZZ")
    assert search.switch_button.text == "没有找到"
    h.tap(search.keys["删除"])
    h.tap(search.keys["删除"])
    h.tap(search.switch_button)
    h.tap(search.rows[0])
    assert h.sm.current == "guide" and screen(h, "guide").guide.id == DIBAO
    h.window.size = (1280, 800)  # a 16:10 panel: the 8-key keyboard beside the results again
    h.settle(3)
    search = open_search(h)
    h.settle(3)
    assert search._layout == "narrow" and not search.page.swap and search.switch_button.parent is None
    assert search.keyboard.parent is search.page and search.page.ids.results.parent is search.page


def test_name_match_is_highlighted(ui):
    h = ui()
    open_search(h)
    type_keys(h, "YL")
    rows = screen(h, "search").rows
    assert rows and all("[u]" in r.text for r in rows if r.item.name.startswith(("养老", "医疗")))
    assert plain(rows[0].text) == rows[0].item.name


def test_results_reuse_their_rows_instead_of_building_new_ones(ui):
    """A keystroke updates kept rows (issue 17: keystroke to results drawn); nothing stale is shown."""
    from screens.inquiry.search import ROW_CACHE

    h = ui()
    search = open_search(h)
    type_keys(h, "D")
    first = list(search.rows)
    h.tap(search.keys["删除"])
    type_keys(h, "D")
    assert search.rows == first  # the same widgets, their text already drawn
    made = {id(r) for r in first}
    for query in ("YL", "DBSQ", "SHEBAO", "HUKOU", "QXZ", "Y"):
        h.tap(search.keys["清空"])
        type_keys(h, query)
        made |= {id(r) for r in search.rows}
        want = [hit.guide for hit in h.app.terminal.guides.search(query.lower(), limit=20)]
        assert [r.item for r in search.rows] == want
        assert [plain(r.text) for r in search.rows] == [g.name for g in want]
        assert list(reversed(search.results.children)) == (search.rows or [search.empty])
    assert len(made) <= ROW_CACHE


def test_rows_below_the_fold_render_when_the_visitor_pages(ui):
    """A keystroke renders only the rows in view (issue 17); 下一页 renders the rest and moves one page."""
    h = ui()
    search = open_search(h)
    type_keys(h, "Y")
    h.pump()
    rows, view = search.rows, search.scroll
    view_bottom, view_top = view.to_window(view.x, view.y)[1], view.to_window(view.x, view.top)[1]
    in_view = [r for r in rows if r.to_window(r.x, r.top)[1] > view_bottom]
    assert 0 < len(in_view) < len(rows)
    assert all(not r.deferred and plain(r.ids.title.text) == r.item.name for r in in_view)
    assert all(r.deferred and r.ids.title.text == "" for r in rows[len(in_view):])
    h.tap(search.pager.down)
    h.pump()
    assert all(not r.deferred and plain(r.ids.title.text) == r.item.name for r in rows)
    # one page is 0.85 of the view in pixels, though the rows below grew when they rendered
    moved = rows[0].to_window(rows[0].x, rows[0].top)[1] - view_top
    assert abs(moved - 0.85 * view.height) < 2


def test_no_hit_says_so_and_suggests_staff(ui):
    h = ui()
    open_search(h)
    type_keys(h, "QXZQXZ")
    search = screen(h, "search")
    assert search.rows == []
    message = plain(search.empty.text)
    assert "没有找到" in message and "工作人员" in message and search.empty.parent is not None


def test_combined_mode_takes_a_ticket_for_the_guide(ui):
    h = ui(mode="combined")
    home = screen(h, "inquiry")
    assert home.ticket_button is not None
    h.tap(home.ticket_button)
    assert h.sm.current == "grid"
    h.tap(screen(h, "grid").back)  # the dispenser's 返回首页 comes back to the inquiry home
    assert h.sm.current == "inquiry"
    guide_screen = open_dibao(h)
    assert guide_screen.ticket_button.parent is not None
    h.tap(guide_screen.ticket_button)
    assert h.sm.current == "priority"  # relief windows call the green channel first: ask, as the grid does
    normal = next(w for w in screen(h, "priority").walk() if getattr(w, "text", "") == "不需要，普通取号")
    h.tap(normal)
    assert h.sm.current == "ticket"
    assert [(t.service, t.number) for t in tickets(h)] == [("relief", screen(h, "ticket").number.text)]


def test_inquiry_mode_has_no_ticket_button(ui):
    h = ui()
    guide_screen = open_dibao(h)
    assert guide_screen.ticket_button.parent is None
    assert not h.sm.has_screen("ticket")


def test_read_aloud_only_with_a_speech_engine(ui):
    h = ui(voice=NullVoice())
    assert open_dibao(h).read_button.parent is None
    voice = FakeVoice()
    h2 = ui(voice=voice)
    guide_screen = open_dibao(h2)
    assert guide_screen.read_button.parent is not None
    h2.tap(guide_screen.read_button)
    assert voice.spoken and voice.spoken[-1].startswith("最低生活保障申请") and "户口簿" in voice.spoken[-1]


def test_idle_timeout_is_announced_then_returns_home(ui, idle_clock):
    h = ui(inquiry_idle_s=60, warn_before_s=10)
    open_dibao(h)
    guide_screen = screen(h, "guide")
    idle_clock.advance(45)
    h.wait(lambda: False, timeout=0.5)
    assert h.sm.current == "guide" and guide_screen.countdown.text == ""
    idle_clock.advance(7)  # 8 s left: "9 秒" counts the second under way
    assert h.wait(lambda: "9 秒后返回首页" in guide_screen.countdown.text, timeout=5)
    assert h.sm.current == "guide"
    idle_clock.advance(8)
    assert h.wait(lambda: h.sm.current == "inquiry", timeout=5)
    assert not screen(h, "inquiry").idle.running  # home does not time out to itself


def test_typing_postpones_the_timeout(ui, idle_clock):
    h = ui(inquiry_idle_s=60, warn_before_s=10)
    open_search(h)
    for _ in range(5):  # a visitor still typing is never sent home
        idle_clock.advance(55)
        h.wait(lambda: False, timeout=0.3)
        assert h.sm.current == "search"
        type_keys(h, "A")
        h.tap(screen(h, "search").keys["删除"])
    idle_clock.advance(60)
    assert h.wait(lambda: h.sm.current == "inquiry", timeout=5)


def test_pager_scrolls_the_guide(ui):
    h = ui()
    guide_screen = open_dibao(h)
    h.pump(5)
    pager = guide_screen.pager
    assert pager.opacity == 1 and pager.up.disabled and not pager.down.disabled
    h.tap(pager.down)
    assert guide_screen.scroll.scroll_y < 1 and not pager.up.disabled


# ------------------------------------------------------------------ rendering

def visible_widgets(screen_widget):
    for w in screen_widget.walk(restrict=True):
        if w.opacity > 0 and w.width > 0 and w.height > 0 and all(p.opacity > 0 for p in parents(w)):
            yield w


def parents(w):
    """The widget's containers up to its screen."""
    from kivy.uix.screenmanager import Screen

    while not isinstance(w, Screen) and w.parent is not None and w.parent is not w:
        w = w.parent
        yield w


def visit_every_screen(h):
    """Show each inquiry screen in turn; yields its name once it is up."""
    home = screen(h, "inquiry")
    h.sm.current = "inquiry"
    yield "home"
    home.open_category("assistance")
    yield "category"
    screen(h, "category").open_guide(h.app.terminal.guides.guide(DIBAO), "category")
    yield "guide"
    guide_screen = screen(h, "guide")
    guide_screen.print_notice()
    h.wait(lambda: "已打印" in guide_screen.status.text)
    guide_screen.pager.page(-1)
    yield "guide-printed"
    home.open_search()
    yield "search"
    type_keys(h, "YL")
    yield "search-results"
    screen(h, "search").clear()
    type_keys(h, "QXZQXZ")
    yield "search-nohit"
    h.sm.current = "policies"
    yield "policies"
    screen(h, "policies").open_policy(h.app.terminal.guides.policies()[0])
    yield "policy"
    screen(h, "policy").toggle_size()
    yield "policy-large"


def check_screen(h, name, size, min_text):
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView

    from screens.widgets import IconButton

    current = h.sm.current_screen
    buttons = []
    for w in visible_widgets(current):
        if isinstance(w, Label) and w.text:
            assert w.font_size >= min_text - 0.01, (name, plain(w.text)[:20], w.font_size)
        if isinstance(w, ButtonBehavior):
            label = getattr(w, "text", "") or ""
            assert w.width >= 120 and w.height >= 120, (name, plain(label)[:20], w.size)
            buttons.append(w)
            in_scroll = any(isinstance(p, ScrollView) for p in parents(w))
            if not in_scroll:  # nothing sticks out of the screen
                x, y = w.to_window(w.x, w.y)
                assert x >= -1 and y >= -1 and x + w.width <= size[0] + 1 and y + w.height <= size[1] + 1, \
                    (name, plain(label)[:20], (x, y), w.size)
        if isinstance(w, IconButton):  # the label is not clipped or wrapped out of its button
            lbl = w.ids.label
            assert lbl.texture_size[0] <= w.width and lbl.texture_size[1] <= w.height, (name, w.text)
    # targets keep 24 px apart (sides that face each other); in a list, only the part that shows counts
    boxes = []
    for b in buttons:
        x, y = b.to_window(b.x, b.y)
        box = [x, y, x + b.width, y + b.height]
        for scroll in (p for p in parents(b) if isinstance(p, ScrollView)):
            sx, sy = scroll.to_window(scroll.x, scroll.y)
            box = [max(box[0], sx), max(box[1], sy), min(box[2], sx + scroll.width), min(box[3], sy + scroll.height)]
        if box[2] > box[0] and box[3] > box[1]:
            boxes.append((*box, b))
    for i, a in enumerate(boxes):
        for c in boxes[i + 1:]:
            dx = max(c[0] - a[2], a[0] - c[2])
            dy = max(c[1] - a[3], a[1] - c[3])
            if dx < 0 and dy < 0:
                raise AssertionError((name, "overlap", getattr(a[4], "text", ""), getattr(c[4], "text", "")))
            assert max(dx, dy) >= 23.5, (name, plain(getattr(a[4], "text", ""))[:12],
                                         plain(getattr(c[4], "text", ""))[:12], dx, dy)


def keep(h, name, picture=None):
    """``$INQUIRY_PNG_DIR`` (or ``$KIOSK_UI_SHOTS``) keeps the pictures to look at; else none is encoded."""
    if os.environ.get("INQUIRY_PNG_DIR"):
        out = Path(os.environ["INQUIRY_PNG_DIR"])
        out.mkdir(parents=True, exist_ok=True)
        (picture if picture is not None else h.picture()).save(out / f"{name}.png")
    else:
        h.keep(f"inquiry-{name}", picture)


@pytest.mark.parametrize("mode", ["inquiry", "combined"])
@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_every_screen_renders_with_big_text_and_targets(ui, size, mode):
    h = ui(mode=mode, size=size)
    tag = f"{mode}-{'landscape' if size == LANDSCAPE else 'portrait'}"
    for name in visit_every_screen(h):
        img = h.picture(settle=8)  # the frames before the one looked at run undrawn
        keep(h, f"{name}-{tag}", img)
        assert img.size == size
        assert len(img.convert("L").getcolors(maxcolors=1 << 16)) > 20  # something was drawn
        check_screen(h, name, size, min_text=32)


def test_large_type_mode_keeps_48_px_text(ui):
    h = ui(mode="combined", font_scale="large")
    for name in visit_every_screen(h):
        h.settle(5)
        keep(h, f"{name}-large-landscape")  # draws the screen (and writes it where asked)
        check_screen(h, name, LANDSCAPE, min_text=48)
