"""The base of the inquiry screens (查询机): its idle timeout, orientation-aware layout, list pages."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from .. import theme
from ..base import VisitorScreen
from ..widgets import Pager, RowButton, nav_button, px, scroll_column

HOME = "inquiry"


def window_text(terminal, number: int) -> str:
    window = terminal.hall.window(number)
    return f"{number}号窗口（{window.name}）" if window and window.name else f"{number}号窗口"


def guide_detail(guide) -> str:
    limit = "即时办结" if guide.promised_limit == "即时办结" else f"承诺{guide.promised_limit}"
    return f"{guide.case_type} · {guide.window}号窗口 · {limit}"


class InquiryScreen(VisitorScreen):
    """A visitor screen of the inquiry mode: its idle timeout, orientation-aware layout."""

    is_home = False

    def __init__(self, terminal, **kw):
        # the home times out only while a visitor's 长辈模式 / 高对比度 is on (see on_enter)
        self.idle_timeout = terminal.config.timeouts.inquiry_idle_s
        super().__init__(terminal, **kw)
        self.portrait: bool | None = None
        self.bind(size=self._size_changed)

    @property
    def catalogue(self):
        return self.terminal.guides

    def _size_changed(self, *_args) -> None:
        portrait = self.height > self.width
        if portrait != self.portrait:
            self.portrait = portrait
            self.relayout()
            self.tick_clock(self.terminal.now())  # the header shows the date only in landscape

    def relayout(self) -> None:
        """Arrange for ``self.portrait``; called when the orientation changes."""

    def go(self, name: str) -> None:
        self.manager.current = name

    def open_guide(self, guide, back_to: str) -> None:
        self.manager.get_screen("guide").show(guide, back_to)
        self.manager.current = "guide"

    def _list_page(self, title_row: BoxLayout) -> None:
        """A titled, paged column of big rows with 返回首页 below (a category, the policies)."""
        self.scroll, self.list = scroll_column()
        self.pager = Pager(self.scroll)
        middle = BoxLayout(spacing=px(theme.GAP))
        middle.add_widget(self.scroll)
        middle.add_widget(self.pager)
        self.home_button = nav_button("返回首页", "home", lambda: self.go(HOME), width=px(380))
        for w in (title_row, middle, self.footer(self.home_button)):
            self.body.add_widget(w)
        self.rows: list[RowButton] = []
        self._size_changed()  # laid out before first shown (taps may come first)

    def footer(self, *buttons) -> BoxLayout:
        bar = BoxLayout(size_hint_y=None, height=px(theme.TARGET), spacing=px(theme.GAP))
        for b in buttons:
            bar.add_widget(b)
        bar.add_widget(Widget())
        return bar
