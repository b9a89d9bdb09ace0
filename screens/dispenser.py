"""Dispenser screens: attract -> service grid -> green channel -> ticket.

Screens show what ``kiosk.terminal.Terminal`` returns and forward taps to it;
they hold no queue logic. Work that can block (grid refresh with a printer
status query, printing) runs off the UI thread.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from kiosk.terminal import PAUSED_MESSAGE, Grid, TicketOutcome, VisitorError, wait_text

from . import theme
from .widgets import BigButton, CountdownLabel, Header, IdleTimer, Panel, ServiceCard, icon_path, paint

WEEKDAYS = "一二三四五六日"


def date_text(now: datetime) -> str:
    return f"{now.year}年{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]}"


def label(text: str = "", size: float = theme.TEXT, colour=theme.INK, bold: bool = False, **kw) -> Label:
    app = App.get_running_app()
    lbl = Label(text=text, font_size=app.tx(size), color=theme.rgba(colour), bold=bold,
                halign=kw.pop("halign", "center"), valign=kw.pop("valign", "middle"), **kw)
    lbl.bind(size=lambda w, s: setattr(w, "text_size", s))
    return lbl


class VisitorScreen(Screen):
    """A screen with the hall header, a body and an idle countdown at the bottom."""

    idle_timeout = 0.0  # seconds without a touch before going home; 0: never

    def __init__(self, terminal, **kw):
        super().__init__(**kw)
        self.terminal = terminal
        app = App.get_running_app()
        root = BoxLayout(orientation="vertical")
        paint(root, theme.PAGE)
        self.header = Header(title=terminal.hall_name)
        self.header.bind(on_long_press=lambda *_: self.open_settings())
        self.body = BoxLayout(orientation="vertical", padding=app.px(32), spacing=app.px(theme.GAP))
        self.countdown = CountdownLabel()
        root.add_widget(self.header)
        root.add_widget(self.body)
        root.add_widget(self.countdown)
        self.add_widget(root)
        self.idle = IdleTimer(self.idle_timeout, terminal.config.timeouts.warn_before_s,
                              self.go_home, self._show_countdown)

    def _show_countdown(self, seconds: int) -> None:
        self.countdown.text = f"{seconds} 秒后返回首页，触摸屏幕可继续" if seconds else ""

    def on_touch_down(self, touch):
        self.idle.poke()
        return super().on_touch_down(touch)

    def on_enter(self, *args):
        if self.idle.timeout:
            self.idle.start()

    def on_leave(self, *args):
        self.idle.stop()

    def go_home(self) -> None:
        self.manager.current = App.get_running_app().home

    def open_settings(self) -> None:
        if self.manager.has_screen("pin"):
            self.manager.current = "pin"

    def tick_clock(self, now: datetime) -> None:
        self.header.status_text = self.terminal.status_marker()
        portrait = self.height > self.width  # a narrow header keeps room for the hall name
        self.header.clock_text = f"{now:%H:%M}" if portrait else f"{date_text(now)}  {now:%H:%M}"


class AttractScreen(VisitorScreen):
    def __init__(self, terminal, **kw):
        super().__init__(terminal, **kw)
        app = App.get_running_app()
        self.body.padding = app.px(48)
        self.body.spacing = app.px(32)
        self.hall = label(terminal.hall_name, 76, theme.BLUE, bold=True, size_hint_y=None, height=app.px(110))
        self.date = label("", 48, theme.INK_SOFT, size_hint_y=None, height=app.px(70))
        self.time = label("", 150, theme.INK, bold=True, size_hint_y=None, height=app.px(180))
        touch = BigButton(text="请触摸屏幕取号", font_size=app.tx(72), size_hint=(None, None),
                          width=app.px(900), height=app.px(200), pos_hint={"center_x": .5})
        touch.bind(on_release=lambda *_: self.start())
        self.touch_button = touch
        hint = BoxLayout(size_hint_y=None, height=app.px(120), spacing=app.px(16))
        hint.add_widget(Label())
        hint.add_widget(Image(source=icon_path("touch"), size_hint=(None, None),
                              size=(app.px(96), app.px(96)), fit_mode="contain"))
        hint.add_widget(label("轻触任意位置开始 · 老年人、残疾人等可优先办理", theme.TEXT, theme.INK_SOFT,
                              size_hint_x=None, width=app.px(1000)))
        hint.add_widget(Label())
        for w in (Label(), self.hall, self.date, self.time, touch, hint, Label()):
            self.body.add_widget(w)

    def on_touch_up(self, touch):
        # the whole screen is the button: elderly visitors tap wherever they look
        if self.collide_point(*touch.pos) and touch.grab_current is None:
            self.start()
            return True
        return super().on_touch_up(touch)

    def start(self) -> None:
        if self.manager.current == self.name:
            self.manager.current = "grid"

    def tick_clock(self, now: datetime) -> None:
        super().tick_clock(now)
        self.date.text = date_text(now)
        self.time.text = f"{now:%H:%M}"


class GridScreen(VisitorScreen):
    paused = BooleanProperty(False)

    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.idle_s
        super().__init__(terminal, **kw)
        app = App.get_running_app()
        self.title = label("请选择您要办理的业务", theme.TITLE, theme.INK, bold=True,
                           size_hint_y=None, height=app.px(80))
        self.banner = Panel(bg=theme.rgba(theme.RED), size_hint_y=None, height=0, opacity=0,
                            orientation="vertical", padding=app.px(16))
        self.banner_title = label("", 56, theme.WHITE, bold=True)
        self.banner_reason = label("", theme.TEXT_SMALL, theme.WHITE)
        self.banner.add_widget(self.banner_title)
        self.banner.add_widget(self.banner_reason)
        self.cards = GridLayout(spacing=app.px(theme.GAP))
        self.back = BigButton(text="返回首页", size_hint=(None, None), width=app.px(360),
                              height=app.px(theme.TARGET), pos_hint={"right": 1})
        self.back.bind(on_release=lambda *_: self.go_home())
        self.message = label("", theme.TEXT, theme.RED, bold=True)
        self.appointment = BigButton(text="预约取号", size_hint=(None, None), width=app.px(360),
                                     height=app.px(theme.TARGET), bg=theme.rgba(theme.GREEN),
                                     bg_down=theme.rgba(theme.BLUE_DARK))
        self.appointment.bind(on_release=lambda *_: setattr(self.manager, "current", "checkin"))
        self.message.bind(text=lambda _, text: self._show_appointment(not text))  # a message needs the room
        self.card = None  # a swiped ID card (screens/checkin.py): green channel preselected, one-ticket rule
        self.title_min = 0.0
        footer = BoxLayout(size_hint_y=None, height=app.px(theme.TARGET), spacing=app.px(theme.GAP))
        footer.add_widget(self.message)
        footer.add_widget(self.appointment)
        footer.add_widget(self.back)
        for w in (self.title, self.banner, self.cards, footer):
            self.body.add_widget(w)
        self._card_by_code: dict[str, ServiceCard] = {}
        self._refresh_event = None
        self._busy_until = 0.0
        self.bind(size=lambda *_: self._layout_columns())

    def _show_appointment(self, show: bool) -> None:
        footer = self.back.parent
        if show and self.appointment.parent is None:
            footer.add_widget(self.appointment, index=1)  # between the message and 返回首页
        elif not show and self.appointment.parent is not None:
            footer.remove_widget(self.appointment)

    def _layout_columns(self) -> None:
        count = max(1, len(self._card_by_code))
        portrait = self.height > self.width
        self.cards.cols = 2 if portrait else (4 if count > 12 else 3)

    # -- data
    def on_pre_enter(self, *args):
        self.message.text = ""
        self.show(self.terminal.grid())
        self._refresh_event = Clock.schedule_interval(lambda dt: self.refresh_async(), 3)

    def on_leave(self, *args):
        super().on_leave(*args)
        if self._refresh_event:
            self._refresh_event.cancel()
        if self.card is not None and self.manager.current != "ticket":
            from .checkin import forget_card

            forget_card(self)

    def refresh_async(self) -> None:
        def work():
            try:
                grid = self.terminal.grid()
            except Exception:  # a refresh failure keeps the last picture
                return
            self._apply(grid)

        threading.Thread(target=work, daemon=True).start()

    @mainthread
    def _apply(self, grid: Grid) -> None:
        self.show(grid)

    def show(self, grid: Grid) -> None:
        app = App.get_running_app()
        self.paused = grid.paused
        # the banner says what matters now; a swipe's message may need two lines (screens/checkin.py)
        self.title.height = 0 if grid.paused else max(app.px(80), self.title_min)
        self.title.opacity = 0 if grid.paused else 1
        self.banner.height = app.px(170) if grid.paused else 0
        self.banner.opacity = 1 if grid.paused else 0
        self.banner_title.text = "暂停取号，请联系工作人员" if grid.paused else ""
        self.banner_reason.text = f"原因 / reason: {grid.pause_reason}" if grid.paused else ""
        if set(self._card_by_code) != {b.code for b in grid.buttons}:
            self.cards.clear_widgets()
            self._card_by_code.clear()
            for b in grid.buttons:
                card = ServiceCard(code=b.code, icon_source=icon_path(b.icon))
                card.bind(on_release=self._on_card)
                self.cards.add_widget(card)
                self._card_by_code[b.code] = card
            self._layout_columns()
        for b in grid.buttons:
            card = self._card_by_code[b.code]
            card.name = b.name
            card.enabled = b.enabled and not grid.paused
            if grid.paused:
                card.detail = "暂停取号"
            elif b.enabled:
                card.detail = f"等候 {b.waiting} 人 · {b.wait_text}"
            else:
                card.detail = b.reason

    # -- taps
    def _on_card(self, card: ServiceCard) -> None:
        if not card.enabled or time.monotonic() < self._busy_until:
            return  # closed, paused, or the second tap of a double tap
        self._busy_until = time.monotonic() + 1.0
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
        groups = GridLayout(spacing=app.px(theme.GAP), cols=2)
        for g in terminal.priority_groups:
            card = ServiceCard(code=g.code, name=g.name, detail="优先办理", icon_source=icon_path(g.icon))
            card.bind(on_release=lambda c: self._pick(c.code))
            groups.add_widget(card)
        self.body.add_widget(groups)
        normal = BigButton(text="不需要，普通取号", size_hint_y=None, height=app.px(150),
                           font_size=app.tx(52))
        normal.bind(on_release=lambda *_: self._pick(None))
        back = BigButton(text="返回", size_hint=(None, None), width=app.px(300), height=app.px(theme.TARGET),
                         bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.PAGE), ink=theme.rgba(theme.BLUE))
        back.bind(on_release=lambda *_: setattr(self.manager, "current", "grid"))
        footer = BoxLayout(size_hint_y=None, height=app.px(theme.TARGET), spacing=app.px(theme.GAP))
        footer.add_widget(back)
        footer.add_widget(Label())
        self.body.add_widget(normal)
        self.body.add_widget(footer)
        self._busy_until = 0.0

    def _pick(self, group: str | None) -> None:
        if time.monotonic() < self._busy_until:
            return
        self._busy_until = time.monotonic() + 1.0
        self.manager.get_screen("ticket").issue(self.service_code, group)


class TicketScreen(VisitorScreen):
    outcome = ObjectProperty(None, allownone=True)

    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.ticket_screen_s
        super().__init__(terminal, **kw)
        app = App.get_running_app()
        self.caption = label("您的号码", 44, theme.INK_SOFT, size_hint_y=None, height=app.px(60))
        self.number = Label(text="", color=theme.rgba(theme.BLUE), bold=True, size_hint_y=None,
                            halign="center", valign="middle")
        self.service = label("", 60, theme.INK, bold=True, size_hint_y=None, height=app.px(80))
        self.ahead = label("", 44, theme.INK, size_hint_y=None, height=app.px(64), markup=True)
        self.windows = label("", theme.TEXT, theme.INK_SOFT, size_hint_y=None, height=app.px(56))
        self.print_state = label("", theme.TEXT, theme.INK, bold=True, size_hint_y=None, height=app.px(56))
        self.reprint = BigButton(text="重新打印", size_hint=(None, None), width=app.px(360),
                                 height=app.px(theme.TARGET), bg=theme.rgba(theme.RED),
                                 bg_down=theme.rgba(theme.RED))
        self.reprint.bind(on_release=lambda *_: self.do_reprint())
        self.done = BigButton(text="完成", size_hint=(None, None), width=app.px(360),
                              height=app.px(theme.TARGET))
        self.done.bind(on_release=lambda *_: self.go_home())
        self.buttons = BoxLayout(size_hint_y=None, height=app.px(theme.TARGET), spacing=app.px(theme.GAP))
        self._set_buttons(reprint=False)
        for w in (Label(), self.caption, self.number, self.service, self.ahead, self.windows,
                  self.print_state, self.buttons, Label()):
            self.body.add_widget(w)
        self.bind(size=lambda *_: self._size_number())

    def _size_number(self) -> None:
        """The number takes at least a quarter of the screen's height, and never wraps.

        On a portrait screen the width limits the glyphs; the band stays a quarter high.
        """
        usable = self.width - App.get_running_app().px(80)
        self.number.font_size = self.height * 0.27
        self.number.texture_update()
        if self.number.texture_size[0] > usable > 0:
            self.number.font_size *= usable / self.number.texture_size[0]
            self.number.texture_update()
        self.number.height = max(self.number.texture_size[1], self.height * 0.25)

    def _set_buttons(self, reprint: bool) -> None:
        self.buttons.clear_widgets()
        self.buttons.add_widget(Label())
        if reprint:
            self.buttons.add_widget(self.reprint)
        self.buttons.add_widget(self.done)
        self.buttons.add_widget(Label())

    def issue(self, code: str, priority: str | None, person: str | None = None) -> None:
        grid = self.manager.get_screen("grid")
        try:
            outcome = self.terminal.issue(code, priority, on_printed=self._printed, person=person)
        except VisitorError as exc:
            grid.message.text = str(exc)
            self.manager.current = "grid"
            if str(exc) == PAUSED_MESSAGE:
                grid.refresh_async()
            return
        self.show(outcome)
        self.manager.current = "ticket"

    def show(self, outcome: TicketOutcome) -> None:
        self.outcome = outcome
        self._size_number()
        self.number.text = outcome.number
        self.service.text = outcome.service_name
        ahead = "[b]前面还有 {} 人[/b]".format(outcome.people_ahead)
        wait = f"预计等待 {wait_text(outcome.estimated_wait_s)}"
        self.ahead.text = f"{ahead}  ·  {wait}"
        windows = "、".join(str(w) for w in outcome.windows)
        self.windows.text = f"请到 {windows} 号窗口办理 · 请留意叫号" if windows else "请留意叫号"
        self._show_print_state(outcome)

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

    def do_reprint(self) -> None:
        if self.outcome is None:
            return
        self.idle.poke()
        self._show_print_state(self.outcome)
        self.terminal.reprint(self.outcome, on_printed=self._printed)
        self._show_print_state(self.outcome)

