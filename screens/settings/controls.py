"""The settings form's controls: a row per setting, a row of choices, a − value + stepper.
Static layout in controls.kv.

Each control has the ``key`` of the setting it edits (``kiosk.terminal_settings.SettingsDraft``), a
``value``, and fires ``on_change(value)`` when staff change it (not when the form loads it).
"""

from __future__ import annotations

import math
from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from .. import theme
from ..widgets import measure
from .staff import StaffButton

Builder.load_file(str(Path(__file__).with_name("controls.kv")))


class SettingRow(BoxLayout):
    """A setting's name on the left, its control on the right; as high as the control needs."""

    title = StringProperty("")

    def add_widget(self, widget, *args, **kwargs):
        super().add_widget(widget, *args, **kwargs)
        widget.bind(height=self._fit, size_hint_y=self._fit)
        self._fit()

    def _fit(self, *_args) -> None:
        needed = [c.height for c in self.children if c.size_hint_y is None]
        self.height = max([App.get_running_app().px(theme.TARGET)] + needed)


class Choice(GridLayout):
    """A row of big toggle-like buttons; the chosen one is filled. When the words do not fit one
    row (large type, a portrait screen) the buttons take two rows or more, never a word broken."""

    key = StringProperty("")
    options = ListProperty()  # (value, words) pairs
    value = ObjectProperty(None, allownone=True)
    __events__ = ("on_change",)

    def __init__(self, **kw):
        self.buttons: dict = {}
        super().__init__(**kw)
        self.bind(options=self._build, width=self._arrange)
        self._build()

    def _build(self, *_args) -> None:
        self.clear_widgets()
        self.buttons = {}
        for option, text in self.options:
            b = StaffButton(text=text, primary=False, chosen=option == self.value)
            b.bind(on_release=lambda _b, o=option: self.choose(o))
            self.buttons[option] = b
            self.add_widget(b)
        self._arrange()

    def on_value(self, _instance, value) -> None:
        for option, b in self.buttons.items():
            b.chosen = option == value

    def choose(self, value) -> None:
        self.value = value
        self.dispatch("on_change", value)

    def on_change(self, value) -> None:
        pass

    def _arrange(self, *_args) -> None:
        """As many columns as the widest words allow, rows balanced (4 options: 4, else 2 x 2)."""
        app = App.get_running_app()
        n = len(self.buttons)
        if not n:
            return
        gap = self.spacing[0]
        # a button wraps its words at its width less px(24) (screens/widgets/basic.kv)
        widest = max(measure(b.text, b.font_size, bold=True)[0] for b in self.buttons.values()) + app.px(24) + 1
        cols = n
        while cols > 1 and (self.width - gap * (cols - 1)) / cols < widest:
            cols -= 1
        rows = math.ceil(n / cols)
        self.cols = math.ceil(n / rows)
        self.height = rows * app.px(theme.TARGET) + (rows - 1) * self.spacing[1]


class Stepper(BoxLayout):
    """− value + for numbers, so no keyboard is needed."""

    key = StringProperty("")
    value = NumericProperty(0)
    step = NumericProperty(1)
    low = NumericProperty(0)
    high = NumericProperty(100)
    unit = StringProperty("")
    __events__ = ("on_change",)

    def bump(self, direction: int) -> None:
        self.value = min(self.high, max(self.low, self.value + direction * self.step))
        self.dispatch("on_change", self.value)

    def on_change(self, value) -> None:
        pass

    @staticmethod
    def shown(value: float, unit: str) -> str:
        number = int(value) if float(value).is_integer() else value
        return f"{number}{unit}"
