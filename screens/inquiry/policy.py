"""The policy documents, and one document in large type.

Static layout in policy.kv and common.kv (the list); here the rows and paragraphs built from the policies.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.utils import escape_markup

from .. import theme
from ..widgets import RowButton, icon_path, label, px, wrappable
from .common import InquiryScreen, list_page

Builder.load_file(str(Path(__file__).with_name("policy.kv")))


class PolicyListScreen(InquiryScreen):
    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        list_page(self, icon_source=icon_path("policy"), title="政策文件")
        self._version = None  # of the catalogue the rows were made from
        self._size_changed()  # laid out before first shown (taps may come first)

    def on_pre_enter(self, *args):
        if self._version != self.catalogue.version:  # first shown, or new content from the server
            self.fill()
        self.scroll.scroll_y = 1

    def fill(self) -> None:
        """A row per policy from the catalogue."""
        self._version = self.catalogue.version
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
            self.list.add_widget(label("暂无政策文件，请咨询导办台工作人员", theme.TEXT, theme.INK, kind="para"))

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


class PolicyPage(BoxLayout):
    """The policy screen's body (policy.kv)."""

    screen = ObjectProperty(None, allownone=True)
    big = BooleanProperty(False)  # 字号放大
    portrait = BooleanProperty(False)  # the pager a row under the sheet (policy.kv)
    nav_width = NumericProperty(0)  # the footer's keys under the pager (landscape): their width; 0: below


class PolicyScreen(InquiryScreen):
    """One policy document in large type; 字号放大 makes it larger still."""

    SIZES = (40, 56)

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.policy = None
        self.page = PolicyPage(screen=self)
        self.body.add_widget(self.page)
        ids = self.page.ids
        self.scroll, self.sheet = ids.scroll, ids.scroll.column
        self.pagers = {True: ids.row_pager, False: ids.pager}  # by portrait
        self.bind(portrait=self.page.setter("portrait"))
        self.size_button, self.back_button, self.home_button = ids.size.__self__, ids.back.__self__, ids.home.__self__
        self.side, self.footer, self.spacer = ids.side.__self__, ids.footer.__self__, ids.spacer.__self__
        self._least = {b: b.least_width for b in self._keys()}  # their widths in the footer (policy.kv)
        self.page.bind(height=lambda *_: self.relayout())
        self._size_changed()  # laid out before first shown (taps may come first)

    @property
    def pager(self):
        """上一页 / 下一页 as shown: a row under the sheet in portrait, a column beside it in landscape."""
        return self.pagers[self.portrait]

    def _keys(self) -> tuple:
        return self.back_button, self.home_button, self.size_button

    def relayout(self) -> None:
        """Landscape (a short screen): 返回, 首页 and 字号放大 under the pager beside the sheet when the
        height holds the pager and them at full size, so the sheet keeps the footer's height too. Below
        the sheet they keep their widths apart (字号放大 at the right) where the row holds them, else they
        share the row by their natural widths (a narrow portrait panel in large type)."""
        if not hasattr(self, "footer"):
            return
        target, gap = px(theme.TARGET), px(theme.GAP)
        keys = self._keys()
        # the pager (key, gap, spacer, gap, key), then gap and a key for each
        beside = not self.portrait and self.page.height - gap >= (2 + len(keys)) * (target + gap)
        for w in (*keys, self.spacer):
            if w.parent:
                w.parent.remove_widget(w)
        for b in keys:
            b.least_width = 0
            b.size_hint = (1, None if beside else 1)
            b.height = target
        self.page.nav_width = max(b.natural_width() for b in keys) if beside else 0
        if beside:
            for b in (self.size_button, self.back_button, self.home_button):  # 字号放大 next to the pager
                self.side.add_widget(b)
            return
        apart = sum(max(self._least[b], b.natural_width()) for b in keys) + len(keys) * gap
        if apart <= self.width - 2 * px(32):
            for b in keys:
                b.least_width = self._least[b]
            row = (self.back_button, self.home_button, self.spacer, self.size_button)
        else:
            for b in keys:
                b.size_hint_x = b.natural_width()  # spare room shared in proportion
            row = keys
        for w in row:
            self.footer.add_widget(w)

    @property
    def big(self) -> bool:
        return self.page.big

    @big.setter
    def big(self, value: bool) -> None:
        self.page.big = value

    def show(self, policy) -> None:
        self.policy = policy
        self.big = False
        self.render()

    def toggle_size(self) -> None:
        self.big = not self.big
        self.render()

    def render(self) -> None:
        p = self.policy
        self.sheet.clear_widgets()
        if p is None:
            return
        size = self.SIZES[self.big]
        self.sheet.add_widget(label(p.title, size + 8, theme.INK, bold=True, halign="center", line_height=1.2, kind="para"))
        self.sheet.add_widget(label(policy_meta(p), max(theme.TEXT_SMALL, size - 8), theme.INK_SOFT,
                                  halign="center", markup=True, kind="para"))
        for n, text in enumerate(p.body):
            salutation = n == 0 and text.endswith("：")
            self.sheet.add_widget(label(text if salutation else "　　" + text, size, theme.INK, line_height=1.45, kind="para"))
        self.scroll.scroll_y = 1
