"""The policy documents, and one document in large type."""

from __future__ import annotations

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.utils import escape_markup

from .. import theme
from ..widgets import Pager, Panel, RowButton, icon_path, label, nav_button, px, scroll_column, tx, wrappable
from .common import HOME, InquiryScreen

class PolicyListScreen(InquiryScreen):
    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        title_row = BoxLayout(size_hint_y=None, height=max(px(100), tx(theme.TITLE) * 1.5), spacing=px(20))
        title_row.add_widget(Image(source=icon_path("policy"), size_hint=(None, None), size=(px(88), px(88)),
                                   pos_hint={"center_y": .5}, fit_mode="contain"))
        title_row.add_widget(label("政策文件", theme.TITLE, theme.INK, bold=True, height=title_row.height, kind="line"))
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
            self.list.add_widget(label("暂无政策文件，请咨询导办台工作人员", theme.TEXT, theme.INK, kind="para"))
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
        self.page.add_widget(label(p.title, size + 8, theme.INK, bold=True, halign="center", line_height=1.2, kind="para"))
        self.page.add_widget(label(policy_meta(p), max(theme.TEXT_SMALL, size - 8), theme.INK_SOFT,
                                  halign="center", markup=True, kind="para"))
        for n, text in enumerate(p.body):
            salutation = n == 0 and text.endswith("：")
            self.page.add_widget(label(text if salutation else "　　" + text, size, theme.INK, line_height=1.45, kind="para"))
        self.scroll.scroll_y = 1
