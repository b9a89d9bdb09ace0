"""The service grid: a card per service with its waiting count and wait, or why it is closed; paged
when the cards do not fit; a red banner while the printer cannot print (the terminal decides).

Static layout in grid.kv; here only the cards built from the hall's services, their columns and pages.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.terminal import Grid

from .. import theme
from ..base import VisitorScreen, kv_ids
from ..refresh import GuardedRefresh, on_queue_events
from ..widgets import ServiceCard, digit_shape, icon_path, measure, wrappable

Builder.load_file(str(Path(__file__).with_name("grid.kv")))

REFRESH_S = 3.0  # the grid's printer check while it is shown


def text_height(text: str, size: float, bold: bool, width: int, markup: bool = False) -> float:
    """The height of ``text`` wrapped at ``width`` (whole pixels), remembered by the text's digit shape
    where the font draws every digit equally wide at that size (then "等候 37 人" and "等候 38 人" wrap
    alike): a card's waiting count changes all day, its shape seldom."""
    if text and tabular_digits(size, bold):
        text = digit_shape(text)
    return _text_height(text, size, bold, width, markup)


@lru_cache(maxsize=512)  # bounded
def _text_height(text: str, size: float, bold: bool, width: int, markup: bool) -> float:
    return measure(text, size, bold, width, markup)[1] if text else 0


@lru_cache(maxsize=64)  # one entry per type size and weight in use
def tabular_digits(size: float, bold: bool) -> bool:
    """Whether the ten digits are drawn equally wide at ``size`` (the shipped font's are at every size the
    screens use; hinting makes a few small sizes differ by a pixel)."""
    return len({measure(d * 7, size, bold)[0] for d in "0123456789"}) == 1


class GridBody(BoxLayout):
    paused = BooleanProperty(False)  # the printer cannot print: the red banner shows
    pause_reason = StringProperty("")  # why, in the visitor's words


class GridPager(BoxLayout):
    pass


class GridScreen(VisitorScreen):
    """The services as cards. Columns follow the orientation and the type size; cards are as tall
    as their words need, and when they do not all fit the grid pages (上一页 / 下一页)."""

    paused = BooleanProperty(False)

    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.idle_s
        super().__init__(terminal, **kw)
        self.layout = GridBody()
        ids = kv_ids(self.layout)
        self.title, self.banner, self.message, self.cards = ids.title, ids.banner, ids.message, ids.cards
        self.banner_title, self.banner_reason = ids.banner_title, ids.banner_reason
        self.back, self.appointment = ids.back, ids.appointment
        self.back.bind(on_release=lambda *_: self.go_home())
        self.appointment.bind(on_release=lambda *_: setattr(self.manager, "current", "checkin"))
        self.pager = GridPager()  # in the body only while there are pages (it costs a gap)
        self.prev_page, self.next_page = kv_ids(self.pager).prev, kv_ids(self.pager).next
        self.prev_page.bind(on_release=lambda *_: self.turn(-1))
        self.next_page.bind(on_release=lambda *_: self.turn(+1))
        self.body.add_widget(self.layout)
        self.card = None  # a swiped ID card (screens/checkin.py): green channel preselected, one-ticket rule
        self.title_min = 0.0
        self._card_by_code: dict[str, ServiceCard] = {}
        self._refresh_event = None
        self.refresher = GuardedRefresh(self.terminal.grid, self._apply, name="grid-refresh")
        on_queue_events(terminal, self._queue_event)
        self._busy_until = 0.0
        self.page = 0
        self.pages = 1
        self._arrange_trigger = Clock.create_trigger(lambda dt: self._arrange())
        self.cards.bind(size=lambda *_: self._arrange_trigger())
        self.bind(size=lambda *_: self._arrange_trigger())

    def on_paused(self, _screen, paused: bool) -> None:
        self.layout.paused = paused

    def _columns(self) -> int:
        large = App.get_running_app().text_scale > 1
        if self.height > self.width:
            return 1 if large else 2
        return 2 if large else (4 if len(self._card_by_code) > 12 else 3)

    def _card_height(self, width: float) -> float:
        """The height the tallest card's words need at this card width."""
        app = App.get_running_app()
        words = width - app.px(48) - min(app.px(112), app.px(theme.TARGET) * .7 * 1.34) - app.px(20)
        need = max((text_height(wrappable(c.name), app.tx(48), True, round(words), markup=True)
                    + text_height(c.detail, app.tx(theme.TEXT_SMALL), False, round(words))
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
            self.layout.add_widget(self.pager, index=1)
        elif not paged and self.pager.parent is not None:
            self.layout.remove_widget(self.pager)
        self.prev_page.disabled = not paged or self.page == 0
        self.next_page.disabled = not paged or self.page >= self.pages - 1
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
            from ..checkin import forget_card

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
        self.layout.pause_reason = grid.visitor_reason or grid.pause_reason.split(" / ")[0]
        self.paused = grid.paused  # the banner follows (grid.kv)
        self._show_title()
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
            from ..checkin import choose_with_card

            choose_with_card(self, code)
            return
        if self.terminal.needs_priority_step(code):
            self.manager.get_screen("priority").service_code = code
            self.manager.current = "priority"
        else:
            self.manager.get_screen("ticket").issue(code, None)
