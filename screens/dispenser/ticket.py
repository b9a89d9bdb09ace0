"""The ticket screen: the number as large as the room allows, people ahead, the wait, which windows,
the print state with 重新打印 after a failed print, 再听一遍 and 完成.

Static layout in ticket.kv; here only the outcome's words, the number's size, which buttons show and
where the words go in each orientation.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.terminal import PrinterPaused, TicketOutcome, VisitorError, wait_text

from .. import theme
from ..base import VisitorScreen, kv_ids
from ..widgets import wrappable

Builder.load_file(str(Path(__file__).with_name("ticket.kv")))


NUMBER_STEP_PX = 8


def _whole_step(size: float) -> int:
    """The number's font size rounded down to whole steps of 8 px: each size the number takes opens
    a face of the font (``screens/fonts.py``), so a few steps instead of one per fraction a
    ticket's width gives."""
    return max(NUMBER_STEP_PX, int(size) // NUMBER_STEP_PX * NUMBER_STEP_PX)


class TicketBody(BoxLayout):
    pass


class TicketScreen(VisitorScreen):
    """The number, as large as the room left by the words; then what to do and where.

    Landscape: the number on the left, the words on the right. Portrait: one column.
    """

    outcome = ObjectProperty(None, allownone=True)

    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.ticket_screen_s
        super().__init__(terminal, **kw)
        self.layout = TicketBody()
        ids = kv_ids(self.layout)
        self.caption, self.number, self.service = ids.caption, ids.number, ids.service
        self.priority, self.ahead, self.windows, self.print_state = ids.priority, ids.ahead, ids.windows, ids.print_state
        self.again, self.reprint, self.done = ids.again, ids.reprint, ids.done
        self.number.face_apart = True  # sized per ticket: its face is opened early by number_size_hint, not its size now
        self.again.bind(on_release=lambda *_: self.say_again())
        self.reprint.bind(on_release=lambda *_: self.do_reprint())
        self.done.bind(on_release=lambda *_: self.finish())
        self.buttons, self.split, self.number_box, self.words_box = ids.buttons, ids.split, ids.number_box, ids.words_box
        # the spacers that centre the buttons, made once: two new ones at each print state left Kivy about
        # five callbacks a ticket that nothing frees (issue 17, bench/memory.py's growth)
        self._spacers = (Widget(), Widget())
        self._set_buttons(reprint=False)
        self.body.add_widget(self.layout)
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
            if portrait:  # one column, centred
                columns = ((self.number_box, (Widget(), self.caption, self.number, *words, Widget()), 1),)
            else:  # the number on the left, the words on the right, each centred
                columns = ((self.number_box, (Widget(), self.caption, self.number, Widget()), 0.42),
                           (self.words_box, (Widget(), *words, Widget()), 0.58))
            for box, children, share in columns:
                for w in children:
                    box.add_widget(w)
                box.size_hint_x = share
                self.split.add_widget(box)
        self._size_number()

    def _size_number(self) -> None:
        """The number gets the room the words leave (at most 27% of the screen's height), and never wraps.
        Not before the screen has its manager's size: the first ticket's number was drawn at the 80 px floor
        on a screen never shown (a face of the font opened for nothing), then again when it was shown."""
        if self.manager is not None and tuple(self.size) != tuple(self.manager.size):
            return  # sized when shown: its size changes then (_arrange)
        app = App.get_running_app()
        portrait = self.height > self.width
        gap = app.px(theme.GAP)
        others = [self.caption] + ([self.service, self.priority, self.ahead, self.windows, self.print_state]
                                   if portrait else [])
        shown = [w for w in others if w.height > 0]
        room = (self.height - self.header.height - 2 * app.px(32) - self.buttons.height - gap
                - sum(w.height for w in shown) - gap * (len(shown) + 1))
        width = (self.width - app.px(64)) * (1 if portrait else 0.42) - app.px(16)
        size = _whole_step(max(app.px(80), min(self.height * 0.27, room / 1.25)))
        self.number.font_size = size
        self.number.texture_update()
        if self.number.texture_size[0] > width > 0:
            self.number.font_size = _whole_step(size * width / self.number.texture_size[0])
            self.number.texture_update()
        self.number.height = self.number.texture_size[1]

    def number_size_hint(self) -> int:
        """The size the number is tried at first (27% of the screen's height), for opening its face early.
        The screen fills its manager, whose height it takes while it has never been shown (Kivy's 100 px
        then: the hint was 24 px, a face no ticket uses, and the number's own face was opened by the first
        ticket)."""
        return _whole_step((self.manager.height if self.manager is not None else self.height) * 0.27)

    def _set_buttons(self, reprint: bool) -> None:
        """再听一遍 when the terminal has a voice, 重新打印 after a failed print, 完成; centred."""
        self.buttons.clear_widgets()
        shown = (([self.again] if self.terminal.voice.available else []) + ([self.reprint] if reprint else [])
                 + [self.done])
        for w in (self._spacers[0], *shown, self._spacers[1]):
            self.buttons.add_widget(w)

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
        if self.manager is not None:  # laid out at the size it is about to be shown at, before its text is drawn
            self.size = self.manager.size
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
        self.print_state.text = wrappable(text, by="clause")
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
