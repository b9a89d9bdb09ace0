"""The base of the inquiry screens (查询机): its idle timeout, orientation, the list page (layout in common.kv)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from .. import widgets  # noqa: F401  (the toolkit's kv rules)
from ..base import VisitorScreen

HOME = "inquiry"

Builder.load_file(str(Path(__file__).with_name("common.kv")))


def window_text(terminal, number: int) -> str:
    window = terminal.hall.window(number)
    return f"{number}号窗口（{window.name}）" if window and window.name else f"{number}号窗口"


def guide_detail(guide) -> str:
    limit = "即时办结" if guide.promised_limit == "即时办结" else f"承诺{guide.promised_limit}"
    return f"{guide.case_type} · {guide.window}号窗口 · {limit}"


class InquiryScreen(VisitorScreen):
    """A visitor screen of the inquiry mode: its idle timeout; ``portrait`` for the kv rules to bind to."""

    is_home = False
    portrait = BooleanProperty(False)

    def __init__(self, terminal, **kw):
        # the home times out only while a visitor's 长辈模式 / 高对比度 is on (see on_enter)
        self.idle_timeout = terminal.config.timeouts.inquiry_idle_s
        super().__init__(terminal, **kw)
        self._laid_out = False
        self.bind(size=self._size_changed)

    @property
    def catalogue(self):
        return self.terminal.guides

    def _size_changed(self, *_args) -> None:
        portrait = self.height > self.width
        if portrait != self.portrait or not self._laid_out:
            self._laid_out = True
            self.portrait = portrait
            self.relayout()
            self.tick_clock(self.terminal.now())  # the header shows the date only in landscape

    def relayout(self) -> None:
        """What the kv rules cannot bind (buttons flowed by measured widths); called when the orientation changes."""

    def go(self, name: str) -> None:
        self.manager.current = name

    def go_inquiry_home(self) -> None:
        self.go(HOME)

    def open_guide(self, guide, back_to: str) -> None:
        self.manager.get_screen("guide").show(guide, back_to)
        self.manager.current = "guide"


class ListPage(BoxLayout):
    """The body of a category or the policies: title row, the paged column, 返回首页 (common.kv)."""

    screen = ObjectProperty(None, allownone=True)
    icon_source = StringProperty("")
    title = StringProperty("")
    count = StringProperty("")  # e.g. "共 5 项"; empty: no count shown

    def __init__(self, **kw):
        super().__init__(**kw)
        self.scroll, self.list, self.pager = self.ids.scroll, self.ids.scroll.column, self.ids.pager
        self.home_button = self.ids.home.__self__


def list_page(screen, **kw) -> ListPage:
    """``screen``'s body as a list page; the page's parts become the screen's (``scroll``, ``list``, ...)."""
    page = ListPage(screen=screen, **kw)
    screen.body.add_widget(page)
    screen.page = page
    screen.scroll, screen.list, screen.pager, screen.home_button = page.scroll, page.list, page.pager, page.home_button
    screen.rows = []
    return page
