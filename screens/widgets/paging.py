"""Scrolling columns and their 上一页 / 下一页 pager (layout in paging.kv)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.scrollview import ScrollView

from .buttons import KeyButton

Builder.load_file(str(Path(__file__).with_name("paging.kv")))


class PagerKey(KeyButton):
    """上一页 / 下一页: a white key with blue words (paging.kv)."""


class PixelScrollView(ScrollView):
    """A ScrollView that moves its content by whole pixels. Kivy's moves it by the fraction the scroll
    position gives: every text in it is then drawn between pixels and smeared by the texture's
    filtering (at an 800x1280 panel's scale small type lost a third of its contrast)."""

    def update_from_scroll(self, *largs):
        super().update_from_scroll(*largs)
        x, y = self.g_translate.xy
        self.g_translate.xy = round(x), round(y)


class ScrollColumn(PixelScrollView):
    """A vertical scroll over one column (``ids.column``, a GridLayout that grows with its rows)."""

    spacing = NumericProperty(-1)  # between rows; -1: the theme's gap
    column_padding = ListProperty([0, 0, 0, 0])

    @property
    def column(self):
        return self.ids.column


class PagerBase(BoxLayout):
    """上一页 / 下一页 for a ScrollView (``scroll``): visitors who do not know to swipe can still read on.

    ``Pager`` is a column beside the list, ``PagerRow`` a row below it. A list that fits needs no
    page buttons, nor room for them: the pager then takes no width (height) and is hidden.
    """

    scroll = ObjectProperty(None, allownone=True)
    full = NumericProperty(0)  # its width (column) or height (row) while it shows
    active = BooleanProperty(True)  # False: never shown (a layout that uses the other pager)
    vertical = True

    def __init__(self, scroll: ScrollView | None = None, **kw):
        self._content = None
        super().__init__(**kw)
        if scroll is not None:
            self.scroll = scroll
        self.bind(full=self._update, active=self._update)
        self._update()

    @property
    def up(self):
        return self.ids.up

    @property
    def down(self):
        return self.ids.down

    def on_kv_post(self, *_args) -> None:
        self._update()

    def on_scroll(self, _w, scroll) -> None:
        if scroll is not None:
            scroll.bind(scroll_y=self._update, height=self._update, children=self._watch)
            self._watch()

    def _watch(self, *_args) -> None:
        if self.scroll.children and self.scroll.children[0] is not self._content:
            self._content = self.scroll.children[0]
            self._content.bind(height=self._update)
        self._update()

    def _overflow(self) -> float:
        if self._content is None or self.scroll is None:
            return 0
        return self._content.height - self.scroll.height

    def _update(self, *_args) -> None:
        if "up" not in self.ids:
            return
        overflow = self.active and self._overflow() > 1
        self.opacity = 1 if overflow else 0
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


class Pager(PagerBase):
    """The pager as a column beside the list (the arrow beside the words)."""


class PagerRow(PagerBase):
    """The pager as a row below a narrow list (room for the words, not the arrows too)."""

    vertical = False


def scroll_column(spacing: float | None = None) -> tuple[ScrollView, BoxLayout]:
    """A ScrollColumn and its column (for layouts built in Python)."""
    scroll = ScrollColumn(spacing=-1 if spacing is None else spacing)
    return scroll, scroll.column
