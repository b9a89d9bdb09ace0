"""A guide's sections; print the 一次性告知单, take a ticket, read aloud.

Static layout in guide.kv; here the sections built from the guide and the actions flowed into rows.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from kivy.clock import mainthread
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import ColorProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget
from kivy.utils import escape_markup

from .. import theme
from ..widgets import (Dot, Panel, StepNumber, TickBox, blue_hex, icon_path, label, px, soft_hex, tx,
                       wrappable)
from .common import HOME, InquiryScreen, window_text

Builder.load_file(str(Path(__file__).with_name("guide.kv")))

SECTION_ORDER = ("办理条件", "申请材料", "办理流程", "办理时限", "收费标准", "办理结果", "受理窗口",
                 "咨询电话", "注意事项", "法定依据")


class GuideSection(Panel):
    """One section of a guide: its title in blue over its lines (guide.kv)."""

    title = StringProperty("")


class MarkedLine(BoxLayout):
    """A marker (box, number, dot) beside a wrapping paragraph, centred on its first line (guide.kv)."""

    text = StringProperty("")
    marker = ObjectProperty(None, allownone=True)

    def __init__(self, **kw):
        super().__init__(**kw)
        anchor = self.ids.anchor
        anchor.add_widget(self.marker)
        anchor.bind(pos=self._place, size=self._place)

    def _place(self, *_args) -> None:
        anchor, first_line = self.ids.anchor, tx(theme.TEXT) * 1.3
        self.marker.center_x = anchor.center_x
        self.marker.center_y = anchor.top - first_line / 2


class GuidePage(BoxLayout):
    """The guide screen's body (guide.kv)."""

    screen = ObjectProperty(None, allownone=True)
    status_text = StringProperty("")
    status_colour = ColorProperty(theme.rgba(theme.INK))
    nav_width = NumericProperty(0)  # 返回 / 首页 beside the text (landscape): their width; 0: with the actions


class GuideScreen(InquiryScreen):
    """A guide in sections; the actions stay visible below the scrolling text."""

    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        self.guide = None
        self.back_to = HOME
        self._busy_until = 0.0
        self.page = GuidePage(screen=self)
        self.body.add_widget(self.page)
        ids = self.page.ids
        self.head, self.icon, self.title, self.status = ids.head.__self__, ids.icon, ids.title, ids.status
        self.scroll, self.sections, self.pager = ids.scroll, ids.scroll.column.__self__, ids.pager
        self.actions, self.side = ids.actions, ids.side.__self__
        self.print_button, self.ticket_button, self.read_button = ids.print.__self__, ids.ticket.__self__, ids.read.__self__
        self.back_button, self.home_button = ids.back.__self__, ids.home.__self__
        self.bind(width=lambda *_: self.relayout())  # the actions flow by the real width
        self.page.bind(height=lambda *_: self.relayout())  # and 返回 / 首页 go beside the text by its height
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
        """The actions in as few rows as their natural widths allow (one in landscape, two in portrait).
        Landscape screens are short (``_arrangement``): 返回 / 首页 may stand beside the text under the
        pager, and the name row may scroll with the text."""
        if not hasattr(self, "actions"):
            return
        main, nav = self._action_buttons()
        gap, room = px(theme.GAP), self.width - 2 * px(32)
        head_in_column, beside = self._arrangement(main, nav, room, gap)
        self._place_head(in_column=head_in_column)
        for b in (self.print_button, self.ticket_button, self.read_button, self.back_button, self.home_button):
            if b.parent:
                b.parent.remove_widget(b)
        self.actions.clear_widgets()
        for b in nav:
            b.size_hint_y = None if beside else 1
            b.height = px(theme.TARGET)
            b.size_hint_x = 1
        self.page.nav_width = max(b.natural_width() for b in nav) if beside else 0
        if beside:
            for b in nav:
                self.side.add_widget(b)  # under the pager, in order
        for buttons in self._rows(main if beside else main + nav, room, gap, split=len(main)):
            row = Factory.GuideActionRow()
            for b in buttons:
                b.size_hint_x = b.natural_width()  # spare room is shared in proportion
                row.add_widget(b)
            self.actions.add_widget(row)

    def _arrangement(self, main: list, nav: list, room: float, gap: float) -> tuple[bool, bool]:
        """(the name row scrolls with the text, 返回 / 首页 stand beside the text) for this window.

        Portrait has the height: neither. Landscape: 返回 / 首页 go beside the text where that saves a row
        of buttons and the text's height holds 上一页, 下一页, 返回 and 首页 at full size (room kept for
        the status line), the name row staying above the text if the height allows, else scrolling with
        it; with 返回 / 首页 below, the name scrolls with the text when the text would show fewer than 8
        lines under it (长辈模式 on a 1280x800 or 1024x768 screen)."""
        if self.portrait:
            return False, False
        target = px(theme.TARGET)
        rows_with_nav = len(self._rows(main + nav, room, gap, split=len(main)))
        rows_without = len(self._rows(main, room, gap, split=len(main)))
        head = max(px(100), 2 * tx(48) * 1.15)  # the name row above the text: name, meta below (guide.kv)
        status = self.status.font_size * 1.6  # the status while it shows: one line (guide.kv), with room

        def text_height(rows: int, head_above: bool) -> float:
            actions = rows * target + max(0, rows - 1) * gap
            return self.page.height - (head + gap if head_above else 0) - 2 * gap - status - actions

        if rows_without < rows_with_nav:
            for head_above in (True, False):  # pager: key, gap, (spacer), gap, key; then gap, 返回, gap, 首页
                if text_height(rows_without, head_above) >= 4 * target + 4 * gap:
                    return not head_above, True
        return text_height(rows_with_nav, True) < 8 * tx(theme.TEXT) * 1.3, False

    def _place_head(self, in_column: bool) -> None:
        """The name row at the top of the scrolling column (``in_column``) or above it."""
        head, parent = self.head, self.sections if in_column else self.page
        if head.parent is not parent:
            head.parent.remove_widget(head)
            parent.add_widget(head, index=len(parent.children))  # first in layout order: the top

    @staticmethod
    def _rows(buttons: list, room: float, gap: float, split: int = 0) -> list[list]:
        """The fewest rows that fit, in order, spread as evenly as they allow (3 + 2, not 4 + 1; on a
        narrow screen 1 + 2 + 2 rather than a row each), the navigation (from ``split`` on) on rows of its
        own where the count of rows allows it."""
        if not buttons:
            return []
        needs = [b.natural_width() for b in buttons]
        n = len(buttons)
        best = None
        for cuts in itertools.product((False, True), repeat=max(0, n - 1)):  # five buttons: 16 ways
            rows, row = [], [0]
            for i, cut in enumerate(cuts, 1):
                if cut:
                    rows.append(row)
                    row = []
                row.append(i)
            rows.append(row)
            if any(sum(needs[i] for i in r) + gap * (len(r) - 1) > room for r in rows):
                continue
            mixed = 0 < split < n and not any(r[0] == split for r in rows)
            rank = (len(rows), mixed, max(len(r) for r in rows) - min(len(r) for r in rows),
                    tuple(-len(r) for r in reversed(rows)))
            if best is None or rank < best[0]:
                best = (rank, rows)
        if best is None:
            return [[b] for b in buttons]
        return [[buttons[i] for i in r] for r in best[1]]

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
        self.sections.clear_widgets([w for w in self.sections.children if w is not self.head])
        for title, widgets in self._section_widgets(guide):
            self.sections.add_widget(self._section(title, widgets))
        self.scroll.scroll_y = 1
        self.relayout()

    @staticmethod
    def _section(title: str, widgets: list) -> Panel:
        panel = GuideSection(title=title)
        for w in widgets:
            panel.add_widget(w)
        return panel

    def _section_widgets(self, g) -> list[tuple[str, list]]:
        materials = [label(f"共 {len(g.materials)} 项，请带齐后到{g.window}号窗口办理", theme.TEXT_SMALL,
                          theme.INK_SOFT, kind="para")]
        for m in g.materials:
            text = f"[b]{wrappable(m.name)}[/b]　[color={blue_hex()}]{escape_markup(m.form)} {m.count}份[/color]"
            if m.notes:
                text += f"\n[color={soft_hex()}]{wrappable(m.notes)}[/color]"
            materials.append(self._marked(TickBox(size=(tx(40), tx(40))), text))
        steps = [self._marked(StepNumber(text=str(n), font_size=tx(32), size=(tx(50), tx(50))), wrappable(s))
                 for n, s in enumerate(g.steps, 1)]
        limits = [label(f"法定时限：{g.legal_limit}", kind="para"), label(f"承诺时限：[b]{escape_markup(g.promised_limit)}[/b]",
                                                        markup=True, kind="para")]
        sections = {
            "办理条件": [self._marked(self._dot(), wrappable(c)) for c in g.conditions],
            "申请材料": materials,
            "办理流程": steps,
            "办理时限": limits,
            "收费标准": [label(g.fees, kind="para")],
            "办理结果": [label(g.result, kind="para")],
            "受理窗口": [label(window_text(self.terminal, g.window), kind="para")],
            "咨询电话": [label(g.contact, kind="para")],
            "注意事项": [self._marked(self._dot(), wrappable(n)) for n in g.notes],
            "法定依据": [label(b, kind="para") for b in g.legal_basis],
        }
        return [(t, sections[t]) for t in SECTION_ORDER if sections[t] and any(
            getattr(w, "text", True) for w in sections[t])]

    @staticmethod
    def _dot() -> Widget:
        return Dot(size=(tx(14), tx(14)))

    @staticmethod
    def _marked(marker: Widget, text: str) -> MarkedLine:
        """A marker (box, number, dot) beside a wrapping paragraph (``text`` is markup)."""
        return MarkedLine(marker=marker, text=text)

    def speech_text(self) -> str:
        g = self.guide
        materials = "；".join(f"{m.name}，{m.form}{m.count}份" for m in g.materials)
        return (f"{g.name}。请到{g.window}号窗口办理。办理条件：{'；'.join(g.conditions)}。"
                f"需要带的材料：{materials}。办理时限：{g.promised_limit}。收费：{g.fees}。")

    # -- actions
    def _debounced(self) -> bool:
        if self.clock() < self._busy_until:
            return False
        self._busy_until = self.clock() + 1.0
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
        self.page.status_colour = theme.rgba(colour)
        self.page.status_text = text

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
