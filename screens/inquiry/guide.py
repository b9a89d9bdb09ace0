"""A guide's sections; print the 一次性告知单, take a ticket, read aloud."""

from __future__ import annotations

import math

from kivy.clock import mainthread
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.widget import Widget
from kivy.utils import escape_markup

from .. import theme
from ..widgets import (Dot, IconButton, Pager, Panel, StepNumber, TickBox, blue_hex, icon_path, label,
                       nav_button, px, scroll_column, soft_hex, tx, wrappable)
from .common import HOME, InquiryScreen, window_text

SECTION_ORDER = ("办理条件", "申请材料", "办理流程", "办理时限", "收费标准", "办理结果", "受理窗口",
                 "咨询电话", "注意事项", "法定依据")

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
        self.title = label("", 48, theme.INK, bold=True, markup=True, line_height=1.15, pos_hint={"center_y": .5}, kind="para")
        self.title.bind(height=lambda w, h: setattr(head, "height", max(px(100), h)))
        head.add_widget(self.icon)
        head.add_widget(self.title)
        self.scroll, self.sections = scroll_column()
        self.pager = Pager(self.scroll)
        middle = BoxLayout(spacing=px(theme.GAP))
        middle.add_widget(self.scroll)
        middle.add_widget(self.pager)
        self.status = label("", theme.TEXT, theme.INK, bold=True, height=0, opacity=0, kind="line")
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
        panel.add_widget(label(title, 44, theme.BLUE, bold=True, line_height=1.1, kind="para"))
        for w in widgets:
            panel.add_widget(w)
        panel.bind(minimum_height=panel.setter("height"))
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
    def _marked(marker: Widget, text: str) -> BoxLayout:
        """A marker (box, number, dot) beside a wrapping paragraph, centred on its first line."""
        first_line = tx(theme.TEXT) * 1.3
        lbl = label(text, markup=True, kind="para")
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
