"""The inquiry home (search, policies, category tiles, hot items) and one category's guides."""

from __future__ import annotations

import math

from kivy.app import App
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.scrollview import ScrollView

from .. import theme
from ..base import style_buttons
from ..widgets import IconButton, RowButton, TileButton, icon_path, label, px, tx, wrappable
from .common import HOME, InquiryScreen, guide_detail

class InquiryHome(InquiryScreen):
    is_home = True

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.body.padding = (px(32), px(24))
        self.scroll = ScrollView(do_scroll_x=False, bar_width=px(10), bar_color=theme.rgba(theme.BLUE, .7))
        self.content = BoxLayout(orientation="vertical", size_hint_y=None, spacing=px(theme.GAP))
        self.scroll.add_widget(self.content)
        self.body.add_widget(self.scroll)
        self.top_row = BoxLayout(orientation="vertical", size_hint_y=None, spacing=px(theme.GAP))
        self.search_button = IconButton(text="搜索事项", icon_source=icon_path("search"), font_size=tx(52))
        self.search_button.bind(on_release=lambda *_: self.open_search())
        self.policy_button = IconButton(text="政策文件", icon_source=icon_path("policy"), light=True)
        self.policy_button.bind(on_release=lambda *_: self.go("policies"))
        self.ticket_button = None
        if terminal.dispenses:
            self.ticket_button = IconButton(text="取号", icon_source=icon_path("ticket"))
            self.ticket_button.bind(on_release=lambda *_: self.go("grid"))
        self.cat_title = label("按类别查找", theme.TEXT, theme.INK_SOFT, bold=True, kind="line")
        self.cat_grid = GridLayout(spacing=px(theme.GAP), size_hint_y=None, row_force_default=True)
        self.hot_title = label("热门事项", theme.TEXT, theme.INK_SOFT, bold=True, kind="line")
        self.hot_grid = GridLayout(spacing=px(theme.GAP), size_hint_y=None, row_force_default=True)
        cat_block = BoxLayout(orientation="vertical", size_hint_y=None, spacing=px(8))
        hot_block = BoxLayout(orientation="vertical", size_hint_y=None, spacing=px(8))
        for block, title, grid in ((cat_block, self.cat_title, self.cat_grid),
                                   (hot_block, self.hot_title, self.hot_grid)):
            block.add_widget(title)
            block.add_widget(grid)
            block.bind(minimum_height=block.setter("height"))
        self.styles = style_buttons(self)
        self.styles.bind(height=lambda *_: self._fit())  # 呼叫工作人员 takes a row of its own in portrait
        for w in (self.top_row, self.styles, cat_block, hot_block):
            self.content.add_widget(w)
        self.tiles: dict[str, TileButton] = {}
        self.hot_buttons: list[RowButton] = []
        self._version = None
        self.scroll.bind(size=lambda *_: self._fit())
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
        self.hot_title.opacity = 1 if self.hot_buttons else 0
        self.relayout()

    def open_category(self, code: str) -> None:
        self.manager.get_screen("category").show(code)
        self.go("category")

    def _arrange_top(self) -> None:
        """One row of search, policies (and 取号); on a narrow screen with 取号, search gets its own row."""
        buttons = [b for b in (self.search_button, self.policy_button, self.ticket_button) if b]
        for b in buttons:
            if b.parent:
                b.parent.remove_widget(b)
        self.top_row.clear_widgets()
        height = max(px(140), tx(44) * 2.4)
        rows = [buttons[:1], buttons[1:]] if self.portrait and len(buttons) > 2 else [buttons]
        for members in rows:
            row = BoxLayout(size_hint_y=None, height=height, spacing=px(theme.GAP))
            for b in members:  # beside the search button the others take less room
                b.size_hint_x = 0.6 if b is not self.search_button and self.search_button in members else 1
                row.add_widget(b)
            self.top_row.add_widget(row)
        self.top_row.height = len(rows) * height + (len(rows) - 1) * px(theme.GAP)

    def relayout(self) -> None:
        self._arrange_top()
        large = App.get_running_app().text_scale > 1
        if self.portrait:
            self.cat_grid.cols, self.hot_grid.cols = (2, 1) if large else (3, 2)
        else:
            self.cat_grid.cols, self.hot_grid.cols = (4, 2) if large else (6, 4)
        self._fit()

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
    """One category's guides as big rows."""

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.code = ""
        title_row = BoxLayout(size_hint_y=None, height=max(px(100), tx(theme.TITLE) * 1.5), spacing=px(20))
        self.icon = Image(size_hint=(None, None), size=(px(88), px(88)), pos_hint={"center_y": .5},
                          fit_mode="contain")
        self.title = label("", theme.TITLE, theme.INK, bold=True, height=title_row.height, kind="line")
        self.count = label("", theme.TEXT, theme.INK_SOFT, height=title_row.height, halign="right",
                          size_hint_x=None, width=tx(theme.TEXT) * 5, kind="line")
        for w in (self.icon, self.title, self.count):
            title_row.add_widget(w)
        self._list_page(title_row)

    def show(self, code: str) -> None:
        catalogue = self.catalogue
        category = catalogue.category(code)
        self.code = code
        self.icon.source = icon_path(category.icon if category else "general")
        self.title.text = category.name if category else ""
        guides = catalogue.guides(code)
        self.count.text = f"共 {len(guides)} 项"
        self.list.clear_widgets()
        self.rows = []
        for g in guides:
            row = RowButton(text=wrappable(g.name), detail=wrappable(guide_detail(g)), item=g,
                            icon_source=self.icon.source)
            row.bind(on_release=lambda r: self.open_guide(r.item, "category"))
            self.list.add_widget(row)
            self.rows.append(row)
        self.scroll.scroll_y = 1
        self.relayout()

    def relayout(self) -> None:
        self.list.cols = 1 if self.portrait or App.get_running_app().text_scale > 1 else 2
