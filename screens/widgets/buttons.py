"""Buttons and markers of the visitor pages: cards, tiles, rows, icon buttons, keys, list markers."""

from __future__ import annotations

from pathlib import Path

from kivy.core.text import Label as CoreLabel
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from .. import theme
from .basic import BigButton, icon_path, px, tx

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

    def __init__(self, light: bool = False, **kw):
        kw.setdefault("font_size", tx(theme.BUTTON_TEXT))
        kw.setdefault("bg", theme.rgba(theme.BLUE))  # the palette of the moment (high contrast)
        kw.setdefault("bg_down", theme.rgba(theme.BLUE_DARK))
        kw.setdefault("ink", theme.rgba(theme.WHITE))
        self.disabled_bg = theme.rgba(theme.DISABLED_BG)
        self.disabled_ink = theme.rgba(theme.DISABLED_INK)
        if light:
            kw.update(bg=theme.rgba(theme.WHITE), bg_down=theme.rgba(theme.BLUE, .12),
                      ink=theme.rgba(theme.BLUE), outlined=True)
        super().__init__(**kw)
        self.bind(size=self._fit, text=self._fit, font_size=self._fit, icon_source=self._fit)
        self._fit()

    def text_width(self) -> float:
        core = CoreLabel(text=self.text or " ", font_size=self.font_size, bold=True)
        core.refresh()
        return core.texture.size[0] + 2

    def natural_width(self) -> float:
        """The width that shows icon and label on one line."""
        icon = px(76) if self.icon_source else 0
        return self.padding[0] + self.padding[2] + 3 * self.spacing + icon + self.text_width() + px(16)

    def _fit(self, *_args) -> None:
        """The label takes its natural width (so icon and label centre together), wrapping if narrower."""
        natural = self.text_width()
        room = self.width - self.padding[0] - self.padding[2] - 3 * self.spacing
        icon = min(px(76), self.height * .62) if self.icon_source else 0
        if natural > room - icon:  # too narrow for both: the words matter more than the picture
            icon = 0
        self.ids.icon.size = (icon, icon)
        self.ids.label.width = max(1, min(natural, room - icon))



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
    b = IconButton(text=text, icon_source=icon_path(icon) if icon else "", light=light,
                   size_hint_x=None if width else 1, width=width or 100)
    if width:  # never narrower than icon and label on one line (large type)
        b.width = max(width, b.natural_width())
    b.bind(on_release=lambda *_: on_press())
    return b
