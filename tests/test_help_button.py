"""呼叫工作人员 on the visitor home screens: embedded terminals send visitors to the window; a
terminal linked to a real hall server tells the staff (once a minute) and says so."""

from __future__ import annotations

import pytest

from .sync_support import RestartableServer, build, enrolled_terminal, wait_for

pytestmark = pytest.mark.ui


def open_popups(h):
    from screens.helpdesk import HelpPopup

    return [w for w in h.app.root_window.children if isinstance(w, HelpPopup)]  # newest first


def test_embedded_terminal_sends_the_visitor_to_the_window(terminal_factory, harness_factory):
    h = harness_factory(terminal_factory())
    attract = h.sm.get_screen("attract")
    assert attract.help_button.text == "呼叫工作人员" and attract.help_button.icon_source.endswith("help.png")
    h.tap(attract.help_button)
    h.pump(2)
    assert h.sm.current == "attract"  # the press did not start taking a number
    popups = open_popups(h)
    assert len(popups) == 1
    assert popups[0].message.text == "请到综合受理窗口咨询"  # no server: no one would come
    h.tap(popups[0].ok)  # 好的
    assert h.wait(lambda: not open_popups(h))


def test_inquiry_home_has_the_button(terminal_factory, harness_factory):
    term = terminal_factory()
    term.config.mode = "inquiry"
    h = harness_factory(term)
    home = h.sm.get_screen(h.app.home)
    assert home.help_button.text == "呼叫工作人员"
    h.tap(home.help_button)
    h.pump(2)
    assert [p.message.text for p in open_popups(h)] == ["请到综合受理窗口咨询"]
    h.tap(open_popups(h)[0].ok)
    assert h.wait(lambda: not open_popups(h))


def test_linked_terminal_tells_the_staff_once_a_minute(tmp_path):
    from tests.offscreen import Harness

    server = RestartableServer(tmp_path / "server")
    h = None
    try:
        term = build(enrolled_terminal(server, tmp_path, "1号取号机"))
        h = Harness(term)
        assert not open_popups(h)
        attract = h.sm.get_screen("attract")
        h.tap(attract.help_button)
        popup = open_popups(h)[0]
        assert h.wait(lambda: popup.message.text == "已通知工作人员，请稍候", timeout=15), popup.message.text
        assert not popup.ok.disabled
        listed = server.hall.api("GET", "/api/v1/terminals/help", token="clerk").json()
        assert [r["terminal"] for r in listed] == ["1号取号机"]
        h.tap(popup.ok)
        assert h.wait(lambda: not open_popups(h))  # closed (ModalView fades out: a tap meanwhile hits it)
        h.tap(attract.help_button)  # again within the minute: the same answer, nothing new sent
        assert open_popups(h)[0].message.text == "已通知工作人员，请稍候"
        rows = server.hall.api("GET", "/api/v1/audit", token="sup", params={"action": "terminal.help"}).json()
        assert len([r for r in rows if r["action"] == "terminal.help"]) == 1

        server.kill()  # the server goes away: the next visitor is not told someone is coming
        term.help._sent_at = None  # a minute later
        h.tap(open_popups(h)[0].ok)
        assert h.wait(lambda: not open_popups(h))
        h.tap(attract.help_button)
        popup = open_popups(h)[0]
        assert h.wait(lambda: popup.message.text == "请到综合受理窗口咨询", timeout=15), popup.message.text
        assert wait_for(lambda: term.backend.online is False)
    finally:
        if h is not None:
            h.close()
        server.stop()


@pytest.mark.parametrize("style", ["normal", "large", "contrast"])
def test_attract_keeps_every_line_between_header_and_bottom(terminal_factory, harness_factory, style):
    """The hall's name, date, clock, 请触摸屏幕取号, the hint and the style/help buttons all sit below
    the header and inside the window in landscape (the audit's text check does not see text that a
    sibling draws over)."""
    from kivy.uix.label import Label

    h = harness_factory(terminal_factory())
    if style != "normal":
        h.app.toggle_visitor_style(style)
        h.pump(2)
    for size in ((1920, 1080), (1080, 1920)):
        h.resize(size)
        h.pump(3)
        attract = h.sm.get_screen("attract")
        header_bottom = attract.header.to_window(attract.header.x, attract.header.y)[1]
        for w in attract.body.walk(restrict=True):
            if w is attract.body or (isinstance(w, Label) and not w.text.strip()):
                continue
            x, y = w.to_window(w.x, w.y)
            assert y >= -1 and y + w.height <= header_bottom + 1, (style, size, getattr(w, "text", w), y, w.height)
