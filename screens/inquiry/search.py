"""The on-screen keyboard and the guides found as the visitor types."""

from __future__ import annotations

from collections import OrderedDict

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget
from kivy.utils import escape_markup

from .. import theme
from ..widgets import (KeyButton, Pager, QueryField, RowButton, blue_hex, fit_font, highlighted, icon_path,
                       label, nav_button, px, scroll_column, tx, wrappable)
from .common import HOME, InquiryScreen

# The keyboards. Landscape: QWERTY with 120-px keys and 24-px gaps (10 keys = 1416 px).
# Portrait (1016 px between the margins) cannot hold 10 such keys in a row, so it uses
# the alphabet in order (汉语拼音字母表), 7 keys a row, which keeps the keys at 120 px.
# A row is a string of one-key characters or a list of (key, width in keys).
BACKSPACE, CLEAR = "删除", "清空"
QWERTY_ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL",
               [*((c, 1) for c in "ZXCVBNM"), (BACKSPACE, 1.5), (CLEAR, 1.5)])
ROW_CACHE = 60  # rows kept drawn: three screens of results
ALPHA_ROWS = ("ABCDEFG", "HIJKLMN", "OPQRSTU", [*((c, 1) for c in "VWXYZ"), (BACKSPACE, 2)],
              "1234567", [*((c, 1) for c in "890"), (CLEAR, 2)])


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
        self.hint = label("", theme.TEXT_SMALL, theme.INK_SOFT, markup=True, kind="para")
        self.results_title = label("", theme.TEXT, theme.INK_SOFT, bold=True, kind="line")
        self.scroll, self.results = scroll_column()
        self.pagers = {True: Pager(self.scroll, vertical=True), False: Pager(self.scroll, vertical=False)}
        self.empty = label("", theme.TEXT, theme.INK, markup=True, kind="para")
        self.rows: list[RowButton] = []  # the rows shown, in order
        self._cache: OrderedDict[tuple, RowButton] = OrderedDict()  # drawn rows by what they show
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
        """The hits (or the hot items) as rows. Rows are kept and reused: a guide shown the same way
        again keeps its drawn text, and a new one takes a spare row instead of building one, so a
        keystroke renders only the text that changed (issue 17: keystroke to results drawn)."""
        catalogue = self.catalogue
        if self.query:
            hits = catalogue.search(self.query, limit=20)
            items = [(h.guide, h.span, self._why(h)) for h in hits]
            self.results_title.text = f"找到 {len(hits)} 项" if hits else "没有找到"
        else:
            items = [(g, None, "") for g in catalogue.hot()]
            self.results_title.text = "热门事项"
        if not items:
            self.rows = []
            self.empty.text = "\n".join(wrappable(t) for t in (
                f"没有找到与“{self.query.upper()}”相关的事项。", "",
                "请检查拼音字母，或少输入几个字母再试；", "也可以到导办台咨询工作人员，我们帮您办。"))
            self._show([self.empty])
            return
        narrow = not self.portrait
        wanted = []
        for guide, span, why in items:
            detail = ("\n" if narrow else " · ").join(p for p in (why, f"{guide.window}号窗口") if p)
            wanted.append(((catalogue.version, guide.id, span, detail, narrow), guide))
        keep = {key for key, _guide in wanted}
        self.rows = [self._row(key, guide, keep) for key, guide in wanted]
        self._show(self.rows)
        self.scroll.scroll_y = 1

    def _show(self, widgets: list) -> None:
        if list(reversed(self.results.children)) != widgets:
            self.results.clear_widgets()
            for w in widgets:
                self.results.add_widget(w)

    def _row(self, key: tuple, guide, keep: set) -> RowButton:
        """The row drawn for ``key`` (content version, guide, matched span, detail, orientation): the same widget as last
        time if there was one, else a spare (the longest unused), else a new one while the cache grows."""
        row = self._cache.pop(key, None)
        if row is None:
            spare = None
            if len(self._cache) >= ROW_CACHE:
                spare = next((k for k in self._cache if k not in keep), None)
            if spare is not None:
                row = self._cache.pop(spare)
            else:
                row = RowButton(title_bold=False)
                row.bind(on_release=lambda r: self.open_guide(r.item, "search"))
            _version, _id, span, detail, narrow = key
            category = self.catalogue.category(guide.category)
            row.item = guide
            row.title_size = tx(theme.TEXT if narrow else 40)
            row.icon_size = px(56 if narrow else 80)
            row.icon_source = icon_path(category.icon if category else "general")
            row.text = highlighted(guide.name, span)
            row.detail = detail
        self._cache[key] = row  # the most recently used last
        return row

    @staticmethod
    def _why(hit) -> str:
        if hit.keyword:
            return f"关键词：[b][color={blue_hex()}]{escape_markup(hit.keyword)}[/color][/b]"
        if hit.kind == "body":
            return "指南内容中提到"
        return ""
