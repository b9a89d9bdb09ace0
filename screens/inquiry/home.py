"""The inquiry home (search, policies, category tiles, hot items) and one category's guides.

Static layout in home.kv and common.kv; here the tiles and rows built from the catalogue.
"""

from __future__ import annotations

import math
from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty

from .. import theme
from ..base import style_buttons
from ..widgets import RowButton, TileButton, icon_path, measure, px, tx, wrappable
from ..widgets.paging import PixelScrollView
from .common import HOME, InquiryScreen, guide_detail, list_page

Builder.load_file(str(Path(__file__).with_name("home.kv")))


class HomePage(PixelScrollView):
    """The home's body (home.kv): the top buttons, the style block, the tiles and the hot items."""

    screen = ObjectProperty(None, allownone=True)
    portrait = BooleanProperty(False)
    hot_count = NumericProperty(0)
    tile_cols = NumericProperty(6)  # the most tiles a row holds with the longest name on one line


class InquiryHome(InquiryScreen):
    is_home = True

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.body.padding = (px(32), px(24))
        self.page = self.scroll = HomePage(screen=self)
        self.bind(portrait=self.page.setter("portrait"))
        self.body.add_widget(self.page)
        ids = self.page.ids
        self.content, self.top_row = ids.content, ids.top_row
        self.search_button, self.policy_button, self.ticket_button = ids.search.__self__, ids.policy.__self__, ids.ticket.__self__
        if not terminal.dispenses:
            ids.first_row.remove_widget(self.ticket_button)
            self.ticket_button = None
        self.cat_title, self.cat_grid = ids.cat_title, ids.cat_grid
        self.hot_title, self.hot_grid = ids.hot_title, ids.hot_grid
        self.styles = style_buttons(self)  # shared with the attract screen (screens/base.py)
        self.content.add_widget(self.styles, index=len(self.content.children) - 1)  # under the top row
        self.styles.bind(height=lambda *_: self._fit())  # 呼叫工作人员 takes a row of its own in portrait
        self.tiles: dict[str, TileButton] = {}
        self.hot_buttons: list[RowButton] = []
        self._version = None
        self.scroll.bind(size=lambda *_: self._fit())
        self.page.bind(width=lambda *_: (self._tile_columns(), self._arrange_top()))
        self.top_row.bind(height=lambda *_: self._fit())
        for grid in (self.cat_grid, self.hot_grid):  # the kv rule sets the columns by orientation and type
            grid.bind(cols=lambda *_: self._fit())
        self.fill()
        self._size_changed()  # laid out before first shown (taps may come first)

    def on_enter(self, *args):
        if App.get_running_app().visitor_style_changed():
            super().on_enter(*args)

    def open_search(self) -> None:
        self.manager.get_screen("search").clear()
        self.go("search")

    def on_pre_enter(self, *args):
        if self._version != self.catalogue.version:  # new content arrived from the server
            self.fill()

    def fill(self) -> None:
        """The category tiles and the hot items from the catalogue."""
        catalogue = self.catalogue
        self._version = catalogue.version
        self.cat_grid.clear_widgets()
        self.tiles.clear()
        for c in catalogue.categories():
            tile = TileButton(text=c.name, icon_source=icon_path(c.icon), code=c.code)
            tile.bind(on_release=lambda t: self.open_category(t.code))
            self.cat_grid.add_widget(tile)
            self.tiles[c.code] = tile
        self.hot_grid.clear_widgets()
        self.hot_buttons = []
        for g in catalogue.hot():
            category = catalogue.category(g.category)
            row = RowButton(text=wrappable(g.name), item=g, title_size=tx(theme.TEXT), title_bold=True,
                            icon_source=icon_path(category.icon if category else "general"), icon_size=px(60),
                            stretch=True)
            row.bind(on_release=lambda r: self.open_guide(r.item, HOME))
            self.hot_grid.add_widget(row)
            self.hot_buttons.append(row)
        self.page.hot_count = len(self.hot_buttons)
        self._tile_columns()
        self._fit()

    def _tile_columns(self) -> None:
        """As many tile columns as hold the longest category name on one line (a 1280x800 panel
        holds five, not six: 土地与宅基地 would wrap and push its icon out of the tile)."""
        if not self.tiles:
            return
        tile = next(iter(self.tiles.values()))
        name = tile.ids.name
        widest = max(measure(t.text, name.font_size, bold=True)[0] for t in self.tiles.values())
        need = widest + tile.padding[0] + tile.padding[2] + 1
        gap = px(theme.GAP)
        room = self.page.width
        self.page.tile_cols = max(1, int((room + gap) // (need + gap)))

    def open_category(self, code: str) -> None:
        self.manager.get_screen("category").show(code)
        self.go("category")

    def relayout(self) -> None:
        self._arrange_top()
        self._fit()

    def _arrange_top(self) -> None:
        """One row of search, policies (and 取号); on a narrow screen with 取号, or a row whose shares do not
        hold each button's words on one line (a 4:3 or 5:4 panel in large type), search gets its own row."""
        ids = self.page.ids
        split = self.ticket_button is not None and (self.portrait or not self._one_row_holds())
        others = [b for b in (self.policy_button, self.ticket_button) if b]
        target = ids.second_row if split else ids.first_row
        if others[0].parent is target:
            return
        for b in others:  # beside the search button the others take less room
            b.parent.remove_widget(b)
            b.size_hint_x = 1 if split else 0.6
            target.add_widget(b)

    def _one_row_holds(self) -> bool:
        """Search (share 1), policies and 取号 (0.6 each) with their words on one line in one row of the page's width."""
        width = self.page.width
        if width <= 1:
            return True
        buttons = [(self.search_button, 1), (self.policy_button, 0.6), (self.ticket_button, 0.6)]
        room = width - 2 * px(theme.GAP)
        return all(b.text_width() + b.padding[0] + b.padding[2] + 3 * b.spacing <= room * share / 2.2
                   for b, share in buttons)  # the words on one line (the icon may give way, IconButton._fit)

    def _fit(self) -> None:
        """Tiles share the height of the page; too little height (large type) scrolls instead."""
        gap = px(theme.GAP)
        cat_rows = math.ceil(len(self.tiles) / max(1, self.cat_grid.cols))
        hot_rows = math.ceil(len(self.hot_buttons) / max(1, self.hot_grid.cols))
        title = self.cat_title.height + px(8)
        fixed = self.top_row.height + self.styles.height + 3 * gap + 2 * title + gap * (max(0, cat_rows - 1) + max(0, hot_rows - 1))
        min_cat = max(px(150), tx(44) * 1.3 + px(90))
        min_hot = max(px(theme.TARGET), tx(theme.TEXT) * 1.15 * 2 + px(28))
        free = self.scroll.height - fixed
        cat_h = min(px(220), max(min_cat, (free - hot_rows * min_hot) / max(1, cat_rows)))
        hot_h = min(px(160), max(min_hot, (free - cat_rows * cat_h) / max(1, hot_rows)))
        for grid, rows, h in ((self.cat_grid, cat_rows, cat_h), (self.hot_grid, hot_rows, hot_h)):
            grid.row_default_height = h
            grid.height = rows * h + gap * max(0, rows - 1)
        needed = fixed + cat_rows * cat_h + hot_rows * hot_h
        self.content.height = max(needed, self.scroll.height)


class CategoryScreen(InquiryScreen):
    """One category's guides as big rows (the list page of common.kv)."""

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.code = ""
        list_page(self)
        self._size_changed()  # laid out before first shown (taps may come first)

    def relayout(self) -> None:
        """Two columns in landscape, one in portrait or large type."""
        if hasattr(self, "list"):
            self.list.cols = 1 if self.portrait or App.get_running_app().text_scale > 1 else 2

    def show(self, code: str) -> None:
        """The category's guides as rows."""
        catalogue = self.catalogue
        category = catalogue.category(code)
        self.code = code
        self.page.icon_source = icon_path(category.icon if category else "general")
        self.page.title = category.name if category else ""
        guides = catalogue.guides(code)
        self.page.count = f"共 {len(guides)} 项"
        self.list.clear_widgets()
        self.rows = []
        for g in guides:
            row = RowButton(text=wrappable(g.name), detail=wrappable(guide_detail(g)), item=g,
                            icon_source=self.page.icon_source)
            row.bind(on_release=lambda r: self.open_guide(r.item, "category"))
            self.list.add_widget(row)
            self.rows.append(row)
        self.scroll.scroll_y = 1
