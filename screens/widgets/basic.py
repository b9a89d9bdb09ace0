"""Basic visitor widgets: panels, big buttons, service cards, the header; text measuring and the one label helper."""

from __future__ import annotations

import re
import weakref
from functools import lru_cache
from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.core.text import Label as CoreLabel
from kivy.core.text.markup import MarkupLabel as CoreMarkupLabel
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, OptionProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label as KivyLabel
from kivy.utils import get_hex_from_color

from kiosk.paths import ASSETS_DIR

from .. import theme

def paint(widget, colour: tuple[int, int, int]) -> None:
    """Fill ``widget``'s area with a solid colour that follows its position and size."""
    from kivy.graphics import Color, Rectangle

    with widget.canvas.before:
        Color(*theme.rgba(colour))
        rect = Rectangle(pos=widget.pos, size=widget.size)
    widget.bind(pos=lambda w, p: setattr(rect, "pos", p), size=lambda w, s: setattr(rect, "size", s))


def measure(text: str, font_size: float, bold: bool = False, width: float | None = None,
            markup: bool = False) -> tuple[int, int]:
    """The size of ``text`` rendered at ``font_size`` (wrapped at ``width`` when given; ``markup``: Kivy markup)."""
    from kivy.core.text import Label as CoreLabel
    from kivy.core.text.markup import MarkupLabel

    core = (MarkupLabel if markup else CoreLabel)(text=text, font_size=font_size, bold=bold, text_size=(width, None))
    core.refresh()
    return core.texture.size if core.texture else (0, 0)


def fit_font(text: str, width: float, largest: float, smallest: float, bold: bool = False) -> float:
    """The largest size from ``largest`` down to ``smallest`` at which ``text`` fits one line of ``width``."""
    natural = measure(text, largest, bold)[0]
    if natural <= width:
        return largest
    return max(smallest, int(largest * width / natural) - 1)


NO_LINE_START = set("，。、；：？！）》」』”’…·%,.;:?!)]}〕】")
NO_LINE_END = set("（《「『“‘([{〔【")
CLAUSE_END = set("，。、；：？！")
# a piece no line breaks inside (Kivy still breaks one longer than a line): a “quoted” key name;
# a short （bracketed note） of up to 8 characters (（第1/3页）, （社会救助））; a short phrase of up to
# 8 characters after a space that ends the text or a " · " separator's clause (2026年11月23日 星期一,
# 请到 9 号窗口办理 · 请留意叫号: it moves to the next line whole, as at Kivy's break at the space);
# or a latin word, number, code or address (set-pin, 12345678, COVID-19, www.gov.cn/a)
_WHOLE = re.compile(r"“[^”\n]*”|（[^（）\n]{1,8}）|(?<= )[^\s·\n]{1,8}(?=\s*·|\s*$)"
                    r"|[A-Za-z0-9](?:[A-Za-z0-9_\-./:@]*[A-Za-z0-9])?")


def break_runs(text: str, by: str = "char") -> list[str]:
    """The pieces of ``text`` that stay whole on a line, in order (joined they are ``text``).

    ``by="char"``: a line may break between any two hanzi, never before a closing mark (，。）”…)
    nor after an opening one (（“), nor inside a quoted key name, a short bracketed note or a
    latin word or number; the
    last piece of each paragraph holds at least two characters, so a lone hanzi never ends up
    on a line of its own where the break is ours to choose.
    ``by="clause"``: only after a clause mark (，。、；：？！) and around a quoted key name: for
    short messages ("暂停取号，请联系工作人员" breaks after the comma, not before "员").
    """
    if by not in ("char", "clause"):
        raise ValueError(f"by must be 'char' or 'clause', not {by!r}")
    runs: list[str] = []
    for paragraph_no, paragraph in enumerate(text.split("\n")):
        pieces: list[str] = []
        whole: list[bool] = []  # a quoted name: a clause of its own
        pos = 0
        for m in _WHOLE.finditer(paragraph):
            pieces += list(paragraph[pos:m.start()])
            whole += [False] * (m.start() - pos)
            pieces.append(m.group())
            whole.append(m.group().startswith("“"))
            pos = m.end()
        pieces += list(paragraph[pos:])
        whole += [False] * (len(paragraph) - pos)
        mine: list[str] = []
        quoted: list[bool] = []
        for piece, is_quote in zip(pieces, whole):
            glue = mine and (piece[0] in NO_LINE_START or mine[-1][-1] in NO_LINE_END)
            if by == "clause" and mine and not glue:
                glue = not (is_quote or quoted[-1] or mine[-1][-1] in CLAUSE_END)
            if glue:
                mine[-1] += piece
                quoted[-1] = quoted[-1] and piece in NO_LINE_START
                if len(mine) > 1 and mine[-1][0] == " " and mine[-1].lstrip(" ")[:1] in NO_LINE_START:
                    spaced = mine.pop()  # a spaced mark (" · ") starts no line either
                    quoted.pop()
                    mine[-1] += spaced
            else:
                mine.append(piece)
                quoted.append(is_quote)
        # no lone character on the last line: the last piece takes its neighbour when it holds
        # fewer than two characters that are not marks
        if len(mine) > 1 and sum(ch not in NO_LINE_START and not ch.isspace() for ch in mine[-1]) < 2:
            last = mine.pop()
            mine[-1] += last
        if paragraph_no:  # the line feed starts the paragraph's first piece
            mine = ["\n" + mine[0]] + mine[1:] if mine else ["\n"]
        runs += mine
    return runs


_ZEROS = str.maketrans("123456789", "000000000")


def digit_shape(text: str) -> str:
    """``text`` with every ASCII digit made ``0``: the key of what depends on where digits stand but not
    on which they are (a grid card's "等候 37 人" and "等候 38 人"), so caches of such texts stay as
    small as their shapes instead of gaining an entry for every new count of the day (issue 17)."""
    return text.translate(_ZEROS)


@lru_cache(maxsize=2048)  # every label render asks again (screens.widgets.Label): the same shapes all day
def _run_lengths(shape: str, by: str) -> tuple[int, ...]:
    return tuple(len(r) for r in break_runs(shape, by))


def wrappable(text: str, by: str = "char") -> str:
    """Escaped Kivy markup of plain ``text`` whose lines break by the Chinese rule (see ``break_runs``):
    the one line-break helper of every visitor text (show it with ``markup: True``).

    Kivy's markup wraps only between style runs or at spaces, and breaks a run longer than a line
    anywhere. Empty [b][/b] pairs split the text into the pieces of ``break_runs`` without
    changing how it looks; nothing is added to or taken from the text that is drawn.

    The pieces are remembered by the text's ``digit_shape`` (``break_runs`` treats every digit alike):
    a new waiting count or ticket number reuses its shape's pieces instead of filling the cache.
    """
    from kivy.utils import escape_markup

    pieces, pos = [], 0
    for n in _run_lengths(digit_shape(text), by):
        pieces.append(escape_markup(text[pos:pos + n]))
        pos += n
    return "[b][/b]".join(pieces)


# a character of Chinese text (hanzi, CJK and full-width marks): plain text holding one breaks by our rule
_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


class Label(KivyLabel):
    """Every label of the app: Kivy's Label whose plain text breaks lines by the Chinese rule.

    Registered as Factory's ``Label`` (below), so each ``Label:`` of a .kv file is one, as are
    ``label()``, ``BigButton`` and the other labels made in Python. Plain text (``markup`` off) that
    wraps (``text_size`` has a width), is not shortened and holds Chinese is drawn as
    ``wrappable(text, by=breaks)`` through Kivy's markup core label instead of its plain one:
    ``text`` stays the plain text (what code and tests read), the label keeps its one core label
    and one texture. ``breaks``: ``"char"`` (default), ``"clause"`` (short messages), ``"none"``
    (Kivy's own breaks). A label with ``markup`` on makes its text ``wrappable`` itself.
    """

    breaks = OptionProperty("char", options=("char", "clause", "none"))

    def __init__(self, **kw):
        super().__init__(**kw)
        self.fbind("breaks", self._trigger_texture_update, "breaks")

    def breaks_chinese(self) -> bool:
        """Whether the label draws its plain text as ``wrappable`` markup now."""
        return (not self.markup and self.breaks != "none" and bool(self.text_size[0]) and not self.shorten
                and _CJK.search(self.text) is not None)

    def _create_label(self):
        want = CoreMarkupLabel if self.markup or self.breaks_chinese() else CoreLabel
        if self._label is not None and self._label.__class__ is want:
            return
        options = {x: getattr(self, x) for x in self._font_properties}
        options["usersize"] = self.text_size
        if self.disabled:
            options["color"] = self.disabled_color
            options["outline_color"] = self.disabled_outline_color
        self._label = want(**options)

    def _trigger_texture_update(self, name=None, source=None, value=None):
        if name in ("text", "text_size", "shorten", "breaks") and self._label is not None:
            self._create_label()  # plain and wrapping Chinese, or not: the core label to draw it with
        if name == "breaks":
            self._trigger_texture()
            return
        super()._trigger_texture_update(name, source, value)

    def texture_update(self, *largs):
        """Kivy's ``texture_update``, drawing ``wrappable(text)`` where ``breaks_chinese``."""
        if self._label.__class__ is not CoreMarkupLabel or self.markup:
            return super().texture_update(*largs)
        self.texture = None
        text = self.text.strip() if self.halign == "justify" or self.strip else self.text
        if not text:
            self.texture_size = (0, 0)
            self.is_shortened = False
            self.refs, self._label._refs = {}, {}
            self.anchors, self._label._anchors = {}, {}
            return
        colour = get_hex_from_color(self.disabled_color if self.disabled else self.color)
        self._label.text = f"[color={colour}]{wrappable(text, self.breaks)}[/color]"
        self._label.refresh()
        texture = self._label.texture
        if texture is not None:
            texture.bind()  # draw now, as Kivy does for markup (its refs): one real render, not one more at draw
            self.texture = texture
            self.texture_size = list(texture.size)
        self.is_shortened = self._label.is_shortened



class SharedLabel(Label):
    """A label that shows the texture another SharedLabel of its ``shared`` slot drew, when that one drew the
    same text the same way (every font property equal): the hall header's title and clock, alike on every
    screen, are drawn once for all screens instead of once per screen (about 0.9 MB of textures at 1920x1080:
    issue 17). A label that draws (its text or size changed first) hands its texture to the slot's labels
    that show the same, which let their own go. Its owner draws its next text into it in place when the size
    is kept, as Kivy does; a label showing it then shows that text until its own text is updated, which
    happens on every screen at once (the clock's minute, the hall's name), on screens not shown (the screen
    manager shows one screen at a time: no transition)."""

    shared = StringProperty("")
    _slots: dict = {}  # slot -> (the drawing's key, its texture, is_shortened): the last one drawn
    _members: dict = {}  # slot -> its labels (weakly)

    def on_shared(self, _label, slot: str) -> None:
        if slot:
            SharedLabel._members.setdefault(slot, weakref.WeakSet()).add(self)

    def _drawing(self) -> str:
        return repr(tuple(getattr(self, name) for name in self._font_properties) + (self.disabled, self.breaks))

    def _show(self, drawn: tuple) -> None:
        if self._label.texture is not drawn[1]:
            self._label.texture = None  # its own last drawing, not shown any more
        self.texture = drawn[1]
        self.texture_size = list(drawn[1].size)
        self.is_shortened = drawn[2]

    def texture_update(self, *largs):
        if not self.shared:
            return super().texture_update(*largs)
        key = self._drawing()
        drawn = SharedLabel._slots.get(self.shared)
        if drawn is not None and drawn[0] == key:
            self._show(drawn)
            return
        super().texture_update(*largs)
        if self.texture is not None:
            drawn = SharedLabel._slots[self.shared] = (key, self.texture, self.is_shortened)
            for other in list(SharedLabel._members.get(self.shared, ())):
                if other is not self and other.shared == self.shared and other.texture is not self.texture \
                        and other._drawing() == key:
                    other._show(drawn)


# kv's ``Label:`` and ``Factory.Label`` make the label above (once: a reload keeps the first)
if Factory.classes.get("Label", {}).get("cls") is not Label:
    Factory.unregister("Label")
    Factory.register("Label", cls=Label)
Builder.load_file(str(Path(__file__).with_name("basic.kv")))


def px(value: float) -> float:
    """Layout pixels at this screen's size (the App's scale)."""
    from kivy.app import App

    return App.get_running_app().px(value)


def tx(value: float) -> float:
    """Type size in pixels: layout scale times the visitor's type scale (长辈模式)."""
    from kivy.app import App

    return App.get_running_app().tx(value)


def blue_hex() -> str:  # follows the palette (high contrast)
    return theme.hex_colour(theme.BLUE)


def soft_hex() -> str:
    return theme.hex_colour(theme.INK_SOFT)



def highlighted(name: str, span: tuple[int, int] | None) -> str:
    """Markup for a guide name with the matched characters in bold blue, underlined: ``wrappable(name)``
    with the highlight's tags at the span's ends (pieces of the whole name, so no lone last hanzi
    except where the highlight itself ends one character before the name does)."""
    if not span:
        return wrappable(name)
    from kivy.utils import escape_markup

    start, end = span
    out, pos = [], 0
    for run in break_runs(name):
        a, b = max(start, pos), min(end, pos + len(run))
        if a < b:
            piece = (escape_markup(name[pos:a]) + f"[b][color={blue_hex()}][u]" + escape_markup(name[a:b])
                     + "[/u][/color][/b]" + escape_markup(name[b:pos + len(run)]))
        else:
            piece = escape_markup(run)
        out.append(piece)
        pos += len(run)
    return "[b][/b]".join(out)


def label(text: str = "", size: float = theme.TEXT, colour=None, bold: bool = False, kind: str = "",
          **kw) -> Label:
    """The one label helper of every screen (``size`` in type points, scaled by the App's ``tx``).

    ``kind``:
      ``"box"``  its text fills its box (centred unless ``halign`` says otherwise);
      ``"grow"`` a line of a page: wraps at its width, and its height follows its text
                 (``height`` is its least height);
      ``"para"`` a left-aligned paragraph that grows, line height 1.3, breaking lines by the
                 Chinese rule (plain ``text`` is made ``wrappable``; with ``markup`` the caller does that);
      ``"line"`` one line of fixed height (``height``, else 1.45 x the type), cut with "…".
    Without ``kind``: ``"grow"`` when ``size_hint_y=None``, else ``"box"``.
    """
    from kivy.app import App

    app = App.get_running_app()
    kind = kind or ("grow" if kw.get("size_hint_y", 1) is None else "box")
    colour = theme.INK if colour is None else colour  # the palette of the moment (high contrast)
    if kind == "para":
        if not kw.pop("markup", False):
            text = wrappable(text)
        kw.update(markup=True, size_hint_y=None)
        kw.setdefault("halign", "left")
        kw.setdefault("valign", "top")
        kw.setdefault("line_height", 1.3)
    elif kind == "line":
        kw.update(shorten=True, size_hint_y=None)
        kw.setdefault("shorten_from", "right")
        kw.setdefault("halign", "left")
        kw["height"] = kw.get("height") or app.tx(size) * 1.45
    floor = kw.get("height", 0)
    lbl = Label(text=text, font_size=app.tx(size), color=theme.rgba(colour), bold=bold,
                halign=kw.pop("halign", "center"), valign=kw.pop("valign", "middle"), **kw)
    if kind in ("grow", "para"):
        lbl.bind(width=lambda w, v: setattr(w, "text_size", (v, None)),
                 texture_size=lambda w, s: setattr(w, "height", max(floor, s[1])))
    else:
        lbl.bind(size=lambda w, s: setattr(w, "text_size", s))
    return lbl


def icon_path(name: str) -> str:
    path = ASSETS_DIR / "icons" / f"{name}.png"
    return str(path if path.exists() else ASSETS_DIR / "icons" / "general.png")


class Panel(BoxLayout):
    bg = ColorProperty(theme.rgba(theme.WHITE))
    radius = NumericProperty(20)

    def __init__(self, **kw):
        kw.setdefault("bg", theme.rgba(theme.WHITE))  # the palette of the moment (high contrast)
        super().__init__(**kw)


class BigButton(ButtonBehavior, Label):
    """A labelled button. Disabled, it turns grey with dark text (still 7:1), never faint."""

    bg = ColorProperty(theme.rgba(theme.BLUE))
    bg_down = ColorProperty(theme.rgba(theme.BLUE_DARK))
    ink = ColorProperty(theme.rgba(theme.WHITE))
    outlined = BooleanProperty(False)  # a light button gets a visible edge in its ink colour
    edge = ColorProperty((0, 0, 0, 0))

    def __init__(self, **kw):
        kw.setdefault("bg", theme.rgba(theme.BLUE))
        kw.setdefault("bg_down", theme.rgba(theme.BLUE_DARK))
        kw.setdefault("ink", theme.rgba(theme.WHITE))
        self.disabled_bg = theme.rgba(theme.DISABLED_BG)
        self.disabled_ink = theme.rgba(theme.DISABLED_INK)
        super().__init__(**kw)


class ServiceCard(ButtonBehavior, BoxLayout):
    code = StringProperty("")
    name = StringProperty("")  # plain text
    name_markup = StringProperty("")  # what the card draws: ``wrappable(name)`` (no lone last hanzi)
    detail = StringProperty("")
    icon_source = StringProperty("")
    enabled = BooleanProperty(True)  # a closed service stays visible, with its reason

    def __init__(self, **kw):
        self.palette = {k: theme.rgba(getattr(theme, k)) for k in theme.NORMAL_PALETTE}
        super().__init__(**kw)
        self.name_markup = wrappable(self.name)

    def on_name(self, _card, name: str) -> None:
        self.name_markup = wrappable(name)


class Header(BoxLayout):
    """The hall's title bar. Holding the logo corner for 3 s fires ``on_long_press``:
    the hidden way in to the settings, invisible to visitors."""

    title = StringProperty("")
    title_size = NumericProperty(0)  # fitted to the room beside the clock; 0 until laid out
    clock_text = StringProperty("")
    status_text = StringProperty("")  # e.g. the offline marker
    logo_source = StringProperty(icon_path("home"))
    hold_seconds = NumericProperty(3.0)

    __events__ = ("on_long_press",)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._hold = None
        self.bind(title=self._fit_title)

    def on_kv_post(self, base_widget):
        # its rule is applied by now, also when a kv rule made it (screens/base.kv)
        self.ids.title.bind(width=self._fit_title)

    def _fit_title(self, *_args) -> None:
        """The hall's name on one line when it fits (down to the smallest visitor size), else two."""
        from kivy.app import App

        app = App.get_running_app()
        width = self.ids.title.width
        if width <= 1 or not self.title:
            return
        self.title_size = fit_font(self.title, width, app.tx(theme.TITLE), app.tx(theme.TEXT_SMALL), bold=True)

    def _in_corner(self, touch) -> bool:
        return self.collide_point(*touch.pos) and touch.x - self.x < self.height * 1.5

    def on_touch_down(self, touch):
        if self._in_corner(touch):
            self._cancel_hold()
            self._hold = Clock.schedule_once(lambda dt: self.dispatch("on_long_press"), self.hold_seconds)
            touch.ud["header_hold"] = True
        return super().on_touch_down(touch)

    def on_touch_move(self, touch):
        if touch.ud.get("header_hold") and not self._in_corner(touch):
            self._cancel_hold()
        return super().on_touch_move(touch)

    def on_touch_up(self, touch):
        if touch.ud.get("header_hold"):
            self._cancel_hold()
        return super().on_touch_up(touch)

    def _cancel_hold(self) -> None:
        if self._hold is not None:
            self._hold.cancel()
            self._hold = None

    def on_long_press(self) -> None:
        pass

