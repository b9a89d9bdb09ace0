"""Buttons and markers of the visitor pages: cards, tiles, rows, icon buttons, keys, list markers."""

from __future__ import annotations

from pathlib import Path

from kivy.core.text import Label as CoreLabel
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from .. import theme
from .basic import BigButton, Label, icon_path, px, tx

Builder.load_file(str(Path(__file__).with_name("buttons.kv")))


class CardBase(ButtonBehavior, BoxLayout):
    pass


class TileButton(CardBase):
    """A category tile: icon above the name."""

    text = StringProperty("")
    icon_source = StringProperty("")
    code = StringProperty("")


class RowButton(CardBase):
    """A list row: icon beside a title (markup) and a detail line."""

    text = StringProperty("")
    detail = StringProperty("")
    icon_source = StringProperty("")
    icon_size = NumericProperty(0)
    title_size = NumericProperty(0)
    title_bold = BooleanProperty(True)
    stretch = BooleanProperty(False)  # take the grid's row height instead of the text's
    item = ObjectProperty(None, allownone=True)  # the guide or policy the row opens
    # True: the row holds its text but does not render it yet (a list's rows below the fold,
    # rendered when the visitor scrolls: screens/inquiry/search.py); it then takes the least height
    deferred = BooleanProperty(False)

    def __init__(self, **kw):
        kw.setdefault("icon_size", px(88))
        kw.setdefault("title_size", tx(40))
        super().__init__(**kw)


class IconButton(ButtonBehavior, BoxLayout):
    """A button with an icon beside its label, both centred; primary blue or outlined white."""

    text = StringProperty("")
    icon_source = StringProperty("")
    font_size = NumericProperty(0)
    bg = ColorProperty(theme.rgba(theme.BLUE))
    bg_down = ColorProperty(theme.rgba(theme.BLUE_DARK))
    ink = ColorProperty(theme.rgba(theme.WHITE))
    outlined = BooleanProperty(False)
    light = BooleanProperty(False)  # white with a blue edge and words (also settable from kv)

    def __init__(self, **kw):
        kw.setdefault("font_size", tx(theme.BUTTON_TEXT))
        self.disabled_bg = theme.rgba(theme.DISABLED_BG)
        self.disabled_ink = theme.rgba(theme.DISABLED_INK)
        colours = self._colours(kw.get("light", False))
        for key, value in colours.items():
            kw.setdefault(key, value)  # the palette of the moment (high contrast)
        super().__init__(**kw)
        self.bind(size=self._fit, text=self._fit, font_size=self._fit, icon_source=self._fit)
        self._fit()

    @staticmethod
    def _colours(light: bool) -> dict:
        if light:
            return dict(bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.BLUE, .12), ink=theme.rgba(theme.BLUE),
                        outlined=True)
        return dict(bg=theme.rgba(theme.BLUE), bg_down=theme.rgba(theme.BLUE_DARK), ink=theme.rgba(theme.WHITE),
                    outlined=False)

    def on_light(self, _w, light: bool) -> None:
        for key, value in self._colours(light).items():
            setattr(self, key, value)

    def text_width(self) -> float:
        core = CoreLabel(text=self.text or " ", font_size=self.font_size, bold=True)
        core.refresh()
        return core.texture.size[0] + 2

    def natural_width(self) -> float:
        """The width that shows icon and label on one line."""
        icon = px(76) if self.icon_source else 0
        return self.padding[0] + self.padding[2] + 3 * self.spacing + icon + self.text_width() + px(16)

    def on_kv_post(self, *_args) -> None:
        self._fit()

    def _fit(self, *_args) -> None:
        """The label takes its natural width (so icon and label centre together), wrapping if narrower."""
        if "icon" not in self.ids:  # made by a kv rule: its own rule comes later (on_kv_post)
            return
        natural = self.text_width()
        room = self.width - self.padding[0] - self.padding[2] - 3 * self.spacing
        icon = min(px(76), self.height * .62) if self.icon_source else 0
        if natural > room - icon:  # too narrow for both: the words matter more than the picture
            icon = 0
        self.ids.icon.size = (icon, icon)
        self.ids.label.width = max(1, min(natural, room - icon))



class NavButton(IconButton):
    """A light navigation button (返回, 首页 ...): at least ``least_width`` wide (0: it shares the row),
    never narrower than its icon and label on one line (large type)."""

    least_width = NumericProperty(0)

    def __init__(self, **kw):
        kw.setdefault("light", True)
        super().__init__(**kw)
        self.bind(least_width=self._widen, text=self._widen, font_size=self._widen, padding=self._widen,
                  spacing=self._widen, icon_source=self._widen)
        self._widen()

    def _widen(self, *_args) -> None:
        if self.least_width:
            self.size_hint_x = None
            self.width = max(self.least_width, self.natural_width())


class KeyButton(BigButton):
    key = StringProperty("")


class QueryField(BoxLayout):
    pass


class TickBox(Widget):
    pass


class StepNumber(Label):
    pass


class Dot(Widget):
    pass


def nav_button(text: str, icon: str, on_press, width: float = 0, light: bool = True) -> IconButton:
    b = NavButton(text=text, icon_source=icon_path(icon) if icon else "", light=light, width=width or 100,
                  least_width=width)
    b.bind(on_release=lambda *_: on_press())
    return b
