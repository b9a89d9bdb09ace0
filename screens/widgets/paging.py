"""Scrolling columns and their 上一页 / 下一页 pager."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from .. import theme
from .basic import px, tx
from .buttons import KeyButton


class Pager(BoxLayout):
    """上一页 / 下一页 for a ScrollView: visitors who do not know to swipe can still read on.

    A column beside the list (``vertical``) or a row below it (``horizontal``).
    """

    def __init__(self, scroll: ScrollView, vertical: bool = True, **kw):
        gap = px(theme.GAP)
        if vertical:  # the arrow beside the words: one line, so two buttons fit a short column
            kw.update(orientation="vertical", size_hint_x=None, width=max(px(150), tx(theme.TEXT) * 4.2 + px(36)))
        else:
            kw.update(orientation="horizontal", size_hint_y=None, height=px(theme.TARGET))
        super().__init__(spacing=gap, **kw)
        self.vertical = vertical
        self.full = self.width if vertical else self.height
        self.scroll = scroll
        colours = dict(bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.BLUE, .2), ink=theme.rgba(theme.BLUE),
                       markup=True, font_size=tx(theme.TEXT))
        # a row under a narrow list (landscape search) has room for the words, not the arrows too
        up, down = ("▲ 上一页", "▼ 下一页") if vertical else ("上一页", "下一页")
        if vertical:
            colours.update(size_hint_min_y=px(theme.TARGET), size_hint_max_y=px(240))
        self.up = KeyButton(text=up, **colours)
        self.down = KeyButton(text=down, **colours)
        self.up.bind(on_release=lambda *_: self.page(+1))
        self.down.bind(on_release=lambda *_: self.page(-1))
        for w in ((self.up, Widget(size_hint_y=0.2), self.down) if vertical else (self.up, self.down)):
            self.add_widget(w)
        scroll.bind(scroll_y=self._update, height=self._update)
        self._content = None
        scroll.bind(children=self._watch)
        self._watch()

    def _watch(self, *_args) -> None:
        if self.scroll.children and self.scroll.children[0] is not self._content:
            self._content = self.scroll.children[0]
            self._content.bind(height=self._update)
        self._update()

    def _overflow(self) -> float:
        return (self._content.height - self.scroll.height) if self._content is not None else 0

    def _update(self, *_args) -> None:
        overflow = self._overflow() > 1
        self.opacity = 1 if overflow else 0  # a list that fits needs no page buttons, nor room for them
        setattr(self, "width" if self.vertical else "height", self.full if overflow else 0)
        self.up.disabled = not overflow or self.scroll.scroll_y >= 0.999
        self.down.disabled = not overflow or self.scroll.scroll_y <= 0.001

    def page(self, direction: int) -> None:
        overflow = self._overflow()
        if overflow <= 0:
            return
        step = self.scroll.height * 0.85 / overflow
        self.scroll.scroll_y = min(1.0, max(0.0, self.scroll.scroll_y + direction * step))
        self._update()


def scroll_column(spacing: float | None = None) -> tuple[ScrollView, GridLayout]:
    scroll = ScrollView(do_scroll_x=False, bar_width=px(10), bar_color=theme.rgba(theme.BLUE, .7),
                        bar_inactive_color=theme.rgba(theme.BLUE, .35), scroll_type=["bars", "content"])
    content = GridLayout(cols=1, size_hint_y=None, spacing=px(theme.GAP) if spacing is None else spacing)
    content.bind(minimum_height=content.setter("height"))
    scroll.add_widget(content)
    return scroll, content
