"""The base of every visitor screen: the hall header over a body, the idle timeout and its warning.

Every mode's screens (dispenser, inquiry, evaluator, check-in, maintenance) derive from
``VisitorScreen``; ``style_buttons`` is the 长辈模式 / 高对比度 / 呼叫工作人员 block that the
attract screen and the inquiry home share.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

from kivy.app import App
from kivy.graphics import ClearBuffers, ClearColor
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from . import theme
from .widgets import WARNING_SPEECH, IdleTimer, WarningOverlay, px

Builder.load_file(str(Path(__file__).with_name("base.kv")))

WEEKDAYS = "一二三四五六日"


def kv_ids(widget) -> SimpleNamespace:
    """``widget.ids`` as strong references: kv hands out weak proxies, and a widget a screen takes out
    of the tree for a while (a button shown only sometimes) would be collected."""
    return SimpleNamespace(**{key: proxy.__self__ for key, proxy in widget.ids.items()})


def date_text(now: datetime) -> str:
    return f"{now.year}年{now.month}月{now.day}日 星期{WEEKDAYS[now.weekday()]}"


class VisitorScreen(Screen):
    """A screen with the hall header and a body; a warning over it before it times out."""

    idle_timeout = 0.0  # seconds without activity before going home; 0: never
    warning_text = "{} 秒后返回首页"

    def __init__(self, terminal, clock=None, **kw):
        super().__init__(**kw)
        self.terminal = terminal
        app = App.get_running_app()
        # monotonic seconds for timeouts and double-tap guards: injected (the App's ``monotonic``, a
        # test's fake clock), never read from the wall
        self.clock = clock or getattr(app, "monotonic", None) or time.monotonic
        ids = kv_ids(self)  # the header over the body (base.kv)
        self.header, self.body = ids.header, ids.body
        # The page colour as a clear, not a page-sized Rectangle: software GL (Mesa llvmpipe) fills a
        # rectangle pixel by pixel in its shader, ~16 ms CPU a frame at 1920x1080, and clears almost for
        # free (issue 17, bench/search_screen.py). Every visitor screen fills the window, and a picture of
        # one (export_to_png, the layout audit) is cleared the same way. The colour is the palette's when
        # the screen is built (screens are rebuilt when it changes).
        ids.page.canvas.before.insert(0, ClearBuffers(clear_color=True))
        ids.page.canvas.before.insert(0, ClearColor(*theme.rgba(theme.PAGE)))
        self.header.title = terminal.hall_name
        self._overlay: WarningOverlay | None = None  # built when first needed (``overlay``)
        self.idle = IdleTimer(self.idle_timeout, terminal.config.timeouts.warn_before_s,
                              self.timed_out, self._show_countdown, on_warn=self._say_warning,
                              busy=lambda: bool(getattr(terminal.voice, "speaking", False)), clock=self.clock)
        self.bind(size=lambda *_: self.tick_clock(terminal.now()))

    @property
    def overlay(self) -> WarningOverlay:
        """The timeout warning over this screen, built the first time it is needed: most screens never
        show one, and each costs about 0.25 MB of widgets and label textures (issue 17)."""
        if self._overlay is None:
            self._overlay = WarningOverlay(self)
            self._overlay.bind(on_continue=lambda *_: self.idle.poke())
        return self._overlay

    countdown = overlay  # its ``text`` is the warning

    def warning_shown(self) -> bool:
        """The timeout warning is over the screen now (without building one)."""
        return self._overlay is not None and self._overlay.parent is not None

    def _show_countdown(self, seconds: int) -> None:
        if seconds or self._overlay is not None:
            self.overlay.text = self.warning_text.format(seconds) if seconds else ""

    def _say_warning(self) -> None:
        if self.terminal.voice.available:
            self.terminal.voice.say(WARNING_SPEECH)

    def on_enter(self, *args):
        if self.idle.timeout:
            self.idle.start()

    def on_leave(self, *args):
        self.idle.stop()

    def timed_out(self) -> None:
        """Nobody is here any more: the next visitor gets the terminal's own settings."""
        app = App.get_running_app()
        self.go_home()
        app.end_visitor_session()

    def go_home(self) -> None:
        self.manager.current = App.get_running_app().home

    def open_settings(self) -> None:
        if self.manager.has_screen("pin"):
            self.manager.current = "pin"

    def tick_clock(self, now: datetime) -> None:
        self.header.status_text = self.terminal.status_marker()
        portrait = self.height > self.width  # a narrow header keeps room for the hall name
        self.header.clock_text = f"{now:%H:%M}" if portrait else f"{date_text(now)}  {now:%H:%M}"


class StyleButtons(BoxLayout):
    """长辈模式 / 高对比度 (base.kv), and 呼叫工作人员 beside them or, portrait, under them."""

    row_height = NumericProperty(0)
    own_row = BooleanProperty(False)  # 呼叫工作人员 on a row of its own


def style_buttons(screen) -> StyleButtons:
    """长辈模式 and 高对比度: the visitor's own choice, until the session ends; under them
    呼叫工作人员 (screens/helpdesk.py)."""
    from .helpdesk import help_button

    block = StyleButtons()
    row = screen.style_row = kv_ids(block).row
    helper = screen.help_button = help_button(screen.terminal, block.row_height)

    def place(*_args) -> None:
        """Landscape: one row of three; portrait, or a third of the row too narrow for 呼叫工作人员 on
        one line (a 4:3 or 5:4 panel in large type): 呼叫工作人员 on a row of its own, full width."""
        room = (block.width - 2 * px(theme.GAP)) / 3 - helper.padding[0] - helper.padding[2] - 3 * helper.spacing
        own_row = screen.height > screen.width or (block.width > 1 and helper.text_width() > room)
        if helper.parent is not None and (helper.parent is block) == own_row:
            return
        if helper.parent is not None:
            helper.parent.remove_widget(helper)
        (block if own_row else row).add_widget(helper, index=0)
        helper.size_hint_y = None if own_row else 1
        block.own_row = own_row

    place()
    screen.bind(size=place)
    block.bind(width=place)
    return block
