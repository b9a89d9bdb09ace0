"""Evaluator screens at a window: idle, five levels, reasons, phone, thank-you.

All decisions live in ``kiosk.evaluator.EvaluatorSession``; these screens show
its state and forward presses. Events from the queue arrive on worker threads
and are hopped onto the UI thread here.
"""

from __future__ import annotations

import math

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label

from kiosk.evaluator import EvaluatorSession
from kiosk.ratings.model import LEVELS

from . import theme
from .base import VisitorScreen
from kivy.uix.widget import Widget

from .widgets import MIN_WARN_S, WARNING_SPEECH, BigButton, Panel, fit_font, icon_path, label

# colour and face per level; white text on each is at least 7:1 (tests/test_theme.py)
LEVEL_STYLE = {
    5: ((0, 86, 0), "very_satisfied"),
    4: ((0, 92, 82), "satisfied"),
    3: ((11, 79, 156), "basic"),
    2: ((140, 56, 0), "unsatisfied"),
    1: ((160, 0, 0), "very_unsatisfied"),
}
# high contrast: darker shades, white text at least 10:1
LEVEL_CONTRAST = {5: (0, 60, 0), 4: (0, 64, 58), 3: (7, 52, 107), 2: (100, 40, 0), 1: (120, 0, 0)}
STATE_SCREENS = {"idle": "evaluator", "rating": "rate", "reasons": "reasons", "phone": "phone",
                 "thanks": "thanks"}


class EvaluatorScreen(VisitorScreen):
    """Base: shares the session and follows its state."""

    def __init__(self, terminal, session: EvaluatorSession, **kw):
        super().__init__(terminal, **kw)
        self.session = session
        # a touch anywhere moves the deadline on (the App's activity hook); so does 继续使用
        self.overlay.bind(on_continue=lambda *_: session.keep_alive())

    def sync(self) -> None:
        """Show the screen that matches the session's state."""
        target = STATE_SCREENS[self.session.state]
        if self.manager.current != target:
            self.manager.current = target
        self.manager.current_screen.refresh()

    def refresh(self) -> None:
        pass

    def on_size(self, *_args) -> None:
        self.arrange(self.height > self.width)

    def arrange(self, portrait: bool) -> None:
        """Lay out for a portrait or landscape screen."""



class IdleScreen(EvaluatorScreen):
    def __init__(self, terminal, session, **kw):
        super().__init__(terminal, session, **kw)
        app = App.get_running_app()
        self.window_label = label("", 110, theme.BLUE, bold=True, size_hint_y=None, height=app.px(150))
        self.window_name = label("", 56, theme.INK, bold=True, size_hint_y=None, height=app.px(80))
        staff = BoxLayout(size_hint=(.9, None), size_hint_max_x=app.px(900), height=max(app.px(220), app.tx(52) * 3),
                          spacing=app.px(32), pos_hint={"center_x": .5})
        self.photo = Image(source=icon_path("id"), size_hint=(None, None), size=(app.px(180), app.px(220)),
                           fit_mode="contain")
        who = BoxLayout(orientation="vertical")
        self.staff_name = label("", 52, theme.INK, bold=True, halign="left")
        self.staff_no = label("", theme.TEXT, theme.INK_SOFT, halign="left")
        who.add_widget(self.staff_name)
        who.add_widget(self.staff_no)
        staff.add_widget(self.photo)
        staff.add_widget(who)
        self.services = label("", theme.TEXT, theme.INK_SOFT, size_hint_y=None, height=app.px(110))
        self.walk_in = BigButton(text="请对本窗口服务进行评价", font_size=app.tx(48), size_hint=(.9, None),
                                 size_hint_max_x=max(app.px(820), app.tx(48) * 11 + app.px(60)),
                                 height=max(app.px(150), app.tx(48) * 1.6), pos_hint={"center_x": .5})
        self.walk_in.bind(on_release=lambda *_: self.start_walk_in())
        for w in (Label(), self.window_label, self.window_name, staff, self.services, self.walk_in, Label()):
            self.body.add_widget(w)
        self.refresh()

    def refresh(self) -> None:
        duty = self.terminal.duty()
        self.window_label.text = f"{duty['number']} 号窗口"
        self.window_name.text = duty["name"]
        staff = duty.get("staff") or {}
        self.staff_name.text = staff.get("name") or "工作人员"
        self.staff_no.text = f"工号：{staff['staff_no']}" if staff.get("staff_no") else "为您服务"
        self.services.text = "办理业务：" + "、".join(duty["services"])
        self.walk_in.opacity = 1 if self.terminal.hall.walk_in_ratings else 0
        self.walk_in.disabled = not self.terminal.hall.walk_in_ratings

    def start_walk_in(self) -> None:
        if self.session.walk_in():
            self.sync()


class RateScreen(EvaluatorScreen):
    def __init__(self, terminal, session, **kw):
        super().__init__(terminal, session, **kw)
        app = App.get_running_app()
        self.title = label("", 60, theme.INK, bold=True, size_hint_y=None, height=app.px(80))
        self.hint = label("请点击您的评价 · 评价结果窗口人员不可见", theme.TEXT,
                          theme.INK_SOFT, size_hint_y=None, height=app.px(64))
        self.choices = GridLayout(rows=1, spacing=app.px(theme.GAP))
        self.buttons = {}
        for level in sorted(LEVELS, reverse=True):
            colour, face = LEVEL_STYLE[level]
            if theme.high_contrast:
                colour = LEVEL_CONTRAST[level]
            choice = Panel(orientation="vertical", bg=theme.rgba(colour), padding=app.px(16),
                           spacing=app.px(8))
            choice.add_widget(Image(source=icon_path(face), fit_mode="contain"))
            button = BigButton(text=LEVELS[level], font_size=app.tx(48), bg=theme.rgba(colour),
                               bg_down=theme.rgba(colour), ink=(1, 1, 1, 1), size_hint_y=None, height=app.px(130),
                               pos_hint={"center_y": .5})
            button.bind(width=self._fit_level)
            button.level = level
            button.bind(on_release=lambda b: self.press(b.level))
            choice.add_widget(button)
            choice.bind(on_touch_up=self._panel_touch)
            choice.level = level
            self.buttons[level] = button
            self.choices.add_widget(choice)
        for w in (self.title, self.hint, self.choices):
            self.body.add_widget(w)

    @staticmethod
    def _fit_level(button, width) -> None:
        """A level's words on one line: smaller type in a narrow column, never below the visitor minimum."""
        app = App.get_running_app()
        button.font_size = fit_font(button.text, width - app.px(32), app.tx(48), app.tx(theme.TEXT_SMALL), bold=True)

    def _panel_touch(self, panel, touch) -> bool:
        # the whole coloured column is the target, face included
        if panel.collide_point(*touch.pos) and not any(c.collide_point(*touch.pos) for c in panel.children
                                                        if isinstance(c, BigButton)):
            self.press(panel.level)
            return True
        return False

    def refresh(self) -> None:
        prompt = self.session.prompt
        number = prompt.ticket_number if prompt else None
        self.title.text = f"{number} 号，请对本次服务进行评价" if number else "请对本窗口的服务进行评价"

    def arrange(self, portrait: bool) -> None:
        self.choices.rows, self.choices.cols = (5, 1) if portrait else (1, 5)
        for panel in self.choices.children:  # a row per level on a portrait screen: face beside the words
            panel.orientation = "horizontal" if portrait else "vertical"

    def press(self, level: int) -> None:
        if self.session.choose(level):
            self.sync()


TITLE_ONE_LINE = "请选择不满意的原因（可多选），再点“提交”"
TITLE_TWO_LINES = "请选择不满意的原因\n可多选，选好后点“提交”"


class ReasonsScreen(EvaluatorScreen):
    """Reasons for a bad rating, then 提交 (the third tap); a phone number is optional."""

    def __init__(self, terminal, session, **kw):
        super().__init__(terminal, session, **kw)
        app = App.get_running_app()
        self.title = label(TITLE_ONE_LINE, 52, theme.INK, bold=True, size_hint_y=None, height=app.px(80))
        self.body.add_widget(self.title)
        self.grid = GridLayout(cols=2, spacing=app.px(theme.GAP))
        self.toggles = {}
        for code, name in terminal.hall.rating_reasons:
            toggle = BigButton(text=name, font_size=app.tx(44), outlined=True)
            toggle.code = code
            toggle.bind(on_release=lambda b: self.toggle(b.code))
            self.toggles[code] = toggle
            self.grid.add_widget(toggle)
        self.body.add_widget(self.grid)
        self.message = label("", theme.TEXT, theme.RED, bold=True, size_hint_y=None, height=0)
        self.body.add_widget(self.message)
        height = max(app.px(140), app.tx(52) * 1.6, app.tx(theme.BUTTON_TEXT) * 2.5)  # the phone button's two lines fit
        self.phone = BigButton(text="留下电话\n（可选）", font_size=app.tx(theme.BUTTON_TEXT), size_hint_y=None,
                               height=height, bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.PAGE),
                               ink=theme.rgba(theme.BLUE), outlined=True)
        self.phone.bind(on_release=lambda *_: self.open_phone())
        self.next = BigButton(text="提交", font_size=app.tx(52), size_hint_y=None, height=height)
        self.next.bind(on_release=lambda *_: self.done())
        row = BoxLayout(size_hint_y=None, height=height, spacing=app.px(theme.GAP))
        row.add_widget(self.phone)
        row.add_widget(self.next)
        self.body.add_widget(row)

    def refresh(self) -> None:
        prompt = self.session.prompt
        chosen = set(prompt.reasons) if prompt else set()
        for code, toggle in self.toggles.items():
            on = code in chosen
            toggle.bg = theme.rgba(theme.BLUE if on else theme.WHITE)
            toggle.bg_down = theme.rgba(theme.BLUE_DARK)
            toggle.ink = theme.rgba(theme.WHITE if on else theme.INK)
            name = dict(self.terminal.hall.rating_reasons)[code]
            toggle.text = f"✓ {name}" if on else name  # a tick, so colour is not the only signal
        phone = prompt.phone if prompt else ""
        self.phone.text = f"电话：{phone}" if phone else "留下电话\n（可选）"
        self.message.text = ""

    def arrange(self, portrait: bool) -> None:
        self.grid.cols = 1 if portrait else 2
        # a narrow screen gets the break where a reader expects it, never before "）"
        self.title.text = TITLE_TWO_LINES if portrait else TITLE_ONE_LINE

    def toggle(self, code: str) -> None:
        self.session.toggle_reason(code)
        self.refresh()

    def done(self) -> None:
        if self.session.reasons_done():
            self.sync()
        else:
            self.message.text = "请至少选择一项原因"

    def open_phone(self) -> None:
        if self.session.want_phone():
            self.sync()
        else:
            self.message.text = "请先选择不满意的原因"


class PhoneScreen(EvaluatorScreen):
    def __init__(self, terminal, session, **kw):
        super().__init__(terminal, session, **kw)
        app = App.get_running_app()
        self.body.add_widget(label("留下手机号码，我们将回访您", 52, theme.INK, bold=True,
                                   size_hint_y=None, height=app.px(80)))
        self.split = BoxLayout(spacing=app.px(48))
        left = BoxLayout(orientation="vertical", spacing=app.px(theme.GAP))
        self.number = label("", 80, theme.BLUE, bold=True, size_hint_y=None, height=app.px(120))
        self.message = label("", theme.TEXT, theme.RED, bold=True, size_hint_y=None, height=0)
        height = max(app.px(140), app.tx(52) * 1.6)
        confirm = self._key("确定提交", self.confirm, font=52)
        confirm.size_hint_y, confirm.height = None, height
        skip = BigButton(text="返回，不留电话", font_size=app.tx(44), size_hint_y=None, height=height,
                         bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.PAGE), ink=theme.rgba(theme.BLUE),
                         outlined=True)
        skip.bind(on_release=lambda *_: self.skip())
        for w in (Widget(), self.number, self.message, confirm, skip, Widget()):
            left.add_widget(w)
        pad = GridLayout(cols=3, spacing=app.px(theme.GAP))
        for key in "123456789":
            pad.add_widget(self._key(key, lambda k=key: self.type(k)))
        pad.add_widget(Label())
        pad.add_widget(self._key("0", lambda: self.type("0")))
        pad.add_widget(self._key("删除", self.erase, font=40))
        self.left, self.pad = left, pad
        self.split.add_widget(left)
        self.split.add_widget(pad)
        self.body.add_widget(self.split)

    @staticmethod
    def _key(text, action, font=60) -> BigButton:
        b = BigButton(text=text, font_size=App.get_running_app().tx(font))
        b.bind(on_release=lambda *_: action())
        return b

    def refresh(self) -> None:
        phone = self.session.prompt.phone if self.session.prompt else ""
        self.number.text = phone or "—"

    def arrange(self, portrait: bool) -> None:
        # side by side on a landscape screen, keypad under the number on a portrait one
        self.split.orientation = "vertical" if portrait else "horizontal"

    def type(self, digit: str) -> None:
        self.session.type_phone(digit)
        self.message.text = ""
        self.refresh()

    def erase(self) -> None:
        self.session.erase_phone()
        self.refresh()

    def confirm(self) -> None:
        if self.session.phone_done():
            self.sync()
        else:
            self.message.text = "请输入11位手机号码，或点“返回”"

    def skip(self) -> None:
        if self.session.phone_done(skip=True):
            self.sync()


class ThanksScreen(EvaluatorScreen):
    def __init__(self, terminal, session, **kw):
        super().__init__(terminal, session, **kw)
        app = App.get_running_app()
        self.body.add_widget(Label())
        self.body.add_widget(label("感谢您的评价", 110, theme.GREEN, bold=True, size_hint_y=None,
                                   height=app.px(140)))
        self.detail = label("", 48, theme.INK, size_hint_y=None, height=app.px(80))
        self.body.add_widget(self.detail)
        self.body.add_widget(Label())

    def refresh(self) -> None:
        prompt = self.session.prompt
        if prompt is not None and prompt.level in (1, 2):
            self.detail.text = "我们会认真整改" + ("，并尽快与您联系" if prompt.phone else "")
        else:
            self.detail.text = "欢迎再次光临"


def evaluator_screens(terminal) -> list:
    """The evaluator's screens; the first, "evaluator", is its home.

    The session and its wiring (queue events, keypad, the deadline clock) are made
    once per App; screens built again (长辈模式, a new font size) reuse them.
    """
    app = App.get_running_app()
    session = getattr(app, "evaluator_session", None)
    first = session is None
    if first:
        session = EvaluatorSession(terminal.config.window, terminal.submit_rating,
                                   timeout_s=terminal.config.timeouts.rating_s)
    screens = [IdleScreen(terminal, session, name="evaluator"), RateScreen(terminal, session, name="rate"),
               ReasonsScreen(terminal, session, name="reasons"), PhoneScreen(terminal, session, name="phone"),
               ThanksScreen(terminal, session, name="thanks")]
    if not first:
        return screens

    def home():
        return app.sm.get_screen("evaluator")

    def follow(_dt) -> None:
        if app.sm is None or not app.sm.has_screen("evaluator"):
            return
        before = session.state
        session.tick()
        if session.state != before:
            home().sync()
            if session.state == "idle":
                app.end_visitor_session()
        # announce the timeout (at least 10 s) before an unanswered prompt goes back to the idle screen
        left = session.deadline - session.clock()
        warn = max(MIN_WARN_S, terminal.config.timeouts.warn_before_s)
        screen = app.sm.current_screen
        overlay = getattr(screen, "overlay", None)
        if session.state in ("rating", "reasons", "phone") and 0 < left <= warn:
            if overlay is not None and not overlay.text and terminal.voice.available:
                terminal.voice.say(WARNING_SPEECH)
            if overlay is not None:
                overlay.text = f"{math.ceil(left)} 秒后返回首页"
        elif overlay is not None and overlay.text:
            overlay.text = ""

    @mainthread
    def on_event(kind: str, data: dict) -> None:
        ticket = data.get("ticket") or {}
        if kind == "ticket_finished" and data.get("window") == terminal.config.window and ticket.get("id"):
            if session.ticket_finished(ticket["id"], ticket.get("number"), ticket.get("service")):
                home().sync()

    def on_key(codepoint: str) -> bool:
        if session.key(codepoint):
            home().sync()
            return True
        return False

    terminal.subscribe(on_event)
    app.key_handler = on_key  # USB keypads typing 1-5
    Clock.schedule_interval(follow, 0.25)
    app.evaluator_session = session
    return screens
