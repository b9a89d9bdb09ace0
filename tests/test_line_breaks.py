"""Line breaks of visitor text (screens/widgets/basic.py: ``wrappable``, ``break_runs``), the one helper.

The pieces ``break_runs`` returns are what Kivy keeps whole on a line (they are joined by empty
[b][/b] pairs). The rendered checks read what a real Kivy label draws: every string its text
provider is asked to draw, at its place, and the picture it draws them into, compared pixel for
pixel with the same lines drawn as plain text. So a character lost, doubled or swapped anywhere
between the markup, Kivy's line layout and SDL_ttf would show, as would a lone hanzi left on the
last line of a priority card or a guide name.
"""

from __future__ import annotations

import pytest

from kiosk.ticket_view import PAUSED_MESSAGE

NAMES = ["65岁以上老人", "军人及退役军人", "孕妇及带婴幼儿", "COVID-19核酸检测ABC窗口", "3号窗口综合受理（含社保、医保）",
         "80周岁以上高龄津贴申领", "申请“一件事”联办", "1.5级伤残等级评定"]
MARKS = set("，。、；：？！）》」』”’…·%,.;:?!)]}〕】")


def pieces(text: str, by: str = "char") -> list[str]:
    from screens.widgets.basic import break_runs

    return break_runs(text, by)


# ------------------------------------------------------------------ the pieces

def test_pieces_keep_the_text_whole():
    for text in NAMES + [PAUSED_MESSAGE, "请到[1]号窗口；谢谢！", "第一行\n\n第三行人", "人", ""]:
        for by in ("char", "clause"):
            assert "".join(pieces(text, by)) == text, (text, by)


def test_a_line_may_break_between_hanzi_but_not_inside_a_latin_word_number_or_quote():
    assert pieces("65岁以上老人") == ["65", "岁", "以", "上", "老人"]
    assert pieces("COVID-19核酸检测ABC窗口") == ["COVID-19", "核", "酸", "检", "测", "ABC", "窗口"]
    assert pieces("点“重新打印”，再试") == ["点", "“重新打印”，", "再试"]
    assert pieces("请运行 kiosk terminal set-pin，再试") == ["请", "运", "行", " ", "kiosk", " ", "terminal", " ",
                                                           "set-pin，", "再试"]


def test_short_notes_and_phrases_after_a_separator_stay_whole():
    assert pieces("请选择您要办理的业务 （第1/3页）")[-1] == "（第1/3页）"
    assert pieces("请到 9 号窗口办理 · 请留意叫号")[-3:] == ["号窗口办理 ·", " ", "请留意叫号"]  # no line starts with "·"
    assert pieces("2026年11月23日 星期一")[-1] == "星期一"
    assert pieces("（这是一个超过八个字的括号说明）")[-1] == "说明）"  # a long note breaks like any text


def test_no_line_starts_with_a_closing_mark_or_ends_with_an_opening_one():
    for text in NAMES + ["（可选）填写", "请携带：身份证、户口簿。"]:
        runs = pieces(text)
        for run in runs[1:]:
            assert run[0] not in MARKS, (text, runs)
        for run in runs[:-1]:
            assert run[-1] not in "（《「『“‘([{〔【", (text, runs)


def test_the_last_piece_of_a_paragraph_holds_two_characters():
    assert pieces("军人及退役军人")[-1] == "军人"
    assert pieces("请携带户口簿。")[-1] == "口簿。"  # a mark is not a character of its own
    assert pieces("到5号窗口办理 5")[-2:] == ["理", " 5"]  # nor is a space
    assert pieces("上行人\n下行人") == ["上", "行人", "\n下", "行人"]
    assert pieces("人") == ["人"]


def test_clauses_break_only_after_their_mark_and_around_a_quoted_key_name():
    assert pieces(PAUSED_MESSAGE, "clause") == ["暂停取号，", "请联系工作人员"]
    assert pieces("小票打印失败，请记住您的号码或点“重新打印”", "clause") == ["小票打印失败，", "请记住您的号码或点",
                                                                              "“重新打印”"]
    assert pieces("点“重新打印”，再试", "clause") == ["点", "“重新打印”，", "再试"]


def test_a_highlight_keeps_the_pieces_of_the_whole_name():
    """Search results: the highlight's tags go into the whole name's pieces (a highlight ending one
    character before the name did leave that hanzi a piece of its own, alone on the last line)."""
    from screens.widgets.basic import blue_hex, highlighted, wrappable

    for name in NAMES:
        for span in ((0, 1), (1, 3), (len(name) - 3, len(name) - 1), (len(name) - 2, len(name))):
            markup = highlighted(name, span)
            assert markup.count("[u]") >= 1
            assert markup.replace(f"[b][color={blue_hex()}][u]", "").replace("[/u][/color][/b]", "") == wrappable(name)


def test_markup_is_escaped():
    from screens.widgets.basic import wrappable

    markup = wrappable("请到[1]号窗口&办理", by="clause")
    assert markup == "请到&bl;1&br;号窗口&amp;办理"
    with pytest.raises(ValueError):
        wrappable("x", by="word")


# ------------------------------------------------------------------ what a real label draws

def drawn(label) -> list[str]:
    """The lines ``label`` draws, as the strings handed to its text provider; asserts that the
    picture holds exactly those lines (pixel for pixel the same lines drawn as one plain string each)."""
    from kivy.core.text import Label as CoreLabel

    from screens.bold import padding as laid_out_padding

    label.texture_update()
    core = label._label
    calls, picture = [], {}
    draw_text, end = core._render_text, core._render_end

    def record(text, x, y):
        calls.append((int(y), int(x), text, dict(core.options)))
        draw_text(text, x, y)

    def keep():
        picture["data"] = end()
        return picture["data"]

    core._render_text, core._render_end = record, keep
    try:
        core.render(real=True)  # the pass that fills the label's texture
    finally:
        del core._render_text, core._render_end
    rows: dict[int, list] = {}
    for y, x, text, options in calls:
        rows.setdefault(y, []).append((x, text, options))
    lines = []
    for y, words in sorted(rows.items()):
        words.sort(key=lambda w: w[0])
        text = "".join(w[1] for w in words)
        options = words[0][2]
        plain = CoreLabel(text=text, font_size=options["font_size"], bold=options["bold"],
                          font_name=options["font_name"], color=options["color"])
        plain.refresh()
        plain.options.update(options, text=text, halign="left")
        # a bold line stands `stroke` pixels in from its picture's edge (screens/bold.py: its padding)
        pad = laid_out_padding(options)[0]
        plain._render_begin()
        plain._render_text(text, pad, 0)
        alone = plain._render_end()
        assert crop(picture["data"], words[0][0] - pad, y, alone.width, alone.height) == crop(
            alone, 0, 0, alone.width, alone.height), (text, y)
        lines.append(text)
    return lines


def crop(data, x: int, y: int, w: int, h: int) -> list[bytes]:
    row = data.width * 4
    assert x + w <= data.width and y + h <= data.height, "a line drawn outside its picture"
    return [bytes(data.data[(y + r) * row + x * 4:(y + r) * row + (x + w) * 4]) for r in range(h)]


def check_drawn(label, text: str) -> list[str]:
    lines = drawn(label)
    assert "".join(lines) == text, (lines, text)
    from screens.widgets.basic import measure

    runs = pieces(text, "clause" if getattr(label, "breaks", "") == "clause" else "char")
    if len(lines) > 1 and max(measure(r.strip(), label.font_size, label.bold)[0] for r in runs) <= label.text_size[0]:
        for line in lines[1:]:  # where every piece fits a line, none is broken by Kivy
            assert line.lstrip("\n")[:1] not in MARKS, ("a line starts with a closing mark", lines)
    last = runs[-1]
    if len(lines) > 1 and measure(last, label.font_size, label.bold)[0] <= label.text_size[0]:
        # where the last piece fits a line, the break before it is ours to choose
        assert sum(ch not in MARKS and not ch.isspace() for ch in lines[-1]) >= 2, ("a lone last character", lines)
    return lines


@pytest.fixture(scope="module")
def combined(tmp_path_factory):
    """One App with the dispenser's cards and the inquiry guides (mode "combined")."""
    from devices.printer import FakePrinter
    from devices.voice import FakeVoice
    from kiosk.config import load_terminal
    from kiosk.terminal import build_terminal
    from tests.conftest import FakeClock
    from tests.offscreen import Harness

    config = load_terminal(None)
    config.data_dir = tmp_path_factory.mktemp("line-breaks")
    config.mode = "combined"
    term = build_terminal(config, printer=FakePrinter(), voice=FakeVoice(), clock=FakeClock())
    h = Harness(term, (1080, 1920), monotonic=FakeClock(0.0))
    yield h
    h.close()


def large(h, on: bool) -> None:
    h.app.visitor_large = on
    h.app._apply_style()
    settle()


def settle() -> None:
    """Run the layouts and property updates a change scheduled, without drawing the window (a drawn
    frame costs about 0.4 s on a loaded machine; the labels render their own textures)."""
    from kivy.clock import Clock

    for _ in range(4):
        Clock.tick()


@pytest.mark.ui
def test_labels_draw_their_text_at_every_width(combined):
    """Names with digits, latin and hanzi, drawn by a real label at widths from one character up."""
    from kivy.uix.label import Label

    from screens.widgets.basic import wrappable

    shapes = set()
    for name in NAMES:
        for width in range(60, 760, 23):
            label = Label(text=wrappable(name), markup=True, font_size=48, bold=True, text_size=(width, None),
                          halign="left")
            shapes.add(len(check_drawn(label, name)))
    assert {1, 2, 3} <= shapes  # one line, two and more were all drawn


@pytest.mark.ui
@pytest.mark.slow
def test_cards_and_guide_names_draw_their_names(combined):
    """The priority and service cards and the guide lists, both orientations, normal and large type.
    军人及退役军人 drew "军人及退役军" over a lone "人" on a portrait priority card before the cards broke
    lines by ``wrappable``."""
    from screens.widgets import ServiceCard

    h = combined
    catalogue = h.app.terminal.guides
    wrapped = {"cards": 0, "guides": 0}
    for on in (False, True):
        large(h, on)
        for size in ((1080, 1920), (1920, 1080)):
            h.window.size = size
            for screen in ("priority", "grid"):
                h.sm.current = screen
                if screen == "grid":
                    h.sm.current_screen.show(h.app.terminal.grid())  # not waiting for its refresh

                def cards():
                    return [w for w in h.sm.get_screen(screen).walk() if isinstance(w, ServiceCard) and w.width > 1]

                settle()
                assert cards() or h.wait(cards)
                for card in cards():
                    assert card.to_window(card.right, 0)[0] <= size[0] + 1  # laid out for this window
                    wrapped["cards"] += len(check_drawn(card.ids.name, card.name)) > 1
            if size[0] > size[1]:
                continue  # the guide lists: in portrait, where the rows are narrowest
            category = h.sm.get_screen("category")
            h.sm.current = "category"
            for c in catalogue.categories():
                category.show(c.code)
                settle()
                for row in category.rows:
                    wrapped["guides"] += len(check_drawn(row.ids.title, row.item.name)) > 1
    large(h, False)
    assert all(wrapped.values()), wrapped  # names wrapped, so the last-line rule was exercised


@pytest.mark.ui
def test_plain_labels_of_a_screen_break_by_the_chinese_rule(combined):
    """Every label is the app's Label (kv ``Label:`` included); its plain text stays plain while it
    draws it by the Chinese rule. At 800 px the priority screen's subtitle began a line with "；"
    (and, while the screens kept full-HD sizes in a window resized to 800 px, its button
    "不需要，普通取号" left "号" alone on the last line; the last-line rule is exercised above)."""
    from kivy.uix.label import Label as KivyLabel

    from screens.widgets import Header, Label

    h = combined
    h.sm.current = "priority"
    wrapped = []
    try:
        for on, size in ((False, (800, 1280)), (True, (800, 1280))):
            h.window.size = size
            large(h, on)
            settle()
            screen = h.sm.get_screen("priority")
            labels = [w for w in screen.walk() if isinstance(w, KivyLabel)]
            assert labels and all(isinstance(w, Label) for w in labels), {type(w) for w in labels}
            for w in labels:
                if (not w.markup and not w.shorten and any("\u4e00" <= ch <= "\u9fff" for ch in w.text)
                        and not isinstance(w.parent, Header)  # the hall's name: fitted to its line
                        and w.text_size[0] > 2 * w.font_size):  # laid out (a label is 1 px wide until it is)
                    assert "[" not in w.text  # what code reads stays the plain text
                    wrapped.append(len(check_drawn(w, w.text)) > 1 and w.text)
    finally:
        h.window.size = (1080, 1920)
        large(h, False)
    assert any("；" in t for t in wrapped if t), wrapped
