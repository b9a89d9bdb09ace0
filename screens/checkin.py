"""预约取号: the check-in code keypad, and the ID card reader watching for a swipe.

Thin: the check-in itself is ``terminal.appointments`` (kiosk/appointments/desk.py), called on a worker
thread because it may ask the hall server. Static layout is in checkin.kv.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.appointments import AppointmentError
from kiosk.idcard import IdCardError
from kiosk.terminal import VisitorError

from . import theme
from .base import VisitorScreen
from .widgets import BigButton

Builder.load_file(str(Path(__file__).with_name("checkin.kv")))
log = logging.getLogger(__name__)

DELETE, SUBMIT = "删除", "确定"
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", DELETE, "0", SUBMIT)
CODE_LEN = 6
TROUBLE = "暂时无法签到，请直接取号或联系工作人员"


class CodeBox(BoxLayout):
    shown = StringProperty("")


class CheckinPad(BoxLayout):
    shown = StringProperty("_ _ _ _ _ _")
    message = StringProperty("")
    card_reader = BooleanProperty(False)
    landscape = BooleanProperty(True)
    __events__ = ("on_back", "on_key")

    def __init__(self, **kw):
        super().__init__(**kw)
        app = App.get_running_app()
        self.key_buttons = {}
        for key in KEYS:
            special = key in (DELETE, SUBMIT)
            b = BigButton(text=key, font_size=app.tx(theme.BUTTON_TEXT if special else 72),
                          bg=theme.rgba(theme.GREEN if key == SUBMIT else (theme.WHITE if key == DELETE else theme.BLUE)),
                          bg_down=theme.rgba(theme.BLUE_DARK if key != DELETE else theme.PAGE),
                          ink=theme.rgba(theme.BLUE if key == DELETE else theme.WHITE),
                          outlined=key == DELETE)  # a white key on the pale page needs its edge drawn
            b.bind(on_release=lambda btn, k=key: self.dispatch("on_key", k))
            self.ids.keypad.add_widget(b)
            self.key_buttons[key] = b

    def on_back(self):
        pass

    def on_key(self, key):
        pass


class CheckinScreen(VisitorScreen):
    code = StringProperty("")

    def __init__(self, terminal, **kw):
        self.idle_timeout = terminal.config.timeouts.idle_s
        super().__init__(terminal, **kw)
        self.pad = CheckinPad(card_reader=getattr(terminal, "idcard_reader", None) is not None)
        self.pad.bind(on_back=lambda *_: self.go_back(), on_key=lambda _, k: self.press(k))
        self.body.add_widget(self.pad)
        self._busy = False

    def on_pre_enter(self, *args):
        self.code = ""
        self.pad.message = ""

    def on_code(self, *_):
        self.pad.shown = " ".join(self.code.ljust(CODE_LEN, "_"))

    def go_back(self) -> None:
        self.manager.current = "grid"

    def press(self, key: str) -> None:
        if self._busy:
            return
        self.pad.message = ""
        if key == DELETE:
            self.code = self.code[:-1]
        elif key == SUBMIT:
            if len(self.code) < CODE_LEN:
                self.pad.message = "签到码是6位数字，请输完再按确定"
                return
            self.submit()
        elif len(self.code) < CODE_LEN:
            self.code += key

    def submit(self) -> None:
        self._busy = True
        self.pad.message = "正在核对，请稍候…"
        code = self.code

        def work():
            try:
                result = self.terminal.appointments.check_in_code(code)
            except (AppointmentError, VisitorError) as exc:
                self._refused(str(exc))
            except Exception:  # a network or driver surprise: a Chinese message, never a trace
                log.exception("check-in failed")
                self._refused(TROUBLE)
            else:
                self._done(result)

        threading.Thread(target=work, name="checkin", daemon=True).start()

    @mainthread
    def _refused(self, message: str) -> None:
        self._busy = False
        self.code = ""
        self.pad.message = message

    @mainthread
    def _done(self, result) -> None:
        self._busy = False
        show_checked_in(self.manager, result)


def show_checked_in(manager, result) -> None:
    """The ticket screen for a checked-in appointment, with what it means for the visitor."""
    ticket = manager.get_screen("ticket")
    ticket.show(result.outcome)
    ticket.caption.text = "已超过预约时间 · 普通号" if result.late else "预约签到成功 · 优先叫号"

    def restore(screen):
        screen.unbind(on_leave=restore)
        screen.caption.text = "您的号码"

    ticket.bind(on_leave=restore)
    manager.current = "ticket"
    watch_print(ticket, result.outcome)


def watch_print(ticket, outcome) -> None:
    """The ticket screen learns when the job ends (the desk issued it without the screen's callback)."""
    def poll(dt):
        if ticket.outcome is not outcome:
            return False
        if outcome.print_state != "printing":
            ticket._show_print_state(outcome)
            return False
        return True

    Clock.schedule_interval(poll, 0.2)


GREEN_TITLE = "绿色通道：请选择业务"


def set_title(grid, text: str, colour) -> None:
    """The grid's title line says what a swipe means; it grows to two lines rather than cut a word
    (large type on a portrait screen)."""
    app = App.get_running_app()
    title = grid.title
    title.text = text
    title.color = theme.rgba(colour)
    title.text_size = (title.width, None)
    title.texture_update()
    grid.title_min = title.texture_size[1] + app.px(8)
    title.height = max(app.px(80), grid.title_min)


def choose_with_card(grid, code: str) -> None:
    """A service picked after a swipe: the one-ticket rule, then the ticket (green channel preselected)."""
    card = grid.card
    desk = grid.terminal.appointments
    refusal = desk.refuse_second_ticket(card.person, code)
    if refusal:
        set_title(grid, refusal, theme.RED)
        return
    ticket = grid.manager.get_screen("ticket")
    ticket.issue(code, card.priority, card.person)  # the server checks the rule too (other dispensers)
    if grid.manager.current == "ticket" and ticket.outcome is not None:
        desk.remember(card.person, code, ticket.outcome)
        forget_card(grid)


def forget_card(grid) -> None:
    grid.card = None
    set_title(grid, "请选择您要办理的业务", theme.INK)


class CardWatcher:
    """Reads the ID card reader on a worker thread while a dispenser screen is up; a card leads to its
    check-in, or to the grid (green channel preselected for an elderly holder). A reader that fails is
    tried again every few seconds; staff are told once per failure, visitors keep using the touch screen."""

    SCREENS = ("attract", "grid", "checkin", "priority")

    def __init__(self, app, reader, interval_s: float = 0.5):
        self.app = app
        self.reader = reader
        self.interval_s = interval_s
        self.state = "ok"
        self._current = "attract"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="idcard", daemon=True)
        app.sm.bind(current=lambda sm, name: setattr(self, "_current", name))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
        try:
            self.reader.close()
        except Exception:
            pass

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.interval_s
            if self._current in self.SCREENS:
                try:
                    card = self.reader.read()
                except IdCardError as exc:
                    self._trouble(exc)
                    wait = 3.0 if exc.code in ("unplugged", "no_answer") else self.interval_s
                    card = None
                else:
                    self._fine()
                if card is not None:
                    self._swiped(card)
            self._stop.wait(wait)

    def _trouble(self, exc: IdCardError) -> None:
        if exc.code == "card_error":
            self._tell_visitor("读卡失败，请把身份证平放在读卡区不要移动，再试一次")
            return
        if self.state != exc.code:
            self.state = self.app.terminal.idcard_state = exc.code
            self.app.terminal._warn(f"身份证读卡器故障 / ID card reader: {exc}")

    def _fine(self) -> None:
        if self.state != "ok":
            self.state = self.app.terminal.idcard_state = "ok"
            log.info("ID card reader answers again")

    def _swiped(self, card) -> None:
        try:
            result = self.app.terminal.appointments.swipe(card)
        except (AppointmentError, VisitorError) as exc:
            self._tell_visitor(str(exc))
            return
        except Exception:
            log.exception("card swipe failed")
            self._tell_visitor(TROUBLE)
            return
        finally:
            del card  # the card's data is not kept beyond this call
        self._show(result)

    @mainthread
    def _tell_visitor(self, message: str) -> None:
        sm = self.app.sm
        if sm.current == "checkin":
            sm.get_screen("checkin").pad.message = message
        elif sm.has_screen("grid"):
            sm.current = "grid"
            sm.get_screen("grid").message.text = message

    @mainthread
    def _show(self, result) -> None:
        sm = self.app.sm
        if result.checkin is not None:
            show_checked_in(sm, result.checkin)
            return
        grid = sm.get_screen("grid")
        sm.current = "grid"
        grid.card = result
        if result.message:  # e.g. why the appointment did not check in (too early)
            set_title(grid, result.message, theme.RED)
        else:
            set_title(grid, GREEN_TITLE if result.priority else "请选择您要办理的业务",
                      theme.GREEN if result.priority else theme.INK)



