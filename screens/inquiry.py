"""Inquiry screens (查询机): home -> category -> guide, search as you type, policy documents.

    inquiry  home: search, policy documents, category tiles, hot items (and 取号 when combined)
    category one category's guides
    guide    a guide's sections; print the 一次性告知单, take a ticket, read aloud
    search   on-screen keyboard; results as the visitor types
    policies the policy documents; policy: one document in large type

The screens show what ``terminal.guides`` (kiosk.guides.GuideCatalogue) returns
and forward taps to the terminal: search, the notice slip and printing live in
``kiosk``. Printing reports from a worker thread; ``mainthread`` hops back.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from pathlib import Path

from kivy.app import App
from kivy.clock import mainthread
from kivy.core.text import Label as CoreLabel
from kivy.lang import Builder
from kivy.properties import (BooleanProperty, ColorProperty, NumericProperty, ObjectProperty,
                             StringProperty)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget
from kivy.utils import escape_markup

from . import theme
from .dispenser import VisitorScreen
from .widgets import BigButton, Panel, fit_font, icon_path

Builder.load_file(str(Path(__file__).with_name("inquiry.kv")))

HOME = "inquiry"


def blue_hex() -> str:  # follows the palette (high contrast)
    return theme.hex_colour(theme.BLUE)


def soft_hex() -> str:
    return theme.hex_colour(theme.INK_SOFT)


# The keyboards. Landscape: QWERTY with 120-px keys and 24-px gaps (10 keys = 1416 px).
# Portrait (1016 px between the margins) cannot hold 10 such keys in a row, so it uses
# the alphabet in order (汉语拼音字母表), 7 keys a row, which keeps the keys at 120 px.
# A row is a string of one-key characters or a list of (key, width in keys).
BACKSPACE, CLEAR = "删除", "清空"
QWERTY_ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL",
               [*((c, 1) for c in "ZXCVBNM"), (BACKSPACE, 1.5), (CLEAR, 1.5)])
ALPHA_ROWS = ("ABCDEFG", "HIJKLMN", "OPQRSTU", [*((c, 1) for c in "VWXYZ"), (BACKSPACE, 2)],
              "1234567", [*((c, 1) for c in "890"), (CLEAR, 2)])

SECTION_ORDER = ("办理条件", "申请材料", "办理流程", "办理时限", "收费标准", "办理结果", "受理窗口",
                 "咨询电话", "注意事项", "法定依据")


def px(value: float) -> float:
    return App.get_running_app().px(value)


def tx(value: float) -> float:
    return App.get_running_app().tx(value)


def para(text: str = "", size: float = theme.TEXT, colour=None, bold: bool = False,
         markup: bool = False, halign: str = "left", **kw) -> Label:
    """A wrapping paragraph whose height follows its text (for scrolling pages).

    Plain ``text`` is made ``wrappable``; with ``markup`` the caller does that.
    """
    colour = theme.INK if colour is None else colour  # the palette of the moment (high contrast)
    lbl = Label(text=text if markup else wrappable(text), font_size=tx(size), color=theme.rgba(colour),
                bold=bold, markup=True,
                halign=halign, valign="top", size_hint_y=None, line_height=kw.pop("line_height", 1.3), **kw)
    lbl.bind(width=lambda w, v: setattr(w, "text_size", (v, None)),
             texture_size=lambda w, s: setattr(w, "height", s[1]))
    return lbl


def line(text: str = "", size: float = theme.TEXT, colour=None, bold: bool = False, height: float = 0,
         **kw) -> Label:
    """A one-line label of fixed height, shortened with an ellipsis if it is too long."""
    colour = theme.INK if colour is None else colour
    lbl = Label(text=text, font_size=tx(size), color=theme.rgba(colour), bold=bold,
                halign=kw.pop("halign", "left"), valign="middle", shorten=True, shorten_from="right",
                size_hint_y=None, height=height or tx(size) * 1.45, **kw)
    lbl.bind(size=lambda w, s: setattr(w, "text_size", s))
    return lbl


NO_LINE_START = set("，。、；：？！）》」』”’…·%,.;:?!)]}〕】")
NO_LINE_END = set("（《「『“‘([{〔【")


def wrappable(text: str) -> str:
    """Escaped markup that wraps between hanzi, but never before a closing or after an opening mark.

    Kivy wraps markup only between style runs or at spaces, and breaks a long
    run anywhere (so a line could start with "，"). Empty [b][/b] pairs split
    the text into runs of one character, with punctuation kept on its
    neighbour's run and latin words and numbers kept whole, without changing
    how it looks.
    """
    runs: list[str] = []
    for ch in text:
        if runs and (ch in NO_LINE_START or runs[-1][-1] in NO_LINE_END
                     or (ch.isascii() and ch.isalnum() and runs[-1][-1].isascii() and runs[-1][-1].isalnum())):
            runs[-1] += ch
        else:
            runs.append(ch)
    return "[b][/b]".join(escape_markup(r) for r in runs)


def highlighted(name: str, span: tuple[int, int] | None) -> str:
    """Markup for a guide name with the matched characters in bold blue, underlined."""
    if not span:
        return wrappable(name)
    start, end = span
    return (wrappable(name[:start]) + f"[b][color={blue_hex()}][u]" + wrappable(name[start:end])
            + "[/u][/color][/b]" + wrappable(name[end:]))


def window_text(terminal, number: int) -> str:
    window = terminal.hall.window(number)
    return f"{number}号窗口（{window.name}）" if window and window.name else f"{number}号窗口"


def guide_detail(guide) -> str:
    limit = "即时办结" if guide.promised_limit == "即时办结" else f"承诺{guide.promised_limit}"
    return f"{guide.case_type} · {guide.window}号窗口 · {limit}"


# ------------------------------------------------------------------ widgets

class CardBase(ButtonBehavior, BoxLayout):
    pass


class TileButton(CardBase):
    """A category tile: icon above the name."""

    text = StringProperty("")
    icon_source = StringProperty("")
    code = StringProperty("")


class RowButton(CardBase):
    """A list row: icon beside a title (markup) and a detail line."""

    text = StringProperty("")
    detail = StringProperty("")
    icon_source = StringProperty("")
    icon_size = NumericProperty(0)
    title_size = NumericProperty(0)
    title_bold = BooleanProperty(True)
    stretch = BooleanProperty(False)  # take the grid's row height instead of the text's
    item = ObjectProperty(None, allownone=True)  # the guide or policy the row opens

    def __init__(self, **kw):
        kw.setdefault("icon_size", px(88))
        kw.setdefault("title_size", tx(40))
        super().__init__(**kw)


class IconButton(ButtonBehavior, BoxLayout):
    """A button with an icon beside its label, both centred; primary blue or outlined white."""

    text = StringProperty("")
    icon_source = StringProperty("")
    font_size = NumericProperty(0)
    bg = ColorProperty(theme.rgba(theme.BLUE))
    bg_down = ColorProperty(theme.rgba(theme.BLUE_DARK))
    ink = ColorProperty(theme.rgba(theme.WHITE))
    outlined = BooleanProperty(False)

    def __init__(self, light: bool = False, **kw):
        kw.setdefault("font_size", tx(theme.BUTTON_TEXT))
        kw.setdefault("bg", theme.rgba(theme.BLUE))  # the palette of the moment (high contrast)
        kw.setdefault("bg_down", theme.rgba(theme.BLUE_DARK))
        kw.setdefault("ink", theme.rgba(theme.WHITE))
        self.disabled_bg = theme.rgba(theme.DISABLED_BG)
        self.disabled_ink = theme.rgba(theme.DISABLED_INK)
        if light:
            kw.update(bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.BLUE, .12),
                      ink=theme.rgba(theme.BLUE), outlined=True)
        super().__init__(**kw)
        self.bind(size=self._fit, text=self._fit, font_size=self._fit, icon_source=self._fit)
        self._fit()

    def text_width(self) -> float:
        core = CoreLabel(text=self.text or " ", font_size=self.font_size, bold=True)
        core.refresh()
        return core.texture.size[0] + 2

    def natural_width(self) -> float:
        """The width that shows icon and label on one line."""
        icon = px(76) if self.icon_source else 0
        return self.padding[0] + self.padding[2] + 3 * self.spacing + icon + self.text_width() + px(16)

    def _fit(self, *_args) -> None:
        """The label takes its natural width (so icon and label centre together), wrapping if narrower."""
        natural = self.text_width()
        room = self.width - self.padding[0] - self.padding[2] - 3 * self.spacing
        icon = min(px(76), self.height * .62) if self.icon_source else 0
        if natural > room - icon:  # too narrow for both: the words matter more than the picture
            icon = 0
        self.ids.icon.size = (icon, icon)
        self.ids.label.width = max(1, min(natural, room - icon))



class KeyButton(BigButton):
    key = StringProperty("")


class QueryField(BoxLayout):
    pass


class TickBox(Widget):
    pass


class StepNumber(Label):
    pass


class Dot(Widget):
    pass


def nav_button(text: str, icon: str, on_press, width: float = 0, light: bool = True) -> IconButton:
    b = IconButton(text=text, icon_source=icon_path(icon) if icon else "", light=light,
                   size_hint_x=None if width else 1, width=width or 100)
    if width:  # never narrower than icon and label on one line (large type)
        b.width = max(width, b.natural_width())
    b.bind(on_release=lambda *_: on_press())
    return b


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


# ------------------------------------------------------------------ screens

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
            self.tick_clock(datetime.now())  # the header shows the date only in landscape

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
        self.cat_title = line("按类别查找", theme.TEXT, theme.INK_SOFT, bold=True)
        self.cat_grid = GridLayout(spacing=px(theme.GAP), size_hint_y=None, row_force_default=True)
        self.hot_title = line("热门事项", theme.TEXT, theme.INK_SOFT, bold=True)
        self.hot_grid = GridLayout(spacing=px(theme.GAP), size_hint_y=None, row_force_default=True)
        cat_block = BoxLayout(orientation="vertical", size_hint_y=None, spacing=px(8))
        hot_block = BoxLayout(orientation="vertical", size_hint_y=None, spacing=px(8))
        for block, title, grid in ((cat_block, self.cat_title, self.cat_grid),
                                   (hot_block, self.hot_title, self.hot_grid)):
            block.add_widget(title)
            block.add_widget(grid)
            block.bind(minimum_height=block.setter("height"))
        from .dispenser import style_buttons

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
        self.title = line("", theme.TITLE, theme.INK, bold=True, height=title_row.height)
        self.count = line("", theme.TEXT, theme.INK_SOFT, height=title_row.height, halign="right",
                          size_hint_x=None, width=tx(theme.TEXT) * 5)
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


class GuideScreen(InquiryScreen):
    """A guide in sections; the actions stay visible below the scrolling text."""

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.guide = None
        self.back_to = HOME
        self._busy_until = 0.0
        head = BoxLayout(size_hint_y=None, spacing=px(20))
        self.icon = Image(size_hint=(None, None), size=(px(96), px(96)), pos_hint={"center_y": .5},
                          fit_mode="contain")
        # the name, then case type and window in smaller grey type on the same line when it fits
        self.title = para("", 48, theme.INK, bold=True, markup=True, line_height=1.15, pos_hint={"center_y": .5})
        self.title.bind(height=lambda w, h: setattr(head, "height", max(px(100), h)))
        head.add_widget(self.icon)
        head.add_widget(self.title)
        self.scroll, self.sections = scroll_column()
        self.pager = Pager(self.scroll)
        middle = BoxLayout(spacing=px(theme.GAP))
        middle.add_widget(self.scroll)
        middle.add_widget(self.pager)
        self.status = line("", theme.TEXT, theme.INK, bold=True, height=0, opacity=0)
        self.print_button = IconButton(text="打印一次性告知单", icon_source=icon_path("print"))
        self.print_button.bind(on_release=lambda *_: self.print_notice())
        self.ticket_button = IconButton(text="取号办理", icon_source=icon_path("ticket"))
        self.ticket_button.bind(on_release=lambda *_: self.take_ticket())
        self.read_button = IconButton(text="朗读", icon_source=icon_path("speak"), light=True)
        self.read_button.bind(on_release=lambda *_: self.read_aloud())
        self.back_button = nav_button("返回", "back", self.go_back)
        self.home_button = nav_button("首页", "home", lambda: self.go(HOME))
        self.actions = BoxLayout(orientation="vertical", size_hint_y=None, spacing=px(theme.GAP))
        for w in (head, middle, self.status, self.actions):
            self.body.add_widget(w)
        self.bind(width=lambda *_: self.relayout())  # the actions flow by the real width
        self._size_changed()  # laid out before first shown (taps may come first)

    # -- layout
    def _action_buttons(self) -> tuple[list, list]:
        """(main actions, navigation): buttons that apply to this guide on this terminal."""
        main = [self.print_button] if self.terminal.has_printer else []
        if self.can_take_ticket():
            main.append(self.ticket_button)
        if self.terminal.voice.available:
            main.append(self.read_button)
        return main, [self.back_button, self.home_button]

    def can_take_ticket(self) -> bool:
        g = self.guide
        return bool(self.terminal.dispenses and g is not None and g.service
                    and self.terminal.hall.service(g.service) is not None)

    def relayout(self) -> None:
        """The actions in as few rows as their natural widths allow (one in landscape, two in portrait)."""
        main, nav = self._action_buttons()
        self.actions.clear_widgets()
        gap, room = px(theme.GAP), self.width - 2 * px(32)
        buttons = main + nav
        for b in buttons:
            if b.parent:
                b.parent.remove_widget(b)
        rows = self._rows(buttons, room, gap)
        for buttons in rows:
            row = BoxLayout(size_hint_y=None, height=px(theme.TARGET), spacing=gap)
            for b in buttons:
                b.size_hint_x = b.natural_width()  # spare room is shared in proportion
                row.add_widget(b)
            self.actions.add_widget(row)
        self.actions.height = len(rows) * px(theme.TARGET) + (len(rows) - 1) * gap

    @staticmethod
    def _rows(buttons: list, room: float, gap: float) -> list[list]:
        """The fewest rows that fit, with the buttons spread evenly over them (3 + 2, not 4 + 1)."""
        needs = [b.natural_width() for b in buttons]
        for count in range(1, len(buttons) + 1):
            per_row = math.ceil(len(buttons) / count)
            rows = [list(range(i, min(i + per_row, len(buttons)))) for i in range(0, len(buttons), per_row)]
            if all(sum(needs[i] for i in row) + gap * (len(row) - 1) <= room for row in rows):
                return [[buttons[i] for i in row] for row in rows]
        return [[b] for b in buttons]

    # -- content
    def show(self, guide, back_to: str = HOME) -> None:
        self.guide = guide
        self.back_to = back_to
        category = self.catalogue.category(guide.category)
        self.icon.source = icon_path(category.icon if category else "general")
        # the meta is one run: it moves to the next line whole rather than splitting
        meta = escape_markup(f"{guide.case_type}\u00a0·\u00a0{window_text(self.terminal, guide.window)}")
        self.title.text = (f"{wrappable(guide.name)}　　[b][/b][size={round(tx(theme.TEXT))}][color={soft_hex()}]"
                           f"{meta}[/color][/size]")
        self._set_status("", theme.INK)
        self.print_button.disabled = False
        self.sections.clear_widgets()
        for title, widgets in self._section_widgets(guide):
            self.sections.add_widget(self._section(title, widgets))
        self.scroll.scroll_y = 1
        self.relayout()

    def _section(self, title: str, widgets: list) -> Panel:
        panel = Panel(orientation="vertical", size_hint_y=None, padding=(px(32), px(20)), spacing=px(14),
                      radius=px(20))
        panel.add_widget(para(title, 44, theme.BLUE, bold=True, line_height=1.1))
        for w in widgets:
            panel.add_widget(w)
        panel.bind(minimum_height=panel.setter("height"))
        return panel

    def _section_widgets(self, g) -> list[tuple[str, list]]:
        materials = [para(f"共 {len(g.materials)} 项，请带齐后到{g.window}号窗口办理", theme.TEXT_SMALL,
                          theme.INK_SOFT)]
        for m in g.materials:
            text = f"[b]{wrappable(m.name)}[/b]　[color={blue_hex()}]{escape_markup(m.form)} {m.count}份[/color]"
            if m.notes:
                text += f"\n[color={soft_hex()}]{wrappable(m.notes)}[/color]"
            materials.append(self._marked(TickBox(size=(tx(40), tx(40))), text))
        steps = [self._marked(StepNumber(text=str(n), font_size=tx(32), size=(tx(50), tx(50))), wrappable(s))
                 for n, s in enumerate(g.steps, 1)]
        limits = [para(f"法定时限：{g.legal_limit}"), para(f"承诺时限：[b]{escape_markup(g.promised_limit)}[/b]",
                                                        markup=True)]
        sections = {
            "办理条件": [self._marked(self._dot(), wrappable(c)) for c in g.conditions],
            "申请材料": materials,
            "办理流程": steps,
            "办理时限": limits,
            "收费标准": [para(g.fees)],
            "办理结果": [para(g.result)],
            "受理窗口": [para(window_text(self.terminal, g.window))],
            "咨询电话": [para(g.contact)],
            "注意事项": [self._marked(self._dot(), wrappable(n)) for n in g.notes],
            "法定依据": [para(b) for b in g.legal_basis],
        }
        return [(t, sections[t]) for t in SECTION_ORDER if sections[t] and any(
            getattr(w, "text", True) for w in sections[t])]

    @staticmethod
    def _dot() -> Widget:
        return Dot(size=(tx(14), tx(14)))

    @staticmethod
    def _marked(marker: Widget, text: str) -> BoxLayout:
        """A marker (box, number, dot) beside a wrapping paragraph, centred on its first line."""
        first_line = tx(theme.TEXT) * 1.3
        lbl = para(text, markup=True)
        anchor = Widget(size_hint_x=None, width=max(marker.width, tx(50)))
        anchor.add_widget(marker)

        def place(*_args):
            marker.center_x = anchor.center_x
            marker.center_y = anchor.top - first_line / 2

        anchor.bind(pos=place, size=place)
        row = BoxLayout(size_hint_y=None, spacing=px(18))
        row.add_widget(anchor)
        row.add_widget(lbl)
        lbl.bind(height=lambda w, h: setattr(row, "height", max(h, marker.height)))
        return row

    def speech_text(self) -> str:
        g = self.guide
        materials = "；".join(f"{m.name}，{m.form}{m.count}份" for m in g.materials)
        return (f"{g.name}。请到{g.window}号窗口办理。办理条件：{'；'.join(g.conditions)}。"
                f"需要带的材料：{materials}。办理时限：{g.promised_limit}。收费：{g.fees}。")

    # -- actions
    def _debounced(self) -> bool:
        if time.monotonic() < self._busy_until:
            return False
        self._busy_until = time.monotonic() + 1.0
        return True

    def print_notice(self) -> None:
        if self.guide is None or self.print_button.disabled or not self._debounced():
            return
        guide = self.guide
        self.print_button.disabled = True
        self._set_status("正在打印告知单，请稍候…", theme.INK)
        self.terminal.print_notice(guide, lambda reason: self._printed(guide, reason))

    @mainthread
    def _printed(self, guide, reason: str) -> None:
        if guide is not self.guide:
            return
        self.print_button.disabled = False
        if not reason:
            self._set_status("告知单已打印，请从出纸口取走", theme.GREEN)
            return
        self._set_status(f"告知单打印失败：{reason}，请向窗口工作人员索取", theme.RED)

    def _set_status(self, text: str, colour) -> None:
        self.status.text = text
        self.status.color = theme.rgba(colour)
        self.status.height = tx(theme.TEXT) * 1.6 if text else 0
        self.status.opacity = 1 if text else 0

    def take_ticket(self) -> None:
        if self.can_take_ticket() and self._debounced():
            # through the grid's choice, so green-channel visitors are still asked
            self.manager.get_screen("grid").choose(self.guide.service)

    def on_leave(self, *args):
        super().on_leave(*args)
        self.terminal.voice.stop()  # the reading belongs to this page

    def read_aloud(self) -> None:
        if self.guide is not None and self.terminal.voice.available:
            self.terminal.voice.say(self.speech_text())

    def go_back(self) -> None:
        self.go(self.back_to if self.manager.has_screen(self.back_to) else HOME)


class SearchScreen(InquiryScreen):
    """The on-screen keyboard and the results, updated on every key."""

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.query = ""
        self.keys: dict[str, KeyButton] = {}
        self.field = QueryField(size_hint_y=None, height=px(theme.TARGET), padding=(px(28), 0))
        self.field_label = Label(font_size=tx(56), color=theme.rgba(theme.INK), halign="left", valign="middle",
                                 shorten=True, shorten_from="left", bold=True)
        self.field_label.bind(size=lambda w, s: setattr(w, "text_size", s))
        self.field_label.bind(width=self._fit_field)
        self.field.add_widget(self.field_label)
        self.home_button = nav_button("返回首页", "home", lambda: self.go(HOME), width=px(360))
        self.keyboard = BoxLayout(orientation="vertical", size_hint_y=None, spacing=px(theme.GAP))
        self.hint = para("", theme.TEXT_SMALL, theme.INK_SOFT, markup=True)
        self.results_title = line("", theme.TEXT, theme.INK_SOFT, bold=True)
        self.scroll, self.results = scroll_column()
        self.pagers = {True: Pager(self.scroll, vertical=True), False: Pager(self.scroll, vertical=False)}
        self.empty = para("", theme.TEXT, theme.INK, markup=True)
        self.rows: list[RowButton] = []
        self.clear()
        self._size_changed()  # laid out before first shown (taps may come first)

    # -- layout: landscape keyboard left, results right; portrait results above the keyboard
    def relayout(self) -> None:
        self.body.clear_widgets()
        self.pager = self.pagers[self.portrait]
        for w in (self.field, self.home_button, self.keyboard, self.hint, self.results_title, self.scroll,
                  *self.pagers.values(), self.empty):
            if w.parent:
                w.parent.remove_widget(w)
        self._build_keyboard(ALPHA_ROWS if self.portrait else QWERTY_ROWS)
        top = BoxLayout(size_hint_y=None, height=px(theme.TARGET), spacing=px(theme.GAP))
        top.add_widget(self.field)
        top.add_widget(self.home_button)
        results = BoxLayout(orientation="vertical", spacing=px(12))
        results.add_widget(self.results_title)
        listing = BoxLayout(spacing=px(theme.GAP))
        listing.add_widget(self.scroll)
        if self.portrait:
            listing.add_widget(self.pager)
        results.add_widget(listing)
        if not self.portrait:  # the narrow column keeps its width for the names
            results.spacing = px(theme.GAP)
            results.add_widget(self.pager)
        if self.portrait:
            for w in (top, results, self.keyboard):
                self.body.add_widget(w)
            self.hint.opacity = 0
        else:
            left = BoxLayout(orientation="vertical", size_hint_x=None, width=self.keyboard.width,
                             spacing=px(theme.GAP))
            for w in (top, self.keyboard, self.hint, Widget()):
                left.add_widget(w)
            row = BoxLayout(spacing=px(theme.GAP))
            row.add_widget(left)
            row.add_widget(results)
            self.body.add_widget(row)
            self.hint.opacity = 1
        self.show_results()

    def _build_keyboard(self, rows) -> None:
        key, gap = px(theme.TARGET), px(theme.GAP)
        self.keyboard.clear_widgets()
        self.keys = {}
        widest = 0
        for chars in rows:
            row = BoxLayout(size_hint=(None, None), height=key, spacing=gap, pos_hint={"center_x": .5})
            width = -gap
            for ch, units in ([(c, 1) for c in chars] if isinstance(chars, str) else chars):
                w = key * units + gap * (units - 1)
                editing = ch in (BACKSPACE, CLEAR)
                colours = {} if editing else dict(bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.BLUE, .2),
                                                  ink=theme.rgba(theme.BLUE))
                b = KeyButton(text=ch, key=ch, size_hint=(None, None), size=(w, key), **colours)
                if editing:
                    b.font_size = tx(theme.BUTTON_TEXT)
                b.bind(on_release=lambda k: self.press(k.key))
                row.add_widget(b)
                self.keys[ch] = b
                width += w + gap
            row.width = width
            widest = max(widest, width)
            self.keyboard.add_widget(row)
        self.keyboard.width = widest
        self.keyboard.size_hint_x = None
        self.keyboard.pos_hint = {"center_x": .5}
        self.keyboard.height = len(rows) * key + (len(rows) - 1) * gap

    # -- typing
    def clear(self) -> None:
        self.query = ""
        self.update()

    def press(self, key: str) -> None:
        if key == BACKSPACE:
            self.query = self.query[:-1]
        elif key == CLEAR:
            self.query = ""
        elif len(self.query) < 24:
            self.query += key.lower()
        self.update()

    def _fit_field(self, *_args) -> None:
        """The letters (or the prompt) on one line of the field: smaller type before any "…"."""
        width = self.field_label.width
        if width > 1:
            big = tx(56) if self.query else tx(theme.TEXT)
            self.field_label.font_size = fit_font(self.field_label.text, width - px(4), big, tx(theme.TEXT_SMALL),
                                                  bold=True)

    def update(self) -> None:
        if self.query:
            self.field_label.text = self.query.upper()
            self.field_label.color = theme.rgba(theme.INK)
        else:
            self.field_label.text = "请点按下方字母键输入"
            self.field_label.color = theme.rgba(theme.INK_SOFT)
        self._fit_field()
        self.hint.text = ("输入事项名称的拼音首字母或全拼即可，例如：\n"
                          f"“低保申请”输入 [b][color={blue_hex()}]DBSQ[/color][/b]，"
                          f"“养老保险”输入 [b][color={blue_hex()}]YLBX[/color][/b]")
        self.show_results()

    def show_results(self) -> None:
        catalogue = self.catalogue
        if self.query:
            hits = catalogue.search(self.query, limit=20)
            items = [(h.guide, h.span, self._why(h)) for h in hits]
            self.results_title.text = f"找到 {len(hits)} 项" if hits else "没有找到"
        else:
            items = [(g, None, "") for g in catalogue.hot()]
            self.results_title.text = "热门事项"
        self.results.clear_widgets()
        self.rows = []
        if not items:
            self.empty.text = "\n".join(wrappable(t) for t in (
                f"没有找到与“{self.query.upper()}”相关的事项。", "",
                "请检查拼音字母，或少输入几个字母再试；", "也可以到导办台咨询工作人员，我们帮您办。"))
            self.results.add_widget(self.empty)
            return
        narrow = not self.portrait
        for guide, span, why in items:
            category = catalogue.category(guide.category)
            detail = ("\n" if narrow else " · ").join(p for p in (why, f"{guide.window}号窗口") if p)
            row = RowButton(text=highlighted(guide.name, span), detail=detail, item=guide, title_bold=False,
                            title_size=tx(theme.TEXT if narrow else 40), icon_size=px(56 if narrow else 80),
                            icon_source=icon_path(category.icon if category else "general"))
            row.bind(on_release=lambda r: self.open_guide(r.item, "search"))
            self.results.add_widget(row)
            self.rows.append(row)
        self.scroll.scroll_y = 1

    @staticmethod
    def _why(hit) -> str:
        if hit.keyword:
            return f"关键词：[b][color={blue_hex()}]{escape_markup(hit.keyword)}[/color][/b]"
        if hit.kind == "body":
            return "指南内容中提到"
        return ""


class PolicyListScreen(InquiryScreen):
    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        title_row = BoxLayout(size_hint_y=None, height=max(px(100), tx(theme.TITLE) * 1.5), spacing=px(20))
        title_row.add_widget(Image(source=icon_path("policy"), size_hint=(None, None), size=(px(88), px(88)),
                                   pos_hint={"center_y": .5}, fit_mode="contain"))
        title_row.add_widget(line("政策文件", theme.TITLE, theme.INK, bold=True, height=title_row.height))
        self._list_page(title_row)

    def on_pre_enter(self, *args):
        self.list.clear_widgets()
        self.rows = []
        for p in self.catalogue.policies():
            detail = policy_meta(p) + (f"\n{wrappable(p.summary)}" if p.summary else "")
            row = RowButton(text=wrappable(p.title), detail=detail, item=p,
                            icon_source=icon_path("policy"))
            row.bind(on_release=lambda r: self.open_policy(r.item))
            self.list.add_widget(row)
            self.rows.append(row)
        if not self.rows:
            self.list.add_widget(para("暂无政策文件，请咨询导办台工作人员", theme.TEXT, theme.INK))
        self.scroll.scroll_y = 1

    def open_policy(self, policy) -> None:
        self.manager.get_screen("policy").show(policy)
        self.go("policy")


def policy_meta(policy) -> str:
    """Issuer, number and date as markup; a line may break between them, not inside one."""
    parts = [x for x in (policy.issuer, policy.number, chinese_date(policy.date)) if x]
    return "[b][/b]".join(escape_markup(x) + ("　" if n < len(parts) - 1 else "") for n, x in enumerate(parts))


def chinese_date(iso: str) -> str:
    try:
        y, m, d = (int(x) for x in iso.split("-"))
    except ValueError:
        return iso
    return f"{y}年{m}月{d}日"


class PolicyScreen(InquiryScreen):
    """One policy document in large type; 字号放大 makes it larger still."""

    SIZES = (40, 56)

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.policy = None
        self.big = False
        self.scroll, self.page = scroll_column(spacing=px(20))
        self.page.padding = (px(40), px(32))
        self.pager = Pager(self.scroll)
        sheet = Panel(radius=px(20))
        sheet.add_widget(self.scroll)
        middle = BoxLayout(spacing=px(theme.GAP))
        middle.add_widget(sheet)
        middle.add_widget(self.pager)
        self.size_button = nav_button("字号放大", "", self.toggle_size, width=px(320), light=False)
        self.back_button = nav_button("返回", "back", lambda: self.go("policies"), width=px(300))
        self.home_button = nav_button("首页", "home", lambda: self.go(HOME), width=px(300))
        bar = self.footer(self.back_button, self.home_button)
        bar.add_widget(self.size_button)
        self.body.add_widget(middle)
        self.body.add_widget(bar)
        self._size_changed()  # laid out before first shown (taps may come first)

    def show(self, policy) -> None:
        self.policy = policy
        self.big = False
        self.render()

    def toggle_size(self) -> None:
        self.big = not self.big
        self.render()

    def render(self) -> None:
        p = self.policy
        self.size_button.text = "字号还原" if self.big else "字号放大"
        self.page.clear_widgets()
        if p is None:
            return
        size = self.SIZES[self.big]
        self.page.add_widget(para(p.title, size + 8, theme.INK, bold=True, halign="center", line_height=1.2))
        self.page.add_widget(para(policy_meta(p), max(theme.TEXT_SMALL, size - 8), theme.INK_SOFT,
                                  halign="center", markup=True))
        for n, text in enumerate(p.body):
            salutation = n == 0 and text.endswith("：")
            self.page.add_widget(para(text if salutation else "　　" + text, size, theme.INK, line_height=1.45))
        self.scroll.scroll_y = 1


def inquiry_screens(terminal) -> list:
    """The screens of the inquiry mode; the first is the home screen, named "inquiry"."""
    return [InquiryHome(terminal, name=HOME), CategoryScreen(terminal, name="category"),
            GuideScreen(terminal, name="guide"), SearchScreen(terminal, name="search"),
            PolicyListScreen(terminal, name="policies"), PolicyScreen(terminal, name="policy")]
