"""The on-screen keyboard and the guides found as the visitor types.

Static layout in search.kv; here the keys built from the key rows and the result rows from the hits.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.utils import escape_markup

from .. import theme
from ..widgets import KeyButton, RowButton, SnapKey, blue_hex, fit_font, highlighted, icon_path, label, px, tx, wrappable
from .common import InquiryScreen

Builder.load_file(str(Path(__file__).with_name("search.kv")))

# The keyboards. Landscape: QWERTY with 120-px keys and 24-px gaps (10 keys = 1416 px).
# Portrait (1016 px between the margins) cannot hold 10 such keys in a row, so it uses
# the alphabet in order (汉语拼音字母表), 7 keys a row, which keeps the keys at 120 px.
# A row is a string of one-key characters or a list of (key, width in keys).
BACKSPACE, CLEAR = "删除", "清空"
QWERTY_ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL",
               [*((c, 1) for c in "ZXCVBNM"), (BACKSPACE, 1.5), (CLEAR, 1.5)])
ROW_CACHE = 60  # rows kept drawn: three screens of results
# A landscape too narrow for QWERTY and the results beside it (a 16:10 panel, 1280x800: 10 keys would
# leave the results 224 px at 1080p scale) takes the alphabet 8 keys a row, the digits after Z, and
# leaves the hint out (no room under the keys).
NARROW_ROWS = ("ABCDEFGH", "IJKLMNOP", "QRSTUVWX", "YZ123456",
               [*((c, 1) for c in "7890"), (BACKSPACE, 2), (CLEAR, 2)])
NARROW_RESULTS = 400  # px at 1080p: the least width for the results beside QWERTY (full HD has 416)
# A landscape too narrow for the results even beside that keyboard (4:3 and 5:4 panels, 1024x768 and
# 1280x1024: some 200 px at 1080p scale, a name one character a line) swaps them: the same keyboard
# or the results under the letters, with 查看 N 项 / 继续输入 in the top row.
ALPHA_ROWS = ("ABCDEFG", "HIJKLMN", "OPQRSTU", [*((c, 1) for c in "VWXYZ"), (BACKSPACE, 2)],
              "1234567", [*((c, 1) for c in "890"), (CLEAR, 2)])
HINT = ("输入事项名称的拼音首字母或全拼即可，例如：\n"
        "“低保申请”输入 [b][color={blue}]DBSQ[/color][/b]，“养老保险”输入 [b][color={blue}]YLBX[/color][/b]")


class SearchPage(FloatLayout):
    """The search screen's body (search.kv); ``keyboard_width`` / ``keyboard_height`` from its key rows."""

    screen = ObjectProperty(None, allownone=True)
    portrait = BooleanProperty(False)
    hint_shown = BooleanProperty(True)  # landscape with QWERTY: the hint under the keys
    swap = BooleanProperty(False)  # the keyboard and the results take turns (a 4:3 or 5:4 landscape)
    typing = BooleanProperty(True)  # while they swap: the keyboard shown (else the results)
    keyboard_width = NumericProperty(0)
    keyboard_height = NumericProperty(0)


class SearchScreen(InquiryScreen):
    """The on-screen keyboard and the results, updated on every key."""

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.query = ""
        self.keys: dict[str, KeyButton] = {}
        self._keyboards: dict[str, tuple] = {}  # by layout: (rows, keys, width, height), built once
        self.page = SearchPage(screen=self)
        self.bind(portrait=self.page.setter("portrait"))
        self.body.add_widget(self.page)
        ids = self.page.ids
        self.field, self.field_label, self.home_button = ids.field, ids.field_label, ids.home.__self__
        self.switch_button = ids.switch.__self__
        # held here: while the keyboard and the results swap, the one not shown is out of the tree (ids are weak)
        self._parts = (ids.keyboard.__self__, ids.results.__self__, ids.row_pager.__self__)
        self.keyboard, self.hint, self.results_title = ids.keyboard.__self__, ids.hint, ids.results_title
        self.scroll, self.results = ids.scroll, ids.scroll.column
        self.pagers = {True: ids.column_pager, False: ids.row_pager}
        self.field_label.bind(width=self._fit_field)
        self.empty = label("", theme.TEXT, theme.INK, markup=True, kind="para")
        self.rows: list[RowButton] = []  # the rows shown, in order
        self._cache: OrderedDict[tuple, RowButton] = OrderedDict()  # drawn rows by what they show
        # rows below the fold render their text only when the visitor scrolls (or the list grows)
        self.scroll.bind(scroll_y=self._scrolled, height=lambda *_: self._reveal(self._fit()))
        self.clear()
        self._size_changed()  # laid out before first shown (taps may come first)

    @property
    def pager(self):
        return self.pagers[self.portrait]

    # -- layout: landscape keyboard left, results right; portrait results above the keyboard (search.kv)
    def relayout(self) -> None:
        if not hasattr(self, "page"):
            return
        layout = self._layout = self._keyboard_layout()
        self.page.hint_shown = layout == "landscape"
        self.page.swap = layout == "swap"
        top, switch = self.page.ids.top, self.switch_button
        if self.page.swap and switch.parent is None:
            top.add_widget(switch, index=1)  # between the letters and 返回首页
        elif not self.page.swap and switch.parent is not None:
            top.remove_widget(switch)
        rows = {"portrait": ALPHA_ROWS, "landscape": QWERTY_ROWS, "narrow": NARROW_ROWS, "swap": NARROW_ROWS}[layout]
        self._show_keyboard("narrow" if layout == "swap" else layout, rows)
        self._place()
        self.update()  # the prompt for this layout, and the results

    def _size_changed(self, *args) -> None:
        super()._size_changed(*args)  # relays out when the orientation changes
        if hasattr(self, "page") and getattr(self, "_layout", None) != self._keyboard_layout():
            self.relayout()  # a landscape window narrowed (or widened) past the QWERTY keyboard's need

    def _keyboard_layout(self) -> str:
        """portrait, landscape (QWERTY beside the results), narrow (a landscape too narrow for that: 8 keys
        a row) or swap (too narrow for the results beside 8 keys a row: one or the other)."""
        if self.portrait:
            return "portrait"
        key, gap = px(theme.TARGET), px(theme.GAP)
        least = px(NARROW_RESULTS) - 0.5
        for layout, keys in (("landscape", 10), ("narrow", 8)):
            if self.width - 2 * px(32) - (keys * key + (keys - 1) * gap) - gap >= least:
                return layout
        return "swap"

    def toggle_results(self) -> None:
        """While the keyboard and the results swap: show the other one."""
        self.page.typing = not self.page.typing
        self._place()
        self._switch_text()

    def _place(self) -> None:
        """The keyboard and the results (with their pager) in the page, or while they swap the one shown."""
        page = self.page
        keyboard, results, pager = self._parts
        wanted = [keyboard, results, pager]
        if page.swap:
            wanted = [keyboard] if page.typing else [results, pager]
        if [w for w in (keyboard, results, pager) if w.parent is page] == wanted:
            return
        for w in (keyboard, results, pager):
            if w.parent is page:
                page.remove_widget(w)
        for w in wanted:
            page.add_widget(w)

    def _switch_text(self, found: int | None = None) -> None:
        if found is not None:
            self._found = found
        if self.page.typing:
            self.switch_button.text = (f"查看 {self._found} 项" if self._found else "没有找到") if self.query else "热门事项"
        else:
            self.switch_button.text = "继续输入"

    def _show_keyboard(self, layout: str, rows) -> None:
        """The keyboard of this layout, built the first time it is shown."""
        if layout not in self._keyboards:
            self._keyboards[layout] = self._build_keyboard(rows)
        rows_widgets, self.keys, width, height = self._keyboards[layout]
        if list(reversed(self.keyboard.children)) != rows_widgets:
            self.keyboard.clear_widgets()
            for row in rows_widgets:
                self.keyboard.add_widget(row)
        self.page.keyboard_width, self.page.keyboard_height = width, height

    def _build_keyboard(self, rows) -> tuple:
        key, gap = px(theme.TARGET), px(theme.GAP)
        keys, built, widest = {}, [], 0
        for chars in rows:
            row = Factory.KeyRow()
            width = -gap
            for ch, units in ([(c, 1) for c in chars] if isinstance(chars, str) else chars):
                w = key * units + gap * (units - 1)
                editing = ch in (BACKSPACE, CLEAR)
                colours = {} if editing else dict(bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.BLUE, .2),
                                                  ink=theme.rgba(theme.BLUE))
                b = SnapKey(text=ch, key=ch, size_hint=(None, None), size=(w, key), **colours)
                if editing:
                    b.font_size = tx(theme.BUTTON_TEXT)
                b.bind(on_release=lambda k: self.press(k.key))
                row.add_widget(b)
                keys[ch] = b
                width += w + gap
            row.width = width
            widest = max(widest, width)
            built.append(row)
        return built, keys, widest, len(rows) * key + (len(rows) - 1) * gap

    # -- typing
    def clear(self) -> None:
        self.query = ""
        self.page.typing = True
        self._place()
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
            # beside 查看 N 项 (a 4:3 or 5:4 landscape) the field is narrower, and the keys not always below
            self.field_label.text = "请输入拼音字母" if self.page.swap else "请点按下方字母键输入"
            self.field_label.color = theme.rgba(theme.INK_SOFT)
        self._fit_field()
        self.hint.text = HINT.format(blue=blue_hex())
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
        self._switch_text(len(items))
        if not items:
            self.rows = []
            self.empty.text = "\n".join(wrappable(t) for t in (
                f"没有找到与“{self.query.upper()}”相关的事项。", "",
                "请检查拼音字母，或少输入几个字母再试；", "也可以到导办台咨询工作人员，我们帮您办。"))
            self._show([self.empty])
            return
        narrow = not self.portrait and not self.page.swap  # a column beside the keyboard
        wanted = []
        for guide, span, why in items:
            detail = ("\n" if narrow else " · ").join(p for p in (why, f"{guide.window}号窗口") if p)
            wanted.append(((catalogue.version, guide.id, span, detail, narrow), guide))
        keep = {key for key, _guide in wanted}
        self.rows = [self._row(key, guide, keep) for key, guide in wanted]
        self.scroll.scroll_y = 1
        fit = self._fit()
        for n, row in enumerate(self.rows):
            row.deferred = n >= fit
        self._show(self.rows)

    # -- rows below the fold (issue 17: keystroke to results drawn). The landscape column shows 3-5 of the
    # 20 rows, so the others keep their text unrendered (RowButton.deferred: the least height, nothing to
    # draw) until the visitor scrolls or pages: then they all render at once, the view kept where it was.
    def _fit(self) -> int:
        """How many rows can show at the top of the list: every row is at least a target high."""
        step = px(theme.TARGET) + self.results.spacing[1]
        return max(1, math.ceil((self.scroll.height + 1) / step))

    def _reveal(self, count: int) -> None:
        """Render the first ``count`` rows now (their labels and heights before the next frame)."""
        late = [row for row in self.rows[:count] if row.deferred]
        if not late:
            return
        for row in late:
            row.deferred = False
            for text in (row.ids.title, row.ids.detail):
                text.texture_update()  # now, so the heights are known for the scroll position
                text._trigger_texture.cancel()  # and not once more before the frame
        self.results.do_layout()

    def _scrolled(self, scroll, scroll_y: float) -> None:
        if scroll_y >= 1 or not any(row.deferred for row in self.rows):
            return
        # the rows below the fold grow to their real height: keep the pixels scrolled from the top
        before = self.results.height - scroll.height
        self._reveal(len(self.rows))
        after = self.results.height - scroll.height
        if before > 0 and after > 0:
            scroll.scroll_y = max(0.0, 1 - (1 - scroll_y) * before / after)

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
