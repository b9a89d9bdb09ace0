"""The five levels: a coloured column (a row on a portrait screen) per level, face and words.
Static layout in rate.kv."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.ratings.model import LEVELS

from .. import theme
from ..widgets import Panel, measure
from .common import LEVEL_CONTRAST, LEVEL_STYLE, EvaluatorScreen, EvaluatorView

Builder.load_file(str(Path(__file__).with_name("rate.kv")))


class LevelChoice(Panel):
    """One level: the whole coloured panel is the target, face included."""

    level = NumericProperty(0)
    text = StringProperty("")
    face = StringProperty("")
    portrait = BooleanProperty(False)
    __events__ = ("on_choose",)

    def on_touch_up(self, touch):
        if self.collide_point(*touch.pos) and not self.ids.button.collide_point(*touch.pos):
            self.dispatch("on_choose")
            return True
        return super().on_touch_up(touch)

    def on_choose(self):
        pass


class RateView(EvaluatorView):
    number = StringProperty("")  # the ticket being rated; "" for a walk-in rating
    title = StringProperty("请对本窗口的服务进行评价")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.bind(number=self._title, width=self._title)

    def _title(self, *_args) -> None:
        """One line when it fits; else the break after "，", keeping the number with its 号."""
        if not self.number:
            self.title = "请对本窗口的服务进行评价"
            return
        line = f"{self.number} 号，请对本次服务进行评价"
        fits = measure(line, App.get_running_app().tx(60), bold=True)[0] <= self.width
        self.title = line if fits else f"{self.number} 号\n请对本次服务进行评价"


class RateScreen(EvaluatorScreen):
    def __init__(self, terminal, session, **kw):
        super().__init__(terminal, session, RateView(), **kw)
        self.title = self.view.ids.title
        self.buttons = {}
        for level in sorted(LEVELS, reverse=True):
            colour, face = LEVEL_STYLE[level]
            if theme.high_contrast:
                colour = LEVEL_CONTRAST[level]
            choice = LevelChoice(level=level, text=LEVELS[level], face=face, bg=theme.rgba(colour))
            self.view.bind(portrait=choice.setter("portrait"))
            choice.bind(on_choose=lambda c: self.press(c.level))
            choice.ids.button.level = level
            self.buttons[level] = choice.ids.button
            self.view.ids.choices.add_widget(choice)

    def refresh(self) -> None:
        prompt = self.session.prompt
        number = prompt.ticket_number if prompt else None
        self.view.number = number or ""

    def press(self, level: int) -> None:
        if self.session.choose(level):
            self.sync()
