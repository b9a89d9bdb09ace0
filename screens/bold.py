"""Bold labels drawn bold under Kivy's SDL2 text provider: every stroke thickened evenly.

Kivy 2.3.1's SDL2 provider never asks SDL_ttf for bold: a label's ``bold`` (and markup's ``[b]``) only
picks the file registered as the font's bold face, and the face it opens gets no style but underline
and strikethrough (``_get_font`` in kivy/core/text/_text_sdl2.pyx). WenQuanYi Micro Hei has no bold
face (its .ttc holds a regular and a monospaced one; Kivy opens the first), so the bold file is the
regular one and every bold label was drawn regular, from a second face of the same file.

SDL_ttf's own ``TTF_STYLE_BOLD`` is out of Kivy's reach (it sets the style in C), and it would not suit
hanzi: it smears each glyph sideways by a tenth of its size, which fills the gaps of dense characters
(删, 触, 疆) into blots from 48 px up (tried through ctypes on faces of our own: legible Latin, blotted
Chinese). Bold text here is emboldened the way FreeType emboldens a face that has none
(``FT_GlyphSlot_Embolden``, what fontconfig's ``embolden`` does for CJK fonts on Linux desktops): every
stroke thickened evenly, by about size/24 pixels. SDL_ttf's stroker draws it, through Kivy's own
outline path: an outline ``stroke(size)`` pixels wide (size/48, at least one) round each glyph, in the
text's colour, the glyph drawn over it.

Where it goes: a bold run is laid out as a regular one (same advances, same line height: the thicker
strokes grow into the glyphs' side bearings and the line's spare space above and below them) and its
emboldened picture is laid over the label so that its glyphs sit where the regular ones would, blended
over what is already drawn (``Canvas``: Kivy copies each run's box, which would wipe a neighbour's
edge where two boxes overlap). A bold label gets ``stroke`` pixels more padding left and right, so the
thickened first and last glyphs stay inside its texture: a bold string is measured ``2 * stroke``
wider than regular (``measure``, ``fit_font``, the layout audit's probe: they all lay out a core label).
A ``[b]`` run inside a regular label (a search match) gets no padding: its outline can reach a pixel
past the texture only where a glyph touches its box at a line's end.

Each (pixel size, bold) face is still Kivy's, opened once (``screens/fonts.py``). A label given an
outline of its own keeps it and is drawn as Kivy draws it.
"""

from __future__ import annotations

import functools


def stroke(font_size: float) -> int:
    """The outline, in whole pixels, that thickens a bold glyph's strokes by about ``font_size / 24``."""
    return max(1, int(font_size / 48 + 0.5))


def _emboldens(options: dict) -> bool:
    return bool(options["bold"]) and not options["outline_width"]


class _Padded(list):
    """A bold label's padding while it is laid out or drawn: its own with ``stroke`` pixels more left and
    right."""


def padding(options: dict) -> list:
    """A core label's padding as it is laid out: its own, with ``stroke`` pixels more left and right when
    it is emboldened (``kivy_fixes.narrow_centred_text`` trims its texture to this)."""
    own = options["padding"]
    if isinstance(own, _Padded) or not _emboldens(options):
        return own
    k = stroke(options["font_size"])
    return _Padded([own[0] + k, own[1], own[2] + k, own[3]])


def _padding_first(render):
    """``render`` (a core label's layout, or its drawing) with the bold padding set while it runs, and the
    label's own padding back after (a copy of its options, as the layout audit's probe makes, is padded
    once, not twice)."""
    def render_padded(self, real=False):
        own = self.options["padding"]
        padded = padding(self.options)
        if padded is own:
            return render(self, real)
        self.options["padding"] = padded
        try:
            return render(self, real)
        finally:
            self.options["padding"] = own  # Kivy's markup label ends with a copy of the options it began with

    return render_padded


class Canvas:
    """What a label draws its runs into, in place of Kivy's ``_SurfaceContainer`` (Kivy's provider calls
    only ``render`` and ``get_data`` on it): regular runs into Kivy's surface, made when the first comes;
    bold ones emboldened, each on a surface of its own, laid over it in ``get_data``."""

    def __init__(self, w: int, h: int, surface_class, extents):
        self.w, self.h = w, h
        self._surface_class = surface_class
        self._extents = extents  # Kivy's get_extents
        self.regular = None
        self.bold: list = []  # (x, y, RGBA picture) in drawing order

    def render(self, container, text: str, x, y) -> None:
        options = container.options
        if not _emboldens(options):
            if self.regular is None:
                self.regular = self._surface_class(self.w, self.h)
            self.regular.render(container, text, x, y)
            return
        from PIL import Image

        k = stroke(options["font_size"])
        w, h = self._extents(container, text)  # SDL_ttf's outline adds k pixels on every side
        if w <= 0 or h <= 0:
            return
        w, h = w + 2 * k, h + 2 * k
        saved = options["outline_width"], options["outline_color"]
        options["outline_width"], options["outline_color"] = k, options["color"]
        try:
            own = self._surface_class(w, h)
            own.render(container, text, 0, 0)  # the outline from (0, 0), the glyphs k pixels in
        finally:
            options["outline_width"], options["outline_color"] = saved
        picture = Image.frombuffer("RGBA", (w, h), own.get_data().data, "raw", "RGBA", 0, 1)
        self.bold.append((int(x) - k, int(y) - k, picture))  # whole pixels, as SDL's rectangles

    def get_data(self):
        from kivy.core.image import ImageData
        from PIL import Image

        w, h = self.w, self.h
        if not self.bold:
            return self.regular.get_data() if self.regular is not None else ImageData(w, h, "rgba", bytes(w * h * 4))
        if self.regular is not None:
            page = Image.frombuffer("RGBA", (w, h), self.regular.get_data().data, "raw", "RGBA", 0, 1).copy()
        else:
            page = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        for x, y, picture in self.bold:
            source = (max(0, -x), max(0, -y))
            if source[0] < picture.width and source[1] < picture.height and x < w and y < h:
                page.alpha_composite(picture, (max(0, x), max(0, y)), source)
        return ImageData(w, h, "rgba", page.tobytes())


@functools.cache  # once per process
def install() -> bool:
    """Lay out and draw bold text emboldened under Kivy's SDL2 provider (module docstring); False where
    Kivy uses another text provider."""
    try:
        from kivy.core.text.text_sdl2 import LabelSDL2, _SurfaceContainer
    except ImportError:  # no SDL2 text provider in this Kivy
        return False
    from kivy.core.text import LabelBase
    from kivy.core.text.markup import MarkupLabel

    extents = LabelSDL2.get_extents

    def _render_begin(self):
        self._surface = Canvas(self._size[0], self._size[1], _SurfaceContainer, extents)

    LabelSDL2._render_begin = _render_begin
    LabelBase.render = _padding_first(LabelBase.render)
    MarkupLabel.render = _padding_first(MarkupLabel.render)
    return True
