"""Dispenser screens: attract -> service grid -> green channel -> ticket.

Screens show what ``kiosk.terminal.Terminal`` returns and forward taps to it;
they hold no queue logic. Work that can block (grid refresh with a printer
status query, printing) runs off the UI thread.
"""

from __future__ import annotations

import math
from datetime import datetime

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.terminal import PAUSED_MESSAGE, Grid, PrinterPaused, TicketOutcome, VisitorError, wait_text

from . import theme
from .base import VisitorScreen, date_text, style_buttons
from .refresh import GuardedRefresh, on_queue_events
from .widgets import BigButton, Panel, ServiceCard, icon_path, label, measure

REFRESH_S = 3.0  # the grid's printer check while it is shown


class AttractScreen(VisitorScreen):
    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.idle_s  # runs only while a visitor's style is on
        super().__init__(terminal, **kw)
        app = App.get_running_app()
        self.body.padding = app.px(48)
        self.body.spacing = app.px(32)
        # the hall's name and the clock are display type, far above any minimum: they do not grow
        self.hall = label(terminal.hall_name, 76 / app.text_scale, theme.BLUE, bold=True, size_hint_y=None,
                          height=app.px(90))
        self.date = label("", 48, theme.INK_SOFT, size_hint_y=None, height=0)
        self.time = label("", 150 / app.text_scale, theme.INK, bold=True, size_hint_y=None, height=app.px(180))
        touch = BigButton(text="请触摸屏幕取号", font_size=app.tx(72), size_hint=(None, None),
                          width=app.px(900), height=max(app.px(200), app.tx(72) * 1.6), pos_hint={"center_x": .5})
        touch.bind(on_release=lambda *_: self.start())
        self.touch_button = touch
        hint = BoxLayout(size_hint_y=None, height=app.px(120), spacing=app.px(16))
        hint.add_widget(Image(source=icon_path("touch"), size_hint=(None, None),
                              size=(app.px(96), app.px(96)), fit_mode="contain", pos_hint={"center_y": .5}))
        self.hint = label("轻触任意位置开始 · 老年人、残疾人等可优先办理", theme.TEXT, theme.INK_SOFT,
                          size_hint_y=None, height=app.px(96), pos_hint={"center_y": .5})
        self.hint.bind(height=lambda w, v: setattr(hint, "height", max(app.px(120), v)))
        hint.add_widget(self.hint)
        self.styles = style_buttons(self)
        for w in (Label(), self.hall, self.date, self.time, touch, hint, Label(), self.styles):
            self.body.add_widget(w)

        self.bind(size=lambda *_: self._arrange())

    def _compact(self) -> bool:
        """Large type on a landscape screen: the header already shows the date; no room for it twice."""
        return App.get_running_app().text_scale > 1 and self.width > self.height

    def _arrange(self) -> None:
        app = App.get_running_app()
        tight = self.width > self.height  # landscape: 950 px under the header hold eight rows only tightly
        self.body.padding = app.px(32 if tight else 48)
        self.body.spacing = app.px(16 if tight else 32)

    def on_enter(self, *args):
        if App.get_running_app().visitor_style_changed():
            super().on_enter(*args)

    def on_touch_up(self, touch):
        # the whole screen is the button: elderly visitors tap wherever they look
        if any(b.collide_point(*b.to_widget(*touch.pos)) for b in self.styles.children):
            return super().on_touch_up(touch)
        if self.overlay.parent is not None or touch.ud.get("warning"):
            return super().on_touch_up(touch)
        if self.collide_point(*touch.pos) and touch.grab_current is None:
            self.start()
            return True
        return super().on_touch_up(touch)

    def start(self) -> None:
        if self.manager.current == self.name:
            self.manager.current = "grid"

    def tick_clock(self, now: datetime) -> None:
        super().tick_clock(now)
        self.date.text = "" if self._compact() else date_text(now)
        self.time.text = f"{now:%H:%M}"


class GridScreen(VisitorScreen):
    """The services as cards. Columns follow the orientation and the type size; cards are as tall
    as their words need, and when they do not all fit the grid pages (上一页 / 下一页)."""

    paused = BooleanProperty(False)

    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.idle_s
        super().__init__(terminal, **kw)
        app = App.get_running_app()
        self.title = label("请选择您要办理的业务", theme.TITLE, theme.INK, bold=True,
                           size_hint_y=None, height=0)
        self.banner = Panel(bg=theme.rgba(theme.RED), size_hint_y=None, height=0, opacity=0,
                            orientation="vertical", padding=app.px(16), spacing=app.px(8))
        self.banner_title = label("", 56, theme.WHITE, bold=True, size_hint_y=None, height=0)
        self.banner_reason = label("", theme.TEXT_SMALL, theme.WHITE, size_hint_y=None, height=0)
        self.banner.add_widget(self.banner_title)
        self.banner.add_widget(self.banner_reason)
        self.banner.bind(minimum_height=lambda *_: self._size_banner())
        self.message = label("", theme.TEXT, theme.RED, bold=True, size_hint_y=None, height=0)
        self.cards = GridLayout(spacing=app.px(theme.GAP), row_force_default=True)
        self.back = BigButton(text="返回首页", size_hint=(None, None), width=app.px(360),
                              height=app.px(theme.TARGET))
        self.back.bind(on_release=lambda *_: self.go_home())
        light = dict(bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.PAGE), ink=theme.rgba(theme.BLUE),
                     outlined=True, size_hint=(None, None), height=app.px(theme.TARGET),
                     width=max(app.px(260), app.tx(theme.BUTTON_TEXT) * 3 + app.px(48)))
        self.prev_page = BigButton(text="上一页", **light)
        self.next_page = BigButton(text="下一页", **light)
        self.prev_page.bind(on_release=lambda *_: self.turn(-1))
        self.next_page.bind(on_release=lambda *_: self.turn(+1))
        self.appointment = BigButton(text="预约取号", size_hint=(None, None), width=app.px(360),
                                     height=app.px(theme.TARGET), bg=theme.rgba(theme.GREEN),
                                     bg_down=theme.rgba(theme.BLUE_DARK))
        self.appointment.bind(on_release=lambda *_: setattr(self.manager, "current", "checkin"))
        self.card = None  # a swiped ID card (screens/checkin.py): green channel preselected, one-ticket rule
        self.title_min = 0.0
        # the pages get their own row (empty when the cards fit): beside 返回首页 and 预约取号 in large
        # type on a portrait screen they would not fit
        self.pager = BoxLayout(size_hint_y=None, height=app.px(theme.TARGET), spacing=app.px(theme.GAP))
        for w in (self.prev_page, Widget(), self.next_page):
            self.pager.add_widget(w)
        footer = BoxLayout(size_hint_y=None, height=app.px(theme.TARGET), spacing=app.px(theme.GAP))
        for w in (self.back, Widget(), self.appointment):
            footer.add_widget(w)
        for w in (self.title, self.banner, self.message, self.cards, footer):
            self.body.add_widget(w)
        self._card_by_code: dict[str, ServiceCard] = {}
        self._refresh_event = None
        self.refresher = GuardedRefresh(self.terminal.grid, self._apply, name="grid-refresh")
        on_queue_events(terminal, self._queue_event)
        self._busy_until = 0.0
        self.page = 0
        self.pages = 1
        self._measured: dict = {}
        self._arrange_trigger = Clock.create_trigger(lambda dt: self._arrange())
        self.cards.bind(size=lambda *_: self._arrange_trigger())
        self.bind(size=lambda *_: self._arrange_trigger())

    def _size_banner(self) -> None:
        self.banner.height = self.banner.minimum_height if self.paused else 0

    def _columns(self) -> int:
        large = App.get_running_app().text_scale > 1
        if self.height > self.width:
            return 1 if large else 2
        return 2 if large else (4 if len(self._card_by_code) > 12 else 3)

    def _text_height(self, text: str, size: float, bold: bool, width: float) -> float:
        key = (text, size, bold, round(width))
        if key not in self._measured:
            self._measured[key] = measure(text, size, bold, width)[1] if text else 0
        return self._measured[key]

    def _card_height(self, width: float) -> float:
        """The height the tallest card's words need at this card width."""
        app = App.get_running_app()
        words = width - app.px(48) - min(app.px(112), app.px(theme.TARGET) * .7 * 1.34) - app.px(20)
        need = max((self._text_height(c.name, app.tx(48), True, words)
                    + self._text_height(c.detail, app.tx(theme.TEXT_SMALL), False, words)
                    for c in self._card_by_code.values()), default=0)
        return max(app.px(theme.TARGET), need + app.px(36))  # the card pads 16 px above and below

    def _arrange(self) -> None:
        app = App.get_running_app()
        codes = list(self._card_by_code)
        if not codes or self.cards.height <= 1:
            return
        cols = self._columns()
        gap = app.px(theme.GAP)
        card_w = (self.cards.width - gap * (cols - 1)) / cols
        need = self._card_height(card_w)
        room = self.cards.height
        rows_fit = max(1, int((room + gap) // (need + gap)))
        per_page = rows_fit * cols
        self.pages = max(1, math.ceil(len(codes) / per_page))
        self.page = min(self.page, self.pages - 1)
        shown = codes[self.page * per_page:(self.page + 1) * per_page]
        rows = rows_fit if self.pages > 1 else math.ceil(len(codes) / cols)
        self.cards.cols = cols
        self.cards.row_default_height = max(need, (room - gap * (rows - 1)) / rows) if rows <= rows_fit else need
        current = [c.code for c in reversed(self.cards.children)]
        if current != shown:
            self.cards.clear_widgets()
            for code in shown:
                self.cards.add_widget(self._card_by_code[code])
        paged = self.pages > 1
        if paged and self.pager.parent is None:  # its row only while there are pages (it costs a gap)
            self.body.add_widget(self.pager, index=1)
        elif not paged and self.pager.parent is not None:
            self.body.remove_widget(self.pager)
        for b in (self.prev_page, self.next_page):
            b.disabled = not paged
        if paged:
            self.prev_page.disabled = self.page == 0
            self.next_page.disabled = self.page >= self.pages - 1
        self._show_title()

    def _show_title(self) -> None:
        if self.paused:
            self.title.text = ""  # the banner says what matters now
        elif self.card is not None:
            return  # a swipe's message (screens/checkin.py set_title)
        elif self.pages > 1:
            self.title.text = f"请选择您要办理的业务 （第{self.page + 1}/{self.pages}页）"  # breaks at the space
        else:
            self.title.text = "请选择您要办理的业务"

    def turn(self, step: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + step))
        self._arrange()

    # -- data
    def on_pre_enter(self, *args):
        self.message.text = ""
        self.show(self.terminal.grid())
        # the printer cannot tell us it ran out of paper: one guarded refresh every few seconds
        self._refresh_event = Clock.schedule_interval(self.refresher.request, REFRESH_S)

    def on_leave(self, *args):
        super().on_leave(*args)
        if self._refresh_event:
            self._refresh_event.cancel()
            self._refresh_event = None
        if self.card is not None and self.manager.current != "ticket":
            from .checkin import forget_card

            forget_card(self)

    def refresh_async(self) -> None:
        """A fresh picture off the UI thread (it asks the printer); never two at once."""
        self.refresher.request()

    def _apply(self, grid: Grid) -> None:
        if self.manager is not None and self.manager.current == self.name:
            self.show(grid)

    def _queue_event(self, kind: str, _data: dict) -> None:
        """The queue moved (a ticket issued, called, finished ...): counts and waits change now,
        not at the next timer tick. Any thread; only while the grid is shown."""
        if self._refresh_event is not None and kind.startswith(("ticket_", "window_")):
            self.refresher.request()

    def show(self, grid: Grid) -> None:
        self.paused = grid.paused
        self._show_title()
        self.banner.opacity = 1 if grid.paused else 0
        self.banner_title.text = PAUSED_MESSAGE if grid.paused else ""
        reason = grid.visitor_reason or grid.pause_reason.split(" / ")[0]
        self.banner_reason.text = f"原因：{reason}" if grid.paused and reason else ""
        self._size_banner()
        changed = set(self._card_by_code) != {b.code for b in grid.buttons}
        if changed:
            self.cards.clear_widgets()
            self._card_by_code.clear()
            self.page = 0
            for b in grid.buttons:
                card = ServiceCard(code=b.code, icon_source=icon_path(b.icon))
                card.bind(on_release=self._on_card)
                self._card_by_code[b.code] = card
        for b in grid.buttons:
            card = self._card_by_code[b.code]
            before = (card.name, card.detail)
            card.name = b.name
            card.enabled = b.enabled and not grid.paused
            if grid.paused:
                card.detail = "暂停取号"
            elif b.enabled:
                # a line may break between the count and the wait, never inside either
                card.detail = f"等候\u00a0{b.waiting}\u00a0人 · {b.wait_text}"
            else:
                card.detail = b.reason
            changed = changed or before != (card.name, card.detail)
        if changed:
            self._arrange()

    # -- taps
    def _on_card(self, card: ServiceCard) -> None:
        if not card.enabled or self.clock() < self._busy_until:
            return  # closed, paused, or the second tap of a double tap
        self._busy_until = self.clock() + 1.0
        self.choose(card.code)

    def choose(self, code: str) -> None:
        if self.card is not None:
            from .checkin import choose_with_card

            choose_with_card(self, code)
            return
        if self.terminal.needs_priority_step(code):
            self.manager.get_screen("priority").service_code = code
            self.manager.current = "priority"
        else:
            self.manager.get_screen("ticket").issue(code, None)


class PriorityScreen(VisitorScreen):
    service_code = StringProperty("")

    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.idle_s
        super().__init__(terminal, **kw)
        app = App.get_running_app()
        self.body.add_widget(label("是否需要绿色通道优先办理？", theme.TITLE, theme.INK, bold=True,
                                   size_hint_y=None, height=app.px(90)))
        self.body.add_widget(label("符合以下条件的群众可优先叫号，请如实选择；工作人员将核验相关证件",
                                   theme.TEXT, theme.INK_SOFT, size_hint_y=None, height=app.px(70)))
        self.groups = GridLayout(spacing=app.px(theme.GAP), cols=2)
        for g in terminal.priority_groups:
            card = ServiceCard(code=g.code, name=g.name, detail="优先办理", icon_source=icon_path(g.icon))
            card.bind(on_release=lambda c: self._pick(c.code))
            self.groups.add_widget(card)
        self.body.add_widget(self.groups)
        normal = BigButton(text="不需要，普通取号", size_hint_y=None, height=max(app.px(150), app.tx(52) * 1.5),
                           font_size=app.tx(52))
        normal.bind(on_release=lambda *_: self._pick(None))
        back = BigButton(text="返回", size_hint=(None, None), width=app.px(300), height=normal.height,
                         bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.PAGE), ink=theme.rgba(theme.BLUE),
                         outlined=True)
        back.bind(on_release=lambda *_: setattr(self.manager, "current", "grid"))
        footer = BoxLayout(size_hint_y=None, height=normal.height, spacing=app.px(theme.GAP))
        footer.add_widget(back)
        footer.add_widget(normal)
        self.body.add_widget(footer)
        self._busy_until = 0.0
        self.bind(size=lambda *_: self._arrange())

    def _arrange(self) -> None:
        large = App.get_running_app().text_scale > 1
        self.groups.cols = 1 if large and self.height > self.width else 2

    def _pick(self, group: str | None) -> None:
        if self.clock() < self._busy_until:
            return
        self._busy_until = self.clock() + 1.0
        self.manager.get_screen("ticket").issue(self.service_code, group)


class TicketScreen(VisitorScreen):
    """The number, as large as the room left by the words; then what to do and where.

    Landscape: the number on the left, the words on the right. Portrait: one column.
    """

    outcome = ObjectProperty(None, allownone=True)

    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.ticket_screen_s
        super().__init__(terminal, **kw)
        app = App.get_running_app()
        line = dict(size_hint_y=None, height=0)
        self.caption = label("您的号码", 44, theme.INK_SOFT, **line)
        self.number = Label(text="", color=theme.rgba(theme.BLUE), bold=True, size_hint_y=None,
                            halign="center", valign="middle")
        self.service = label("", 60, theme.INK, bold=True, **line)
        self.priority = label("", 44, theme.GREEN, bold=True, **line)
        self.ahead = label("", 44, theme.INK, markup=True, **line)
        self.windows = label("", theme.TEXT, theme.INK, **line)
        self.print_state = label("", theme.TEXT, theme.INK, bold=True, **line)
        button = dict(size_hint=(None, None), height=app.px(theme.TARGET))
        self.again = BigButton(text="再听一遍", width=max(app.px(300), app.tx(theme.BUTTON_TEXT) * 4 + app.px(48)),
                               bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.PAGE),
                               ink=theme.rgba(theme.BLUE), outlined=True, **button)
        self.again.bind(on_release=lambda *_: self.say_again())
        self.reprint = BigButton(text="重新打印", width=max(app.px(300), app.tx(theme.BUTTON_TEXT) * 4 + app.px(48)),
                                 bg=theme.rgba(theme.RED), bg_down=theme.rgba(theme.RED), **button)
        self.reprint.bind(on_release=lambda *_: self.do_reprint())
        self.done = BigButton(text="完成", width=max(app.px(300), app.tx(theme.BUTTON_TEXT) * 2 + app.px(48)),
                              **button)
        self.done.bind(on_release=lambda *_: self.finish())
        self.buttons = BoxLayout(size_hint_y=None, height=app.px(theme.TARGET), spacing=app.px(theme.GAP))
        self.number_box = BoxLayout(orientation="vertical", spacing=app.px(theme.GAP))
        self.words_box = BoxLayout(orientation="vertical", spacing=app.px(theme.GAP))
        self.split = BoxLayout(spacing=app.px(48))
        self._set_buttons(reprint=False)
        self.body.add_widget(self.split)
        self.body.add_widget(self.buttons)
        self._portrait = None
        self._size_trigger = Clock.create_trigger(lambda dt: self._size_number())
        for w in (self.caption, self.service, self.priority, self.ahead, self.windows, self.print_state):
            w.bind(height=lambda *_: self._size_trigger())
        self.bind(size=lambda *_: self._arrange())

    def _arrange(self) -> None:
        portrait = self.height > self.width
        if portrait != self._portrait:
            self._portrait = portrait
            for box in (self.split, self.number_box, self.words_box):
                box.clear_widgets()
            self.split.orientation = "vertical" if portrait else "horizontal"
            words = (self.service, self.priority, self.ahead, self.windows, self.print_state)
            if portrait:
                for w in (Widget(), self.caption, self.number, *words, Widget()):
                    self.number_box.add_widget(w)
                self.split.add_widget(self.number_box)
                self.number_box.size_hint_x = 1
            else:
                for w in (Widget(), self.caption, self.number, Widget()):
                    self.number_box.add_widget(w)
                for w in (Widget(), *words, Widget()):
                    self.words_box.add_widget(w)
                self.split.add_widget(self.number_box)
                self.split.add_widget(self.words_box)
                self.number_box.size_hint_x, self.words_box.size_hint_x = 0.42, 0.58
        self._size_number()

    def _size_number(self) -> None:
        """The number gets the room the words leave (at most 27% of the screen's height), and never wraps."""
        app = App.get_running_app()
        portrait = self.height > self.width
        gap = app.px(theme.GAP)
        others = [self.caption] + ([self.service, self.priority, self.ahead, self.windows, self.print_state]
                                   if portrait else [])
        shown = [w for w in others if w.height > 0]
        room = (self.height - self.header.height - 2 * app.px(32) - self.buttons.height - gap
                - sum(w.height for w in shown) - gap * (len(shown) + 1))
        width = (self.width - app.px(64)) * (1 if portrait else 0.42) - app.px(16)
        size = max(app.px(80), min(self.height * 0.27, room / 1.25))
        self.number.font_size = size
        self.number.texture_update()
        if self.number.texture_size[0] > width > 0:
            self.number.font_size = size * width / self.number.texture_size[0]
            self.number.texture_update()
        self.number.height = self.number.texture_size[1]

    def _set_buttons(self, reprint: bool) -> None:
        self.buttons.clear_widgets()
        self.buttons.add_widget(Widget())
        if self.terminal.voice.available:
            self.buttons.add_widget(self.again)
        if reprint:
            self.buttons.add_widget(self.reprint)
        self.buttons.add_widget(self.done)
        self.buttons.add_widget(Widget())

    def issue(self, code: str, priority: str | None, person: str | None = None) -> None:
        grid = self.manager.get_screen("grid")
        try:
            outcome = self.terminal.issue(code, priority, on_printed=self._printed, person=person)
        except VisitorError as exc:
            grid.message.text = str(exc)
            self.manager.current = "grid"
            if isinstance(exc, PrinterPaused):
                grid.refresh_async()
            return
        self.show(outcome)
        self.manager.current = "ticket"

    def show(self, outcome: TicketOutcome) -> None:
        self.outcome = outcome
        self.caption.text = "您的号码"
        self.number.text = outcome.number
        self.service.text = outcome.service_name
        self.priority.text = outcome.priority_label
        ahead = "[b]前面还有 {} 人[/b]".format(outcome.people_ahead)
        wait = f"预计等待 {wait_text(outcome.estimated_wait_s)}"
        self.ahead.text = f"{ahead}  ·  {wait}"
        windows = "、".join(str(w) for w in outcome.windows)
        self.windows.text = f"请到 {windows} 号窗口办理 · 请留意叫号" if windows else "请留意叫号"
        self._show_print_state(outcome)
        self._size_number()

    def _show_print_state(self, outcome: TicketOutcome) -> None:
        texts = {"printing": ("正在打印小票…", theme.INK),
                 "printed": ("请取走小票 · 过号请重新取号", theme.GREEN),
                 "failed": ("小票打印失败，请记住您的号码或点“重新打印”", theme.RED),
                 "none": ("本机不打印小票，请记住您的号码", theme.INK)}
        text, colour = texts[outcome.print_state]
        self.print_state.text = text
        self.print_state.color = theme.rgba(colour)
        self._set_buttons(reprint=outcome.print_state == "failed")

    @mainthread
    def _printed(self, outcome: TicketOutcome) -> None:
        if self.outcome is outcome:
            self._show_print_state(outcome)

    def say_again(self) -> None:
        if self.outcome is not None:
            self.idle.poke()
            self.terminal.say_ticket(self.outcome)

    def finish(self) -> None:
        self.go_home()
        App.get_running_app().end_visitor_session()

    def do_reprint(self) -> None:
        if self.outcome is None:
            return
        self.idle.poke()
        self._show_print_state(self.outcome)
        self.terminal.reprint(self.outcome, on_printed=self._printed)
        self._show_print_state(self.outcome)
