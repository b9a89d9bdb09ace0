"""How much of a guide an elderly visitor reads at once: on a short landscape screen in large type
(长辈模式) the guide's text had a strip of 4 lines between its title row and two rows of buttons.

The lines are counted from the labels' own layout (each label's laid-out lines, placed in the window
as its texture places them), not from pixels: a line counts when it lies whole inside the scroll
view's height, with the guide scrolled to its top."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.ui

DIBAO = "dibao-shenqing"
# lines of the 低保 guide in view at 1280x800, large type: 4 (section title and 3 lines) before 返回 / 首页
# moved beside the text and the name row scrolled with it; 7 since (the name's 2, the section title, 4)
LEAST_LINES_1280x800_LARGE = 7
# a policy at 1280x800, large type: 6 lines with 返回 / 首页 / 字号放大 below the sheet, 7 beside it
LEAST_POLICY_LINES_1280x800_LARGE = 7


def visible_lines(scroll) -> int:
    """Text lines of the labels in ``scroll`` lying whole inside its height (window coordinates)."""
    from kivy.uix.label import Label

    _x, bottom = scroll.to_window(scroll.x, scroll.y)
    top = bottom + scroll.height
    count = 0

    def walk(widget):
        nonlocal count
        for child in widget.children:
            if isinstance(child, Label) and child.opacity > 0 and child.text and child.height > 1:
                count += _lines_inside(child, bottom, top)
            walk(child)

    walk(scroll)
    return count


def _lines_inside(label, bottom: float, top: float) -> int:
    label.texture_update()
    lines = [line for line in label._label._cached_lines if line.w > 0 or line.words]
    if not lines:
        return 0
    total = sum(line.h for line in lines)
    scale = label.texture_size[1] / total if total else 0  # the lines' share of the texture (line_height)
    _x, label_top = label.to_window(label.x, label.top)
    inside, y = 0, label_top - (label.height - label.texture_size[1]) * (0 if label.valign == "top" else 0.5)
    for line in lines:
        line_top, line_bottom = y, y - line.h * scale
        if line_bottom >= bottom - 0.5 and line_top <= top + 0.5:
            inside += 1
        y = line_bottom
    return inside


@pytest.fixture
def guide_on(terminal_factory, harness_factory):
    def make(size, font_scale="large", mode="combined"):
        term = terminal_factory(printer=None)
        term.config.mode = mode
        term.config.font_scale = font_scale
        h = harness_factory(term, size)
        screen = h.sm.get_screen("guide")
        screen.show(term.guides.guide(DIBAO), "inquiry")
        h.sm.current = "guide"
        h.settle(4)
        return h, screen

    return make


def whole_targets_in_window(buttons, size) -> None:
    """Each button is shown, at least a target in both directions, whole inside the window."""
    from screens import theme
    from screens.widgets import px

    for button in buttons:
        assert button.get_root_window() is not None and button.opacity == 1, button.text
        x, y = button.to_window(button.x, button.y)
        assert button.height >= px(theme.TARGET) - 0.5 and button.width >= px(theme.TARGET) - 0.5, button.text
        assert 0 <= x and x + button.width <= size[0] and 0 <= y and y + button.height <= size[1], button.text


def test_the_guide_shows_its_lines_at_1280x800_in_large_type(guide_on):
    h, screen = guide_on((1280, 800))
    assert screen.scroll.scroll_y == 1
    lines = visible_lines(screen.scroll)
    assert lines >= LEAST_LINES_1280x800_LARGE, f"{lines} lines of the guide in view"
    # every action is still on the screen, a whole target inside the window; with the status line too
    buttons = (screen.print_button, screen.ticket_button, screen.read_button, screen.back_button, screen.home_button)
    whole_targets_in_window(buttons, (1280, 800))
    screen._set_status("告知单已打印，请从出纸口取走", (0, 86, 0))
    h.settle(3)
    whole_targets_in_window(buttons + (screen.pager.up, screen.pager.down), (1280, 800))


def test_where_the_buttons_fit_one_row_the_name_stays_above_the_text(guide_on):
    """Full HD, normal type: the five actions fit one row, so 返回 / 首页 stay in it and the name above."""
    h, screen = guide_on((1920, 1080), font_scale="normal")
    assert screen.head.parent is screen.page and screen.back_button.parent is not screen.side
    assert len(screen.actions.children) == 1


def test_a_policy_keeps_the_footer_height_for_its_text_at_1280x800_in_large_type(terminal_factory, harness_factory):
    term = terminal_factory(printer=None)
    term.config.mode = "combined"
    term.config.font_scale = "large"
    h = harness_factory(term, (1280, 800))
    screen = h.sm.get_screen("policy")
    screen.show(term.guides.policies()[0])
    h.sm.current = "policy"
    h.settle(4)
    lines = visible_lines(screen.scroll)
    assert lines >= LEAST_POLICY_LINES_1280x800_LARGE, f"{lines} lines of the policy in view"
    whole_targets_in_window((screen.back_button, screen.home_button, screen.size_button, screen.pager.down),
                            (1280, 800))
    assert abs(screen.scroll.parent.height - screen.side.height) < 1  # the hidden row pager keeps no gap
    h.window.size = (800, 1280)  # portrait: the keys go back below the sheet, the pager a row under it
    h.settle(4)
    assert screen.back_button.parent is screen.footer and screen.footer.height > 0
    assert screen.pager is screen.pagers[True] and screen.pagers[False].width == 0
    assert screen.scroll.width > 0.8 * 800  # the sheet keeps the window's width for its lines
    whole_targets_in_window((screen.back_button, screen.home_button, screen.size_button, screen.pager.down),
                            (800, 1280))


def test_the_line_count_sees_a_shorter_view(guide_on):
    """The count follows the view's height: the same guide in a view a third shorter shows fewer lines."""
    h, screen = guide_on((1280, 800))
    full = visible_lines(screen.scroll)
    screen.scroll.size_hint_y = None
    screen.scroll.height = screen.scroll.height * 2 / 3
    h.settle(3)
    assert 0 < visible_lines(screen.scroll) < full


def test_a_print_failure_wraps_on_a_narrow_panel_instead_of_being_shortened(guide_on):
    """The longest failure (28 characters) on 800x1280 in large type: it was one line cut with "…"."""
    h, screen = guide_on((800, 1280))
    message = "告知单打印失败：打印机暂时无法使用，请向窗口工作人员索取"  # GuideScreen._printed, print_now's reason
    screen._set_status(message, (160, 0, 0))
    h.settle(3)
    status = screen.status
    assert status.text == message and not getattr(status, "shorten", False)
    assert len(status._label._cached_lines) >= 2 and status.height >= status.texture_size[1] - 0.5
    whole_targets_in_window((screen.print_button, screen.back_button, screen.home_button), (800, 1280))
